/* SPDX-License-Identifier: MIT */
/*
 * cmd-sandbox.c - persistent sandboxes: create, start, attach, exec, ls, stop, suspend,
 * resume, rm, reset
 *
 * DOC: Theory of Operation
 * A named sandbox is a directory ($DATA/sandboxes/NAME: config.json, state.json, home/,
 * audit.jsonl, lock) and, while it runs, a supervisor in the background with a control socket
 * ($RUNTIME/NAME/ctl.sock). config.json keeps the `run` options it was created with, in
 * canonical form, and its command; `start` replays them through the very code of `run`
 * (run_launch()), so a named sandbox has exactly the isolation of an ephemeral one, and
 * configuration files are read again at each start (a tightened policy applies at once).
 *
 * `start` forks twice (the supervisor is nobody's child and outlives the terminal), and
 * waits on a pipe until the command runs: errors before that appear on the user's terminal,
 * and the exit code says whether it started. The supervisor holds the sandbox's lock for its
 * whole life, which is how every other command knows it runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "clone.h"
#include "cmd.h"
#include "common/cleanup.h"
#include "common/fd.h"
#include "common/log.h"
#include "common/path.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "ipc/ctl.h"
#include "launch.h"
#include "sandbox/spec.h"
#include "store/image.h"
#include "store/paths.h"
#include "store/review.h"
#include "store/sandbox.h"
#include "supervisor/runstate.h"

extern const struct paddock_opt paddock_run_opts[];

#define DEFAULT_DETACH_KEYS "ctrl-p,ctrl-q"

enum {
	OPT_DETACH_KEYS = OPT_LONG_BASE + 100,
	OPT_JSON,
};

/* sandbox_open() - the directory of an existing sandbox @name, with errors that say what to do */
static int sandbox_open(const char *verb, const char *name, char **ret_dir)
{
	_cleanup_free_ char *dir = NULL;
	const char *why = NULL;
	struct stat st;
	int r;

	if (sandbox_name_check(name, &why) < 0)
		return log_error_errno(EINVAL, "%s: '%s' is not a sandbox name: %s", verb, name,
				       why);
	r = sandbox_dir(name, &dir);
	if (r < 0)
		return log_error_errno(r, "%s: cannot find paddock's data directory: %m", verb);
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return log_error_errno(ENOENT,
				       "%s: no sandbox named '%s'; 'paddock ls' lists them, "
				       "'paddock create %s' makes one",
				       verb, name, name);
	*ret_dir = TAKE_PTR(dir);
	return 0;
}

static int mkdir_parents(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = xstrdup(path);

	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return 0;
}

/* sandbox_create() - the directory of a new sandbox, from collected `run` options */
static int sandbox_create(const char *verb, const char *name, char **opts, char **cmd)
{
	_cleanup_free_ char *dir = NULL, *home = NULL, *ws = NULL;
	_cleanup_strv_free_ char **all = NULL;
	struct json_object *o, *a;
	const char *why = NULL, *wsarg = NULL;
	int r;

	if (sandbox_name_check(name, &why) < 0)
		return log_error_errno(EINVAL, "%s: '%s' is not a valid sandbox name: %s", verb,
				       name, why);
	STRV_FOREACH (p, opts)
		if (streq(*p, "--workspace") && p[1])
			wsarg = p[1];
	ws = realpath(wsarg ? wsarg : ".", NULL);
	if (!ws)
		return log_error_errno(errno, "%s: workspace '%s': %m", verb, wsarg ? wsarg : ".");
	/* the workspace, resolved now: `start` may run from anywhere */
	strv_extend(&all, "--workspace");
	strv_extend(&all, ws);
	for (char **p = opts; p && *p; p++) {
		if (streq(*p, "--workspace") && p[1]) {
			p++;
			continue;
		}
		strv_extend(&all, *p);
	}

	r = sandbox_dir(name, &dir);
	if (r < 0)
		return log_error_errno(r, "%s: cannot find paddock's data directory: %m", verb);
	r = mkdir_parents(dir, 0700);
	if (r < 0)
		return log_error_errno(r, "%s: cannot create the directories of '%s': %m", verb,
				       dir);
	if (mkdir(dir, 0700) < 0) {
		if (errno == EEXIST)
			return log_error_errno(
				EEXIST,
				"%s: a sandbox named '%s' already exists; use it "
				"('paddock start %s'), remove it ('paddock rm %s') or "
				"choose another name",
				verb, name, name, name);
		return log_error_errno(errno, "%s: cannot create '%s': %m", verb, dir);
	}
	home = path_join(dir, "home");
	if (mkdir(home, 0700) < 0) {
		r = log_error_errno(errno, "%s: cannot create '%s': %m", verb, home);
		goto fail;
	}

	/* images (docs/design/images.md): the clone's layers and identity, made now */
	STRV_FOREACH (p, all)
		if (streq(*p, "--image") && p[1] && !streq(p[1], "host")) {
			struct sandbox_spec spec = {};
			struct clone_ctx clone = CLONE_CTX_INIT;

			r = clone_setup(verb, p[1], dir, &spec, &clone);
			clone_done(&clone);
			sandbox_spec_free(&spec);
			if (r < 0)
				goto fail;
			break;
		}

	o = json_object_new_object();
	json_object_object_add(o, "version", json_object_new_int(1));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "workspace", json_object_new_string(ws));
	json_object_object_add(o, "created", json_object_new_int64((int64_t)time(NULL)));
	a = json_object_new_array();
	STRV_FOREACH (p, all)
		json_object_array_add(a, json_object_new_string(*p));
	json_object_object_add(o, "options", a);
	a = json_object_new_array();
	STRV_FOREACH (p, cmd)
		json_object_array_add(a, json_object_new_string(*p));
	json_object_object_add(o, "command", a);
	r = sandbox_json_write(dir, "config.json", o);
	json_object_put(o);
	if (r >= 0)
		r = sandbox_state_set(dir, "created", NULL);
	if (r < 0) {
		log_error_errno(r, "%s: cannot write the state of '%s': %m", verb, name);
		goto fail;
	}
	return 0;
