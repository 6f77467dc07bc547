/* SPDX-License-Identifier: MIT */
/*
 * cmd-run.c - `paddock run` (placeholder: the option table only)
 *
 * DOC: Theory of Operation
 * The real command is written in parallel; this placeholder carries its announced option table
 * so that `--help`, the shell completions and the man page check have the real options to
 * work from. On merge, the real cmd-run.c replaces this file.
 */
#include "cmd.h"
#include "common/log.h"

enum {
	ARG_IMAGE = OPT_LONG_BASE,
	ARG_PROFILE,
	ARG_NET,
	ARG_ALLOW,
	ARG_DENY,
	ARG_ROOT,
	ARG_HOSTNAME,
	ARG_NAME,
	ARG_KEEP_LOG,
	ARG_MEMORY,
	ARG_PIDS,
	ARG_CPUS,
};

static const struct paddock_opt run_opts[] = {
	{ "workspace", 'w', "DIR", false, "the project directory, mounted read-write", 'w', "dir" },
	{ "image", 0, "NAME", false, "root filesystem: host, or a golden image", ARG_IMAGE },
	{ "profile", 0, "NAME", false, "agent profile (claude, codex, pi, gemini, opencode, ...)",
	  ARG_PROFILE, "claude codex pi gemini opencode aider shell" },
	{ "net", 0, "MODE", false, "network policy: public, allowlist or none", ARG_NET,
	  "public allowlist none" },
	{ "allow", 0, "HOST[:PORT]", false, "allow a host (repeatable)", ARG_ALLOW },
	{ "deny", 0, "HOST[:PORT]", false, "deny a host (repeatable)", ARG_DENY },
	{ "volume", 'v', "SRC:DST[:ro]", false, "extra bind mount (repeatable)", 'v' },
	{ "env", 'e', "NAME[=VALUE]", false, "pass or set an environment variable", 'e' },
	{ "root", 0, NULL, false, "run the command as uid 0 inside the sandbox", ARG_ROOT },
	{ "hostname", 0, "NAME", false, "the sandbox's host name", ARG_HOSTNAME },
	{ "tty", 't', NULL, false, "allocate a terminal", 't' },
	{ "interactive", 'i', NULL, false, "keep stdin open", 'i' },
	{ "name", 0, "NAME", false, "make the sandbox persistent, with this name", ARG_NAME },
	{ "keep-log", 0, NULL, false, "keep the audit log after exit", ARG_KEEP_LOG },
	{ "memory", 0, "SIZE", false, "memory limit (default 8G)", ARG_MEMORY },
	{ "pids", 0, "N", false, "process limit (default 4096)", ARG_PIDS },
	{ "cpus", 0, "N", false, "CPU limit (default none)", ARG_CPUS },
	{},
};

static int cmd_run_exec(int argc, char **argv)
{
	const struct paddock_cmd *self = cmd_find("run");
	int c;

	while ((c = cmd_getopt(self, argc, argv)) != -1)
		if (c == 'h')
			return 0;
		else if (c == '?')
			return -EINVAL;
	return log_error_errno(ENOSYS, "run: not built yet");
}

const struct paddock_cmd paddock_cmd_run = {
	.name = "run",
	.usage = "[OPTIONS] [--] [COMMAND [ARG...]]",
	.summary = "Run a command in a new sandbox on the workspace",
	.opts = run_opts,
	.max_args = -1,
	.complete_args = "command",
	.exec = cmd_run_exec,
};
