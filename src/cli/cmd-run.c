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
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clone.h"
#include "cmd.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/path.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "sandbox/env.h"
#include "sandbox/limits.h"
#include "sandbox/plan.h"
#include "sandbox/protect.h"
#include "sandbox/spec.h"
#include <json-c/json.h>

#include "proxy/addr.h"
#include "proxy/inject.h"
#include "proxy/policy.h"
#include "store/secrets.h"
#include "supervisor/sshagent.h"
#include "proxy/proxy.h"
#include "store/hostrule.h"
#include "tls/ca.h"
#include "tls/mint.h"
#include "tls/tls.h"
#include "store/config.h"
#include "store/paths.h"
#include "store/profile.h"
#include "store/review.h"
#include "supervisor/audit.h"
#include "supervisor/ports.h"
#include "supervisor/run.h"
#include "supervisor/runstate.h"
#include "launch.h"
#include "store/sandbox.h"

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
	OPT_ADD_HOST,
};

const struct paddock_opt paddock_run_opts[] = {
	{ "workspace", 'w', "DIR", false,
	  "directory mounted read-write at its own path; the "
	  "command starts there (default: the current directory)",
	  'w', "dir" },
	{ "image", 0, "NAME", false,
	  "root filesystem: 'host' (the host's, read-only) or an image's copy-on-write clone",
	  OPT_IMAGE, "image" },
	{ "profile", 0, "NAME", false,
	  "agent profile: its command, model hosts, keys and state (default: from COMMAND's name)",
	  OPT_PROFILE, "claude codex pi gemini opencode aider shell" },
	{ "net", 0, "MODE", false,
	  "network: public (any public host), allowlist (only allowed hosts), none (loopback only)",
	  OPT_NET, "public allowlist none" },
	{ "allow", 0, "HOST[:PORT]", false, "allow a host; *.example.com for its subdomains",
	  OPT_ALLOW, NULL },
	{ "deny", 0, "HOST[:PORT]", false, "deny a host (a deny wins over an allow)", OPT_DENY,
	  NULL },
	{ "secret", 0, "NAME", false,
	  "expose secret NAME: the sandbox sees a placeholder, the proxy swaps in the value for "
	  "its hosts",
	  OPT_SECRET, NULL },
	{ "publish", 'p', "[IP:]HOSTPORT[:PORT]", false,
	  "forward a host port (127.0.0.1 unless IP is given) to a port inside (repeatable)", 'p',
	  NULL },
	{ "volume", 'v', "SRC:DST[:ro]", false, "extra bind mount (repeatable)", 'v', "file" },
	{ "env", 'e', "NAME[=VALUE]", false, "pass or set an environment variable (repeatable)",
	  'e', NULL },
	{ "ssh-agent", 0, "confirm", true,
	  "forward a filtered ssh-agent (list and sign only; "
	  "=confirm asks for every signature)",
	  OPT_SSH_AGENT, NULL },
	{ "review", 0, NULL, false,
	  "put the workspace behind a copy-on-write layer: changes land only with "
	  "'paddock apply' (a named sandbox)",
	  OPT_REVIEW, NULL },
	{ "memory", 0, "SIZE", false,
	  "memory limit (default 8G; cgroup memory.max when delegated, else RLIMIT_DATA per "
	  "process)",
	  OPT_MEMORY, NULL },
	{ "pids", 0, "N", false,
	  "process limit (default 4096; cgroup pids.max when delegated, else RLIMIT_NPROC)",
	  OPT_PIDS, NULL },
	{ "cpus", 0, "N", false,
	  "CPU limit in CPUs, e.g. 1.5 (needs a delegated cgroup cpu controller)", OPT_CPUS, NULL },
	{ "add-host", 0, "NAME:IP", false,
	  "resolve NAME to IP, and allow exactly that pair (a local service on purpose)",
	  OPT_ADD_HOST, NULL },
	{ "root", 0, NULL, false, "run the command as uid 0 inside the sandbox", OPT_ROOT, NULL },
	{ "tty", 't', NULL, false,
	  "run the command on a pseudo-terminal (default when stdin is "
	  "one)",
	  't', NULL },
	{ "interactive", 'i', NULL, false, "keep stdin open (default when stdin is a terminal)",
	  'i', NULL },
	{ "name", 0, "NAME", false,
	  "make the sandbox persistent under NAME (not in this version "
	  "yet)",
	  OPT_NAME, NULL },
	{ "hostname", 0, "NAME", false, "the sandbox's hostname (default: paddock)", OPT_HOSTNAME,
	  NULL },
	{ "keep-log", 0, NULL, false, "keep the audit log after exit (read it with paddock logs)",
	  OPT_KEEP_LOG, NULL },
	{},
};

static const char *arg_workspace;
static const char *arg_profile;
static bool arg_root, arg_tty, arg_interactive, arg_keep_log, arg_ssh_agent, arg_ssh_confirm;
static bool arg_review;

static const char *opt_name_of(int id)
{
	for (const struct paddock_opt *o = paddock_run_opts; o->name; o++)
		if (o->id == id)
			return o->name;
	return "?";
}

/* resolve_volume() - the volume's source as it really is (realpath), then the policy check */
static int resolve_volume(const struct plan_input *pin, const struct config_volume *cv,
			  struct plan_volume *ret)
{
	const char *why = NULL;
	char *src;
	int r;

	src = realpath(cv->src, NULL);
	if (!src)
		return log_error_errno(errno, "run: volume '%s:%s': source '%s': %m", cv->src,
				       cv->dst, cv->src);
	ret->src = src;
	ret->dst = xstrdup(cv->dst);
	ret->ro = cv->ro;
	r = plan_check_volume(pin, ret, &why);
	if (r < 0) {
		log_error_errno(r, "run: volume '%s:%s' refused: %s", cv->src, cv->dst, why);
		free(ret->src);
		free(ret->dst);
		*ret = (struct plan_volume){};
		return r;
	}
	return 0;
}