fail : {
	_cleanup_free_ char *parent = NULL;
	_cleanup_close_ int pfd = -EBADF;

	parent = xstrdup(dir);
	*strrchr(parent, '/') = '\0';
	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd >= 0)
		(void)rm_rf_at(pfd, name);
	return r;
}
}

static char **json_strv(struct json_object *o, const char *key)
{
	struct json_object *a;
	char **l = NULL;

	if (json_object_object_get_ex(o, key, &a) && json_object_is_type(a, json_type_array))
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			struct json_object *e = json_object_array_get_idx(a, i);

			if (json_object_is_type(e, json_type_string))
				strv_extend(&l, json_object_get_string(e));
		}
	return l ? l : xcalloc(1, sizeof(char *));
}

static int ctl_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -EBADF;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	(void)unlink(path); /* a crashed supervisor's; we hold the lock */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0)
		return -errno;
	return TAKE_FD(fd);
}

/*
 * supervise() - the body of the background supervisor: run the sandbox, then clean the
 * runtime directory. Never returns.
 */
static _noreturn_ void supervise(const char *name, const char *dir, const char *rt, int ctl_fd,
				 int ready_fd, char **opts, char **cmd, bool wait_attach)
{
	_cleanup_free_ char *home = path_join(dir, "home"),
			    *logp = path_join(dir, "supervisor.log"),
			    *sock = path_join(rt, "ctl.sock");
	_cleanup_strv_free_ char **argv = NULL;
	struct launch_session sess = {
		.name = name,
		.dir = dir,
		.home_src = home,
		.ctl_fd = ctl_fd,
		.ready_fd = ready_fd,
		.log_fd = -EBADF,
		.wait_attach = wait_attach,
	};
	int devnull, r;

	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0)
		(void)dup2(devnull, STDIN_FILENO);
	sess.log_fd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (sess.log_fd < 0)
		sess.log_fd = devnull;
	strv_extend(&argv, "run");
	STRV_FOREACH (p, opts)
		strv_extend(&argv, *p);
	strv_extend(&argv, "--");
	STRV_FOREACH (p, cmd)
		strv_extend(&argv, *p);
	r = run_launch((int)strv_length(argv), argv, &sess);
	log_debug("sandbox '%s' ended: %d", name, r);
	(void)unlink(sock);
	(void)rmdir(rt);
	_exit(r < 0 ? PADDOCK_EXIT_ERROR : 0);
}

/* sandbox_start() - start NAME's supervisor in the background; 0 once its command runs */
static int sandbox_start(const char *verb, const char *name, char **cmd_override, bool attach)
{
	_cleanup_free_ char *dir = NULL, *rt = NULL, *sock = NULL;
	_cleanup_strv_free_ char **opts = NULL, **cmd = NULL;
	_cleanup_close_ int lock = -EBADF, ctl = -EBADF;
	struct json_object *cfg = NULL;
	int ready[2], r;
	pid_t pid;
	char c;

	r = sandbox_open(verb, name, &dir);
	if (r < 0)
		return r;
	lock = sandbox_lock(dir, 0);
	if (lock == -EBUSY)
		return log_error_errno(EBUSY,
				       "%s: sandbox '%s' is already running; 'paddock attach %s' "
				       "joins it",
				       verb, name, name);
	if (lock < 0)
		return log_error_errno(lock, "%s: cannot lock sandbox '%s': %m", verb, name);
	r = sandbox_json_read(dir, "config.json", &cfg);
	if (r < 0)
		return log_error_errno(r,
				       "%s: the configuration of sandbox '%s' (%s/config.json) "
				       "is unreadable: %m; remove the sandbox with 'paddock rm %s'",
				       verb, name, dir, name);
	opts = json_strv(cfg, "options");
	cmd = cmd_override && *cmd_override ? strv_copy(cmd_override) : json_strv(cfg, "command");
	json_object_put(cfg);

	r = sandbox_runtime(name, &rt);
	if (r < 0)
		return log_error_errno(r, "%s: cannot set up the runtime directory: %m", verb);
	r = paths_ensure_private_dir(rt, getuid());
	if (r < 0)
		return log_error_errno(r, "%s: runtime directory '%s': %m", verb, rt);
	sock = path_join(rt, "ctl.sock");
	ctl = ctl_listen(sock);
	if (ctl < 0)
		return log_error_errno(ctl, "%s: cannot create the control socket '%s': %m", verb,
				       sock);
	if (pipe2(ready, O_CLOEXEC) < 0)
		return log_error_errno(errno, "%s: pipe: %m", verb);

	(void)fflush(NULL);
	pid = fork();
	if (pid < 0) {
		r = -errno;
		(void)close(ready[0]);
		(void)close(ready[1]);
		return log_error_errno(r, "%s: fork: %m", verb);
	}
	if (pid == 0) {
		(void)close(ready[0]);
		(void)setsid();
		pid = fork();
		if (pid != 0)
			_exit(pid < 0 ? 1 : 0);
		supervise(name, dir, rt, ctl, ready[1], opts, cmd, attach);
	}
	(void)close(ready[1]);
	(void)waitpid(pid, NULL, 0);
	do
		r = (int)read(ready[0], &c, 1);
	while (r < 0 && errno == EINTR);
	(void)close(ready[0]);
	if (r != 1)
		return -ECANCELED; /* the supervisor said why on our stderr */
	return 0;
}

