#ifndef ACCORD_TEST_SHIMS_H
#define ACCORD_TEST_SHIMS_H

/// Atomically exchanges two paths (renameat2 with RENAME_EXCHANGE), which the
/// C library's headers do not give Swift: tests race the daemon's file writes with it.
/// Returns 0, or -1 with errno set.
int accord_exchange_paths(const char *first, const char *second);

#endif
