/* SPDX-License-Identifier: MIT */
/*
 * cmd-help.c - `paddock help [COMMAND]`
 */
#include <stdio.h>

#include "cmd.h"
#include "common/log.h"

static const struct paddock_opt help_opts[] = {
	{},
};

static int cmd_help_exec(int argc, char **argv)
{
	const struct paddock_cmd *self = cmd_find("help"), *cmd;
	int c;

	while ((c = cmd_getopt(self, argc, argv)) != -1)
		if (c == 'h')
			return 0;
		else
			return -EINVAL;
	if (cmd_check_args(self, argc - optind) < 0)
		return -EINVAL;
	if (optind == argc) {
		cmd_print_list();
		return 0;
	}
	cmd = cmd_find(argv[optind]);
	if (!cmd)
		return log_error_errno(ENOENT, "help: unknown command '%s'; run 'paddock help'",
				       argv[optind]);
	cmd_print_help(cmd);
	return 0;
}

const struct paddock_cmd paddock_cmd_help = {
	.name = "help",
	.usage = "[COMMAND]",
	.summary = "List the commands, or show one command's options",
	.opts = help_opts,
	.min_args = 0,
	.max_args = 1,
	.complete_args = "paddock-command",
	.exec = cmd_help_exec,
};