static int attach_to(const char *verb, const char *name, const char *keys)
{
	unsigned char detach[8];
	size_t n_detach = 0;
	bool detached = false;
	int code = 0, r;
	_cleanup_close_ int fd = -EBADF;

	if (detach_keys_parse(keys, detach, &n_detach) < 0)
		return log_error_errno(
			EINVAL,
			"%s: --detach-keys '%s': expected keys such as "
			"'ctrl-p,ctrl-q' (a character or ctrl-LETTER, comma-separated)",
			verb, keys);
	fd = ctl_connect(name);
	if (fd == -ESRCH)
		return log_error_errno(ESRCH,
				       "%s: sandbox '%s' is not running; 'paddock start -a %s' "
				       "starts it",
				       verb, name, name);
	if (fd < 0)
		return log_error_errno(fd, "%s: cannot reach sandbox '%s': %m", verb, name);
	r = ctl_attach(fd, name, detach, n_detach, &detached, &code);
	if (r < 0 && r != -EREMOTEIO)
		return r;
	if (detached)
		fprintf(stderr,
			"\r\npaddock: detached from '%s'; 'paddock attach %s' comes back\r\n", name,
			name);
	return code;
}

int sandbox_run_named(const char *name, char **opts, char **cmd)
{
	int r = sandbox_create("run", name, opts, cmd);

	if (r < 0)
		return r;
	r = sandbox_start("run", name, NULL, true);
	if (r < 0)
		return r;
	return attach_to("run", name, DEFAULT_DETACH_KEYS);
}

/* --- create --- */

static int cmd_create_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("create"), argc, argv);
	_cleanup_strv_free_ char **opts = NULL;
	_cleanup_free_ char *name = NULL;
	int r;

	r = run_collect_options(&p, &opts, &name);
	if (r <= 0)
		return r;
	if (name)
		return log_error_errno(EINVAL, "create: the name is an argument, not --name: "
					       "'paddock create [OPTIONS] NAME [COMMAND...]'");
	r = sandbox_create("create", p.args[0], opts, p.args + 1);
	if (r < 0)
		return r;
	printf("%s\n", p.args[0]);
	return 0;
}

const struct paddock_cmd paddock_cmd_create = {
	.name = "create",
	.usage = "[OPTIONS] NAME [COMMAND [ARG...]]",
	.summary = "Create a persistent sandbox (not started)",
	.opts = paddock_run_opts,
	.min_args = 1,
	.max_args = -1,
	.command_arg = 2,
	.complete_args = "sandbox",
	.exec = cmd_create_exec,
};

/* --- start --- */

static const struct paddock_opt start_opts[] = {
	{ "attach", 'a', NULL, false, "attach this terminal once started", 'a', NULL },
	{ "detach-keys", 0, "KEYS", false,
	  "keys that detach (default ctrl-p,ctrl-q), with --attach", OPT_DETACH_KEYS, NULL },
	{},
};

static int cmd_start_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("start"), argc, argv);
	const char *keys = DEFAULT_DETACH_KEYS;
	bool attach = false;
	int c, r;

	while ((c = cmd_parse_next(&p)) > 0) {
		if (c == 'h')
			return 0;
		if (c == 'a')
			attach = true;
		else if (c == OPT_DETACH_KEYS)
			keys = optarg;
	}
	if (c < 0)
		return c;
	if (attach) {
		unsigned char k[8];
		size_t n;

		if (detach_keys_parse(keys, k, &n) < 0)
			return log_error_errno(EINVAL,
					       "start: --detach-keys '%s': expected keys "
					       "such as 'ctrl-p,ctrl-q'",
					       keys);
	}
	r = sandbox_start("start", p.args[0], p.args + 1, attach);
	if (r < 0)
		return r;
	if (attach)
		return attach_to("start", p.args[0], keys);
	return 0;
}

const struct paddock_cmd paddock_cmd_start = {
	.name = "start",
	.usage = "[-a] NAME [-- COMMAND [ARG...]]",
	.summary = "Start a persistent sandbox in the background",
	.opts = start_opts,
	.min_args = 1,
	.max_args = -1,
	.command_arg = 2,
	.complete_args = "sandbox",
	.exec = cmd_start_exec,
};

/* --- attach --- */

static const struct paddock_opt attach_opts[] = {
	{ "detach-keys", 0, "KEYS", false, "keys that detach (default ctrl-p,ctrl-q)",
	  OPT_DETACH_KEYS, NULL },
	{},
};

static int cmd_attach_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("attach"), argc, argv);
	const char *keys = DEFAULT_DETACH_KEYS;
	_cleanup_free_ char *dir = NULL;
	int c, r;

	while ((c = cmd_parse_next(&p)) > 0) {
		if (c == 'h')
			return 0;
		keys = optarg; /* --detach-keys, its only option */
	}
	if (c < 0)
		return c;
	r = sandbox_open("attach", p.args[0], &dir);
	if (r < 0)
		return r;
	return attach_to("attach", p.args[0], keys);
}