/*
 * struct exposed_secret - a secret given to the sandbox: its placeholder goes into the
 * environment before the sandbox exists; its value is read only after the sandbox's init
 * was cloned (prepare_placeholders()), so not even init's copy of our memory ever holds it
 */
struct exposed_secret {
	const struct config_secret *cs;
	char *placeholder;
	char *value;
	size_t len;
};

static void exposed_secrets_free(struct exposed_secret *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].placeholder);
		if (l[i].value)
			secret_value_free(l[i].value, l[i].len);
	}
	free(l);
}

/* secrets_prepare() - --secret NAME...: checked against the config, placeholders made */
static int secrets_prepare(const struct paddock_config *cfg, char **names, enum net_mode net,
			   struct exposed_secret **ret, size_t *ret_n, char ***env)
{
	struct exposed_secret *l = NULL;
	size_t n = 0;
	int r;

	STRV_FOREACH (name, names) {
		_cleanup_free_ char *err = NULL;
		const struct config_secret *cs;

		r = secret_check_selected(cfg, *name, NULL, &err);
		if (r < 0) {
			log_error_errno(r, "run: %s", err ? err : "invalid --secret");
			goto fail;
		}
		if (net == NET_NONE) {
			r = log_error_errno(EINVAL,
					    "run: --secret %s: with --net none there is no host to "
					    "send it to; use --net public or allowlist",
					    *name);
			goto fail;
		}
		cs = config_secret_find(cfg, *name);
		l = xreallocarray(l, n + 1, sizeof(*l));
		l[n] = (struct exposed_secret){ .cs = cs };
		r = inject_placeholder_new(cs->name, &l[n].placeholder);
		n++;
		if (r < 0) {
			log_error_errno(r, "run: --secret %s: cannot make a placeholder: %m",
					*name);
			goto fail;
		}
		strv_push(env,
			  xasprintf("%s=%s", cs->env ? cs->env : cs->name, l[n - 1].placeholder));
	}
	*ret = l;
	*ret_n = n;
	return 0;
fail:
	exposed_secrets_free(l, n);
	return r;
}

/*
 * trust_bundle_prepare() - $DATA/ca/bundle.pem: the host's roots and paddock's CA, rebuilt
 * when either is newer. Only the certificate reaches the sandbox: the CA (and its key) is
 * loaded here only to write the bundle, and freed before the sandbox exists.
 */
static int trust_bundle_prepare(const char *data_dir, char **ret)
{
	_cleanup_free_ char *path = xasprintf("%s/%s/bundle.pem", data_dir, CA_DIR_NAME),
			    *crt = xasprintf("%s/%s/%s", data_dir, CA_DIR_NAME, CA_CERT_NAME),
			    *err = NULL;
	struct stat b, c, sys;
	struct ca *ca = NULL;
	bool fresh;
	int r;

	fresh = stat(path, &b) == 0 && stat(crt, &c) == 0 &&
		(b.st_mtim.tv_sec > c.st_mtim.tv_sec ||
		 (b.st_mtim.tv_sec == c.st_mtim.tv_sec && b.st_mtim.tv_nsec >= c.st_mtim.tv_nsec));
	for (const char *const *p = tls_system_bundles; fresh && *p; p++)
		if (stat(*p, &sys) == 0) {
			fresh = sys.st_mtim.tv_sec < b.st_mtim.tv_sec;
			break;
		}
	if (fresh) {
		*ret = TAKE_PTR(path);
		return 0;
	}
	r = ca_load_or_create(data_dir, &ca, &err);
	if (r < 0)
		return log_error_errno(r, "run: paddock's CA: %s", err ? err : strerror(-r));
	r = tls_bundle_write(ca, NULL, path, NULL);
	ca = ca_free(ca);
	if (r < 0)
		return log_error_errno(r, "run: Failed to write the trust bundle '%s': %m", path);
	if (r == 1)
		log_warning("run: this host has no CA bundle (install ca-certificates): inside the "
			    "sandbox only intercepted TLS connections will verify");
	*ret = TAKE_PTR(path);
	return 0;
}

/* ssh_agent_prepare() - --ssh-agent: the user's agent, and the filter's options */
static int ssh_agent_prepare(const struct paddock_config *cfg, bool confirm,
			     const char **ret_upstream, struct sshagent_opts *o)
{
	const char *sock = getenv("SSH_AUTH_SOCK");

	if (!sock || sock[0] != '/')
		return log_error_errno(ENOENT,
				       "run: --ssh-agent: SSH_AUTH_SOCK is not set: start an agent "
				       "(eval $(ssh-agent); ssh-add) or run paddock where one is");
	if (access(sock, W_OK) < 0)
		return log_error_errno(errno, "run: --ssh-agent: SSH_AUTH_SOCK '%s': %m", sock);
	*o = (struct sshagent_opts){
		.allowed_keys = cfg->ssh_keys,
		.confirm_timeout_ms = cfg->ssh_confirm_timeout * 1000,
	};
	if (confirm) {
		if (!cfg->ssh_confirm)
			return log_error_errno(
				EINVAL, "run: --ssh-agent=confirm needs a command that asks "
					"you: set \"ssh_agent\": {\"confirm\": [\"ssh-askpass\"]} "
					"(or zenity, or a tmux popup script) in your config");
		o->confirm_argv = cfg->ssh_confirm;
	}
	*ret_upstream = sock;
	return 0;
}

