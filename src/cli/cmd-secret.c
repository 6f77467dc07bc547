/* SPDX-License-Identifier: MIT */
/*
 * cmd-secret.c - `paddock secret set NAME` / `secret ls [--json]` / `secret rm NAME`
 *
 * DOC: Theory of Operation
 * The local secret store (store/secrets.c): one 0600 file per secret under $DATA/secrets. A
 * value never comes from the command line, where shell history, `ps` and /proc/PID/cmdline
 * would keep it: `set` reads standard input. From a terminal it reads one line with echo off
 * (the terminal's settings are restored on every exit path, also SIGINT and SIGTERM, which are
 * held back while echo is off and delivered after); from a pipe or file it reads everything,
 * up to 64 KiB, and strips one trailing newline. An empty value is refused. `ls` prints names
 * and modification times, never values (nor their lengths).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cmd.h"
#include "common/cleanup.h"
#include "common/fd.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "store/secrets.h"

enum {
	ARG_JSON = OPT_LONG_BASE,
};

static const struct paddock_opt secret_opts[] = {
	{ "json", 0, NULL, false, "ls: print a JSON array of {name, modified}", ARG_JSON },
	{},
};

static bool arg_json;

/*
 * Read one line from the terminal on fd 0 with echo off. SIGINT, SIGTERM, SIGHUP and SIGTSTP
 * are blocked meanwhile, so the terminal is always restored; a pending one is delivered when
 * they are unblocked (and ^C then ends paddock as usual). The line is returned as read: the
 * caller strips the newline.
 */
static int read_hidden(char *buf, size_t cap, size_t *ret_n)
{
	struct termios old, quiet;
	sigset_t block, saved;
	size_t n = 0;
	int r = 0;

	if (tcgetattr(STDIN_FILENO, &old) < 0)
		return -errno;
	(void)sigemptyset(&block);
	(void)sigaddset(&block, SIGINT);
	(void)sigaddset(&block, SIGTERM);
	(void)sigaddset(&block, SIGHUP);
	(void)sigaddset(&block, SIGTSTP);
	(void)sigprocmask(SIG_BLOCK, &block, &saved);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON | ISIG;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &quiet) < 0) {
		r = -errno;
		(void)sigprocmask(SIG_SETMASK, &saved, NULL);
		return r;
	}
	while (n < cap) {
		ssize_t k = read(STDIN_FILENO, buf + n, cap - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			break;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (buf[n - 1] == '\n')
			break;
	}
	(void)tcsetattr(STDIN_FILENO, TCSANOW, &old);
	(void)fputc('\n', stderr);
	(void)sigprocmask(SIG_SETMASK, &saved, NULL);
	*ret_n = n;
	return r;
}

static int secret_set(const char *name)
{
	const size_t cap = SECRET_VALUE_MAX + 3;
	_cleanup_free_ char *buf = xmalloc(cap);
	const char *why = NULL;
	bool tty = isatty(STDIN_FILENO);
	size_t n = 0;
	int r;

	if (!config_secret_name_is_valid(name)) {
		log_error("secret set: invalid secret name '%s' (a letter, then letters, digits or "
			  "'_', at most 64 bytes)",
			  name);
		return -EINVAL;
	}
	if (tty) {
		(void)fprintf(stderr,
			      "Value of secret %s (input is hidden, end with Enter): ", name);
		(void)fflush(stderr);
		r = read_hidden(buf, cap, &n);
	} else {
		ssize_t k = loop_read(STDIN_FILENO, buf, cap);

		r = k < 0 ? (int)k : 0;
		n = k < 0 ? 0 : (size_t)k;
	}
	if (r < 0) {
		explicit_bzero(buf, cap);
		return log_error_errno(r,
				       "secret set: cannot read the value from standard input: %m");
	}
	if (n > 0 && buf[n - 1] == '\n') {
		n--;
		if (n > 0 && buf[n - 1] == '\r')
			n--;
	}
	r = secret_value_check(buf, n, &why);
	if (r < 0) {
		explicit_bzero(buf, cap);
		log_error("secret set: %s%s", why,
			  n == 0 ? " (the value is read from standard input)" : "");
		return r;
	}
	r = secret_store_set(NULL, name, buf, n);
	explicit_bzero(buf, cap);
	if (r == -EPERM || r == -ELOOP)
		return log_error_errno(
			r, "secret set: the store directory is not a 0700 directory of "
			   "yours (a symlink, or another owner or mode); fix it by hand");
	if (r < 0)
		return log_error_errno(r, "secret set: cannot store secret '%s': %m", name);
	if (tty)
		(void)fprintf(stderr, "Stored secret %s.\n", name);
	return 0;
}