const struct paddock_cmd paddock_cmd_attach = {
	.name = "attach",
	.usage = "[--detach-keys KEYS] NAME",
	.summary = "Attach this terminal to a running sandbox",
	.opts = attach_opts,
	.min_args = 1,
	.max_args = 1,
	.complete_args = "sandbox",
	.exec = cmd_attach_exec,
};

/* --- exec --- */

static const struct paddock_opt exec_opts[] = {
	{ "tty", 't', NULL, false, "run the command on a new pseudo-terminal", 't', NULL },
	{ "interactive", 'i', NULL, false, "pass stdin to the command", 'i', NULL },
	{},
};

static int cmd_exec_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("exec"), argc, argv);
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int fd = -EBADF;
	bool tty = false, interactive = false;
	const char *name;
	int c, r, code = PADDOCK_EXIT_ERROR;

	while ((c = cmd_parse_next(&p)) > 0) {
		if (c == 'h')
			return 0;
		if (c == 't')
			tty = true;
		else if (c == 'i')
			interactive = true;
	}
	if (c < 0)
		return c;
	name = p.args[0];
	r = sandbox_open("exec", name, &dir);
	if (r < 0)
		return r;
	fd = ctl_connect(name);
	if (fd == -ESRCH)
		return log_error_errno(ESRCH,
				       "exec: sandbox '%s' is not running; 'paddock start %s' "
				       "starts it",
				       name, name);
	if (fd < 0)
		return log_error_errno(fd, "exec: cannot reach sandbox '%s': %m", name);
	r = ctl_exec(fd, name, p.args + 1, tty, interactive, &code);
	if (r < 0 && r != -EREMOTEIO)
		return r;
	return code;
}

const struct paddock_cmd paddock_cmd_exec = {
	.name = "exec",
	.usage = "[-t] [-i] NAME COMMAND [ARG...]",
	.summary = "Run another command in a running sandbox",
	.opts = exec_opts,
	.min_args = 2,
	.max_args = -1,
	.command_arg = 2,
	.complete_args = "sandbox",
	.exec = cmd_exec_exec,
};

/* --- ls --- */

static const struct paddock_opt ls_opts[] = {
	{ "json", 0, NULL, false, "print a JSON array", OPT_JSON, NULL },
	{ "quiet", 'q', NULL, false, "print the names only", 'q', NULL },
	{},
};

static void format_uptime(int64_t secs, char *buf, size_t size)
{
	if (secs < 60)
		(void)snprintf(buf, size, "%llds", (long long)secs);
	else if (secs < 3600)
		(void)snprintf(buf, size, "%lldm", (long long)(secs / 60));
	else if (secs < 86400)
		(void)snprintf(buf, size, "%lldh%02lldm", (long long)(secs / 3600),
			       (long long)(secs % 3600 / 60));
	else
		(void)snprintf(buf, size, "%lldd%02lldh", (long long)(secs / 86400),
			       (long long)(secs % 86400 / 3600));
}

static int64_t json_int(struct json_object *o, const char *key, int64_t def)
{
	struct json_object *v;

	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	return def;
}

/* sandbox_describe() - one sandbox as `ls --json` shows it */
static struct json_object *sandbox_describe(const char *name)
{
	_cleanup_free_ char *dir = NULL;
	struct json_object *o = json_object_new_object(), *st = NULL, *cfg = NULL, *info = NULL, *v;
	enum sandbox_state state;

	json_object_object_add(o, "name", json_object_new_string(name));
	if (sandbox_dir(name, &dir) < 0)
		return o;
	state = sandbox_state_get(dir, &st);
	if (state == SANDBOX_RUNNING || state == SANDBOX_SUSPENDED) {
		_cleanup_close_ int fd = ctl_connect(name);

		if (fd >= 0 && ctl_request(fd, name, CTL_INFO, NULL, 0, &info, NULL) >= 0 && info &&
		    json_object_object_get_ex(info, "state", &v))
			state = streq(json_object_get_string(v), "suspended") ? SANDBOX_SUSPENDED
									      : SANDBOX_RUNNING;
	}
	json_object_object_add(o, "state", json_object_new_string(sandbox_state_to_string(state)));
	if (state != SANDBOX_RUNNING && state != SANDBOX_SUSPENDED) {
		/* a crashed supervisor's control socket: nobody serves it any more */
		_cleanup_free_ char *rt = NULL;

		if (sandbox_runtime(name, &rt) >= 0 && sandbox_is_locked(dir) == 0) {
			_cleanup_free_ char *sock = path_join(rt, "ctl.sock");

			(void)unlink(sock);
			(void)rmdir(rt);
		}
	}
	if (state == SANDBOX_EXITED || state == SANDBOX_STOPPED) {
		int64_t status = json_int(st, "status", -1);

		if (status >= 0)
			json_object_object_add(o, "exit_code", json_object_new_int64(status));
		if (st && json_object_object_get_ex(st, "error", &v))
			json_object_object_add(o, "error", json_object_get(v));
		if (json_int(st, "oom_kills", 0) > 0) {
			json_object_object_add(o, "oom_kills",
					       json_object_new_int64(json_int(st, "oom_kills", 0)));
			json_object_object_add(
				o, "error",
				json_object_new_string("its memory limit was reached: "
						       "the kernel killed processes"));
		}
	}
	if (state == SANDBOX_CRASHED)
		json_object_object_add(o, "error",
				       json_object_new_string("its supervisor died without "
							      "recording an exit (killed, or the "
							      "machine restarted)"));
	if (info) {
		if (json_object_object_get_ex(info, "started", &v))
			json_object_object_add(o, "started", json_object_get(v));
		if (json_object_object_get_ex(info, "attached", &v))
			json_object_object_add(o, "attached", json_object_get(v));
		if (json_object_object_get_ex(info, "ports", &v))
			json_object_object_add(o, "ports", json_object_get(v));
		if (json_object_object_get_ex(info, "pid", &v))
			json_object_object_add(o, "supervisor_pid", json_object_get(v));
		if (json_object_object_get_ex(info, "suspend_method", &v) &&
		    state == SANDBOX_SUSPENDED)
			json_object_object_add(o, "suspend_method", json_object_get(v));
	}
	if (sandbox_json_read(dir, "config.json", &cfg) >= 0) {
		if (json_object_object_get_ex(cfg, "workspace", &v))
			json_object_object_add(o, "workspace", json_object_get(v));
		if (json_object_object_get_ex(cfg, "command", &v))
			json_object_object_add(o, "command", json_object_get(v));
		if (json_object_object_get_ex(cfg, "created", &v))
			json_object_object_add(o, "created", json_object_get(v));
	}
	if (info && json_object_object_get_ex(info, "agent", &v))
		json_object_object_add(o, "agent", json_object_get(v));
	else if (state == SANDBOX_EXITED || state == SANDBOX_STOPPED) {
		struct json_object *a = json_object_new_object();

		json_object_object_add(a, "state", json_object_new_string("exited"));
		json_object_object_add(a, "symbol", json_object_new_string("■"));
		if (json_int(st, "status", -1) >= 0)
			json_object_object_add(a, "code",
					       json_object_new_int64(json_int(st, "status", -1)));
		json_object_object_add(o, "agent", a);
	}
	json_object_put(st);
	json_object_put(cfg);
	json_object_put(info);
	return o;
}

