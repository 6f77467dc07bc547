/* SPDX-License-Identifier: MIT */
/*
 * cmd.c - the command table, help and option parsing
 *
 * DOC: Theory of Operation
 * paddock_cmds[] lists every command. Names match exactly (no prefix matching, as docker), so
 * a script that works today keeps working when a command is added. The generic parts of the
 * command line (help, arity, unknown options) are handled here so every command reports them
 * the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "common/log.h"
#include "common/xmalloc.h"

extern const struct paddock_cmd paddock_cmd_run, paddock_cmd_logs, paddock_cmd_version,
	paddock_cmd_doctor, paddock_cmd_completion, paddock_cmd_help, paddock_cmd_create,
	paddock_cmd_start, paddock_cmd_attach, paddock_cmd_exec, paddock_cmd_ls, paddock_cmd_stop,
	paddock_cmd_suspend, paddock_cmd_resume, paddock_cmd_rm, paddock_cmd_reset,
	paddock_cmd_secret, paddock_cmd_port, paddock_cmd_status;
extern const struct paddock_cmd paddock_cmd_ca;
extern const struct paddock_cmd paddock_cmd_image;
extern const struct paddock_cmd paddock_cmd_diff, paddock_cmd_apply, paddock_cmd_discard;

/* one command a line */
/* clang-format off */
const struct paddock_cmd *const paddock_cmds[] = {
	&paddock_cmd_run,
	&paddock_cmd_create,
	&paddock_cmd_start,
	&paddock_cmd_attach,
	&paddock_cmd_exec,
	&paddock_cmd_ls,
	&paddock_cmd_stop,
	&paddock_cmd_suspend,
	&paddock_cmd_resume,
	&paddock_cmd_rm,
	&paddock_cmd_reset,
	&paddock_cmd_diff,
	&paddock_cmd_apply,
	&paddock_cmd_discard,
	&paddock_cmd_port,
	&paddock_cmd_status,
	&paddock_cmd_logs,
	&paddock_cmd_ca,
	&paddock_cmd_secret,
	&paddock_cmd_image,
	&paddock_cmd_doctor,
	&paddock_cmd_version,
	&paddock_cmd_completion,
	&paddock_cmd_help,
	NULL,
};
/* clang-format on */

const char *arg_config;
bool arg_debug;

/* main.c parses these (with getopt_long); this table documents them for help and completion */
const struct paddock_opt paddock_global_opts[] = {
	{ "config", 0, "FILE", false,
	  "read this config file instead of the user's (after the system one)", 'c', "file" },
	{ "debug", 0, NULL, false, "print what paddock does, step by step", 'd' },
	{ "version", 0, NULL, false, "print the version and the kernel features (as 'version')",
	  'V' },
	{},
};

const struct paddock_cmd *cmd_find(const char *name)
{
	for (const struct paddock_cmd *const *c = paddock_cmds; *c; c++) {
		if (streq((*c)->name, name))
			return *c;
		for (size_t i = 0; i < ELEMENTSOF((*c)->aliases) && (*c)->aliases[i]; i++)
			if (streq((*c)->aliases[i], name))
				return *c;
	}
	return NULL;
}

void cmd_print_list(void)
{
	printf("Usage: paddock [--config FILE] [--debug] COMMAND [OPTIONS] [ARGS]\n\n"
	       "Run a coding agent in an isolated, disposable sandbox.\n\nCommands:\n");
	for (const struct paddock_cmd *const *c = paddock_cmds; *c; c++)
		if (!((*c)->flags & CMD_HIDDEN))
			printf("  %-12s %s\n", (*c)->name, (*c)->summary);
	printf("\nGlobal options:\n");
	for (const struct paddock_opt *o = paddock_global_opts; o->name; o++) {
		char left[64];

		(void)snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "",
			       o->arg ? o->arg : "");
		printf("  %-14s %s\n", left, o->help);
	}
	printf("  %-14s %s\n\nRun 'paddock COMMAND --help' for a command's options.\n",
	       "-h, --help", "show this help");
}

