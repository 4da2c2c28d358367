#ifndef ACCORD_LINUX_H
#define ACCORD_LINUX_H

// Linux calls that Swift's Glibc module does not expose (they sit behind _GNU_SOURCE).

#include <spawn.h>

/// syncfs(2): flushes the file system holding `fd` in one call, instead of one fsync
/// per file. Returns 0, or -1 with errno set.
int accord_syncfs(int fd);

/// renameat2(2) with RENAME_EXCHANGE: swaps two paths atomically (tests race the
/// daemon's writes with it). Returns 0, or -1 with errno set.
int accord_exchange_paths(const char *first, const char *second);

/// Makes standard output line-buffered, so a program's lines reach a file or a pipe as
/// they are printed (Swift 6 cannot name the C `stdout` variable).
void accord_line_buffered_stdout(void);

/// malloc_trim(0): hands the free memory of every malloc arena back to the kernel.
void accord_malloc_trim(void);

/// mallopt(M_ARENA_MAX, count): at most `count` malloc arenas. glibc otherwise keeps
/// up to eight per core, each holding on to what its threads once freed.
void accord_malloc_arena_max(int count);

/// Raises the soft limit on open files to the hard limit (systemd's default soft
/// limit is 1024, below a hub's max_connections plus its database files). Returns the
/// soft limit now in force.
long accord_raise_open_file_limit(void);

/// posix_spawn_file_actions_addclosefrom_np: the child closes every descriptor from
/// `from` up, so it holds no copy of the parent's sockets (a test that closes its end
/// of a connection must see the connection end, whatever it spawned meanwhile).
int accord_spawn_close_from(posix_spawn_file_actions_t *actions, int from);

#endif
