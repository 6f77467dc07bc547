/* SPDX-License-Identifier: MIT */
/*
 * cmd-version.c - `paddock version` (placeholder)
 */
#include "cmd.h"
#include "common/log.h"

static const struct paddock_opt version_opts[] = {
	{},
};

static int cmd_version_exec(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return log_error_errno(ENOSYS, "version: not built yet");
}

const struct paddock_cmd paddock_cmd_version = {
	.name = "version",
	.usage = "",
	.summary = "version",
	.opts = version_opts,
	.max_args = -1,
	.exec = cmd_version_exec,
};