/*
 * struct intercept - what the proxy needs to terminate TLS and swap secrets, made after the
 * sandbox's init exists (the CA key and the values never are in its memory)
 */
struct intercept {
	struct proxy_tls tls;
	struct ca *ca;
	struct mint *mint;
	SSL_CTX *upstream;
	struct inject_table *table;
};

static void intercept_done(struct intercept *ic)
{
	ic->mint = mint_free(ic->mint);
	if (ic->upstream)
		SSL_CTX_free(ic->upstream);
	ic->upstream = NULL;
	ic->table = inject_table_free(ic->table);
	ic->ca = ca_free(ic->ca);
}

/* intercept_prepare() - the CA, leaf minting, upstream verification and the secrets' table */
static int intercept_prepare(struct intercept *ic, const struct paddock_config *cfg,
			     const char *data_dir, struct exposed_secret *secrets, size_t n)
{
	_cleanup_free_ char *err = NULL;
	int r;

	r = ca_load_or_create(data_dir, &ic->ca, &err);
	if (r < 0)
		return log_error_errno(r, "run: paddock's CA: %s", err ? err : strerror(-r));
	r = mint_new(ic->ca, 0, &ic->mint);
	if (r < 0)
		return log_error_errno(r, "run: Failed to set up TLS interception: %m");
	r = tls_upstream_ctx_new(cfg->tls_upstream_ca, &ic->upstream, &err);
	if (r < 0)
		return log_error_errno(r, "run: tls.upstream_ca: %s", err ? err : strerror(-r));
	ic->table = inject_table_new();
	for (size_t i = 0; i < n; i++) {
		_cleanup_strv_free_ char **hosts = NULL;
		const char *why = NULL;

		for (size_t h = 0; h < secrets[i].cs->n_hosts; h++)
			strv_push(&hosts, host_rule_format(&secrets[i].cs->hosts[h]));
		r = inject_table_add(ic->table, secrets[i].cs->name, secrets[i].placeholder,
				     secrets[i].value, secrets[i].len, hosts,
				     secrets[i].cs->headers, &why);
		if (r < 0)
			return log_error_errno(r, "run: secret '%s': %s", secrets[i].cs->name,
					       why ? why : strerror(-r));
	}
	ic->tls.mint = ic->mint;
	ic->tls.upstream_ctx = ic->upstream;
	ic->tls.inject = ic->table;
	ic->tls.inspect = cfg->inspect;
	ic->tls.n_inspect = cfg->n_inspect;
	ic->tls.splice = cfg->splice;
	ic->tls.n_splice = cfg->n_splice;
	return 0;
}

struct prepare_ctx {
	struct intercept *ic; /* NULL: no interception */
	const struct paddock_config *cfg;
	const char *data_dir;
	struct exposed_secret *secrets;
	size_t n_secrets;
	struct runstate *rs;
	const char *runtime, *workspace;
	int ws_fd;
	struct protect_set *protect;
	int *lock_fd; /* held since runstate_adopt(); released once our record is written */
};

/*
 * prepare_placeholders() - record, then create, the placeholders of missing protected paths;
 * runs while init builds the sandbox.
 */
static int prepare_placeholders(void *userdata)
{
	struct prepare_ctx *pc = userdata;
	const char *bad = NULL;
	int r;

	/* the sandbox's init exists now: only from here on may real secret values be read */
	for (size_t i = 0; i < pc->n_secrets; i++) {
		struct exposed_secret *e = &pc->secrets[i];
		_cleanup_free_ char *err = NULL;

		r = secret_resolve(e->cs, &e->value, &e->len, &err);
		if (r < 0) {
			*pc->lock_fd = safe_close(*pc->lock_fd);
			return log_error_errno(r, "run: %s", err ? err : strerror(-r));
		}
	}
	if (pc->ic) {
		r = intercept_prepare(pc->ic, pc->cfg, pc->data_dir, pc->secrets, pc->n_secrets);
		if (r < 0) {
			*pc->lock_fd = safe_close(*pc->lock_fd);
			return r;
		}
	}

	r = runstate_create(pc->rs, pc->runtime, pc->workspace, pc->ws_fd, pc->protect);
	if (r < 0)
		return r;
	r = protect_create_placeholders(pc->ws_fd, pc->protect, &bad);
	/* recorded and created: another run may now remove what we adopted only if we do not list it */
	*pc->lock_fd = safe_close(*pc->lock_fd);
	if (r < 0)
		return log_error_errno(r,
				       "run: Failed to create the placeholder '%s' that protects a "
				       "missing path in the workspace: %m",
				       bad);
	return 0;
}

/*
 * audit_sink() - every event of the sandbox: to the kept log (--keep-log), and at debug level
 * (an ephemeral run keeps nothing, SPEC.md section 2)
 */
static void audit_sink(void *userdata, const char *type, struct json_object *fields)
{
	struct audit *a = userdata;

	/* not serialized for nothing: exec events come at fork+exec rate */
	if (log_get_max_level() >= LOG_DEBUG)
		log_debug("audit %s %s", type,
			  fields ? json_object_to_json_string_ext(fields, JSON_C_TO_STRING_PLAIN)
				 : "{}");
	if (a)
		audit_event(a, type, fields);
	else
		json_object_put(fields);
}

