/* SPDX-License-Identifier: MIT */
/*
 * cmd.h - the command table
 *
 * Each command lives in cmd-<verb>.c and exports one struct paddock_cmd. Its options are
 * declared once, in a struct paddock_opt table: getopt_long's arrays, `--help`, the shell
 * completions and the man page check are all generated from it.
 */
#pragma once

#include <getopt.h>
#include <stdbool.h>

#define PADDOCK_EXIT_ERROR       125 /* paddock itself failed */
#define PADDOCK_EXIT_CANNOT_EXEC 126 /* the command exists but cannot be executed */
#define PADDOCK_EXIT_NOT_FOUND   127 /* the command was not found */

enum {
	CMD_HIDDEN = 1 << 0, /* not listed by `paddock help` */
	CMD_NEEDS_ARGV = 1 << 1,
};

struct paddock_opt {
	const char *name;  /* long name, without "--" */
	int short_name;    /* 0 when none */
	const char *arg;   /* argument name for help; NULL for a flag */
	bool optional_arg; /* --name[=ARG] */
	const char *help;
	int id;               /* value getopt_long returns; the short name when it has one */
	const char *complete; /* completion hint: "dir", "file", or a space-separated word list */
};

struct paddock_cmd {
	const char *name;
	const char *aliases[3];
	const char *usage;              /* after "paddock NAME " */
	const char *summary;            /* one line */
	const struct paddock_opt *opts; /* terminated by an entry with name == NULL */
	int min_args, max_args;         /* positional arguments; max -1 = unbounded */
	/*
	 * Completion hint for the positional arguments: "dir", "file", "command" (a program,
	 * then files for its arguments), "paddock-command" (a name from paddock_cmds[]), or a
	 * space-separated word list; NULL for none.
	 */
	const char *complete_args;
	int flags;
	/*
	 * exec() - run the command with its own argv (argv[0] = command name).
	 * Return: the exit status (>= 0), or -errno after logging the failure once.
	 */
	int (*exec)(int argc, char **argv);
};

extern const struct paddock_cmd *const paddock_cmds[];

/* Global options, parsed before the verb (main.c); described for help and completion here */
extern const struct paddock_opt paddock_global_opts[];
extern const char *arg_config;
extern bool arg_debug;

const struct paddock_cmd *cmd_find(const char *name);
void cmd_print_help(const struct paddock_cmd *cmd);
void cmd_print_list(void);

/*
 * cmd_getopt() - getopt_long over @cmd's option table. Handles --help itself (prints help,
 * returns 'h' to let the caller exit 0). Unknown options print a message naming the option and
 * return '?'. Returns -1 when done, as getopt_long.
 */
int cmd_getopt(const struct paddock_cmd *cmd, int argc, char **argv);

/* cmd_check_args() - arity check of the positional arguments left after option parsing */
int cmd_check_args(const struct paddock_cmd *cmd, int nargs);

/* Option ids for long-only options start here so they never collide with characters */
#define OPT_LONG_BASE 0x1000
