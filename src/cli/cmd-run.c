/* SPDX-License-Identifier: MIT */
/*
 * cmd-run.c - `paddock run`: a new ephemeral sandbox on the workspace
 *
 * DOC: Theory of Operation
 * Everything is decided here, before clone(): the options and config become a struct
 * sandbox_spec (mount plan, environment, identity), the protected workspace paths are resolved
 * on the host side and their placeholders recorded and created, and only then the supervisor
 * starts the sandbox. Options of features that this version does not have yet are refused by
 * name instead of being ignored: a user who asks for a protection must get it or an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/path.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "sandbox/env.h"
#include "sandbox/plan.h"
#include "sandbox/protect.h"
#include "sandbox/spec.h"
#include "supervisor/run.h"
#include "supervisor/runstate.h"

enum {
	OPT_IMAGE = OPT_LONG_BASE,
	OPT_PROFILE,
	OPT_NET,
	OPT_ALLOW,
	OPT_DENY,
	OPT_SECRET,
	OPT_SSH_AGENT,
	OPT_REVIEW,
	OPT_MEMORY,
	OPT_PIDS,
	OPT_CPUS,
	OPT_ROOT,
	OPT_NAME,
	OPT_HOSTNAME,
	OPT_KEEP_LOG,
};

static const struct paddock_opt run_opts[] = {
	{ "workspace", 'w', "DIR", false, "directory mounted read-write at its own path; the "
	  "command starts there (default: the current directory)", 'w', "dir" },
	{ "image", 0, "NAME", false, "root filesystem: 'host' (the host's, read-only)",
	  OPT_IMAGE, "host" },
	{ "profile", 0, "NAME", false, "agent profile (not in this version yet)", OPT_PROFILE,
	  "claude codex pi gemini opencode aider shell" },
	{ "net", 0, "MODE", false, "network: none (loopback only); public and allowlist come "
	  "with the network support", OPT_NET, "none public allowlist" },
	{ "allow", 0, "HOST[:PORT]", false, "allow a host (with the network support)",
	  OPT_ALLOW, NULL },
	{ "deny", 0, "HOST[:PORT]", false, "deny a host (with the network support)", OPT_DENY,
	  NULL },
	{ "secret", 0, "NAME", false, "expose a secret as a placeholder (not in this version yet)",
	  OPT_SECRET, NULL },
	{ "publish", 'p', "[IP:]HOSTPORT[:PORT]", false,
	  "forward a host port into the sandbox (not in this version yet)", 'p', NULL },
	{ "volume", 'v', "SRC:DST[:ro]", false, "extra bind mount (repeatable)", 'v', "file" },
	{ "env", 'e', "NAME[=VALUE]", false, "pass or set an environment variable (repeatable)",
	  'e', NULL },
	{ "ssh-agent", 0, "confirm", true, "forward a filtered ssh-agent (not in this version "
	  "yet)", OPT_SSH_AGENT, NULL },
	{ "review", 0, NULL, false, "put the workspace behind a copy-on-write layer (not in this "
	  "version yet)", OPT_REVIEW, NULL },
	{ "memory", 0, "SIZE", false, "memory limit (not in this version yet)", OPT_MEMORY, NULL },
	{ "pids", 0, "N", false, "process limit (default 4096; RLIMIT_NPROC per sandbox)",
	  OPT_PIDS, NULL },
	{ "cpus", 0, "N", false, "CPU limit (not in this version yet)", OPT_CPUS, NULL },
	{ "root", 0, NULL, false, "run the command as uid 0 inside the sandbox", OPT_ROOT, NULL },
	{ "tty", 't', NULL, false, "run the command on a pseudo-terminal (default when stdin is "
	  "one)", 't', NULL },
	{ "interactive", 'i', NULL, false, "keep stdin open (default when stdin is a terminal)",
	  'i', NULL },
	{ "name", 0, "NAME", false, "make the sandbox persistent under NAME (not in this version "
	  "yet)", OPT_NAME, NULL },
	{ "hostname", 0, "NAME", false, "the sandbox's hostname (default: paddock)", OPT_HOSTNAME,
	  NULL },
	{ "keep-log", 0, NULL, false, "keep the audit log after exit (not in this version yet)",
	  OPT_KEEP_LOG, NULL },
	{},
};

static const char *arg_workspace;
static const char *arg_hostname;
static char **arg_env;
static char **arg_volumes;
static bool arg_root, arg_tty, arg_interactive;
static unsigned long arg_pids = 4096;

static const char *opt_name_of(int id)
{
	for (const struct paddock_opt *o = run_opts; o->name; o++)
		if (o->id == id)
			return o->name;
	return "?";
}

static int refuse_not_yet(int id)
{
	return log_error_errno(EOPNOTSUPP,
			       "run: --%s is not available in this version of paddock yet; "
			       "it is refused rather than ignored",
			       opt_name_of(id));
}

static bool hostname_is_valid(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > 64 || s[0] == '-' || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (const char *p = s; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

static char *runtime_dir_get(void)
{
	const char *x = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	char *d;

	if (geteuid() == 0)
		d = xstrdup("/run/paddock");
	else if (x && x[0] == '/' && stat(x, &st) == 0 && S_ISDIR(st.st_mode) &&
		 st.st_uid == geteuid())
		d = path_join(x, "paddock");
	else
		d = xasprintf("/tmp/paddock-%u", (unsigned)geteuid());
	if (mkdir(d, 0700) < 0 && errno != EEXIST) {
		log_error_errno(errno, "Failed to create the runtime directory '%s': %m", d);
		free(d);
		return NULL;
	}
	if (lstat(d, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077)) {
		log_error("The runtime directory '%s' is not a private directory of this user; "
			  "remove it or set XDG_RUNTIME_DIR",
			  d);
		free(d);
		return NULL;
	}
	return d;
}

static int parse_volume(const struct plan_input *pin, const char *arg, struct plan_volume *ret)
{
	_cleanup_free_ char *s = xstrdup(arg), *src = NULL;
	char *colon, *opt;
	const char *why = NULL;
	int r;

	colon = strchr(s, ':');
	if (!colon || colon == s)
		return log_error_errno(EINVAL, "run: --volume '%s': expected SRC:DST[:ro]", arg);
	*colon = '\0';
	opt = strchr(colon + 1, ':');
	if (opt)
		*opt++ = '\0';
	if (opt && !streq(opt, "ro") && !streq(opt, "rw"))
		return log_error_errno(EINVAL, "run: --volume '%s': unknown option '%s'; use ro "
					       "or rw",
				       arg, opt);
	src = realpath(s, NULL);
	if (!src)
		return log_error_errno(errno, "run: --volume '%s': source '%s': %m", arg, s);
	ret->dst = path_normalize(colon + 1);
	if (!ret->dst) {
		free(src);
		return log_error_errno(EINVAL, "run: --volume '%s': destination must be an "
					       "absolute path without '..'",
				       arg);
	}
	ret->src = TAKE_PTR(src);
	ret->ro = opt && streq(opt, "ro");
	r = plan_check_volume(pin, ret, &why);
	if (r < 0) {
		log_error_errno(r, "run: --volume '%s' refused: %s", arg, why);
		free(ret->src);
		free(ret->dst);
		*ret = (struct plan_volume){};
		return r;
	}
	return 0;
}

static int cmd_run_exec(int argc, char **argv)
{
	const struct paddock_cmd *self = cmd_find("run");
	_cleanup_free_ char *workspace = NULL, *home = NULL, *runtime = NULL, *data_dir = NULL,
			    *config_dir = NULL;
	_cleanup_strv_free_ char **private_dirs = NULL, **patterns = NULL;
	_cleanup_close_ int ws_fd = -EBADF;
	struct sandbox_spec spec = {};
	struct protect_set protect = {};
	struct plan_volume *volumes = NULL;
	struct runstate rs = { .ws_fd = -EBADF };
	struct plan_input pin = {};
	const struct passwd *pw;
	bool tty_set = false, int_set = false;
	const char *why = NULL, *bad = NULL;
	size_t n_volumes = 0;
	int c, r;

	while ((c = cmd_getopt(self, argc, argv)) != -1) {
		switch (c) {
		case 'h':
			return 0;
		case 'w':
			arg_workspace = optarg;
			break;
		case OPT_IMAGE:
			if (!streq(optarg, "host"))
				return log_error_errno(EINVAL,
						       "run: --image '%s': only 'host' exists in "
						       "this version (golden images come later)",
						       optarg);
			break;
		case OPT_NET:
			if (streq(optarg, "public") || streq(optarg, "allowlist"))
				return log_error_errno(
					EOPNOTSUPP,
					"run: --net %s is not available in this version of paddock "
					"yet; use --net none (loopback only)",
					optarg);
			if (!streq(optarg, "none"))
				return log_error_errno(EINVAL,
						       "run: --net '%s': expected public, "
						       "allowlist or none",
						       optarg);
			break;
		case 'e':
			strv_extend(&arg_env, optarg);
			break;
		case 'v':
			strv_extend(&arg_volumes, optarg);
			break;
		case OPT_ROOT:
			arg_root = true;
			break;
		case 't':
			arg_tty = tty_set = true;
			break;
		case 'i':
			arg_interactive = int_set = true;
			break;
		case OPT_HOSTNAME:
			if (!hostname_is_valid(optarg))
				return log_error_errno(EINVAL,
						       "run: --hostname '%s': not a valid host name "
						       "(letters, digits, '-' and '.', at most 64)",
						       optarg);
			arg_hostname = optarg;
			break;
		case OPT_PROFILE:
		case OPT_ALLOW:
		case OPT_DENY:
		case OPT_SECRET:
		case 'p':
		case OPT_SSH_AGENT:
		case OPT_REVIEW:
		case OPT_PIDS: {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v == 0 || v > (1UL << 22) || optarg[0] == '-')
				return log_error_errno(EINVAL,
						       "run: --pids '%s': expected a number from 1 "
						       "to 4194304",
						       optarg);
			arg_pids = v;
			break;
		}
		case OPT_MEMORY:
		case OPT_CPUS:
		case OPT_NAME:
		case OPT_KEEP_LOG:
			return refuse_not_yet(c);
		default:
			return -EINVAL;
		}
	}

	/* who */
	pw = getpwuid(getuid());
	{
		const char *h = getenv("HOME");

		home = path_normalize(h && *h == '/' ? h : pw ? pw->pw_dir : "/");
		if (!home)
			return log_error_errno(EINVAL, "run: HOME '%s' is not a clean absolute path",
					       h);
	}

	/* where */
	workspace = realpath(arg_workspace ? arg_workspace : ".", NULL);
	if (!workspace)
		return log_error_errno(errno, "run: workspace '%s': %m",
				       arg_workspace ? arg_workspace : ".");
	ws_fd = open(workspace, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ws_fd < 0)
		return log_error_errno(errno, "run: workspace '%s': %m", workspace);

	runtime = runtime_dir_get();
	if (!runtime)
		return -EACCES;
	{
		const char *xd = getenv("XDG_DATA_HOME"), *xc = getenv("XDG_CONFIG_HOME");

		data_dir = geteuid() == 0 ? xstrdup("/var/lib/paddock")
			   : xd && *xd == '/' ? path_join(xd, "paddock")
					      : path_join(home, ".local/share/paddock");
		config_dir = xc && *xc == '/' ? path_join(xc, "paddock")
					      : path_join(home, ".config/paddock");
	}
	strv_extend(&private_dirs, runtime);
	strv_extend(&private_dirs, data_dir);
	strv_extend(&private_dirs, config_dir);

	pin.workspace = workspace;
	pin.home = home;
	pin.path_env = getenv("PATH");
	pin.private_dirs = private_dirs;
	r = plan_check_workspace(&pin, &why);
	if (r < 0)
		return log_error_errno(r, "run: refusing workspace '%s': %s", workspace, why);

	/* protected paths */
	for (const char *const *p = protect_default_paths; *p; p++)
		strv_extend(&patterns, *p);
	{
		_cleanup_free_ char *pat = NULL, *detail = NULL;

		r = protect_resolve(ws_fd, workspace, patterns, &protect, &pat, &detail);
		if (r < 0)
			return log_error_errno(r,
					       "run: cannot protect '%s' in the workspace: %s; "
					       "paddock does not start without this protection",
					       strempty(pat), detail ? detail : strerror(-r));
	}
	pin.protect = &protect;

	STRV_FOREACH (v, arg_volumes) {
		volumes = xreallocarray(volumes, n_volumes + 1, sizeof(*volumes));
		r = parse_volume(&pin, *v, &volumes[n_volumes]);
		if (r < 0)
			goto out;
		n_volumes++;
	}
	pin.volumes = volumes;
	pin.n_volumes = n_volumes;

	/* the command */
	if (optind < argc)
		spec.argv = strv_copy(argv + optind);
	else {
		const char *sh = getenv("SHELL");

		strv_extend(&spec.argv, sh && *sh == '/' ? sh : "/bin/sh");
	}

	if (!tty_set && !int_set && isatty(STDIN_FILENO))
		arg_tty = arg_interactive = true;
	spec.tty = arg_tty;
	spec.interactive = arg_interactive || arg_tty;
	spec.root = arg_root;
	spec.host_uid = getuid();
	spec.host_gid = getgid();
	spec.inner_uid = arg_root ? 0 : getuid();
	spec.inner_gid = arg_root ? 0 : getgid();
	spec.hostname = xstrdup(arg_hostname ? arg_hostname : "paddock");
	spec.workspace = xstrdup(workspace);
	spec.home = xstrdup(home);
	spec.net = NET_NONE;
	spec.pids = arg_pids;

	{
		struct env_input ein = {
			.host = environ,
			.extra = arg_env,
			.home = home,
			.user = pw ? pw->pw_name : NULL,
			.shell = pw ? pw->pw_shell : NULL,
			.hostname = spec.hostname,
			.tty = spec.tty,
		};

		r = env_build(&ein, &spec.envp, &bad);
		if (r == -EPERM) {
			log_error("run: --env '%s': this variable makes programs load code and never "
				  "enters a sandbox",
				  bad);
			goto out;
		}
		if (r < 0) {
			log_error("run: --env '%s': invalid variable name", bad);
			goto out;
		}
	}

	r = plan_build(&pin, &spec);
	if (r < 0) {
		log_error_errno(r, "run: Failed to plan the sandbox's filesystem: %m");
		goto out;
	}
	if (arg_debug)
		for (size_t i = 0; i < spec.n_mounts; i++)
			log_debug("mount %-9s %s%s%s", mount_kind_to_string(spec.mounts[i].kind),
				  spec.mounts[i].dst, spec.mounts[i].src ? " <- " : "",
				  strempty(spec.mounts[i].src));

	runstate_cleanup_stale(runtime);
	r = runstate_create(&rs, runtime, workspace, ws_fd, &protect);
	if (r < 0)
		goto out;
	r = protect_create_placeholders(ws_fd, &protect, &bad);
	if (r < 0) {
		log_error_errno(r, "run: Failed to create the placeholder '%s' that protects a "
				   "missing path in the workspace: %m",
				bad);
		goto out;
	}

	r = supervisor_run(&spec);

out:
	runstate_remove(&rs);
	for (size_t i = 0; i < n_volumes; i++) {
		free(volumes[i].src);
		free(volumes[i].dst);
	}
	free(volumes);
	protect_set_free(&protect);
	sandbox_spec_free(&spec);
	strv_free(arg_env);
	strv_free(arg_volumes);
	return r;
}

const struct paddock_cmd paddock_cmd_run = {
	.name = "run",
	.usage = "[OPTIONS] [--] [COMMAND [ARG...]]",
	.summary = "Run a command in a new ephemeral sandbox on the workspace",
	.opts = run_opts,
	.min_args = 0,
	.max_args = -1,
	.complete_args = "command",
	.exec = cmd_run_exec,
};
