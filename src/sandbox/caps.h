/* SPDX-License-Identifier: MIT */
/*
 * caps.h - capabilities of the sandboxed command
 */
#pragma once

#include <stdbool.h>

/*
 * caps_drop_for_exec() - prepare the capability sets for execve() of the command: empty the
 * bounding and ambient sets and the current sets, or, with @root (--root), keep a small
 * podman-like default set (chown, dac_override, fowner, fsetid, kill, net_bind_service, setfcap,
 * setgid, setpcap, setuid, sys_chroot) that applies only inside the sandbox's user namespace.
 * Locks securebits so that uid 0 does not regain capabilities on exec when @root is false.
 * Does not log. Return: 0 or -errno.
 */
int caps_drop_for_exec(bool root);