/* audit_open_kept() - $DATA/logs/run-YYYYMMDD-HHMMSS-PID.jsonl for --keep-log */
static int audit_open_kept(const char *data_dir, char **ret_name, struct audit **ret)
{
	_cleanup_free_ char *path = NULL, *name = NULL;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int r;

	(void)strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime_r(&now, &tm));
	name = xasprintf("run-%s-%d", stamp, (int)getpid());
	path = xasprintf("%s/logs/%s.jsonl", data_dir, name);
	/* $XDG_DATA_HOME may not exist yet: create it and its parents, private */
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		r = mkdir(path, 0700);
		*p = '/';
		if (r < 0 && errno != EEXIST)
			return log_error_errno(
				errno, "run: Failed to create the directories of '%s': %m", path);
	}
	r = audit_open(path, name, ret);
	if (r < 0)
		return log_error_errno(r, "run: Failed to open the audit log '%s': %m", path);
	*ret_name = TAKE_PTR(name);
	return 0;
}

/* config_option_flag() - the config_set_option() name of a run option, NULL if not one */
static const char *config_option_flag(int c)
{
	switch (c) {
	case OPT_IMAGE:
		return "--image";
	case OPT_NET:
		return "--net";
	case OPT_ALLOW:
		return "--allow";
	case OPT_DENY:
		return "--deny";
	case 'e':
		return "--env";
	case 'v':
		return "--volume";
	case OPT_MEMORY:
		return "--memory";
	case OPT_PIDS:
		return "--pids";
	case OPT_CPUS:
		return "--cpus";
	case OPT_HOSTNAME:
		return "--hostname";
	default:
		return NULL;
	}
}

/*
 * check_supported() - refuse what the effective config asks for and this version cannot
 * provide: the user must get the protection or an error, never a silent downgrade.
 */
static int check_supported(const struct paddock_config *c)
{
	if (c->pids > (1UL << 22))
		return log_error_errno(EINVAL,
				       "run: pids limit %llu is too large (at most 4194304)",
				       (unsigned long long)c->pids);
	return 0;
}

/*
 * home_sanitize() - a persistent home was written by the sandbox itself last time: before
 * mount points are made in it, no path on the way to one may be a symlink (it would make init
 * create directories or bind over paths outside the home). Such symlinks are removed: the
 * mounts would hide what they point at anyway.
 */
static int home_sanitize(const char *home_src, const char *home, const struct sandbox_spec *spec)
{
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const char *rel = path_startswith(spec->mounts[i].dst, home);
		_cleanup_free_ char *buf = NULL;
		struct stat st;

		if (!rel || !*rel)
			continue;
		buf = path_join(home_src, rel);
		/* each prefix of the path below the home, then the whole path */
		for (char *p = buf + strlen(home_src) + 1; p;) {
			char *slash = strchr(p, '/');

			if (slash)
				*slash = '\0';
			if (lstat(buf, &st) == 0 &&
			    (S_ISLNK(st.st_mode) || (slash && !S_ISDIR(st.st_mode)))) {
				log_debug("home: removing '%s', in the way of a mount point", buf);
				if (unlink(buf) < 0)
					return log_error_errno(
						errno,
						"run: '%s' in the sandbox's home is in "
						"the way of a mount point and cannot be "
						"removed: %m",
						buf);
			}
			if (!slash)
				break;
			*slash = '/';
			p = slash + 1;
		}
	}
	return 0;
}

