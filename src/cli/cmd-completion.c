/* SPDX-License-Identifier: MIT */
/*
 * cmd-completion.c - `paddock completion` (placeholder)
 */
#include "cmd.h"
#include "common/log.h"

static const struct paddock_opt completion_opts[] = {
	{},
};

static int cmd_completion_exec(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return log_error_errno(ENOSYS, "completion: not built yet");
}

const struct paddock_cmd paddock_cmd_completion = {
	.name = "completion",
	.usage = "",
	.summary = "completion",
	.opts = completion_opts,
	.max_args = -1,
	.exec = cmd_completion_exec,
};
