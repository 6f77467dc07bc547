/* SPDX-License-Identifier: MIT */
/*
 * spawn.h - create a sandbox's init
 */
#pragma once

#include <sys/types.h>

#include "spec.h"

/*
 * sandbox_spawn() - clone init into new namespaces, map the user's ids, and tell it to go on.
 * @go_body: the MSG_GO body (window size) to send once the ids are mapped.
 * On success, @ret_pid is init's pid and @ret_sock the supervisor's end of the socketpair.
 * Does not log. On failure @reterr_what names what failed ("clone", "uid_map", ...).
 * Return: 0 or -errno.
 */
struct msg_go;
int sandbox_spawn(const struct sandbox_spec *spec, const struct msg_go *go, pid_t *ret_pid,
		  int *ret_sock, const char **reterr_what);