void cmd_print_help(const struct paddock_cmd *cmd)
{
	printf("Usage: paddock %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
	if (cmd->aliases[0]) {
		printf("\nAliases:");
		for (size_t i = 0; i < ELEMENTSOF(cmd->aliases) && cmd->aliases[i]; i++)
			printf(" %s", cmd->aliases[i]);
		printf("\n");
	}
	printf("\nOptions:\n");
	for (const struct paddock_opt *o = cmd->opts; o && o->name; o++) {
		char left[64];

		if (o->short_name)
			(void)snprintf(left, sizeof(left), "-%c, --%s%s%s%s%s", o->short_name,
				       o->name, o->arg ? (o->optional_arg ? "[=" : " ") : "",
				       o->arg ? o->arg : "", o->optional_arg ? "]" : "", "");
		else
			(void)snprintf(left, sizeof(left), "    --%s%s%s%s", o->name,
				       o->arg ? (o->optional_arg ? "[=" : " ") : "",
				       o->arg ? o->arg : "", o->optional_arg ? "]" : "");
		printf("  %-28s %s\n", left, o->help);
	}
	printf("  %-28s %s\n", "-h, --help", "show this help");
}

static size_t opts_count(const struct paddock_opt *o)
{
	size_t n = 0;

	while (o && o[n].name)
		n++;
	return n;
}

int cmd_getopt(const struct paddock_cmd *cmd, int argc, char **argv)
{
	/* built once per command: the option table is static data */
	static const struct paddock_cmd *built_for;
	static struct option *longopts;
	static char *shortopts;
	size_t n = opts_count(cmd->opts), i;
	int c;

	if (built_for != cmd) {
		char *s;

		free(longopts);
		free(shortopts);
		longopts = xcalloc(n + 2, sizeof(struct option));
		shortopts = xcalloc(3 * n + 4, 1);
		s = shortopts;
		*s++ = '+'; /* stop at the first positional argument: CMD... follows */
		*s++ = ':';
		for (i = 0; i < n; i++) {
			const struct paddock_opt *o = &cmd->opts[i];

			longopts[i].name = o->name;
			longopts[i].has_arg =
				o->arg ? (o->optional_arg ? optional_argument : required_argument)
				       : no_argument;
			longopts[i].val = o->id;
			if (o->short_name) {
				*s++ = (char)o->short_name;
				if (o->arg)
					*s++ = ':';
				if (o->arg && o->optional_arg)
					*s++ = ':';
			}
		}
		longopts[n].name = "help";
		longopts[n].val = 'h';
		*s++ = 'h';
		built_for = cmd;
	}

	opterr = 0;
	c = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (c == 'h') {
		cmd_print_help(cmd);
		return 'h';
	}
	if (c == '?') {
		if (optopt && optopt < OPT_LONG_BASE && optopt != '?')
			log_error("%s: unknown option '-%c'; see 'paddock %s --help'", cmd->name,
				  optopt, cmd->name);
		else
			log_error("%s: unknown option '%s'; see 'paddock %s --help'", cmd->name,
				  argv[optind - 1], cmd->name);
		return '?';
	}
	if (c == ':') {
		log_error("%s: option '%s' needs a value; see 'paddock %s --help'", cmd->name,
			  argv[optind - 1], cmd->name);
		return '?';
	}
	return c;
}

int cmd_check_args(const struct paddock_cmd *cmd, int nargs)
{
	if (nargs < cmd->min_args) {
		log_error("%s: missing argument; usage: paddock %s %s", cmd->name, cmd->name,
			  cmd->usage);
		return -EINVAL;
	}
	if (cmd->max_args >= 0 && nargs > cmd->max_args) {
		log_error("%s: too many arguments; usage: paddock %s %s", cmd->name, cmd->name,
			  cmd->usage);
		return -EINVAL;
	}
	return 0;
}
