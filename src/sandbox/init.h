/* SPDX-License-Identifier: MIT */
/*
 * init.h - pid 1 of a sandbox
 */
#pragma once

#include "common/macro.h"
#include "spec.h"

/*
 * init_main() - the body of the process clone() created: wait for the supervisor's go, build
 * the sandbox, start the command, reap every process, report the command's exit and exit,
 * which makes the kernel kill whatever is left in the PID namespace. Never returns.
 * @sock: the init end of the supervisor's SOCK_SEQPACKET socketpair.
 */
_noreturn_ void init_main(const struct sandbox_spec *spec, int sock);
