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

/* msg_carries_fd() - whether a message of @type carries exactly one fd (else none) */
bool msg_carries_fd(uint16_t type);

/* msg_body_size() - the exact body size for @type, or -1 for an unknown type */
long msg_body_size(uint16_t type);