/* agent_of() - the agent's state in a sandbox_describe() object, "-" when none */
static const char *agent_of(struct json_object *o)
{
	struct json_object *a, *v;

	if (json_object_object_get_ex(o, "agent", &a) && json_object_object_get_ex(a, "state", &v))
		return json_object_get_string(v);
	return "-";
}

static int cmd_ls_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("ls"), argc, argv);
	_cleanup_strv_free_ char **names = NULL;
	struct json_object *all;
	bool json = false, quiet = false;
	int c, r;

	while ((c = cmd_parse_next(&p)) > 0) {
		if (c == 'h')
			return 0;
		if (c == 'q')
			quiet = true;
		else if (c == OPT_JSON)
			json = true;
	}
	if (c < 0)
		return c;
	r = sandbox_list(&names);
	if (r < 0)
		return log_error_errno(r, "ls: cannot list the sandboxes: %m");
	if (quiet) {
		STRV_FOREACH (n, names)
			printf("%s\n", *n);
		return 0;
	}
	{
		_cleanup_free_ char *rt = NULL;

		/* what crashed runs left behind (placeholders in workspaces) */
		if (paths_runtime_dir(&rt) >= 0)
			runstate_cleanup_stale(rt);
	}
	all = json_object_new_array();
	STRV_FOREACH (n, names)
		json_object_array_add(all, sandbox_describe(*n));
	if (json) {
		printf("%s\n",
		       json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(all);
		return 0;
	}
	printf("%-20s %-12s %-8s %-8s %-16s %s\n", "NAME", "STATE", "AGENT", "UPTIME", "PORTS",
	       "WORKSPACE");
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		struct json_object *o = json_object_array_get_idx(all, i), *v;
		char state[32], up[48] = "-", ports[64] = "-";
		const char *s = "";

		if (json_object_object_get_ex(o, "state", &v))
			s = json_object_get_string(v);
		if (json_object_object_get_ex(o, "exit_code", &v))
			(void)snprintf(state, sizeof(state), "%s (%d%s)", s, json_object_get_int(v),
				       json_object_object_get_ex(o, "oom_kills", NULL) ? ", OOM"
										       : "");
		else
			(void)snprintf(state, sizeof(state), "%s", s);
		if (json_object_object_get_ex(o, "started", &v))
			format_uptime((int64_t)time(NULL) - json_object_get_int64(v), up,
				      sizeof(up));
		if (json_object_object_get_ex(o, "ports", &v) && json_object_array_length(v) > 0) {
			size_t off = 0;

			ports[0] = '\0';
			for (size_t k = 0; k < json_object_array_length(v) && off < sizeof(ports);
			     k++)
				off += (size_t)snprintf(
					ports + off, sizeof(ports) - off, "%s%s", k ? "," : "",
					json_object_get_string(json_object_array_get_idx(v, k)));
		}
		printf("%-20s %-12s %-8s %-8s %-16s %s\n",
		       json_object_get_string(json_object_object_get(o, "name")), state,
		       agent_of(o), up, ports,
		       strempty(json_object_get_string(json_object_object_get(o, "workspace"))));
	}
	json_object_put(all);
	return 0;
}

const struct paddock_cmd paddock_cmd_ls = {
	.name = "ls",
	.aliases = { "ps" },
	.usage = "[--json] [-q]",
	.summary = "List the persistent sandboxes",
	.opts = ls_opts,
	.min_args = 0,
	.max_args = 0,
	.exec = cmd_ls_exec,
};

/* --- stop --- */

static const struct paddock_opt stop_opts[] = {
	{ "time", 't', "SECS", false, "seconds between SIGTERM and SIGKILL (default 5)", 't',
	  NULL },
	{},
};

