/* SPDX-License-Identifier: MIT */
/*
 * cmd-help.c - `paddock help [COMMAND]`
 */
#include <stdio.h>

#include "cmd.h"
#include "common/cleanup.h"
#include "common/log.h"

static const struct paddock_opt help_opts[] = {
	{},
};

static int cmd_help_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("help"), argc, argv);
	const struct paddock_cmd *cmd;
	int r;

	r = cmd_parse_args(&p, NULL);
	if (r <= 0)
		return r;
	if (p.n_args == 0) {
		cmd_print_list();
		return 0;
	}
	cmd = cmd_find(p.args[0]);
	if (!cmd)
		return log_error_errno(ENOENT, "help: unknown command '%s'; run 'paddock help'",
				       p.args[0]);
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
