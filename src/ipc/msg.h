/* SPDX-License-Identifier: MIT */
/*
 * msg.h - typed, size-checked messages with optional fd passing
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/*
 * msg_send() - send one message of @type with @body (@len bytes) and, if @fd >= 0, that fd.
 * Return: 0 or -errno. Safe to call between clone() and execve() (no allocation).
 */
int msg_send(int sock, uint16_t type, const void *body, uint32_t len, int fd);

/*
 * msg_recv() - receive one message into @body (capacity @cap). Checks version, type range, and
 * that the length is exactly the expected size of @type's body. A received fd is returned in
 * @ret_fd (-EBADF when none); a message carrying more than one fd, or truncated, is refused.
 * Return: the message type (> 0), 0 on EOF, or -errno (-EBADMSG for a malformed message).
 */
int msg_recv(int sock, void *body, size_t cap, int *ret_fd);

/*
 * msg_sendv() - send one message with @n_fds (at most IPC_MAX_FDS) descriptors
 */
int msg_sendv(int sock, uint16_t type, const void *body, uint32_t len, const int *fds,
	      size_t n_fds);

/*
 * msg_recvv() - msg_recv() for a message that may carry several descriptors (up to @max_fds,
 * returned in @fds and counted in @ret_nfds), checked against msg_fd_range()
 */
int msg_recvv(int sock, void *body, size_t cap, int *fds, size_t max_fds, size_t *ret_nfds);

/*
 * ipc_recv() - the common receive: one packet with a body of at most @cap bytes (its length in
 * @ret_len) and at most @max_fds descriptors; refuses truncation, a header whose length is not
 * the body's, another protocol version (-EPROTO) and type 0. No type check. @flags: recvmsg()
 * flags (MSG_DONTWAIT). Return: the type, 0 on EOF, or -errno.
 */
int ipc_recv(int sock, int flags, void *buf, size_t cap, size_t *ret_len, int *fds, size_t max_fds,
	     size_t *ret_nfds);

/* msg_fd_range() - how many descriptors a message of @type carries */
void msg_fd_range(uint16_t type, unsigned *ret_min, unsigned *ret_max);

/* msg_carries_fd() - whether a message of @type carries exactly one fd (else none) */
bool msg_carries_fd(uint16_t type);

/* msg_body_size() - the exact body size for @type, or -1 for an unknown type */
long msg_body_size(uint16_t type);
