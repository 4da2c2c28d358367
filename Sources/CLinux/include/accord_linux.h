#ifndef ACCORD_LINUX_H
#define ACCORD_LINUX_H

// Linux calls that Swift's Glibc module does not expose (they sit behind _GNU_SOURCE).

/// syncfs(2): flushes the file system holding `fd` in one call, instead of one fsync
/// per file. Returns 0, or -1 with errno set.
int accord_syncfs(int fd);

/// renameat2(2) with RENAME_EXCHANGE: swaps two paths atomically (tests race the
/// daemon's writes with it). Returns 0, or -1 with errno set.
int accord_exchange_paths(const char *first, const char *second);

#endif