int run_launch(int argc, char **argv, struct launch_session *sess)
{
	_cleanup_(cmd_parser_done) struct cmd_parser cl =
		CMD_PARSER_INIT(cmd_find("run"), argc, argv);
	_cleanup_(config_freep) struct paddock_config *cfg = NULL;
	_cleanup_free_ char *workspace = NULL, *home = NULL, *runtime = NULL, *data_dir = NULL,
			    *config_dir = NULL, *err = NULL, *review_upper = NULL,
			    *review_work = NULL;
	_cleanup_strv_free_ char **private_dirs = NULL, **patterns = NULL, **env_extra = NULL,
				 **add_hosts = NULL, **secret_names = NULL;
	struct exposed_secret *secrets = NULL;
	size_t n_secrets = 0;
	struct sshagent_opts agent_opts = {};
	const char *agent_upstream = NULL;
	_cleanup_free_ char *ca_bundle = NULL;
	const char *bundle_inside = NULL;
	struct intercept ic = {};
	_cleanup_(policy_freep) struct policy *policy = NULL;
	_cleanup_free_ char *log_name = NULL;
	struct audit *audit = NULL;
	_cleanup_close_ int ws_fd = -EBADF, lock_fd = -EBADF;
	struct sandbox_spec spec = {};
	struct protect_set protect = {};
	struct plan_volume *volumes = NULL;
	struct runstate rs = { .ws_fd = -EBADF };
	struct plan_input pin = {};
	const struct config_profile *prof = NULL;
	struct limits_host lhost = { .dirfd = -EBADF };
	struct clone_ctx clone = CLONE_CTX_INIT; /* images: docs/design/images.md */
	bool cgroup_made = false;
	const struct passwd *pw;
	bool tty_set = false, int_set = false;
	const char *why = NULL, *bad = NULL, *flag;
	size_t n_volumes = 0;
	int c, r;

	cfg = config_new();
	r = config_load_files(cfg, arg_config, &err);
	if (r < 0)
		return log_error_errno(r, "%s", err);

	/* `run --name` parsed this argv before: a new parser starts over (getopt's full reset) */
	while ((c = cmd_parse_next(&cl)) > 0) {
		flag = config_option_flag(c);
		if (flag) {
			r = config_set_option(cfg, flag, optarg, &err);
			if (r < 0)
				return log_error_errno(r, "run: %s", err);
			continue;
		}
		switch (c) {
		case 'h':
			return 0;
		case 'w':
			arg_workspace = optarg;
			break;
		case OPT_ROOT:
			arg_root = true;
			break;
		case OPT_ADD_HOST: {
			_cleanup_free_ char *name = NULL;
			struct addr a;
			const char *reason = NULL;

			if (policy_add_host_parse(optarg, &name, &a, &reason) < 0)
				return log_error_errno(
					EINVAL,
					"run: --add-host '%s': %s; expected NAME:IP, "
					"e.g. db.test:127.0.0.1",
					optarg, reason ? reason : "invalid");
			strv_extend(&add_hosts, optarg);
			break;
		}
		case 't':
			arg_tty = tty_set = true;
			break;
		case 'i':
			arg_interactive = int_set = true;
			break;
		case 'p': {
			_cleanup_free_ char *perr = NULL;
			struct port_spec ps;

			if (port_spec_parse(optarg, &ps, &perr) < 0)
				return log_error_errno(EINVAL, "run: -p '%s': %s", optarg,
						       perr ? perr : "invalid");
			/* after the config's "publish" (config.c), the same one once */
			if (!strv_contains(cfg->publish, optarg))
				strv_extend(&cfg->publish, optarg);
			break;
		}
		case OPT_SECRET:
			if (!strv_contains(secret_names, optarg))
				strv_extend(&secret_names, optarg);
			break;
		case OPT_SSH_AGENT:
			if (optarg && !streq(optarg, "confirm"))
				return log_error_errno(EINVAL,
						       "run: --ssh-agent=%s: the only value is "
						       "'confirm' (ask for every signature)",
						       optarg);
			arg_ssh_agent = true;
			arg_ssh_confirm = optarg != NULL;
			break;
		case OPT_PROFILE:
			arg_profile = optarg;
			break;
		case OPT_REVIEW:
			/* its changes must outlive the run: a named sandbox keeps them */
			if (!sess)
				return log_error_errno(
					EINVAL, "run: --review needs a named sandbox, whose "
						"review layer outlives the run: 'paddock run "
						"--review --name NAME ...' or 'paddock create "
						"--review NAME', then 'paddock diff/apply NAME'");
			arg_review = true;
			break;
		case OPT_NAME:
			return log_error_errno(EINVAL, "run: --name is not valid here");
		case OPT_KEEP_LOG:
			arg_keep_log = true;
			break;
		default:
			return -EINVAL;
		}
	}
	if (c < 0)
		return c;

	/* the agent's profile: --profile, else the command's name, else the shell */
	if (arg_profile) {
		prof = profile_find(cfg, arg_profile);
		if (!prof) {
			_cleanup_free_ char *names = profile_names(cfg);

			return log_error_errno(
				EINVAL,
				"run: --profile '%s': no such profile; there are: %s "
				"(and \"profiles\" in your config adds more)",
				arg_profile, names);
		}
	} else
		prof = profile_for_command(cfg, cl.args[0]);
	log_debug("profile: %s", prof ? prof->name : "none");
	if (prof) {
		r = profile_apply(cfg, prof, &err);
		if (r < 0)
			return log_error_errno(r, "run: profile '%s': %s", prof->name, err);
		/* the keys it reads: every declared secret with one of its variable names */
		if (!secret_names)
			for (size_t i = 0; i < cfg->n_secrets; i++)
				if (strv_contains(prof->secrets, cfg->secrets[i].env
									 ? cfg->secrets[i].env
									 : cfg->secrets[i].name))
					strv_extend(&secret_names, cfg->secrets[i].name);
	}

	/* who */
	pw = getpwuid(getuid());
	{
		const char *h = getenv("HOME");

		home = path_normalize(h && *h == '/' ? h : pw ? pw->pw_dir : "/");
		if (!home)
			return log_error_errno(EINVAL,
					       "run: HOME '%s' is not a clean absolute path", h);
	}

	/* where */
	workspace = realpath(arg_workspace ? arg_workspace : ".", NULL);
	if (!workspace)
		return log_error_errno(errno, "run: workspace '%s': %m",
				       arg_workspace ? arg_workspace : ".");
	ws_fd = open(workspace, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ws_fd < 0)
		return log_error_errno(errno, "run: workspace '%s': %m", workspace);

	/* the project may only narrow what the user allows */
	r = config_load_project(cfg, ws_fd, workspace, &err);
	if (r < 0)
		return log_error_errno(r, "run: %s", err);
	if (arg_debug) {
		_cleanup_free_ char *json = config_to_json(cfg);

		log_debug("effective config: %s", json);
	}
	r = check_supported(cfg);
	if (r < 0)
		return r;

	r = paths_runtime_dir(&runtime);
	if (r < 0)
		return log_error_errno(r, "run: Failed to set up the runtime directory: %m; set "
					  "XDG_RUNTIME_DIR to a private directory");
	/* before resolving protected paths: a crashed run's placeholders must not count */
	runstate_cleanup_stale(runtime);
	r = paths_data_dir(&data_dir);
	if (r >= 0)
		r = paths_config_dir(&config_dir);
	if (r < 0)
		return log_error_errno(r, "run: Failed to find paddock's directories: %m");
	strv_extend(&private_dirs, runtime);
	strv_extend(&private_dirs, data_dir);
	strv_extend(&private_dirs, config_dir);

	pin.workspace = workspace;
	pin.home = home;
	pin.home_src = sess ? sess->home_src : NULL;
	pin.path_env = getenv("PATH");
	pin.private_dirs = private_dirs;
	pin.network = cfg->net != CONFIG_NET_NONE;
	r = plan_check_workspace(&pin, &why);
	if (r < 0)
		return log_error_errno(r, "run: refusing workspace '%s': %s", workspace, why);
	/* review mode (docs/design/review.md): the workspace behind the sandbox's own layer */
	if (arg_review && sess) {
		if (strpbrk(workspace, ",:\\\n") || strpbrk(sess->dir, ",:\\\n"))
			return log_error_errno(EINVAL,
					       "run: --review: '%s' or '%s' holds a ',', ':' or "
					       "'\\', which overlayfs options cannot carry",
					       workspace, sess->dir);
		/* a half-done apply first: a session now would add changes it then drops */
		{
			_cleanup_free_ char *rd = path_join(sess->dir, REVIEW_DIR);
			_cleanup_close_ int rfd = open(rd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (rfd >= 0 && review_pending(rfd) > 0)
				return log_error_errno(
					EBUSY,
					"run: an apply of '%s' was interrupted and is "
					"half done; complete it first ('paddock apply "
					"%s')",
					sess->name, sess->name);
		}
		r = review_prepare(sess->dir, &review_upper, &review_work);
		if (r < 0)
			return log_error_errno(r, "run: cannot make the review layer in '%s': %m",
					       sess->dir);
		pin.review_upper = review_upper;
		pin.review_work = review_work;
	}

	/* protected paths: the built-in list, plus the config's (never fewer) */
	for (const char *const *p = protect_default_paths; *p; p++)
		strv_extend(&patterns, *p);
	STRV_FOREACH (p, cfg->protect)
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
	/*
	 * Placeholders of another live sandbox on this workspace are adopted (recorded as ours
	 * too) so that neither removes them under the other; before planning the mounts.
	 */
	lock_fd = runstate_lock(runtime);
	if (lock_fd < 0) {
		r = log_error_errno(lock_fd, "run: Failed to lock '%s': %m", runtime);
		goto out;
	}
	runstate_adopt(runtime, workspace, ws_fd, &protect);
	pin.protect = &protect;

	for (size_t i = 0; i < cfg->n_volumes; i++) {
		volumes = xreallocarray(volumes, n_volumes + 1, sizeof(*volumes));
		r = resolve_volume(&pin, &cfg->volumes[i], &volumes[n_volumes]);
		if (r < 0)
			goto out;
		n_volumes++;
	}
	pin.volumes = volumes;
	pin.n_volumes = n_volumes;

	/* the command */
	if (cl.n_args > 0)
		spec.argv = strv_copy(cl.args);
	else if (prof && prof->command && prof->command[0])
		spec.argv = strv_copy(prof->command);
	else {
		const char *sh = getenv("SHELL");

		strv_extend(&spec.argv, sh && *sh == '/' ? sh : "/bin/sh");
	}

	if (!tty_set && !int_set && isatty(STDIN_FILENO))
		arg_tty = arg_interactive = true;
	if (sess)
		arg_tty = arg_interactive = true; /* a session's command always has its pty */
	spec.tty = arg_tty;
	spec.interactive = arg_interactive || arg_tty;
	spec.root = arg_root;
	spec.host_uid = getuid();
	spec.host_gid = getgid();
	spec.inner_uid = arg_root ? 0 : getuid();
	spec.inner_gid = arg_root ? 0 : getgid();
	spec.hostname = xstrdup(cfg->hostname ? cfg->hostname : "paddock");
	spec.workspace = xstrdup(workspace);
	spec.home = xstrdup(home);
	spec.net = cfg->net == CONFIG_NET_PUBLIC      ? NET_PUBLIC
		   : cfg->net == CONFIG_NET_ALLOWLIST ? NET_ALLOWLIST
						      : NET_NONE;
	if (spec.net != NET_NONE) {
		_cleanup_(addr_set_freep) struct addr_set *host_self = addr_set_new();

		/* the host's own addresses are never reachable, by any name */
		r = addr_load_host_addresses(host_self);
		if (r < 0) {
			log_error_errno(r, "run: Failed to list the host's addresses: %m");
			goto out;
		}
		r = policy_new(cfg, add_hosts, host_self, &policy);
		if (r < 0) {
			log_error_errno(r, "run: the network policy is invalid; refusing to start");
			goto out;
		}
	}
	spec.cgroup_fd = -EBADF;
	{
		_cleanup_free_ char *lerr = NULL;
		uint64_t cpus_milli = 0;
		char desc[512];

		r = limits_cpus_to_milli(cfg->cpus, &cpus_milli);
		if (r < 0) {
			log_error_errno(r, "run: --cpus %g: at least 0.01 CPU", cfg->cpus);
			goto out;
		}
		(void)limits_probe(&lhost);
		r = limits_plan(&lhost, cfg->memory, cfg->pids, cpus_milli, &spec.limits, &lerr);
		if (r < 0) {
			log_error_errno(r, "run: %s",
					lerr ? lerr : "the limits cannot be enforced");
			goto out;
		}
		/*
		 * The default memory limit is meant for a cgroup (the whole sandbox). As a
		 * per-process RLIMIT_DATA it would only break programs that reserve large
		 * writable mappings (ASan's shadow memory): applied only when asked for.
		 */
		if (spec.limits.memory_mech == LIMITS_MECH_RLIMIT &&
		    cfg->memory == CONFIG_DEFAULT_MEMORY) {
			spec.limits.memory_mech = LIMITS_MECH_NONE;
			spec.limits.memory = 0;
		}
		limits_describe(&spec.limits, desc, sizeof(desc));
		log_debug("limits: %s", desc);
		if (spec.limits.cgroup) {
			const char *step = NULL;

			r = limits_cgroup_create(&lhost, sess ? sess->name : "run", &spec.limits,
						 &spec.cgroup_fd, &step);
			if (r >= 0)
				cgroup_made = true;
			else if (spec.limits.controllers) {
				log_error_errno(
					r,
					"run: Failed to create the sandbox's cgroup (%s): %m; "
					"its limits cannot be enforced; run 'paddock doctor'",
					strempty(step));
				goto out;
			} else {
				/* only for freeze and kill, which have fallbacks: say so, go on */
				log_debug(
					"no cgroup for the sandbox (%s: %s); suspend and stop work "
					"by signals",
					strempty(step), strerror(-r));
				spec.limits.cgroup = spec.limits.freeze = spec.limits.kill = false;
				spec.cgroup_fd = -EBADF;
			}
		}
	}
	{
		/*
		 * The proxy holds two descriptors per connection: raise our soft limit to the
		 * hard one; the command gets the user's own soft limit back.
		 */
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			spec.nofile_soft = (unsigned long)rl.rlim_cur;
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
	}

	for (size_t i = 0; i < cfg->n_env; i++)
		strv_push(&env_extra, cfg->env[i].value ? xasprintf("%s=%s", cfg->env[i].name,
								    cfg->env[i].value)
							: xstrdup(cfg->env[i].name));
	r = secrets_prepare(cfg, secret_names, spec.net, &secrets, &n_secrets, &env_extra);
	if (r < 0)
		goto out;
	if (spec.net != NET_NONE && (n_secrets > 0 || cfg->n_inspect > 0)) {
		/* interception: the sandbox trusts paddock's CA, and only the sandbox does */
		r = trust_bundle_prepare(data_dir, &ca_bundle);
		if (r < 0)
			goto out;
		{
			bool sys = access(TLS_BUNDLE_SANDBOX_PATH, F_OK) == 0;
			const char *inside = sys ? TLS_BUNDLE_SANDBOX_PATH
						 : SANDBOX_SSH_AGENT_DIR "/ca-bundle.pem";

			bundle_inside = inside;
			for (const char *const *e = tls_bundle_env; *e; e++)
				strv_push(&env_extra, xasprintf("%s=%s", *e, inside));
		}
	}
	spec.exec_audit = cfg->exec_audit;
	if (!cfg->exec_audit)
		log_notice("run: the exec audit is off (config \"audit\": {\"exec\": false}): "
			   "programs started in the sandbox are not logged");
	if (arg_ssh_agent) {
		r = ssh_agent_prepare(cfg, arg_ssh_confirm, &agent_upstream, &agent_opts);
		if (r < 0)
			goto out;
		spec.ssh_agent = true;
		strv_push(&env_extra, xasprintf("SSH_AUTH_SOCK=%s", SANDBOX_SSH_AGENT_PATH));
	}
	{
		struct env_input ein = {
			.host = environ,
			.extra = env_extra,
			.home = home,
			.user = pw ? pw->pw_name : NULL,
			.shell = pw ? pw->pw_shell : NULL,
			.hostname = spec.hostname,
			.tty = spec.tty,
			.proxy = spec.net != NET_NONE,
		};

		r = env_build(&ein, &spec.envp, &bad);
		if (r == -EPERM) {
			log_error(
				"run: --env '%s': this variable makes programs load code and never "
				"enters a sandbox",
				bad);
			goto out;
		}
		if (r < 0) {
			log_error("run: --env '%s': invalid variable name", bad);
			goto out;
		}
	}

	if (sess) {
		_cleanup_free_ char *path = path_join(sess->dir, "audit.jsonl");

		r = audit_open(path, sess->name, &audit);
		if (r < 0) {
			log_error_errno(r, "run: Failed to open the audit log '%s': %m", path);
			goto out;
		}
	} else if (arg_keep_log) {
		r = audit_open_kept(data_dir, &log_name, &audit);
		if (r < 0)
			goto out;
	}

	/* images: the root is an overlay clone of a golden image (clone.c) */
	if (!streq(cfg->image, "host")) {
		r = clone_setup("run", cfg->image, sess ? sess->dir : NULL, &spec, &clone);
		if (r < 0)
			goto out;
		pin.image = true;
	}
	r = plan_build(&pin, &spec);
	if (r < 0) {
		log_error_errno(r, "run: Failed to plan the sandbox's filesystem: %m");
		goto out;
	}
	if (ca_bundle)
		sandbox_spec_add_mount(&spec, MOUNT_BIND_RO, ca_bundle, bundle_inside, 0, false);
	if (sess) {
		r = home_sanitize(sess->home_src, home, &spec);
		if (r < 0)
			goto out;
	}
	if (arg_debug)
		for (size_t i = 0; i < spec.n_mounts; i++)
			log_debug("mount %-9s %s%s%s", mount_kind_to_string(spec.mounts[i].kind),
				  spec.mounts[i].dst, spec.mounts[i].src ? " <- " : "",
				  strempty(spec.mounts[i].src));

	{
		struct prepare_ctx pc = {
			.ic = ca_bundle ? &ic : NULL,
			.cfg = cfg,
			.data_dir = data_dir,
			.secrets = secrets,
			.n_secrets = n_secrets,
			.rs = &rs,
			.runtime = runtime,
			.workspace = workspace,
			.ws_fd = ws_fd,
			.protect = &protect,
			.lock_fd = &lock_fd,
		};
		struct supervisor_hooks hooks = {
			.prepare = prepare_placeholders,
			.userdata = &pc,
			.policy = policy,
			.audit = audit_sink,
			.audit_userdata = audit,
			.publish = cfg->publish,
			.tls = ca_bundle ? &ic.tls : NULL,
			.llm_hosts = cfg->llm_hosts,
			.n_llm_hosts = cfg->n_llm_hosts,
			.ssh_agent_upstream = agent_upstream,
			.ssh_agent = arg_ssh_agent ? &agent_opts : NULL,
		};
		struct supervisor_session ss = {};

		agent_opts.audit = audit_sink;
		agent_opts.audit_userdata = audit;
		agent_opts.sandbox = sess ? sess->name : NULL;
		uint64_t oom_kills = 0;
		struct json_object *f = json_object_new_object();
		struct json_object *av = json_object_new_array();

		STRV_FOREACH (a, spec.argv)
			json_object_array_add(av, json_object_new_string(*a));
		json_object_object_add(f, "workspace", json_object_new_string(workspace));
		json_object_object_add(f, "argv", av);
		json_object_object_add(f, "net",
				       json_object_new_string(config_net_to_string(cfg->net)));
		json_object_object_add(f, "image", json_object_new_string(cfg->image));
		if (prof)
			json_object_object_add(f, "profile", json_object_new_string(prof->name));
		audit_sink(audit, "start", f);

		if (sess) {
			ss.name = sess->name;
			ss.ctl_fd = sess->ctl_fd;
			ss.ready_fd = sess->ready_fd;
			ss.log_fd = sess->log_fd;
			ss.state_dir = sess->dir;
			ss.wait_attach = sess->wait_attach;
			hooks.session = &ss;
		}
		r = supervisor_run(&spec, &hooks);
		if (sess)
			sess->ready_fd = ss.ready_fd;
		if (spec.cgroup_fd >= 0 && spec.limits.memory_mech == LIMITS_MECH_CGROUP &&
		    limits_cgroup_oom_kills(spec.cgroup_fd, &oom_kills) >= 0 && oom_kills > 0)
			log_warning(
				"the sandbox's memory limit (%llu bytes) was reached: the kernel "
				"killed %llu of its processes",
				(unsigned long long)spec.limits.memory,
				(unsigned long long)oom_kills);

		f = json_object_new_object();
		if (oom_kills > 0)
			json_object_object_add(f, "oom_kills",
					       json_object_new_int64((int64_t)oom_kills));
		if (r >= 0)
			json_object_object_add(f, "status", json_object_new_int(r));
		else
			json_object_object_add(f, "error", json_object_new_string(strerror(-r)));
		audit_sink(audit, "exit", f);
		if (sess) {
			f = json_object_new_object();
			if (oom_kills > 0)
				json_object_object_add(f, "oom_kills",
						       json_object_new_int64((int64_t)oom_kills));
			if (r >= 0)
				json_object_object_add(f, "status", json_object_new_int(r));
			else
				json_object_object_add(f, "error",
						       json_object_new_string(strerror(-r)));
			(void)sandbox_state_set(sess->dir, ss.stopped ? "stopped" : "exited", f);
		}
	}

out:
	if (cgroup_made) {
		spec.cgroup_fd = safe_close(spec.cgroup_fd);
		if (limits_cgroup_remove(&lhost, sess ? sess->name : "run", getpid(), 2000) < 0)
			log_warning("the sandbox's cgroup could not be removed (still busy)");
	}
	limits_host_done(&lhost);
	clone_done(&clone);
	lock_fd = safe_close(lock_fd); /* runstate_remove() takes it again */
	runstate_remove(&rs);
	if (audit) {
		unsigned lost = audit_errors(audit);

		audit = audit_close(audit);
		if (lost)
			log_warning("%u audit events could not be written", lost);
		if (log_name)
			log_notice("audit log kept: %s (paddock logs %s)", log_name, log_name);
	}
	for (size_t i = 0; i < n_volumes; i++) {
		free(volumes[i].src);
		free(volumes[i].dst);
	}
	free(volumes);
	protect_set_free(&protect);
	sandbox_spec_free(&spec);
	intercept_done(&ic);
	exposed_secrets_free(secrets, n_secrets);
	return r;
}

int run_collect_options(struct cmd_parser *p, char ***ret_opts, char **ret_name)
{
	_cleanup_strv_free_ char **opts = NULL;
	_cleanup_free_ char *name = NULL;
	int c;

	while ((c = cmd_parse_next(p)) > 0) {
		switch (c) {
		case 'h':
			return 0;
		case OPT_NAME:
			free(name);
			name = xstrdup(optarg);
			continue;
		case 't':
		case 'i':
		case OPT_KEEP_LOG:
			continue;
		default:
			break;
		}
		strv_push(&opts, xasprintf("--%s", opt_name_of(c)));
		if (!optarg)
			continue;
		/* relative paths are the caller's: a later `start` runs elsewhere */
		if ((c == 'w' || c == 'v') && optarg[0] != '/') {
			_cleanup_free_ char *cwd = getcwd(NULL, 0);

			if (!cwd)
				return log_error_errno(errno,
						       "%s: cannot find the current directory: %m",
						       p->cmd->name);
			strv_push(&opts, xasprintf("%s/%s", cwd, optarg));
		} else
			strv_extend(&opts, optarg);
	}
	if (c < 0)
		return c;
	*ret_opts = opts ? TAKE_PTR(opts) : xcalloc(1, sizeof(char *));
	*ret_name = TAKE_PTR(name);
	return 1;
}

static int cmd_run_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("run"), argc, argv);
	_cleanup_strv_free_ char **opts = NULL;
	_cleanup_free_ char *name = NULL;
	int r;

	r = run_collect_options(&p, &opts, &name);
	if (r <= 0)
		return r;
	if (!name)
		return run_launch(argc, argv, NULL);
	/* --name: a persistent sandbox, created and started attached */
	return sandbox_run_named(name, opts, p.args);
}

const struct paddock_cmd paddock_cmd_run = {
	.name = "run",
	.usage = "[OPTIONS] [--] [COMMAND [ARG...]]",
	.summary = "Run a command in a new ephemeral sandbox on the workspace",
	.opts = paddock_run_opts,
	.min_args = 0,
	.max_args = -1,
	.command_arg = 1,
	.complete_args = "command",
	.exec = cmd_run_exec,
};
