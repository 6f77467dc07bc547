/* SPDX-License-Identifier: MIT */
/*
 * cmd.c - the command table, help and option parsing
 *
 * DOC: Theory of Operation
 * paddock_cmds[] lists every command. Names match exactly (no prefix matching, as docker), so
 * a script that works today keeps working when a command is added. The generic parts of the
 * command line (help, arity, unknown options) are handled here so every command reports them
 * the same way.
 *
 * Options may come anywhere before "--" (`paddock stop NAME -t 0`, as GNU getopt and podman
 * allow), except in a COMMAND: for `run CMD...`, `create NAME CMD...`, `start NAME -- CMD...`
 * and `exec NAME CMD...` parsing stops at the command's first word (command_arg), so the
 * command's own options stay its own. cmd_parse_next() reads argv without reordering it and
 * hands the positional arguments back in a separate array. docs/design/cli-options.md
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

/*
 * getopt_long's arrays for @cmd, built once per command (the option table is static data).
 * The short options start with '-': every positional argument is returned in order (as 1), so
 * cmd_parse_next() decides where options end; unlike getopt's default, POSIXLY_CORRECT does
 * not change that, and argv is never reordered.
 */
static const struct paddock_cmd *built_for;
static struct option *longopts;
static char *shortopts;

static void opts_build(const struct paddock_cmd *cmd)
{
	size_t n = opts_count(cmd->opts), i;
	char *s;

	if (built_for == cmd)
		return;
	free(longopts);
	free(shortopts);
	longopts = xcalloc(n + 2, sizeof(struct option));
	shortopts = xcalloc(3 * n + 4, 1);
	s = shortopts;
	*s++ = '-'; /* positional arguments in order */
	*s++ = ':'; /* a missing value is ':', not '?' */
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

/* long_matches() - how many long options (--help too) @word ("--pre[=v]") abbreviates */
static size_t long_matches(const char *word)
{
	size_t len = strcspn(word + 2, "="), n = 0;

	for (const struct option *o = longopts; o->name; o++)
		if (strncmp(o->name, word + 2, len) == 0)
			n++;
	return n;
}

/*
 * opt_error() - log why getopt refused an option (@c is '?' or ':'). @word is the word getopt
 * was reading: a long option, or a cluster of short ones ("-ft"), whose culprit is optopt.
 */
static int opt_error(const struct paddock_cmd *cmd, const char *word, int c)
{
	const char *name = cmd->name;
	bool is_long = strncmp(word, "--", 2) == 0;

	if (c == ':' && is_long)
		log_error("%s: option '%s' needs a value; see 'paddock %s --help'", name, word,
			  name);
	else if (c == ':')
		log_error("%s: option '-%c' needs a value; see 'paddock %s --help'", name, optopt,
			  name);
	else if (!is_long)
		log_error("%s: unknown option '-%c'; see 'paddock %s --help'", name, optopt, name);
	else if (optopt)
		/* getopt names a known long option that takes no value but was given one */
		log_error("%s: option '%.*s' takes no value; see 'paddock %s --help'", name,
			  (int)strcspn(word, "="), word, name);
	else if (long_matches(word) > 1)
		log_error("%s: option '%s' is ambiguous (it abbreviates several); see 'paddock "
			  "%s --help'",
			  name, word, name);
	else
		log_error("%s: unknown option '%s'; see 'paddock %s --help'", name, word, name);
	return -EINVAL;
}

static int cmd_check_args(const struct paddock_cmd *cmd, int nargs)
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

/* args_push_rest() - argv[from...] to the positional arguments, as they are */
static void args_push_rest(struct cmd_parser *p, int from)
{
	for (int i = from; i < p->argc; i++)
		p->args[p->n_args++] = p->argv[i];
}

int cmd_parse_next(struct cmd_parser *p)
{
	if (p->done)
		return 0;
	opts_build(p->cmd);
	if (!p->args) {
		p->args = xcalloc((size_t)MAX(p->argc, 0) + 1, sizeof(char *));
		p->n_args = 0;
		optind = 0; /* 0: getopt's full reset, whatever parsed before in this process */
	}
	opterr = 0;
	for (;;) {
		/* the word getopt reads next (optind 0 is its reset: it starts at 1) */
		int at = MAX(optind, 1), c;

		c = getopt_long(p->argc, p->argv, shortopts, longopts, NULL);
		if (c == 1) {
			p->args[p->n_args++] = optarg;
			/* the COMMAND: what follows is its own, options included */
			if (p->cmd->command_arg > 0 && p->n_args == p->cmd->command_arg) {
				args_push_rest(p, optind);
				break;
			}
			continue;
		}
		if (c == -1) {
			/* the end, or "--": the words after it are positional */
			args_push_rest(p, optind);
			break;
		}
		if (c == 'h') {
			cmd_print_help(p->cmd);
			return 'h';
		}
		if (c == '?' || c == ':')
			return opt_error(p->cmd, p->argv[at], c);
		return c;
	}
	p->done = true;
	return cmd_check_args(p->cmd, p->n_args);
}

void cmd_parser_done(struct cmd_parser *p)
{
	free(p->args);
	p->args = NULL;
	p->n_args = 0;
}

int cmd_parse_args(struct cmd_parser *p, bool *ret_flag)
{
	int c;

	while ((c = cmd_parse_next(p)) > 0) {
		if (c == 'h')
			return 0;
		/* the one flag of the table */
		PADDOCK_ASSERT(ret_flag && p->cmd->opts[0].name && !p->cmd->opts[1].name &&
			       !p->cmd->opts[0].arg);
		*ret_flag = true;
	}
	return c < 0 ? c : 1;
}
