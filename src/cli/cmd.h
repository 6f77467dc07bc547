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
	 * Where a COMMAND starts: positional argument number command_arg (1-based) and every
	 * word after it are the command's own, so option parsing stops there (`run CMD...`,
	 * `exec NAME CMD...`, as podman). 0 when the command takes none: options may then come
	 * anywhere before "--" (`stop NAME -t 0`). docs/design/cli-options.md
	 */
	int command_arg;
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
 * struct cmd_parser - one command line being parsed (cmd_parse_next())
 * @cmd, @argc, @argv: the command and its argv (argv[0] = the command's name); borrowed, and
 *	never reordered, so a command may parse the same argv twice
 * @args, @n_args: once cmd_parse_next() returned 0, the positional arguments in order
 *	(NULL-terminated; the strings are @argv's): every word that is neither an option nor
 *	an option's value, the words after "--", and from command_arg on the COMMAND with its
 *	arguments exactly as given
 */
struct cmd_parser {
	const struct paddock_cmd *cmd;
	int argc;
	char **argv;
	char **args;
	int n_args;
	bool done; /* private */
};

#define CMD_PARSER_INIT(c, ac, av)                                                                 \
	{                                                                                          \
		.cmd = (c), .argc = (ac), .argv = (av)                                             \
	}

/*
 * cmd_parse_next() - the next option of @p's command line
 *
 * Options may come before, between and after the positional arguments, up to "--" or up to
 * the command's COMMAND (struct paddock_cmd.command_arg). The option's value, if any, is in
 * optarg as with getopt. --help prints the command's help and is returned as 'h' (the
 * command then returns 0). An unknown option, a missing or unexpected value and a wrong
 * number of positional arguments are logged, naming the command and the option.
 *
 * Return: an option's id (> 0, from the command's table), 0 when the command line is
 * parsed (@p->args ready), or -EINVAL after logging.
 */
int cmd_parse_next(struct cmd_parser *p);

/* cmd_parser_done() - free @p->args (for _cleanup_) */
void cmd_parser_done(struct cmd_parser *p);

/*
 * cmd_parse_args() - parse the command line of a command whose only option (besides --help) is
 * one flag, or none: @ret_flag is set to true when the flag is given (NULL when there is none).
 * Return: 1 to go on (@p->args ready), 0 after --help, or -EINVAL after logging.
 */
int cmd_parse_args(struct cmd_parser *p, bool *ret_flag);

/* Option ids for long-only options start here so they never collide with characters */
#define OPT_LONG_BASE 0x1000