/* stop_one() - stop NAME and wait until its supervisor is gone; 0 when it was not running */
static int stop_one(const char *verb, const char *name, int timeout)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int fd = -EBADF, lock = -EBADF;
	int32_t t = timeout;
	int r;

	r = sandbox_open(verb, name, &dir);
	if (r < 0)
		return r;
	fd = ctl_connect(name);
	if (fd == -ESRCH)
		return 0;
	if (fd < 0)
		return log_error_errno(fd, "%s: cannot reach sandbox '%s': %m", verb, name);
	r = ctl_request(fd, name, CTL_STOP, &t, sizeof(t), NULL, NULL);
	if (r < 0)
		return r;
	/* the supervisor closes our connection as it exits: wait for that, not by polling */
	{
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char b[64];

		while (poll(&pfd, 1, (timeout + 10) * 1000) > 0 && recv(fd, b, sizeof(b), 0) > 0)
			;
	}
	lock = sandbox_lock(dir, (timeout + 10) * 1000);
	if (lock < 0)
		return log_error_errno(lock, "%s: sandbox '%s' did not stop: %m", verb, name);
	return 0;
}

static int parse_secs(const char *verb, const char *s, int *ret)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || !end || *end || end == s || v < 0 || v > 3600)
		return log_error_errno(EINVAL, "%s: -t '%s': expected seconds from 0 to 3600", verb,
				       s);
	*ret = (int)v;
	return 0;
}

static int cmd_stop_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("stop"), argc, argv);
	int c, r, timeout = 5, ret = 0;

	while ((c = cmd_parse_next(&p)) > 0) {
		if (c == 'h')
			return 0;
		r = parse_secs("stop", optarg, &timeout); /* -t, its only option */
		if (r < 0)
			return r;
	}
	if (c < 0)
		return c;
	for (int i = 0; i < p.n_args; i++) {
		r = stop_one("stop", p.args[i], timeout);
		if (r < 0 && ret == 0)
			ret = r;
	}
	return ret;
}

const struct paddock_cmd paddock_cmd_stop = {
	.name = "stop",
	.usage = "[-t SECS] NAME...",
	.summary = "Stop running sandboxes (SIGTERM, then SIGKILL)",
	.opts = stop_opts,
	.min_args = 1,
	.max_args = -1,
	.complete_args = "sandbox",
	.exec = cmd_stop_exec,
};

/* --- suspend, resume --- */

static int suspend_resume(const char *verb, int argc, char **argv, uint16_t type)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find(verb), argc, argv);
	int r, ret = 0;

	r = cmd_parse_args(&p, NULL);
	if (r <= 0)
		return r;
	for (int i = 0; i < p.n_args; i++) {
		const char *name = p.args[i];
		_cleanup_free_ char *dir = NULL;
		_cleanup_close_ int fd = -EBADF;
		struct json_object *o = NULL, *v;

		r = sandbox_open(verb, name, &dir);
		if (r >= 0) {
			fd = ctl_connect(name);
			if (fd == -ESRCH)
				r = log_error_errno(ESRCH, "%s: sandbox '%s' is not running", verb,
						    name);
			else if (fd < 0)
				r = log_error_errno(fd, "%s: cannot reach sandbox '%s': %m", verb,
						    name);
			else
				r = ctl_request(fd, name, type, NULL, 0, &o, NULL);
		}
		if (r >= 0 && type == CTL_SUSPEND && o &&
		    json_object_object_get_ex(o, "method", &v))
			log_notice("%s: every process of '%s' is stopped (%s)", verb, name,
				   streq(json_object_get_string(v), "SIGSTOP")
					   ? "SIGSTOP to each: no cgroup freezer for this sandbox"
					   : "its cgroup is frozen");
		json_object_put(o);
		if (r < 0 && ret == 0)
			ret = r;
	}
	return ret;
}

static int cmd_suspend_exec(int argc, char **argv)
{
	return suspend_resume("suspend", argc, argv, CTL_SUSPEND);
}

static int cmd_resume_exec(int argc, char **argv)
{
	return suspend_resume("resume", argc, argv, CTL_RESUME);
}

static const struct paddock_opt no_opts[] = {
	{},
};

const struct paddock_cmd paddock_cmd_suspend = {
	.name = "suspend",
	.usage = "NAME...",
	.summary = "Freeze every process of running sandboxes",
	.opts = no_opts,
	.min_args = 1,
	.max_args = -1,
	.complete_args = "sandbox",
	.exec = cmd_suspend_exec,
};

const struct paddock_cmd paddock_cmd_resume = {
	.name = "resume",
	.usage = "NAME...",
	.summary = "Thaw suspended sandboxes",
	.opts = no_opts,
	.min_args = 1,
	.max_args = -1,
	.complete_args = "sandbox",
	.exec = cmd_resume_exec,
};

/* --- rm, reset --- */

static const struct paddock_opt rm_opts[] = {
	{ "force", 'f', NULL, false, "stop running sandboxes first (SIGKILL)", 'f', NULL },
	{},
};

