/* SPDX-License-Identifier: MIT */
/*
 * test-cmd.c - the command line parser (cmd_parse_next): options anywhere before "--", never
 * inside a COMMAND, and errors that name the command and the option
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "common/cleanup.h"
#include "common/macro.h"
#include "tap.h"

#define MAX_WORDS 16

/* one parse: the options seen ("t=3 f json"), the positional arguments, the result */
struct parsed {
	int r;
	char opts[256];
	char args[256];
	char err[512];
	char out[256];
};

/* read_back() - what was written to @fd since it was made, as a string */
static void read_back(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
}

/* parse() - @line split at spaces, parsed as command @name's argv; stdout and stderr kept */
static void parse(const char *name, const char *line, struct parsed *ret)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p = { 0 };
	char buf[256], *argv[MAX_WORDS + 1] = {}, *copy[MAX_WORDS + 1] = {};
	int argc = 0, c, err_fd, out_fd, saved_err, saved_out;
	char *save = NULL;

	memset(ret, 0, sizeof(*ret));
	(void)snprintf(buf, sizeof(buf), "%s %s", name, line);
	for (char *w = strtok_r(buf, " ", &save); w && argc < MAX_WORDS;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	memcpy(copy, argv, sizeof(argv));
	p = (struct cmd_parser)CMD_PARSER_INIT(cmd_find(name), argc, argv);
	PADDOCK_ASSERT(p.cmd);

	err_fd = memfd_create("stderr", MFD_CLOEXEC);
	out_fd = memfd_create("stdout", MFD_CLOEXEC);
	PADDOCK_ASSERT(err_fd >= 0 && out_fd >= 0);
	(void)fflush(stdout);
	(void)fflush(stderr);
	saved_err = dup(STDERR_FILENO);
	saved_out = dup(STDOUT_FILENO);
	(void)dup2(err_fd, STDERR_FILENO);
	(void)dup2(out_fd, STDOUT_FILENO);

	while ((c = cmd_parse_next(&p)) > 0) {
		size_t n = strlen(ret->opts);

		if (c == 'h')
			break;
		if (c < OPT_LONG_BASE)
			(void)snprintf(ret->opts + n, sizeof(ret->opts) - n, "%s%c%s%s",
				       n ? " " : "", c, optarg ? "=" : "", strempty(optarg));
		else
			(void)snprintf(ret->opts + n, sizeof(ret->opts) - n, "%s#%s%s",
				       n ? " " : "", optarg ? "=" : "", strempty(optarg));
	}
	ret->r = c;

	(void)fflush(stdout);
	(void)fflush(stderr);
	(void)dup2(saved_err, STDERR_FILENO);
	(void)dup2(saved_out, STDOUT_FILENO);
	close(saved_err);
	close(saved_out);
	read_back(err_fd, ret->err, sizeof(ret->err));
	read_back(out_fd, ret->out, sizeof(ret->out));
	close(err_fd);
	close(out_fd);

	for (int i = 0; c == 0 && i < p.n_args; i++) {
		size_t n = strlen(ret->args);

		(void)snprintf(ret->args + n, sizeof(ret->args) - n, "%s%s", i ? " " : "",
			       p.args[i]);
	}
	if (c == 0)
		PADDOCK_ASSERT(!p.args[p.n_args]);
	/* argv is never reordered: `run --name` parses the same argv twice */
	PADDOCK_ASSERT(memcmp(copy, argv, sizeof(argv)) == 0);
}

#define ASSERT_PARSES(name, line, want_opts, want_args)                                            \
	do {                                                                                       \
		struct parsed _p;                                                                  \
		parse(name, line, &_p);                                                            \
		if (_p.r != 0)                                                                     \
			TAP_FAIL("'%s %s': %d, %s", name, line, _p.r, _p.err);                     \
		ASSERT_STREQ(_p.opts, want_opts);                                                  \
		ASSERT_STREQ(_p.args, want_args);                                                  \
	} while (0)

/* the command line is refused, with a message that contains @want */
#define ASSERT_REFUSED(name, line, want)                                                           \
	do {                                                                                       \
		struct parsed _p;                                                                  \
		parse(name, line, &_p);                                                            \
		ASSERT_EQ(_p.r, -EINVAL);                                                          \
		if (!strstr(_p.err, want))                                                         \
			TAP_FAIL("'%s %s': expected '%s' in: %s", name, line, want, _p.err);       \
	} while (0)

TEST(options_before_between_and_after_names)
{
	ASSERT_PARSES("stop", "-t 3 a b", "t=3", "a b");
	ASSERT_PARSES("stop", "a -t 3 b", "t=3", "a b");
	ASSERT_PARSES("stop", "a b -t 3", "t=3", "a b");
	ASSERT_PARSES("stop", "a b -t3", "t=3", "a b");
	ASSERT_PARSES("stop", "a --time=0", "t=0", "a");
	ASSERT_PARSES("stop", "a --time 0 -t 1", "t=0 t=1", "a");
	ASSERT_PARSES("rm", "a -f b", "f", "a b");
	ASSERT_PARSES("logs", "box -f --json", "f #", "box");
	ASSERT_PARSES("secret", "set KEY --json", "#", "set KEY");
	ASSERT_PARSES("image", "build img --from bookworm -q", "#=bookworm q", "build img");
	ASSERT_PARSES("port", "box add 8080:3000", "", "box add 8080:3000");
	ASSERT_PARSES("status", "a --format json b", "#=json", "a b");
}

TEST(dashdash_ends_options)
{
	ASSERT_PARSES("stop", "-- -t", "", "-t");
	ASSERT_PARSES("stop", "a -t 1 -- b -t 2", "t=1", "a b -t 2");
	ASSERT_PARSES("rm", "-f -- --help", "f", "--help");
	/* "-" is an argument (stdin), not an option */
	ASSERT_PARSES("image", "import img -", "", "import img -");
}