static char *format_time(const struct timespec *ts)
{
	char buf[64];
	struct tm tm;

	if (!localtime_r(&ts->tv_sec, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm))
		return xstrdup("?");
	return xstrdup(buf);
}

static char *format_time_utc(const struct timespec *ts)
{
	char buf[64];
	struct tm tm;

	if (!gmtime_r(&ts->tv_sec, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return xstrdup("");
	return xstrdup(buf);
}

static int secret_ls(void)
{
	struct secret_entry *l = NULL;
	size_t n = 0;
	int r;

	r = secret_store_list(NULL, &l, &n);
	if (r < 0)
		return log_error_errno(r, "secret ls: cannot list the store: %m");
	if (arg_json) {
		struct json_object *a = json_object_new_array();

		for (size_t i = 0; i < n; i++) {
			struct json_object *o = json_object_new_object();
			_cleanup_free_ char *t = format_time_utc(&l[i].mtime);

			(void)json_object_object_add(o, "name", json_object_new_string(l[i].name));
			(void)json_object_object_add(o, "modified", json_object_new_string(t));
			(void)json_object_array_add(a, o);
		}
		printf("%s\n", json_object_to_json_string_ext(
				       a, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		(void)json_object_put(a);
	} else if (n > 0) {
		printf("%-32s %s\n", "NAME", "MODIFIED");
		for (size_t i = 0; i < n; i++) {
			_cleanup_free_ char *t = format_time(&l[i].mtime);

			printf("%-32s %s\n", l[i].name, t);
		}
	}
	secret_entries_free(l, n);
	return 0;
}

static int secret_rm(const char *name)
{
	int r;

	if (!config_secret_name_is_valid(name)) {
		log_error("secret rm: invalid secret name '%s'", name);
		return -EINVAL;
	}
	r = secret_store_remove(NULL, name);
	if (r == -ENOENT)
		return log_error_errno(r,
				       "secret rm: no secret '%s' in the store; see 'paddock "
				       "secret ls'",
				       name);
	if (r < 0)
		return log_error_errno(r, "secret rm: cannot remove secret '%s': %m", name);
	return 0;
}

static int cmd_secret_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("secret"), argc, argv);
	const char *verb;
	int r, nargs;

	/* options may come before or after the verb: `secret --json ls`, `secret ls --json` */
	r = cmd_parse_args(&p, &arg_json);
	if (r <= 0)
		return r;
	verb = p.args[0];
	nargs = p.n_args - 1;
	if (streq(verb, "set")) {
		if (nargs > 1) {
			log_error("secret set: the value is read from standard input, never from "
				  "the command line (shell history and 'ps' would keep it); usage: "
				  "paddock secret set NAME");
			return -EINVAL;
		}
		if (nargs < 1 || arg_json) {
			log_error("secret set: usage: paddock secret set NAME (the value on "
				  "standard input)");
			return -EINVAL;
		}
		return secret_set(p.args[1]);
	}
	if (streq(verb, "ls") || streq(verb, "list")) {
		if (nargs != 0) {
			log_error("secret ls: usage: paddock secret ls [--json]");
			return -EINVAL;
		}
		return secret_ls();
	}
	if (streq(verb, "rm") || streq(verb, "remove")) {
		if (nargs != 1 || arg_json) {
			log_error("secret rm: usage: paddock secret rm NAME");
			return -EINVAL;
		}
		return secret_rm(p.args[1]);
	}
	log_error("secret: unknown action '%s'; expected set, ls or rm", verb);
	return -EINVAL;
}

const struct paddock_cmd paddock_cmd_secret = {
	.name = "secret",
	.usage = "set NAME | ls [--json] | rm NAME",
	.summary = "Manage the local secret store (values are read from stdin, never shown)",
	.opts = secret_opts,
	.min_args = 1,
	.max_args = -1,
	.complete_args = "set ls rm",
	.exec = cmd_secret_exec,
};
