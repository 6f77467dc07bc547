/* SPDX-License-Identifier: MIT */
/*
 * fd.h - file descriptor helpers
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* loop_write() - write all of @buf, retrying on EINTR and short writes; 0 or -errno */
int loop_write(int fd, const void *buf, size_t n);
/* loop_read() - read until @n bytes or EOF; returns bytes read or -errno */
ssize_t loop_read(int fd, void *buf, size_t n);
/* read_file_at() - read a small file (at most @max bytes) into a NUL-terminated buffer */
int read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);
/* read_fd() - read what is left of @fd (at most @max bytes), NUL-terminated */
int read_fd(int fd, size_t max, char **ret, size_t *ret_len);
/* write_file_at() - open (no create), write, close: for /proc and uid_map style files */
int write_file_at(int dirfd, const char *path, const char *s);
/*
 * write_file_atomic() - write a temporary file, fsync it when @durable, rename it into place,
 * with mode @mode. Readers see the old or the new content, never a mix. @durable also survives
 * a power loss; runtime files (on tmpfs, gone at boot anyway) do not need it.
 */
int write_file_atomic(const char *path, const void *buf, size_t n, mode_t mode, bool durable);
/* fd_cloexec() - set or clear FD_CLOEXEC */
int fd_cloexec(int fd, int on);