/* lock_stopped() - the lock of a sandbox that is not running (stopping it with @force) */
static int lock_stopped(const char *verb, const char *name, const char *dir, bool force)
{
	int lock = sandbox_lock(dir, 0), r;

	if (lock != -EBUSY)
		return lock < 0 ? log_error_errno(lock, "%s: cannot lock '%s': %m", verb, name)
				: lock;
	if (!force)
		return log_error_errno(EBUSY,
				       "%s: sandbox '%s' is running; stop it first ('paddock "
				       "stop %s') or use -f",
				       verb, name, name);
	r = stop_one(verb, name, 0);
	if (r < 0)
		return r;
	lock = sandbox_lock(dir, 10000);
	if (lock < 0)
		return log_error_errno(lock, "%s: sandbox '%s' did not stop: %m", verb, name);
	return lock;
}

static int rm_one(const char *name, bool force)
{
	_cleanup_free_ char *dir = NULL, *parent = NULL, *rt = NULL;
	_cleanup_close_ int lock = -EBADF, pfd = -EBADF;
	int r;

	r = sandbox_open("rm", name, &dir);
	if (r < 0)
		return r;
	lock = lock_stopped("rm", name, dir, force);
	if (lock < 0)
		return lock;
	/* review mode: never leave a workspace half-applied (review.c) */
	{
		_cleanup_free_ char *rd = path_join(dir, REVIEW_DIR);
		_cleanup_close_ int rfd = open(rd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (rfd >= 0 && review_pending(rfd) > 0)
			return log_error_errno(EBUSY,
					       "rm: an apply of '%s' was interrupted and is half "
					       "done; complete it first ('paddock apply %s')",
					       name, name);
	}
	parent = xstrdup(dir);
	*strrchr(parent, '/') = '\0';
	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return log_error_errno(errno, "rm: '%s': %m", parent);
	r = rm_rf_at(pfd, name);
	if (r < 0)
		return log_error_errno(r, "rm: could not remove all of '%s': %m", dir);
	if (sandbox_runtime(name, &rt) >= 0) {
		_cleanup_free_ char *sock = path_join(rt, "ctl.sock");

		(void)unlink(sock);
		(void)rmdir(rt);
	}
	printf("%s\n", name);
	return 0;
}

static int cmd_rm_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("rm"), argc, argv);
	bool force = false;
	int r, ret = 0;

	r = cmd_parse_args(&p, &force);
	if (r <= 0)
		return r;
	for (int i = 0; i < p.n_args; i++) {
		r = rm_one(p.args[i], force);
		if (r < 0 && ret == 0)
			ret = r;
	}
	return ret;
}

const struct paddock_cmd paddock_cmd_rm = {
	.name = "rm",
	.usage = "[-f] NAME...",
	.summary = "Remove persistent sandboxes",
	.opts = rm_opts,
	.min_args = 1,
	.max_args = -1,
	.complete_args = "sandbox",
	.exec = cmd_rm_exec,
};

static int cmd_reset_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("reset"), argc, argv);
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int lock = -EBADF, dfd = -EBADF;
	const char *name;
	bool force = false;
	int r;

	r = cmd_parse_args(&p, &force);
	if (r <= 0)
		return r;
	name = p.args[0];
	r = sandbox_open("reset", name, &dir);
	if (r < 0 || !dir)
		return r < 0 ? r : -ENOENT;
	lock = lock_stopped("reset", name, dir, force);
	if (lock < 0)
		return lock;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return log_error_errno(errno, "reset: '%s': %m", dir);
	/* review mode: its layer too, but never under a half-done apply (review.c) */
	r = review_discard(dir);
	if (r == -EBUSY)
		return log_error_errno(r,
				       "reset: an apply of '%s' was interrupted and is half done; "
				       "complete it first ('paddock apply %s')",
				       name, name);
	if (r < 0)
		return log_error_errno(r, "reset: could not empty the review layer of '%s': %m",
				       name);
	r = rm_rf_at(dfd, "home");
	if (r < 0)
		return log_error_errno(r, "reset: could not empty the home of '%s': %m", name);
	/* images: back to the image; the next start gives it a new identity (clone.c) */
	r = image_clone_reset(dir);
	if (r < 0)
		return log_error_errno(r, "reset: could not empty the writable layer of '%s': %m",
				       name);
	if (mkdirat(dfd, "home", 0700) < 0)
		return log_error_errno(errno, "reset: could not recreate the home of '%s': %m",
				       name);
	r = sandbox_state_set(dir, "created", NULL);
	if (r < 0)
		return log_error_errno(r, "reset: cannot write the state of '%s': %m", name);
	return 0;
}

const struct paddock_cmd paddock_cmd_reset = {
	.name = "reset",
	.usage = "[-f] NAME",
	.summary = "Throw away a sandbox's home and writable layer, keep its config",
	.opts = rm_opts,
	.min_args = 1,
	.max_args = 1,
	.complete_args = "sandbox",
	.exec = cmd_reset_exec,
};

/* --- port --- */

