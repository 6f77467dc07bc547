/* SPDX-License-Identifier: MIT */
/*
 * launch.h - starting a sandbox from `run`-style options, shared by run, create and start
 */
#pragma once

#include <stdbool.h>

struct cmd_parser;

/*
 * struct launch_session - what a session supervisor (paddock start) needs beyond the options
 */
struct launch_session {
	const char *name;
	const char *dir;      /* $DATA/sandboxes/NAME */
	const char *home_src; /* its persistent home, bound at $HOME */
	int ctl_fd;           /* the listening control socket */
	int ready_fd;         /* readiness pipe to the CLI that started us */
	int log_fd;           /* the supervisor's log, for stdout/stderr once running */
	bool wait_attach;     /* start -a: the CLI attaches right after */
};

/*
 * run_launch() - parse `run` options in @argv (argv[0] is the verb; options, then the command)
 * and run the sandbox: in the foreground when @sess is NULL, else as @sess's supervisor.
 * Return: the command's exit code, or -errno after logging.
 */
int run_launch(int argc, char **argv, struct launch_session *sess);

/*
 * run_collect_options() - parse `run`'s options (the table `create` shares) in @p without
 * acting on them: the persisted form of each (canonical "--long" names, values as separate
 * words) in @ret_opts, except --name (in @ret_name), --tty/--interactive/--keep-log
 * (meaningless for a named sandbox). The positional arguments are then in @p->args.
 * Return: 1 to go on, 0 after --help, or -errno after logging.
 */
int run_collect_options(struct cmd_parser *p, char ***ret_opts, char **ret_name);

/*
 * sandbox_run_named() - `run --name NAME [OPTS] CMD`: create NAME with @opts and @cmd, start
 * it and attach to it. Return: the command's exit code, 0 when detached, or -errno.
 */
int sandbox_run_named(const char *name, char **opts, char **cmd);