TEST(unknown_options_name_the_command_and_the_option)
{
	ASSERT_REFUSED("stop", "a --foo",
		       "stop: unknown option '--foo'; see 'paddock stop --help'");
	ASSERT_REFUSED("stop", "a -x", "stop: unknown option '-x'");
	/* the culprit inside a cluster of short options, after a long one */
	ASSERT_REFUSED("rm", "--force -fx a", "rm: unknown option '-x'");
	ASSERT_REFUSED("rm", "a --force=yes", "rm: option '--force' takes no value");
	ASSERT_REFUSED("run", "--n x true", "run: option '--n' is ambiguous");
	ASSERT_REFUSED("suspend", "a -t 3", "suspend: unknown option '-t'");
}

TEST(missing_values_and_arguments)
{
	ASSERT_REFUSED("stop", "a -t", "stop: option '-t' needs a value");
	ASSERT_REFUSED("stop", "a --time", "stop: option '--time' needs a value");
	ASSERT_REFUSED("stop", "-t 3", "stop: missing argument; usage: paddock stop");
	ASSERT_REFUSED("attach", "a b", "attach: too many arguments");
	ASSERT_REFUSED("exec", "box", "exec: missing argument");
	ASSERT_REFUSED("exec", "-t box", "exec: missing argument");
}

TEST(commands_stop_at_their_command)
{
	/* run: the first positional argument is the command */
	ASSERT_PARSES("run", "--net none bash -c --net", "#=none", "bash -c --net");
	ASSERT_PARSES("run", "-- --weird -t", "", "--weird -t");
	ASSERT_PARSES("run", "ls -- -t", "", "ls -- -t");
	ASSERT_PARSES("run", "ls --help", "", "ls --help");
	/* exec, create, start: options around NAME, none in the command */
	ASSERT_PARSES("exec", "-t box -i ls -l -t", "t i", "box ls -l -t");
	ASSERT_PARSES("exec", "box -- ls -i", "", "box ls -i");
	ASSERT_PARSES("exec", "box ls -- x", "", "box ls -- x");
	ASSERT_PARSES("create", "box --net none", "#=none", "box");
	ASSERT_PARSES("create", "box --net none bash -x --net", "#=none", "box bash -x --net");
	ASSERT_PARSES("create", "--net none box -- bash -l", "#=none", "box bash -l");
	ASSERT_PARSES("start", "box -a -- vim -a", "a", "box vim -a");
	ASSERT_PARSES("start", "box -a", "a", "box");
}

TEST(help_anywhere)
{
	struct parsed p;

	parse("stop", "a --help", &p);
	ASSERT_EQ(p.r, 'h');
	ASSERT_NOT_NULL(strstr(p.out, "Usage: paddock stop"));
	parse("exec", "box -h ls", &p);
	ASSERT_EQ(p.r, 'h');
	/* a command's own --help is its own */
	ASSERT_PARSES("exec", "box ls --help", "", "box ls --help");
}

TEST(posixly_correct_changes_nothing)
{
	ASSERT_OK(setenv("POSIXLY_CORRECT", "1", 1));
	ASSERT_PARSES("stop", "a -t 1 b", "t=1", "a b");
	ASSERT_PARSES("exec", "box -t ls -t", "t", "box ls -t");
	ASSERT_OK(unsetenv("POSIXLY_CORRECT"));
}

TEST(parse_args_one_flag)
{
	char *argv[] = { (char *)"rm", (char *)"a", (char *)"-f", NULL };
	char *argv2[] = { (char *)"suspend", (char *)"a", (char *)"b", NULL };
	struct cmd_parser p = CMD_PARSER_INIT(cmd_find("rm"), 3, argv),
			  q = CMD_PARSER_INIT(cmd_find("suspend"), 3, argv2);
	bool force = false;

	ASSERT_EQ(cmd_parse_args(&p, &force), 1);
	ASSERT_TRUE(force);
	ASSERT_EQ(p.n_args, 1);
	ASSERT_STREQ(p.args[0], "a");
	cmd_parser_done(&p);
	ASSERT_NULL(p.args);

	ASSERT_EQ(cmd_parse_args(&q, NULL), 1);
	ASSERT_EQ(q.n_args, 2);
	ASSERT_STREQ(q.args[1], "b");
	cmd_parser_done(&q);
}

TEST(parsing_twice)
{
	char *argv[] = { (char *)"run", (char *)"--net", (char *)"none", (char *)"ls", NULL };

	for (int i = 0; i < 2; i++) {
		_cleanup_(cmd_parser_done) struct cmd_parser p =
			CMD_PARSER_INIT(cmd_find("run"), 4, argv);
		int c, n = 0;

		while ((c = cmd_parse_next(&p)) > 0)
			n++;
		ASSERT_EQ(c, 0);
		ASSERT_EQ(n, 1);
		ASSERT_EQ(p.n_args, 1);
		ASSERT_STREQ(p.args[0], "ls");
		/* done is done */
		ASSERT_EQ(cmd_parse_next(&p), 0);
	}
}

/* only the commands that run a COMMAND stop at it; the rest take options anywhere */
TEST(table_command_arg)
{
	for (const struct paddock_cmd *const *c = paddock_cmds; *c; c++) {
		int want = 0;

		if (streq((*c)->name, "run"))
			want = 1;
		else if (streq((*c)->name, "create") || streq((*c)->name, "start") ||
			 streq((*c)->name, "exec"))
			want = 2;
		if ((*c)->command_arg != want)
			TAP_FAIL("%s: command_arg %d, expected %d", (*c)->name, (*c)->command_arg,
				 want);
	}
}

int main(void)
{
	return tap_run();
}