static int cmd_port_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("port"), argc, argv);
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct json_object *o = NULL, *v;
	const char *name, *action = NULL, *spec = NULL;
	int r;

	r = cmd_parse_args(&p, NULL);
	if (r <= 0)
		return r;
	name = p.args[0];
	if (p.n_args > 1) {
		action = p.args[1];
		if (!streq(action, "add") && !streq(action, "rm"))
			return log_error_errno(EINVAL,
					       "port: '%s': expected 'add' or 'rm'; usage: paddock "
					       "port NAME [add|rm] [IP:]HOSTPORT[:PORT]",
					       action);
		if (p.n_args < 3)
			return log_error_errno(EINVAL,
					       "port: %s needs a port, e.g. 'paddock port "
					       "%s %s 8080:3000'",
					       action, name, action);
		spec = p.args[2];
	}
	r = sandbox_open("port", name, &dir);
	if (r < 0)
		return r;
	fd = ctl_connect(name);
	if (fd == -ESRCH)
		return log_error_errno(ESRCH, "port: sandbox '%s' is not running", name);
	if (fd < 0)
		return log_error_errno(fd, "port: cannot reach sandbox '%s': %m", name);
	if (!action) {
		r = ctl_request(fd, name, CTL_INFO, NULL, 0, &o, NULL);
		if (r < 0)
			return r;
		if (o && json_object_object_get_ex(o, "ports", &v))
			for (size_t i = 0; i < json_object_array_length(v); i++)
				printf("%s\n",
				       json_object_get_string(json_object_array_get_idx(v, i)));
		json_object_put(o);
		return 0;
	}
	r = ctl_request(fd, name, streq(action, "add") ? CTL_PORT_ADD : CTL_PORT_RM, spec,
			strlen(spec), &o, NULL);
	if (r < 0)
		return r;
	if (o && json_object_object_get_ex(o, "bound", &v)) {
		struct json_object *e;

		printf("%s\n", json_object_get_string(v));
		if (json_object_object_get_ex(o, "exposed", &e) && json_object_get_boolean(e))
			log_warning("port: %s is reachable from the network, not only from this "
				    "machine",
				    json_object_get_string(v));
	}
	json_object_put(o);
	return 0;
}

const struct paddock_cmd paddock_cmd_port = {
	.name = "port",
	.usage = "NAME [add|rm [IP:]HOSTPORT[:PORT]]",
	.summary = "List or change the port forwards of a running sandbox",
	.opts = no_opts,
	.min_args = 1,
	.max_args = 3,
	.complete_args = "sandbox",
	.exec = cmd_port_exec,
};

/* --- status --- */

enum { OPT_FORMAT = OPT_LONG_BASE + 200, OPT_WATCH };

static const struct paddock_opt status_opts[] = {
	{ "format", 0, "FORMAT", false,
	  "text (default), tmux (one compact line for a status bar) or json", OPT_FORMAT,
	  "text tmux json" },
	{ "watch", 'w', NULL, false, "print again whenever something changes (until interrupted)",
	  'w', NULL },
	{},
};

/* status_render() - the running sandboxes (or @only) in @format; a new string */
static char *status_render(const char *format, char **only)
{
	_cleanup_strv_free_ char **names = NULL;
	struct json_object *all = json_object_new_array();
	char *out = NULL;
	size_t size = 0;
	FILE *f;

	if (sandbox_list(&names) < 0)
		names = NULL;
	f = open_memstream(&out, &size);
	if (!f) {
		json_object_put(all);
		return NULL;
	}
	STRV_FOREACH (n, names) {
		struct json_object *o, *v;
		const char *st;

		if (only && *only && !strv_contains(only, *n))
			continue;
		o = sandbox_describe(*n);
		st = json_object_object_get_ex(o, "state", &v) ? json_object_get_string(v) : "";
		if (!(only && *only) && !streq(st, "running") && !streq(st, "suspended")) {
			json_object_put(o);
			continue;
		}
		json_object_array_add(all, o);
	}
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		struct json_object *o = json_object_array_get_idx(all, i), *a, *v;
		const char *name = json_object_get_string(json_object_object_get(o, "name"));
		const char *st = json_object_get_string(json_object_object_get(o, "state"));
		const char *sym = "-";

		if (json_object_object_get_ex(o, "agent", &a) &&
		    json_object_object_get_ex(a, "symbol", &v))
			sym = json_object_get_string(v);
		if (streq(format, "tmux"))
			fprintf(f, "%s%s%s", i ? " " : "", name,
				streq(st, "suspended") ? "⏸" : sym);
		else if (streq(format, "text"))
			fprintf(f, "%-20s %-10s %s\n", name, st, agent_of(o));
	}
	if (streq(format, "json"))
		fprintf(f, "%s",
			json_object_to_json_string_ext(
				all, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (!streq(format, "text"))
		fputc('\n', f);
	json_object_put(all);
	(void)fclose(f);
	return out;
}

static int cmd_status_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("status"), argc, argv);
	const char *format = "text";
	bool watch = false;
	_cleanup_free_ char *last = NULL;
	int c;

	while ((c = cmd_parse_next(&p)) > 0) {
		switch (c) {
		case 'h':
			return 0;
		case 'w':
			watch = true;
			break;
		case OPT_FORMAT:
			if (!streq(optarg, "text") && !streq(optarg, "tmux") &&
			    !streq(optarg, "json"))
				return log_error_errno(
					EINVAL,
					"status: --format '%s': expected text, tmux or "
					"json",
					optarg);
			format = optarg;
			break;
		default:
			return -EINVAL;
		}
	}
	if (c < 0)
		return c;
	for (;;) {
		char *now = status_render(format, p.args);

		if (!now)
			return log_error_errno(ENOMEM, "status: out of memory");
		if (!last || !streq(last, now)) {
			fputs(now, stdout);
			(void)fflush(stdout);
		}
		free(last);
		last = now;
		if (!watch)
			return 0;
		(void)usleep(500 * 1000);
	}
}

const struct paddock_cmd paddock_cmd_status = {
	.name = "status",
	.usage = "[--format text|tmux|json] [--watch] [NAME...]",
	.summary = "What each sandbox's agent is doing (thinking, running, waiting, idle)",
	.opts = status_opts,
	.min_args = 0,
	.max_args = -1,
	.complete_args = "sandbox",
	.exec = cmd_status_exec,
};
