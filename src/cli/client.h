/* SPDX-License-Identifier: MIT */
/*
 * client.h - the CLI's side of a supervisor's control socket
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/*
 * ctl_connect() - connect to the supervisor of sandbox @name.
 * Return: the socket, -ESRCH when no supervisor runs (no socket, or nobody listening), or
 * another -errno. Logs nothing.
 */
int ctl_connect(const char *name);

/*
 * ctl_request() - send one request, wait for CTL_OK (its JSON in @ret_json, NULL when the body
 * is empty or @ret_json is NULL) or CTL_ERROR (logged with @name, -EREMOTEIO, the exit code it
 * asks for in @ret_code when not NULL). -EPROTO is logged as a version mismatch.
 */
int ctl_request(int fd, const char *name, uint16_t type, const void *body, size_t len,
		struct json_object **ret_json, int *ret_code);

/*
 * ctl_attach() - attach this terminal to the sandbox's terminal until the command exits (its
 * exit code in @ret_code) or the user types @detach (bytes, @n_detach of them; then
 * @ret_detached is set and @ret_code is 0).
 */
int ctl_attach(int fd, const char *name, const unsigned char *detach, size_t n_detach,
	       bool *ret_detached, int *ret_code);

/* ctl_exec() - run @argv in the sandbox; its exit code in @ret_code */
int ctl_exec(int fd, const char *name, char **argv, bool tty, bool interactive, int *ret_code);

/*
 * detach_keys_parse() - docker's format: comma-separated keys, each a single character or
 * ctrl-X (X a letter, or one of @ [ \ ] ^ _). At most 8. 0 or -EINVAL.
 */
int detach_keys_parse(const char *s, unsigned char *ret, size_t *ret_n);

/* exit_code_of_status() - the shell's exit code of a wait status */
int exit_code_of_status(int status);
