/* SPDX-License-Identifier: MIT */
/*
 * cmd-run.c - `paddock run` (placeholder)
 */
#include "cmd.h"
#include "common/log.h"

static const struct paddock_opt run_opts[] = {
	{},
};

static int cmd_run_exec(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return log_error_errno(ENOSYS, "run: not built yet");
}

const struct paddock_cmd paddock_cmd_run = {
	.name = "run",
	.usage = "",
	.summary = "run",
	.opts = run_opts,
	.max_args = -1,
	.exec = cmd_run_exec,
};
