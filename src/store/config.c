/* SPDX-License-Identifier: MIT */
/*
 * config.c - the effective configuration: defaults, JSON files, options, project narrowing
 *
 * DOC: Theory of Operation
 * The configuration is built in layers (SPEC.md section 5, docs/design/config.md): built-in
 * defaults < /etc/paddock/config.json < the user's config (or --config FILE) < command-line
 * options < the project's .paddock.json. The first four are trusted: they come from the
 * user. Scalars in a later layer replace earlier ones; the arrays allow, deny, env, volumes and
 * protect are appended (an env entry or volume for a name or destination already present
 * replaces it).
 *
 * The project layer is not trusted: it lives in the workspace, which the agent (or whoever
 * wrote the repository) controls. It may only narrow: lower net, add deny rules and protected
 * paths, lower limits, and restrict the allowed hosts. Everything it cannot narrow is an error
 * rather than ignored, so that a user never believes a project setting took effect when it did
 * not. All project checks run before anything is changed.
 *
 * Every layer is first parsed into a separate struct layer (the values plus a bit per key
 * present) and only merged when the whole file is valid, so a failing call leaves the config
 * as it was. Parsing is strict: at most 1 MiB, valid UTF-8, standard JSON (json-c's strict
 * mode), a top-level object, no duplicate keys (json-strict.c), no NUL in strings, unknown
 * keys refused. Every message names the file (or the option), the key as a JSON path
 * ("volumes[2].src") and the reason; syntax errors give the line and column.
 *
 * The module never logs: it returns -errno and a message through a reterr_ parameter.
 */
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/quote.h"
#include "common/fd.h"
#include "common/macro.h"
#include "common/path.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "config.h"
#include "json-strict.h"
#include "paths.h"
#include "supervisor/ports.h"

#define PIDS_MAX     UINT64_C(4194304) /* PID_MAX_LIMIT */
#define CPUS_MAX     4096.0
#define PROJECT_FILE ".paddock.json"

enum {
	KEY_IMAGE = 1 << 0,
	KEY_NET = 1 << 1,
	KEY_ALLOW = 1 << 2,
	KEY_DENY = 1 << 3,
	KEY_ENV = 1 << 4,
	KEY_VOLUMES = 1 << 5,
	KEY_MEMORY = 1 << 6,
	KEY_PIDS = 1 << 7,
	KEY_CPUS = 1 << 8,
	KEY_HOSTNAME = 1 << 9,
	KEY_PROTECT = 1 << 10,
	KEY_INSPECT = 1 << 11,
	KEY_SPLICE = 1 << 12,
	KEY_TLS = 1 << 13,
	KEY_SECRETS = 1 << 14,
	KEY_SSH_AGENT = 1 << 15,
	KEY_LLM_HOSTS = 1 << 16,
	KEY_PROFILES = 1 << 17,
	KEY_AUDIT = 1 << 18,
	KEY_PUBLISH = 1 << 19,
};

/*
 * struct layer - what one file or option set: the values, and a KEY_* bit for each present
 * @secrets_null: names given as "NAME": null in "secrets" (removed)
 */
struct layer {
	struct paddock_config v;
	unsigned set;
	char **secrets_null;
	bool audit_exec_given, audit_exec; /* "audit": {"exec": BOOL} */
};

/*
 * struct ctx - where the values being parsed come from
 * @source: the file name, or the option ("--memory")
 * @flag: @source is an option: messages are "--memory: reason"
 * @project: the file is a project config
 * @reterr: where the message goes
 */
struct ctx {
	const char *source;
	bool flag;
	bool project;
	char **reterr;
};

static const char *const net_names[_CONFIG_NET_MAX] = {
	[CONFIG_NET_NONE] = "none",
	[CONFIG_NET_ALLOWLIST] = "allowlist",
	[CONFIG_NET_PUBLIC] = "public",
};

const char *config_net_to_string(enum config_net n)
{
	if (n < 0 || n >= _CONFIG_NET_MAX)
		return NULL;
	return net_names[n];
}

enum config_net config_net_from_string(const char *s)
{
	for (int i = 0; i < _CONFIG_NET_MAX; i++)
		if (s && streq(s, net_names[i]))
			return (enum config_net)i;
	return _CONFIG_NET_INVALID;
}

/* ---- errors ---------------------------------------------------------------------------- */

/* A user-controlled string, quoted and made printable, cut at 80 bytes. */
static char *quote(const char *s, size_t n)
{
	return str_quote(s, n);
}

static void ctx_set_error(struct ctx *x, const char *key, const char *fmt, ...) _printf_(3, 4);
static void ctx_set_error(struct ctx *x, const char *key, const char *fmt, ...)
{
	_cleanup_free_ char *why = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&why, fmt, ap);
	va_end(ap);
	if (r < 0)
		abort();
	if (x->reterr) {
		free(*x->reterr);
		if (x->flag || !key)
			*x->reterr = xasprintf("%s: %s", x->source, why);
		else
			*x->reterr = xasprintf("%s: key '%s': %s", x->source, key, why);
	}
}

/*
 * ctx_error() - record the error in @x and evaluate to -EINVAL. A macro, not a variadic function,
 * so that callers (and clang's analyzer, which does not inline variadic calls) see the result is
 * always negative.
 */
#define ctx_error(x, key, ...) (ctx_set_error((x), (key), __VA_ARGS__), -EINVAL)

static int expect_type(struct ctx *x, const char *key, struct json_object *o, enum json_type t,
		       const char *what)
{
	if (json_object_is_type(o, t))
		return 0;
	return ctx_error(x, key, "expected %s, got %s", what, json_type_article(o));
}

/* A JSON string without NUL bytes. */
static int json_str(struct ctx *x, const char *key, struct json_object *o, const char **ret)
{
	int r = expect_type(x, key, o, json_type_string, "a string");

	if (r < 0)
		return r;
	if (strlen(json_object_get_string(o)) != (size_t)json_object_get_string_len(o))
		return ctx_error(x, key, "NUL byte in string");
	*ret = json_object_get_string(o);
	return 0;
}

/* ---- struct paddock_config ------------------------------------------------------------- */

static void secret_done(struct config_secret *s)
{
	free(s->name);
	free(s->arg);
	for (size_t i = 0; i < s->n_hosts; i++)
		host_rule_done(&s->hosts[i]);
	free(s->hosts);
	free(s->env);
	strv_free(s->headers);
	*s = (struct config_secret){};
}

static void config_done(struct paddock_config *c)
{
	free(c->image);
	for (size_t i = 0; i < c->n_allow; i++)
		host_rule_done(&c->allow[i]);
	free(c->allow);
	for (size_t i = 0; i < c->n_deny; i++)
		host_rule_done(&c->deny[i]);
	free(c->deny);
	for (size_t i = 0; i < c->n_env; i++) {
		free(c->env[i].name);
		free(c->env[i].value);
	}
	free(c->env);
	for (size_t i = 0; i < c->n_volumes; i++) {
		free(c->volumes[i].src);
		free(c->volumes[i].dst);
	}
	free(c->volumes);
	free(c->hostname);
	strv_free(c->protect);
	strv_free(c->publish);
	for (size_t i = 0; i < c->n_inspect; i++)
		host_rule_done(&c->inspect[i]);
	free(c->inspect);
	for (size_t i = 0; i < c->n_splice; i++)
		host_rule_done(&c->splice[i]);
	free(c->splice);
	strv_free(c->tls_upstream_ca);
	strv_free(c->ssh_confirm);
	strv_free(c->ssh_keys);
	for (size_t i = 0; i < c->n_llm_hosts; i++)
		host_rule_done(&c->llm_hosts[i]);
	free(c->llm_hosts);
	for (size_t i = 0; i < c->n_profiles; i++)
		config_profile_done(&c->profiles[i]);
	free(c->profiles);
	for (size_t i = 0; i < c->n_secrets; i++)
		secret_done(&c->secrets[i]);
	free(c->secrets);
	strv_free(c->secrets_removed);
	strv_free(c->sources);
	free(c->project_file);
	*c = (struct paddock_config){};
}

struct paddock_config *config_new(void)
{
	struct paddock_config *c = xcalloc(1, sizeof(*c));

	c->image = xstrdup(CONFIG_DEFAULT_IMAGE);
	c->net = CONFIG_NET_PUBLIC;
	c->memory = CONFIG_DEFAULT_MEMORY;
	c->pids = CONFIG_DEFAULT_PIDS;
	c->cpus = 0;
	c->exec_audit = true;
	return c;
}

struct paddock_config *config_free(struct paddock_config *c)
{
	if (!c)
		return NULL;
	config_done(c);
	free(c);
	return NULL;
}

static void layer_done(struct layer *l)
{
	config_done(&l->v);
	strv_free(l->secrets_null);
	l->secrets_null = NULL;
	l->set = 0;
}

/* Append @r (taking ownership of its host) unless an equal rule is there already. */
static void rules_add(struct host_rule **rules, size_t *n, struct host_rule *r)
{
	for (size_t i = 0; i < *n; i++)
		if (host_rule_equal(&(*rules)[i], r)) {
			/* a trusted copy of a rule wins over a project-only one */
			(*rules)[i].project_only = (*rules)[i].project_only && r->project_only;
			host_rule_done(r);
			return;
		}
	*rules = xreallocarray(*rules, *n + 1, sizeof(**rules));
	(*rules)[(*n)++] = *r;
	*r = (struct host_rule){};
}

/* Set @name to @value (both taken), replacing an earlier entry for @name. */
static void env_set(struct paddock_config *c, char *name, char *value)
{
	for (size_t i = 0; i < c->n_env; i++)
		if (streq(c->env[i].name, name)) {
			free(c->env[i].name);
			free(c->env[i].value);
			memmove(&c->env[i], &c->env[i + 1], (c->n_env - i - 1) * sizeof(*c->env));
			c->n_env--;
			break;
		}
	c->env = xreallocarray(c->env, c->n_env + 1, sizeof(*c->env));
	c->env[c->n_env++] = (struct config_env){ .name = name, .value = value };
}

static void volume_add(struct paddock_config *c, char *src, char *dst, bool ro)
{
	for (size_t i = 0; i < c->n_volumes; i++)
		if (streq(c->volumes[i].dst, dst)) {
			free(c->volumes[i].src);
			free(c->volumes[i].dst);
			memmove(&c->volumes[i], &c->volumes[i + 1],
				(c->n_volumes - i - 1) * sizeof(*c->volumes));
			c->n_volumes--;
			break;
		}
	c->volumes = xreallocarray(c->volumes, c->n_volumes + 1, sizeof(*c->volumes));
	c->volumes[c->n_volumes++] = (struct config_volume){ .src = src, .dst = dst, .ro = ro };
}

static void protect_add(char ***l, const char *p)
{
	if (!strv_contains(*l, p))
		strv_extend(l, p);
}

/* ---- value parsers, shared by files and options ------------------------------------------ */

static int parse_image(struct ctx *x, const char *key, const char *s, char **ret)
{
	size_t n = strlen(s);
	bool ok = n >= 1 && n <= 64;

	for (size_t i = 0; ok && i < n; i++) {
		char c = s[i];

		ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		     (i > 0 && (c == '.' || c == '_' || c == '-'));
	}
	if (!ok) {
		_cleanup_free_ char *q = quote(s, n);

		return ctx_error(x, key,
				 "invalid image name %s (lowercase letters, digits, '.', '_', '-', "
				 "starting with a letter or digit, at most 64 bytes)",
				 q);
	}
	*ret = xstrdup(s);
	return 0;
}

static int parse_net(struct ctx *x, const char *key, const char *s, enum config_net *ret)
{
	enum config_net n = config_net_from_string(s);

	if (n < 0) {
		_cleanup_free_ char *q = quote(s, strlen(s));

		return ctx_error(x, key, "expected one of public, allowlist, none, got %s", q);
	}
	*ret = n;
	return 0;
}

static int parse_host_rule(struct ctx *x, const char *key, const char *s, size_t n,
			   struct host_rule *ret)
{
	const char *why = NULL;
	_cleanup_free_ char *q = NULL;

	if (host_rule_parse(s, n, ret, &why) >= 0)
		return 0;
	q = quote(s, n);
	return ctx_error(x, key, "invalid host rule %s: %s", q, why);
}

static bool env_name_is_valid(const char *s, size_t n)
{
	if (n == 0 || n > 256 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

/* "NAME" or "NAME=VALUE" */
static int parse_env_entry(struct ctx *x, const char *key, const char *s, char **ret_name,
			   char **ret_value)
{
	const char *eq = strchr(s, '=');
	size_t n = eq ? (size_t)(eq - s) : strlen(s);

	if (!env_name_is_valid(s, n)) {
		_cleanup_free_ char *q = quote(s, n);

		return ctx_error(x, key,
				 "invalid environment variable name %s (expected "
				 "[A-Za-z_][A-Za-z0-9_]*)",
				 q);
	}
	*ret_name = xstrndup(s, n);
	*ret_value = eq ? xstrdup(eq + 1) : NULL;
	return 0;
}

static bool has_control_bytes(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int parse_abs_path(struct ctx *x, const char *key, const char *what, const char *s, size_t n,
			  char **ret)
{
	_cleanup_free_ char *copy = xstrndup(s, n), *q = quote(s, n), *norm = NULL;

	if (n == 0 || n >= 4096 || has_control_bytes(copy))
		return ctx_error(x, key, "invalid %s path %s", what, q);
	if (copy[0] != '/')
		return ctx_error(x, key, "%s path %s is not absolute", what, q);
	norm = path_normalize(copy);
	if (!norm)
		return ctx_error(x, key, "%s path %s contains '..'", what, q);
	*ret = TAKE_PTR(norm);
	return 0;
}

/* "SRC:DST[:ro|:rw]" */
static int parse_volume_string(struct ctx *x, const char *key, const char *s, char **ret_src,
			       char **ret_dst, bool *ret_ro)
{
	_cleanup_free_ char *src = NULL, *dst = NULL, *q = NULL;
	const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	bool ro = false;
	int r;

	if (!c1 || (c2 && strchr(c2 + 1, ':'))) {
		q = quote(s, strlen(s));
		return ctx_error(x, key,
				 "expected SRC:DST[:ro|:rw], got %s (use the object form "
				 "{\"src\", \"dst\", \"ro\"} for paths containing ':')",
				 q);
	}
	if (c2) {
		if (streq(c2 + 1, "ro"))
			ro = true;
		else if (!streq(c2 + 1, "rw")) {
			q = quote(c2 + 1, strlen(c2 + 1));
			return ctx_error(x, key, "expected 'ro' or 'rw' after DST, got %s", q);
		}
	}
	r = parse_abs_path(x, key, "source", s, (size_t)(c1 - s), &src);
	if (r < 0)
		return r;
	r = parse_abs_path(x, key, "destination", c1 + 1,
			   c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1), &dst);
	if (r < 0)
		return r;
	if (streq(dst, "/"))
		return ctx_error(x, key, "cannot mount a volume on '/'");
	*ret_src = TAKE_PTR(src);
	*ret_dst = TAKE_PTR(dst);
	*ret_ro = ro;
	return 0;
}

/*
 * parse_size() - "8G", "512m", "1.5G", "1048576": a decimal number with at most 9 fractional
 * digits and an optional K, M, G or T suffix (binary multiples, any case). The result is
 * rounded down to whole bytes and must be at least 1.
 */
static int parse_size(struct ctx *x, const char *key, const char *s, uint64_t *ret)
{
	uint64_t ip = 0, frac = 0, div = 1, mult = 1, v, f;
	const char *p = s;
	size_t nd = 0;

	for (; *p >= '0' && *p <= '9'; p++, nd++)
		if (__builtin_mul_overflow(ip, 10, &ip) ||
		    __builtin_add_overflow(ip, (uint64_t)(*p - '0'), &ip))
			goto invalid;
	if (nd == 0)
		goto invalid;
	if (*p == '.') {
		size_t nf = 0;

		for (p++; *p >= '0' && *p <= '9'; p++, nf++) {
			if (nf >= 9)
				goto invalid;
			frac = frac * 10 + (uint64_t)(*p - '0');
			div *= 10;
		}
		if (nf == 0)
			goto invalid;
	}
	switch (*p) {
	case 'k':
	case 'K':
		mult = UINT64_C(1) << 10;
		break;
	case 'm':
	case 'M':
		mult = UINT64_C(1) << 20;
		break;
	case 'g':
	case 'G':
		mult = UINT64_C(1) << 30;
		break;
	case 't':
	case 'T':
		mult = UINT64_C(1) << 40;
		break;
	case '\0':
		break;
	default:
		goto invalid;
	}
	if (*p && p[1])
		goto invalid;
	if (__builtin_mul_overflow(ip, mult, &v))
		goto too_large;
	/* frac < div <= 10^9 and mult <= 2^40: frac * mult < 2^70 could overflow; split it */
	f = (frac * (mult >> 10)) / div * 1024 + ((frac * (mult >> 10)) % div) * 1024 / div;
	if (mult < 1024)
		f = frac * mult / div;
	if (__builtin_add_overflow(v, f, &v) || v > (uint64_t)INT64_MAX)
		goto too_large;
	if (v == 0)
		return ctx_error(x, key, "size must be at least 1 byte");
	*ret = v;
	return 0;

invalid : {
	_cleanup_free_ char *q = quote(s, strlen(s));

	return ctx_error(x, key,
			 "invalid size %s (expected a number with an optional K, M, G or T "
			 "suffix, such as '8G' or '1.5G')",
			 q);
}
too_large : {
	_cleanup_free_ char *q = quote(s, strlen(s));

	return ctx_error(x, key, "size %s is too large", q);
}
}

static int check_pids(struct ctx *x, const char *key, uint64_t v, uint64_t *ret)
{
	if (v < 1 || v > PIDS_MAX)
		return ctx_error(x, key,
				 "expected a positive integer up to %" PRIu64 ", got %" PRIu64,
				 PIDS_MAX, v);
	*ret = v;
	return 0;
}

static int parse_pids(struct ctx *x, const char *key, const char *s, uint64_t *ret)
{
	uint64_t v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 10 || strspn(s, "0123456789") != n) {
		_cleanup_free_ char *q = quote(s, n);

		return ctx_error(x, key, "expected a positive integer, got %s", q);
	}
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	return check_pids(x, key, v, ret);
}

static int check_cpus(struct ctx *x, const char *key, double v, double *ret)
{
	if (!isfinite(v) || v <= 0 || v > CPUS_MAX)
		return ctx_error(x, key, "expected a positive number of CPUs up to %g, got %g",
				 CPUS_MAX, v);
	*ret = v;
	return 0;
}

/* "2", "0.5": digits with at most 6 fractional digits, no exponent, locale-independent */
static int parse_cpus(struct ctx *x, const char *key, const char *s, double *ret)
{
	const char *p = s;
	double v = 0, scale = 1;
	size_t nd = 0, nf = 0;

	for (; *p >= '0' && *p <= '9' && nd < 6; p++, nd++)
		v = v * 10 + (*p - '0');
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9' && nf < 6; p++, nf++)
			v += (*p - '0') * (scale /= 10);
	if (nd == 0 || *p || (p > s && p[-1] == '.')) {
		_cleanup_free_ char *q = quote(s, strlen(s));

		return ctx_error(x, key,
				 "expected a positive number of CPUs such as '2' or '0.5', "
				 "got %s",
				 q);
	}
	return check_cpus(x, key, v, ret);
}

static int parse_hostname(struct ctx *x, const char *key, const char *s, char **ret)
{
	size_t n = strlen(s);
	_cleanup_free_ char *lower = xstrdup(s);

	for (char *c = lower; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	if (n > 64 || !host_name_is_valid(lower, n)) {
		_cleanup_free_ char *q = quote(s, n);

		return ctx_error(x, key,
				 "invalid hostname %s (RFC 1123: labels of letters, digits "
				 "and '-', at most 64 bytes)",
				 q);
	}
	*ret = xstrdup(s);
	return 0;
}

/* A workspace-relative path; one trailing '/' is dropped; '*' only as the very last byte. */
static int parse_protect(struct ctx *x, const char *key, const char *s, char **ret)
{
	_cleanup_free_ char *p = xstrdup(s), *q = quote(s, strlen(s));
	size_t n = strlen(p);
	char *star;

	if (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	if (n == 0 || n >= 4096 || p[0] == '/')
		return ctx_error(x, key, "protected path %s must be relative to the workspace", q);
	if (!path_is_safe_relative(p))
		return ctx_error(x, key,
				 "protected path %s must not contain '..', '.', empty "
				 "components or control bytes",
				 q);
	star = strchr(p, '*');
	if (star && star != p + n - 1)
		return ctx_error(x, key,
				 "protected path %s: '*' is only allowed at the end of the "
				 "last component",
				 q);
	*ret = TAKE_PTR(p);
	return 0;
}

/* ---- JSON keys ----------------------------------------------------------------------------- */

static int key_image(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	const char *s;
	int r = json_str(x, key, o, &s);

	if (r < 0)
		return r;
	free(l->v.image);
	l->v.image = NULL;
	return parse_image(x, key, s, &l->v.image);
}

static int key_net(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	const char *s;
	int r = json_str(x, key, o, &s);

	if (r < 0)
		return r;
	return parse_net(x, key, s, &l->v.net);
}

static int key_rules(struct ctx *x, const char *key, struct json_object *o,
		     struct host_rule **rules, size_t *n)
{
	int r = expect_type(x, key, o, json_type_array, "an array of HOST[:PORT] strings");

	if (r < 0)
		return r;
	for (size_t i = 0; i < json_object_array_length(o); i++) {
		_cleanup_free_ char *k = xasprintf("%s[%zu]", key, i);
		struct json_object *e = json_object_array_get_idx(o, i);
		struct host_rule h;

		r = expect_type(x, k, e, json_type_string, "a HOST[:PORT] string");
		if (r < 0)
			return r;
		r = parse_host_rule(x, k, json_object_get_string(e),
				    (size_t)json_object_get_string_len(e), &h);
		if (r < 0)
			return r;
		rules_add(rules, n, &h);
	}
	return 0;
}

static int key_allow(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	return key_rules(x, key, o, &l->v.allow, &l->v.n_allow);
}

static int key_deny(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	return key_rules(x, key, o, &l->v.deny, &l->v.n_deny);
}

static int key_env(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	int r;

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, name, val)
		{
			_cleanup_free_ char *k = xasprintf("%s.%s", key, name);
			const char *s;

			if (!env_name_is_valid(name, strlen(name))) {
				_cleanup_free_ char *q = quote(name, strlen(name));

				return ctx_error(x, key,
						 "invalid environment variable name %s "
						 "(expected [A-Za-z_][A-Za-z0-9_]*)",
						 q);
			}
			r = json_str(x, k, val, &s);
			if (r < 0)
				return r;
			env_set(&l->v, xstrdup(name), xstrdup(s));
		}
		return 0;
	}
	r = expect_type(x, key, o, json_type_array,
			"an object NAME -> VALUE or an array of \"NAME[=VALUE]\" strings");
	if (r < 0)
		return r;
	for (size_t i = 0; i < json_object_array_length(o); i++) {
		_cleanup_free_ char *k = xasprintf("%s[%zu]", key, i);
		char *name = NULL, *value = NULL;
		const char *s;

		r = json_str(x, k, json_object_array_get_idx(o, i), &s);
		if (r < 0)
			return r;
		r = parse_env_entry(x, k, s, &name, &value);
		if (r < 0)
			return r;
		env_set(&l->v, name, value);
	}
	return 0;
}

static int key_volume_object(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	_cleanup_free_ char *src = NULL, *dst = NULL;
	bool ro = false;
	int r;

	json_object_object_foreach(o, name, val)
	{
		_cleanup_free_ char *k = xasprintf("%s.%s", key, name);
		const char *s;

		if (streq(name, "ro")) {
			r = expect_type(x, k, val, json_type_boolean, "a boolean");
			if (r < 0)
				return r;
			ro = json_object_get_boolean(val);
		} else if (streq(name, "src") || streq(name, "dst")) {
			bool is_src = streq(name, "src");

			r = json_str(x, k, val, &s);
			if (r < 0)
				return r;
			free(is_src ? src : dst); /* cannot repeat (duplicate keys are refused) */
			r = parse_abs_path(x, k, is_src ? "source" : "destination", s, strlen(s),
					   is_src ? &src : &dst);
			if (r < 0)
				return r;
		} else {
			_cleanup_free_ char *q = quote(name, strlen(name));

			return ctx_error(x, key, "unknown key %s (expected src, dst, ro)", q);
		}
	}
	if (!src || !dst)
		return ctx_error(x, key, "a volume needs both \"src\" and \"dst\"");
	if (streq(dst, "/"))
		return ctx_error(x, key, "cannot mount a volume on '/'");
	volume_add(&l->v, TAKE_PTR(src), TAKE_PTR(dst), ro);
	return 0;
}

static int key_volumes(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	int r = expect_type(x, key, o, json_type_array, "an array");

	if (r < 0)
		return r;
	for (size_t i = 0; i < json_object_array_length(o); i++) {
		_cleanup_free_ char *k = xasprintf("%s[%zu]", key, i);
		struct json_object *e = json_object_array_get_idx(o, i);
		char *src = NULL, *dst = NULL;
		bool ro = false;
		const char *s;

		if (json_object_is_type(e, json_type_object)) {
			r = key_volume_object(x, l, k, e);
			if (r < 0)
				return r;
			continue;
		}
		if (!json_object_is_type(e, json_type_string))
			return ctx_error(x, k,
					 "expected a \"SRC:DST[:ro]\" string or an object, "
					 "got %s",
					 json_type_article(e));
		r = json_str(x, k, e, &s);
		if (r < 0)
			return r;
		r = parse_volume_string(x, k, s, &src, &dst, &ro);
		if (r < 0)
			return r;
		volume_add(&l->v, src, dst, ro);
	}
	return 0;
}

static int key_memory(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	const char *s;
	int r;

	if (json_object_is_type(o, json_type_int)) {
		int64_t v = json_object_get_int64(o);

		if (v <= 0 || v == INT64_MAX)
			return ctx_error(x, key, "expected a positive number of bytes below 2^63");
		l->v.memory = (uint64_t)v;
		return 0;
	}
	if (!json_object_is_type(o, json_type_string))
		return ctx_error(x, key,
				 "expected a size such as \"8G\" or an integer number of "
				 "bytes, got %s",
				 json_type_article(o));
	r = json_str(x, key, o, &s);
	if (r < 0)
		return r;
	return parse_size(x, key, s, &l->v.memory);
}

static int key_pids(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	int64_t v;
	int r = expect_type(x, key, o, json_type_int, "a positive integer");

	if (r < 0)
		return r;
	v = json_object_get_int64(o);
	if (v <= 0)
		return ctx_error(x, key, "expected a positive integer, got %" PRId64, v);
	return check_pids(x, key, (uint64_t)v, &l->v.pids);
}

static int key_cpus(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	if (!json_object_is_type(o, json_type_int) && !json_object_is_type(o, json_type_double))
		return ctx_error(x, key, "expected a positive number, got %s",
				 json_type_article(o));
	return check_cpus(x, key, json_object_get_double(o), &l->v.cpus);
}

static int key_hostname(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	const char *s;
	int r = json_str(x, key, o, &s);

	if (r < 0)
		return r;
	free(l->v.hostname);
	l->v.hostname = NULL;
	return parse_hostname(x, key, s, &l->v.hostname);
}

static int key_protect(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	int r = expect_type(x, key, o, json_type_array, "an array of workspace-relative paths");

	if (r < 0)
		return r;
	for (size_t i = 0; i < json_object_array_length(o); i++) {
		_cleanup_free_ char *k = xasprintf("%s[%zu]", key, i), *p = NULL;
		const char *s;

		r = json_str(x, k, json_object_array_get_idx(o, i), &s);
		if (r < 0)
			return r;
		r = parse_protect(x, k, s, &p);
		if (r < 0)
			return r;
		protect_add(&l->v.protect, p);
	}
	return 0;
}

static int key_inspect(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	return key_rules(x, key, o, &l->v.inspect, &l->v.n_inspect);
}

static int key_llm_hosts(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	return key_rules(x, key, o, &l->v.llm_hosts, &l->v.n_llm_hosts);
}

static int key_splice(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	return key_rules(x, key, o, &l->v.splice, &l->v.n_splice);
}

/* "tls": {"upstream_ca": ["/abs/ca.pem", ...]}; the files are read when the proxy starts */
static int key_tls(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	int r = expect_type(x, key, o, json_type_object, "an object {\"upstream_ca\": [...]}");

	if (r < 0)
		return r;
	json_object_object_foreach(o, name, val)
	{
		_cleanup_free_ char *k = xasprintf("%s.%s", key, name);

		if (!streq(name, "upstream_ca")) {
			_cleanup_free_ char *q = quote(name, strlen(name));

			return ctx_error(x, key, "unknown key %s (expected upstream_ca)", q);
		}
		r = expect_type(x, k, val, json_type_array, "an array of PEM file paths");
		if (r < 0)
			return r;
		for (size_t i = 0; i < json_object_array_length(val); i++) {
			_cleanup_free_ char *ki = xasprintf("%s[%zu]", k, i), *p = NULL;
			const char *s;

			r = json_str(x, ki, json_object_array_get_idx(val, i), &s);
			if (r < 0)
				return r;
			r = parse_abs_path(x, ki, "CA file", s, strlen(s), &p);
			if (r < 0)
				return r;
			protect_add(&l->v.tls_upstream_ca, p); /* appends unless present */
		}
	}
	return 0;
}

/*
 * "audit": {"exec": false} - run without the exec audit (docs/design/exec-audit.md); only by
 * name, and only in the user's own config: the agent can write a project config
 */
static int key_audit(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	int r = expect_type(x, key, o, json_type_object, "an object {\"exec\": true|false}");

	if (r < 0)
		return r;
	json_object_object_foreach(o, name, val)
	{
		_cleanup_free_ char *k = xasprintf("%s.%s", key, name);

		if (!streq(name, "exec")) {
			_cleanup_free_ char *q = quote(name, strlen(name));

			return ctx_error(x, key, "unknown key %s (expected exec)", q);
		}
		r = expect_type(x, k, val, json_type_boolean, "true or false");
		if (r < 0)
			return r;
		l->audit_exec_given = true;
		l->audit_exec = json_object_get_boolean(val);
	}
	return 0;
}

/* "ssh_agent": {"confirm": ["cmd", "arg"], "keys": ["SHA256:..."], "timeout": 30} */
static int key_ssh_agent(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	int r = expect_type(x, key, o, json_type_object,
			    "an object {\"confirm\": [...], \"keys\": [...], \"timeout\": N}");

	if (r < 0)
		return r;
	json_object_object_foreach(o, name, val)
	{
		_cleanup_free_ char *k = xasprintf("%s.%s", key, name);
		char ***list;

		if (streq(name, "timeout")) {
			r = expect_type(x, k, val, json_type_int, "an integer number of seconds");
			if (r < 0)
				return r;
			if (json_object_get_int64(val) < 1 || json_object_get_int64(val) > 600)
				return ctx_error(x, k, "expected 1 to 600 seconds");
			l->v.ssh_confirm_timeout = (unsigned)json_object_get_int64(val);
			continue;
		}
		if (streq(name, "confirm"))
			list = &l->v.ssh_confirm;
		else if (streq(name, "keys"))
			list = &l->v.ssh_keys;
		else {
			_cleanup_free_ char *q = quote(name, strlen(name));

			return ctx_error(x, key,
					 "unknown key %s (expected confirm, keys or timeout)", q);
		}
		r = expect_type(x, k, val, json_type_array,
				streq(name, "confirm") ? "a command as an array of strings"
						       : "an array of \"SHA256:...\" fingerprints");
		if (r < 0)
			return r;
		if (json_object_array_length(val) == 0)
			return ctx_error(x, k, "an empty list; leave the key out instead");
		strv_free(*list);
		*list = NULL;
		for (size_t i = 0; i < json_object_array_length(val); i++) {
			_cleanup_free_ char *ki = xasprintf("%s[%zu]", k, i);
			const char *v;

			r = json_str(x, ki, json_object_array_get_idx(val, i), &v);
			if (r < 0)
				return r;
			if (list == &l->v.ssh_keys &&
			    (strncmp(v, "SHA256:", 7) != 0 || strlen(v) != 7 + 43)) {
				_cleanup_free_ char *q = quote(v, strlen(v));

				return ctx_error(
					x, ki,
					"%s is not a key fingerprint (expected SHA256: and "
					"43 base64 characters, as 'ssh-add -l' prints)",
					q);
			}
			if (!*v)
				return ctx_error(x, ki, "an empty string");
			strv_extend(list, v);
		}
	}
	return 0;
}

/* ---- profiles -------------------------------------------------------------------------------- */

void config_profile_done(struct config_profile *p)
{
	free(p->name);
	strv_free(p->command);
	strv_free(p->llm_hosts);
	strv_free(p->secrets);
	strv_free(p->home);
	strv_free(p->allow);
	*p = (struct config_profile){};
}

/* a list of strings, each checked by @check (NULL: any non-empty string) */
static int key_strv(struct ctx *x, const char *key, struct json_object *o, char ***ret,
		    int (*check)(struct ctx *x, const char *key, const char *v))
{
	int r = expect_type(x, key, o, json_type_array, "an array of strings");

	if (r < 0)
		return r;
	for (size_t i = 0; i < json_object_array_length(o); i++) {
		_cleanup_free_ char *k = xasprintf("%s[%zu]", key, i);
		const char *v;

		r = json_str(x, k, json_object_array_get_idx(o, i), &v);
		if (r < 0)
			return r;
		if (!*v)
			return ctx_error(x, k, "an empty string");
		if (check) {
			r = check(x, k, v);
			if (r < 0)
				return r;
		}
		strv_extend(ret, v);
	}
	if (!*ret)
		*ret = xcalloc(1, sizeof(char *));
	return 0;
}

/* check_publish() - a "publish" entry: what -p accepts, checked by the same parser */
static int check_publish(struct ctx *x, const char *key, const char *v)
{
	_cleanup_free_ char *q = quote(v, strlen(v)), *why = NULL;
	struct port_spec spec;

	if (port_spec_parse(v, &spec, &why) < 0)
		return ctx_error(x, key,
				 "invalid port forward %s: %s; expected [IP:]HOSTPORT[:PORT] as "
				 "for -p",
				 q, why ? why : "invalid");
	return 0;
}

static int key_publish(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	return key_strv(x, key, o, &l->v.publish, check_publish);
}

static int check_host_rule(struct ctx *x, const char *key, const char *v)
{
	struct host_rule h;
	const char *why = NULL;
	_cleanup_free_ char *q = quote(v, strlen(v));

	if (host_rule_parse(v, strlen(v), &h, &why) < 0)
		return ctx_error(x, key, "invalid host rule %s: %s", q, why ? why : "invalid");
	host_rule_done(&h);
	return 0;
}

static int check_env_name(struct ctx *x, const char *key, const char *v)
{
	_cleanup_free_ char *q = quote(v, strlen(v));

	if (!env_name_is_valid(v, strlen(v)))
		return ctx_error(x, key, "invalid environment variable name %s", q);
	return 0;
}

static int check_home_path(struct ctx *x, const char *key, const char *v)
{
	_cleanup_free_ char *q = quote(v, strlen(v));
	bool ok = v[0] != '/' && v[strlen(v) - 1] != '/' && !strstr(v, "//");

	/* no "." or ".." component */
	for (const char *c = v; ok && *c; c = strchr(c, '/') ? strchr(c, '/') + 1 : c + strlen(c)) {
		size_t n = strcspn(c, "/");

		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			ok = false;
	}
	if (!ok)
		return ctx_error(x, key, "%s is not a clean path relative to the home", q);
	return 0;
}

bool config_profile_name_is_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_'))
			return false;
	return true;
}

/* "profiles": {NAME: {command, llm_hosts, secrets, home, allow}} */
static int key_profiles(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	int r = expect_type(x, key, o, json_type_object,
			    "an object NAME -> {command, llm_hosts, secrets, home, allow}");

	if (r < 0)
		return r;
	json_object_object_foreach(o, name, val)
	{
		_cleanup_free_ char *k = xasprintf("%s.%s", key, name);
		struct config_profile pr = {};

		if (!config_profile_name_is_valid(name)) {
			_cleanup_free_ char *q = quote(name, strlen(name));

			return ctx_error(x, key,
					 "invalid profile name %s (lower-case letters, digits, "
					 "'-' and '_', at most 32)",
					 q);
		}
		r = expect_type(x, k, val, json_type_object,
				"an object {command, llm_hosts, secrets, home, allow}");
		if (r < 0)
			return r;
		pr.name = xstrdup(name);
		json_object_object_foreach(val, field, fv)
		{
			_cleanup_free_ char *kk = xasprintf("%s.%s", k, field);

			if (streq(field, "command"))
				r = key_strv(x, kk, fv, &pr.command, NULL);
			else if (streq(field, "llm_hosts"))
				r = key_strv(x, kk, fv, &pr.llm_hosts, check_host_rule);
			else if (streq(field, "allow"))
				r = key_strv(x, kk, fv, &pr.allow, check_host_rule);
			else if (streq(field, "secrets"))
				r = key_strv(x, kk, fv, &pr.secrets, check_env_name);
			else if (streq(field, "home"))
				r = key_strv(x, kk, fv, &pr.home, check_home_path);
			else {
				_cleanup_free_ char *q = quote(field, strlen(field));

				r = ctx_error(
					x, k,
					"unknown key %s (expected command, llm_hosts, secrets, "
					"home or allow)",
					q);
			}
			if (r < 0) {
				config_profile_done(&pr);
				return r;
			}
		}
		if (!pr.command || !pr.command[0]) {
			config_profile_done(&pr);
			return ctx_error(x, k, "a profile needs a \"command\"");
		}
		l->v.profiles = xreallocarray(l->v.profiles, l->v.n_profiles + 1, sizeof(pr));
		l->v.profiles[l->v.n_profiles++] = pr;
	}
	return 0;
}

/* ---- secrets --------------------------------------------------------------------------------- */

static const char *const secret_from_names[_SECRET_FROM_MAX] = {
	[SECRET_FROM_ENV] = "env",
	[SECRET_FROM_FILE] = "file",
	[SECRET_FROM_COMMAND] = "command",
	[SECRET_FROM_STORE] = "store",
};

const char *secret_from_to_string(enum secret_from f)
{
	if (f < 0 || f >= _SECRET_FROM_MAX)
		return NULL;
	return secret_from_names[f];
}

bool config_secret_name_is_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > CONFIG_SECRET_NAME_MAX ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

const struct config_secret *config_secret_find(const struct paddock_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_secrets; i++)
		if (streq(c->secrets[i].name, name))
			return &c->secrets[i];
	return NULL;
}

static ssize_t secret_index(const struct config_secret *l, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (streq(l[i].name, name))
			return (ssize_t)i;
	return -1;
}

/* "env:VAR", "file:/abs/path", "command:CMD", "store" */
static int parse_secret_from(struct ctx *x, const char *key, const char *s,
			     struct config_secret *ret)
{
	_cleanup_free_ char *q = quote(s, strlen(s));
	const char *colon = strchr(s, ':');
	int r;

	if (streq(s, "store")) {
		ret->from = SECRET_FROM_STORE;
		return 0;
	}
	if (colon && strncmp(s, "env:", 4) == 0) {
		if (!env_name_is_valid(colon + 1, strlen(colon + 1)))
			return ctx_error(x, key,
					 "invalid environment variable name in %s (expected "
					 "env:[A-Za-z_][A-Za-z0-9_]*)",
					 q);
		ret->from = SECRET_FROM_ENV;
		ret->arg = xstrdup(colon + 1);
		return 0;
	}
	if (colon && strncmp(s, "file:", 5) == 0) {
		r = parse_abs_path(x, key, "secret file", colon + 1, strlen(colon + 1), &ret->arg);
		if (r < 0)
			return r;
		ret->from = SECRET_FROM_FILE;
		return 0;
	}
	if (colon && strncmp(s, "command:", 8) == 0) {
		size_t n = strlen(colon + 1);

		if (n == 0 || n > 4096 || strspn(colon + 1, " \t") == n)
			return ctx_error(x, key,
					 "%s: the command is empty or longer than 4096 bytes", q);
		ret->from = SECRET_FROM_COMMAND;
		ret->arg = xstrdup(colon + 1);
		return 0;
	}
	return ctx_error(x, key,
			 "invalid secret source %s (expected \"env:VAR\", \"file:PATH\", "
			 "\"command:CMD\" or \"store\")",
			 q);
}

static bool header_name_is_valid(const char *s)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";
	size_t n = strlen(s);

	if (n == 0 || n > 256)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr(tchar, c)))
			return false;
	}
	return true;
}

static int key_secret_headers(struct ctx *x, const char *key, struct json_object *o,
			      struct config_secret *sec)
{
	int r = expect_type(x, key, o, json_type_array, "an array of header names");

	if (r < 0)
		return r;
	if (json_object_array_length(o) == 0)
		return ctx_error(x, key,
				 "an empty list would allow no header; leave \"headers\" out to "
				 "allow any");
	for (size_t i = 0; i < json_object_array_length(o); i++) {
		_cleanup_free_ char *k = xasprintf("%s[%zu]", key, i), *lower = NULL;
		const char *h;

		r = json_str(x, k, json_object_array_get_idx(o, i), &h);
		if (r < 0)
			return r;
		if (!header_name_is_valid(h)) {
			_cleanup_free_ char *q = quote(h, strlen(h));

			return ctx_error(x, k, "invalid header name %s", q);
		}
		lower = xstrdup(h);
		for (char *c = lower; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		if (!strv_contains(sec->headers, lower))
			strv_extend(&sec->headers, lower);
	}
	return 0;
}

/*
 * One "NAME": {...}. A trusted file needs "from" and "hosts"; a project may only give "hosts"
 * (the narrowing is checked against the user's secret in project_check()).
 */
static int key_secret_object(struct ctx *x, const char *key, const char *name,
			     struct json_object *o, struct config_secret *sec)
{
	int r;

	*sec = (struct config_secret){ .name = xstrdup(name),
				       .from = _SECRET_FROM_INVALID,
				       .timeout_ms = CONFIG_SECRET_TIMEOUT_MS_DEFAULT };
	json_object_object_foreach(o, k, val)
	{
		_cleanup_free_ char *kk = xasprintf("%s.%s", key, k);
		const char *v;

		if (x->project && !streq(k, "hosts"))
			return ctx_error(x, kk,
					 "a project config may only remove a secret (null) or "
					 "narrow its \"hosts\"");
		if (streq(k, "from")) {
			r = json_str(x, kk, val, &v);
			if (r < 0)
				return r;
			r = parse_secret_from(x, kk, v, sec);
		} else if (streq(k, "hosts")) {
			r = key_rules(x, kk, val, &sec->hosts, &sec->n_hosts);
			if (r >= 0 && sec->n_hosts == 0)
				r = ctx_error(x, kk,
					      "a secret needs at least one host: it can only be "
					      "injected in requests to its hosts");
		} else if (streq(k, "env")) {
			r = json_str(x, kk, val, &v);
			if (r < 0)
				return r;
			if (!env_name_is_valid(v, strlen(v))) {
				_cleanup_free_ char *q = quote(v, strlen(v));

				return ctx_error(x, kk,
						 "invalid environment variable name %s (expected "
						 "[A-Za-z_][A-Za-z0-9_]*)",
						 q);
			}
			free(sec->env);
			sec->env = xstrdup(v);
		} else if (streq(k, "headers")) {
			r = key_secret_headers(x, kk, val, sec);
		} else if (streq(k, "timeout")) {
			r = expect_type(x, kk, val, json_type_int, "an integer number of seconds");
			if (r >= 0 && (json_object_get_int64(val) < 1 ||
				       json_object_get_int64(val) > CONFIG_SECRET_TIMEOUT_S_MAX))
				r = ctx_error(x, kk, "expected 1 to %u seconds",
					      CONFIG_SECRET_TIMEOUT_S_MAX);
			if (r >= 0)
				sec->timeout_ms = (unsigned)json_object_get_int64(val) * 1000u;
		} else {
			_cleanup_free_ char *q = quote(k, strlen(k));

			return ctx_error(x, key,
					 "unknown key %s (expected from, hosts, env, headers, "
					 "timeout)",
					 q);
		}
		if (r < 0)
			return r;
	}
	if (x->project) {
		if (!sec->hosts)
			return ctx_error(x, key,
					 "a project config may only remove a secret (null) or "
					 "narrow its \"hosts\"");
		return 0;
	}
	if (sec->from < 0)
		return ctx_error(x, key,
				 "a secret needs \"from\": \"env:VAR\", \"file:PATH\", "
				 "\"command:CMD\" or \"store\"");
	if (!sec->hosts)
		return ctx_error(x, key,
				 "a secret needs \"hosts\": the hosts its value may be sent to");
	if (!sec->env)
		sec->env = xstrdup(name);
	return 0;
}

static int key_secrets(struct ctx *x, struct layer *l, const char *key, struct json_object *o)
{
	int r = expect_type(x, key, o, json_type_object, "an object NAME -> {from, hosts, ...}");

	if (r < 0)
		return r;
	json_object_object_foreach(o, name, val)
	{
		_cleanup_free_ char *k = xasprintf("%s.%s", key, name);
		struct config_secret sec;

		if (!config_secret_name_is_valid(name)) {
			_cleanup_free_ char *q = quote(name, strlen(name));

			return ctx_error(x, key,
					 "invalid secret name %s (expected a letter, then "
					 "letters, digits or '_', at most %d bytes)",
					 q, CONFIG_SECRET_NAME_MAX);
		}
		if (!val) {
			strv_extend(&l->secrets_null, name);
			continue;
		}
		r = expect_type(x, k, val, json_type_object,
				"an object {from, hosts, ...} or null (to remove it)");
		if (r < 0)
			return r;
		r = key_secret_object(x, k, name, val, &sec);
		if (r < 0) {
			secret_done(&sec);
			return r;
		}
		l->v.secrets = xreallocarray(l->v.secrets, l->v.n_secrets + 1, sizeof(sec));
		l->v.secrets[l->v.n_secrets++] = sec;
	}
	return 0;
}

/*
 * Two secrets must not put their placeholders in one variable. @c's secrets that @l replaces
 * or removes do not count.
 */
static int secrets_check_trusted(struct ctx *x, const struct paddock_config *c,
				 const struct layer *l)
{
	for (size_t i = 0; i < l->v.n_secrets; i++) {
		const struct config_secret *s = &l->v.secrets[i];

		for (size_t j = 0; j < l->v.n_secrets; j++)
			if (j != i && streq(l->v.secrets[j].env, s->env))
				return ctx_error(x, "secrets",
						 "secrets '%s' and '%s' both use the variable %s",
						 l->v.secrets[j].name, s->name, s->env);
		for (size_t j = 0; j < c->n_secrets; j++) {
			const struct config_secret *e = &c->secrets[j];

			if (secret_index(l->v.secrets, l->v.n_secrets, e->name) >= 0 ||
			    strv_contains(l->secrets_null, e->name))
				continue;
			if (streq(e->env, s->env))
				return ctx_error(x, "secrets",
						 "secrets '%s' and '%s' both use the variable %s",
						 e->name, s->name, s->env);
		}
	}
	return 0;
}

/* The user's hosts of @user narrowed by the project's @proj: the pairwise intersections. */
static void secret_hosts_intersect(const struct config_secret *user,
				   const struct config_secret *proj, struct host_rule **ret,
				   size_t *ret_n)
{
	*ret = NULL;
	*ret_n = 0;
	for (size_t i = 0; i < user->n_hosts; i++)
		for (size_t j = 0; j < proj->n_hosts; j++) {
			struct host_rule h;

			if (host_rule_intersect(&user->hosts[i], &proj->hosts[j], &h))
				rules_add(ret, ret_n, &h);
		}
}

static void secret_remove(struct paddock_config *c, const char *name)
{
	ssize_t i = secret_index(c->secrets, c->n_secrets, name);

	if (i < 0)
		return;
	secret_done(&c->secrets[i]);
	memmove(&c->secrets[i], &c->secrets[i + 1],
		(c->n_secrets - (size_t)i - 1) * sizeof(*c->secrets));
	c->n_secrets--;
}

/*
 * struct key_def - one top-level key
 * @bit: its KEY_* bit, or 0 for a key of the spec that this version does not implement
 * @project: a project config may set it (it can only narrow)
 * @project_why: the message when a project sets it anyway, if more specific than the default
 */
struct key_def {
	const char *name;
	unsigned bit;
	bool project;
	int (*parse)(struct ctx *x, struct layer *l, const char *key, struct json_object *o);
	const char *project_why;
};

static const struct key_def keys[] = {
	{ "image", KEY_IMAGE, false, key_image },
	{ "net", KEY_NET, true, key_net },
	{ "allow", KEY_ALLOW, true, key_allow },
	{ "deny", KEY_DENY, true, key_deny },
	{ "env", KEY_ENV, false, key_env },
	{ "volumes", KEY_VOLUMES, false, key_volumes },
	{ "memory", KEY_MEMORY, true, key_memory },
	{ "pids", KEY_PIDS, true, key_pids },
	{ "cpus", KEY_CPUS, true, key_cpus },
	{ "hostname", KEY_HOSTNAME, false, key_hostname },
	{ "protect", KEY_PROTECT, true, key_protect },
	{ "secrets", KEY_SECRETS, true, key_secrets },
	{ "publish", KEY_PUBLISH, false, key_publish,
	  "cannot be set by a project config: a published port listens on the host (and on the "
	  "network with an IP); use -p or your own config" },
	{ "profiles", KEY_PROFILES, false, key_profiles,
	  "cannot be set by a project config: a profile adds hosts and exposes secrets; define "
	  "it in your own config" },
	/* only tells `paddock status` what "thinking" is: a project may name its model's API */
	{ "llm_hosts", KEY_LLM_HOSTS, true, key_llm_hosts },
	/* terminating TLS for more hosts only adds checks: a project may ask for it */
	{ "inspect", KEY_INSPECT, true, key_inspect },
	{ "splice", KEY_SPLICE, false, key_splice,
	  "cannot be set by a project config: splicing a host hides its traffic from the proxy "
	  "(secret leak checks, inspection); list it in your own config" },
	{ "ssh_agent", KEY_SSH_AGENT, false, key_ssh_agent,
	  "cannot be set by a project config: it decides which of your keys sign and who "
	  "confirms; set it in your own config" },
	{ "audit", KEY_AUDIT, false, key_audit,
	  "cannot be set by a project config: the audit records what the agent runs; set it in "
	  "your own config" },
	{ "tls", KEY_TLS, false, key_tls,
	  "cannot be set by a project config: tls.upstream_ca would add a CA that the proxy "
	  "trusts for real servers; list it in your own config" },
};

static const struct key_def *key_find(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (streq(keys[i].name, name))
			return &keys[i];
	return NULL;
}

#define PROJECT_REFUSED                                                                            \
	"cannot be set by a project config (.paddock.json may only narrow the policy)"

static int layer_parse_object(struct ctx *x, struct layer *l, struct json_object *root)
{
	int r;

	json_object_object_foreach(root, name, val)
	{
		const struct key_def *k = key_find(name);
		_cleanup_free_ char *q = quote(name, strlen(name));

		if (!k)
			return ctx_error(x, NULL,
					 x->project ? "key %s: unknown key: " PROJECT_REFUSED
						    : "key %s: unknown key",
					 q);
		if (x->project && !k->project)
			return ctx_error(x, k->name, "%s",
					 k->project_why ? k->project_why : PROJECT_REFUSED);
		if (!k->bit)
			return ctx_error(x, k->name,
					 "%s is not supported by this version of paddock "
					 "yet",
					 k->name);
		r = k->parse(x, l, k->name, val);
		if (r < 0)
			return r;
		l->set |= k->bit;
	}
	return 0;
}

/* ---- merging ------------------------------------------------------------------------------- */

/* A trusted layer: scalars replace, arrays append. Takes what it needs from @l. */
static void merge_trusted(struct paddock_config *c, struct layer *l)
{
	if (l->set & KEY_IMAGE) {
		free(c->image);
		c->image = TAKE_PTR(l->v.image);
	}
	if (l->set & KEY_NET)
		c->net = l->v.net;
	for (size_t i = 0; i < l->v.n_allow; i++)
		rules_add(&c->allow, &c->n_allow, &l->v.allow[i]);
	for (size_t i = 0; i < l->v.n_deny; i++)
		rules_add(&c->deny, &c->n_deny, &l->v.deny[i]);
	for (size_t i = 0; i < l->v.n_env; i++) {
		env_set(c, l->v.env[i].name, l->v.env[i].value);
		l->v.env[i] = (struct config_env){};
	}
	for (size_t i = 0; i < l->v.n_volumes; i++) {
		volume_add(c, l->v.volumes[i].src, l->v.volumes[i].dst, l->v.volumes[i].ro);
		l->v.volumes[i] = (struct config_volume){};
	}
	if (l->set & KEY_MEMORY)
		c->memory = l->v.memory;
	if (l->set & KEY_PIDS)
		c->pids = l->v.pids;
	if (l->set & KEY_CPUS)
		c->cpus = l->v.cpus;
	if (l->set & KEY_HOSTNAME) {
		free(c->hostname);
		c->hostname = TAKE_PTR(l->v.hostname);
	}
	STRV_FOREACH (p, l->v.protect)
		protect_add(&c->protect, *p);
	STRV_FOREACH (p, l->v.publish)
		if (!strv_contains(c->publish, *p))
			strv_extend(&c->publish, *p);
	for (size_t i = 0; i < l->v.n_inspect; i++)
		rules_add(&c->inspect, &c->n_inspect, &l->v.inspect[i]);
	for (size_t i = 0; i < l->v.n_splice; i++)
		rules_add(&c->splice, &c->n_splice, &l->v.splice[i]);
	STRV_FOREACH (p, l->v.tls_upstream_ca)
		protect_add(&c->tls_upstream_ca, *p);
	for (size_t i = 0; i < l->v.n_llm_hosts; i++)
		rules_add(&c->llm_hosts, &c->n_llm_hosts, &l->v.llm_hosts[i]);
	for (size_t i = 0; i < l->v.n_profiles; i++) {
		struct config_profile *pr = &l->v.profiles[i];
		size_t j;

		for (j = 0; j < c->n_profiles; j++)
			if (streq(c->profiles[j].name, pr->name))
				break;
		if (j < c->n_profiles)
			config_profile_done(&c->profiles[j]); /* a later file replaces it */
		else
			c->profiles =
				xreallocarray(c->profiles, ++c->n_profiles, sizeof(*c->profiles));
		c->profiles[j] = *pr;
		*pr = (struct config_profile){};
	}
	if (l->v.ssh_confirm) {
		strv_free(c->ssh_confirm);
		c->ssh_confirm = TAKE_PTR(l->v.ssh_confirm);
	}
	if (l->v.ssh_keys) {
		strv_free(c->ssh_keys);
		c->ssh_keys = TAKE_PTR(l->v.ssh_keys);
	}
	if (l->v.ssh_confirm_timeout)
		c->ssh_confirm_timeout = l->v.ssh_confirm_timeout;
	if (l->audit_exec_given)
		c->exec_audit = l->audit_exec;
	STRV_FOREACH (p, l->secrets_null)
		secret_remove(c, *p);
	for (size_t i = 0; i < l->v.n_secrets; i++) {
		struct config_secret *s = &l->v.secrets[i];
		ssize_t j = secret_index(c->secrets, c->n_secrets, s->name);

		if (j >= 0) {
			secret_done(&c->secrets[j]);
			c->secrets[j] = *s;
		} else {
			c->secrets =
				xreallocarray(c->secrets, c->n_secrets + 1, sizeof(*c->secrets));
			c->secrets[c->n_secrets++] = *s;
		}
		*s = (struct config_secret){};
	}
}

static char *size_to_string(uint64_t v)
{
	static const char sfx[] = "KMGT";

	for (int i = 3; i >= 0; i--) {
		uint64_t m = UINT64_C(1) << (10 * (i + 1));

		if (v >= m && v % m == 0)
			return xasprintf("%" PRIu64 "%c", v / m, sfx[i]);
	}
	return xasprintf("%" PRIu64, v);
}

/* Every check of a project layer, before anything is changed. */
static int project_check(struct ctx *x, const struct paddock_config *c, const struct layer *l)
{
	if ((l->set & KEY_NET) && l->v.net > c->net)
		return ctx_error(x, "net", "project config cannot widen net from %s to %s",
				 config_net_to_string(c->net), config_net_to_string(l->v.net));
	if ((l->set & KEY_MEMORY) && c->memory && l->v.memory > c->memory) {
		_cleanup_free_ char *a = size_to_string(c->memory),
				    *b = size_to_string(l->v.memory);

		return ctx_error(x, "memory", "project config cannot raise memory from %s to %s", a,
				 b);
	}
	if ((l->set & KEY_PIDS) && c->pids && l->v.pids > c->pids)
		return ctx_error(x, "pids",
				 "project config cannot raise pids from %" PRIu64 " to %" PRIu64,
				 c->pids, l->v.pids);
	if ((l->set & KEY_CPUS) && c->cpus > 0 && l->v.cpus > c->cpus)
		return ctx_error(x, "cpus", "project config cannot raise cpus from %g to %g",
				 c->cpus, l->v.cpus);
	for (size_t i = 0; i < l->v.n_secrets; i++) {
		const struct config_secret *p = &l->v.secrets[i], *u;
		_cleanup_free_ char *k = xasprintf("secrets.%s", p->name);
		struct host_rule *h = NULL;
		size_t n = 0;

		u = config_secret_find(c, p->name);
		if (!u)
			return ctx_error(x, k,
					 "project config cannot add a secret (only the user's "
					 "config defines secrets; a project may remove one with "
					 "null or narrow its hosts)");
		secret_hosts_intersect(u, p, &h, &n);
		for (size_t j = 0; j < n; j++)
			host_rule_done(&h[j]);
		free(h);
		if (n == 0)
			return ctx_error(x, k,
					 "project config narrows the secret's hosts to nothing "
					 "(none of its hosts is within the user's); remove the "
					 "secret with null instead");
	}
	return 0;
}

/*
 * The project's "allow" list: the set of allowed connections becomes the intersection of what
 * the user allowed and what the project lists, and the mode becomes allowlist.
 * - user mode none: nothing is allowed anyway; the list is ignored.
 * - user mode allowlist: the pairwise intersections of the user's rules and the project's.
 * - user mode public: the user allowed every public host, plus the addresses of the user's own
 *   allow rules. So the result is each project rule, marked project_only (it allows public
 *   addresses only), plus its intersections with the user's rules (which keep their power).
 */
static void project_narrow_allow(struct paddock_config *c, struct layer *l)
{
	struct host_rule *out = NULL;
	size_t n_out = 0;

	/* c->net is still the mode before the project (merge_project() lowers it after) */
	if (c->net == CONFIG_NET_NONE)
		return;
	for (size_t j = 0; j < l->v.n_allow; j++) {
		for (size_t i = 0; i < c->n_allow; i++) {
			struct host_rule h;

			if (!host_rule_intersect(&c->allow[i], &l->v.allow[j], &h))
				continue;
			h.project_only = c->allow[i].project_only;
			rules_add(&out, &n_out, &h);
		}
		if (c->net == CONFIG_NET_PUBLIC) {
			struct host_rule h = l->v.allow[j];

			h.host = xstrdup(h.host);
			h.project_only = true;
			rules_add(&out, &n_out, &h);
		}
	}
	for (size_t i = 0; i < c->n_allow; i++)
		host_rule_done(&c->allow[i]);
	free(c->allow);
	c->allow = out;
	c->n_allow = n_out;
	c->net = CONFIG_NET_ALLOWLIST;
}

static void merge_project(struct paddock_config *c, struct layer *l)
{
	/* the allow list first: what the project's hosts are intersected with depends on the
	 * user's mode, not on the one the project asks for */
	if (l->set & KEY_ALLOW)
		project_narrow_allow(c, l);
	if (l->set & KEY_NET)
		c->net = MIN(c->net, l->v.net); /* project_check() made sure it is not wider */
	for (size_t i = 0; i < l->v.n_deny; i++)
		rules_add(&c->deny, &c->n_deny, &l->v.deny[i]);
	if (l->set & KEY_MEMORY)
		c->memory = l->v.memory;
	if (l->set & KEY_PIDS)
		c->pids = l->v.pids;
	if (l->set & KEY_CPUS)
		c->cpus = l->v.cpus;
	STRV_FOREACH (p, l->v.protect)
		protect_add(&c->protect, *p);
	for (size_t i = 0; i < l->v.n_inspect; i++)
		rules_add(&c->inspect, &c->n_inspect, &l->v.inspect[i]);
	for (size_t i = 0; i < l->v.n_llm_hosts; i++)
		rules_add(&c->llm_hosts, &c->n_llm_hosts, &l->v.llm_hosts[i]);
	STRV_FOREACH (p, l->secrets_null) {
		secret_remove(c, *p);
		if (!strv_contains(c->secrets_removed, *p))
			strv_extend(&c->secrets_removed, *p);
	}
	for (size_t i = 0; i < l->v.n_secrets; i++) {
		struct config_secret *u =
			(struct config_secret *)config_secret_find(c, l->v.secrets[i].name);
		struct host_rule *h = NULL;
		size_t n = 0;

		if (!u) /* removed by the same file: stays removed */
			continue;
		secret_hosts_intersect(u, &l->v.secrets[i], &h, &n);
		for (size_t j = 0; j < u->n_hosts; j++)
			host_rule_done(&u->hosts[j]);
		free(u->hosts);
		u->hosts = h;
		u->n_hosts = n;
	}
}

/* ---- entry points -------------------------------------------------------------------------- */

int config_load_buffer(struct paddock_config *c, const char *name, const char *buf, size_t len,
		       bool project, char **reterr)
{
	_cleanup_json_ struct json_object *root = NULL;
	_cleanup_(layer_done) struct layer l = {};
	struct ctx x = { .source = name, .project = project, .reterr = reterr };
	_cleanup_free_ char *why = NULL;
	int r;

	r = json_parse_strict(buf, len, CONFIG_MAX_FILE_SIZE, &root, &why);
	if (r < 0)
		return ctx_error(&x, NULL, "%s", why);
	r = layer_parse_object(&x, &l, root);
	if (r < 0)
		return r;
	if (project) {
		r = project_check(&x, c, &l);
		if (r < 0)
			return r;
		merge_project(c, &l);
		free(c->project_file);
		c->project_file = xstrdup(name);
	} else {
		r = secrets_check_trusted(&x, c, &l);
		if (r < 0)
			return r;
		merge_trusted(c, &l);
	}
	strv_extend(&c->sources, name);
	return 0;
}

/* Read a config file from an open fd: a regular file of at most CONFIG_MAX_FILE_SIZE bytes. */
static int read_config_fd(struct ctx *x, int fd, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	ssize_t k;

	if (fstat(fd, &st) < 0) {
		int r = -errno;

		(void)ctx_error(x, NULL, "cannot stat: %s", strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode))
		return ctx_error(x, NULL, "not a regular file");
	if (st.st_size > CONFIG_MAX_FILE_SIZE) {
		(void)ctx_error(x, NULL, "file is larger than %d bytes", CONFIG_MAX_FILE_SIZE);
		return -EFBIG;
	}
	buf = xmalloc(CONFIG_MAX_FILE_SIZE + 2);
	k = loop_read(fd, buf, CONFIG_MAX_FILE_SIZE + 1);
	if (k < 0) {
		(void)ctx_error(x, NULL, "cannot read: %s", strerror((int)-k));
		return (int)k;
	}
	if (k > CONFIG_MAX_FILE_SIZE) {
		(void)ctx_error(x, NULL, "file is larger than %d bytes", CONFIG_MAX_FILE_SIZE);
		return -EFBIG;
	}
	buf[k] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = (size_t)k;
	return 0;
}

static int load_fd(struct paddock_config *c, struct ctx *x, int fd)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	r = read_config_fd(x, fd, &buf, &len);
	if (r < 0)
		return r;
	return config_load_buffer(c, x->source, buf, len, x->project, x->reterr);
}

int config_load_file(struct paddock_config *c, const char *path, bool must_exist, char **reterr)
{
	_cleanup_close_ int fd = -EBADF;
	struct ctx x = { .source = path, .reterr = reterr };
	int r;

	/* O_NONBLOCK: a FIFO must not hang us; it is refused as not a regular file. Symlinks are
	 * followed: this is the user's own file, often linked from a dotfiles repository. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT && !must_exist)
			return 0;
		(void)ctx_error(&x, NULL, "cannot open: %s", strerror(-r));
		return r;
	}
	r = load_fd(c, &x, fd);
	return r < 0 ? r : 1;
}

static int load_files(struct paddock_config *c, const char *system_file, const char *user_file,
		      bool user_must_exist, char **reterr)
{
	int r;

	r = config_load_file(c, system_file, false, reterr);
	if (r < 0)
		return r;
	if (!user_file || (!user_must_exist && streq(user_file, system_file)))
		return 0;
	r = config_load_file(c, user_file, user_must_exist, reterr);
	return r < 0 ? r : 0;
}

int config_load_files(struct paddock_config *c, const char *config_file, char **reterr)
{
	_cleanup_free_ char *dir = NULL, *user = NULL;
	int r;

	if (!config_file) {
		r = paths_config_dir(&dir);
		if (r < 0) {
			struct ctx x = { .source = "paddock", .reterr = reterr };

			(void)ctx_error(&x, NULL,
					"cannot determine the configuration directory: %s",
					strerror(-r));
			return r;
		}
		user = path_join(dir, "config.json");
	}
	return load_files(c, PATHS_SYSTEM_CONFIG_DIR "/config.json",
			  config_file ? config_file : user, config_file != NULL, reterr);
}

int config_load_project(struct paddock_config *c, int workspace_fd, const char *workspace,
			char **reterr)
{
	_cleanup_free_ char *name = path_join(workspace, PROJECT_FILE);
	_cleanup_close_ int fd = -EBADF;
	struct ctx x = { .source = name, .project = true, .reterr = reterr };
	int r;

	fd = openat(workspace_fd, PROJECT_FILE,
		    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT)
			return 0;
		if (r == -ELOOP)
			(void)ctx_error(&x, NULL,
					"is a symlink; a project config must be a regular "
					"file in the workspace");
		else
			(void)ctx_error(&x, NULL, "cannot open: %s", strerror(-r));
		return r;
	}
	/*
	 * An empty regular file says nothing, so it narrows nothing: it is also what a missing
	 * .paddock.json looks like while another sandbox protects the workspace (its
	 * placeholder, see protect.c).
	 */
	{
		struct stat st;

		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
			return 0;
	}
	r = load_fd(c, &x, fd);
	return r < 0 ? r : 1;
}

/* ---- command-line options ------------------------------------------------------------------ */

struct flag_def {
	const char *name;
	const char *alias;
	unsigned bit;
};

static const struct flag_def flags[] = {
	{ "--image", NULL, KEY_IMAGE },     { "--net", NULL, KEY_NET },
	{ "--allow", NULL, KEY_ALLOW },     { "--deny", NULL, KEY_DENY },
	{ "--env", "-e", KEY_ENV },         { "--volume", "-v", KEY_VOLUMES },
	{ "--memory", NULL, KEY_MEMORY },   { "--pids", NULL, KEY_PIDS },
	{ "--cpus", NULL, KEY_CPUS },       { "--hostname", NULL, KEY_HOSTNAME },
	{ "--protect", NULL, KEY_PROTECT },
};

static int layer_parse_flag(struct ctx *x, struct layer *l, unsigned bit, const char *v)
{
	struct host_rule h;
	char *a = NULL, *b = NULL;
	bool ro = false;
	int r;

	switch (bit) {
	case KEY_IMAGE:
		return parse_image(x, NULL, v, &l->v.image);
	case KEY_NET:
		return parse_net(x, NULL, v, &l->v.net);
	case KEY_ALLOW:
	case KEY_DENY:
		r = parse_host_rule(x, NULL, v, strlen(v), &h);
		if (r < 0)
			return r;
		if (bit == KEY_ALLOW)
			rules_add(&l->v.allow, &l->v.n_allow, &h);
		else
			rules_add(&l->v.deny, &l->v.n_deny, &h);
		return 0;
	case KEY_ENV:
		r = parse_env_entry(x, NULL, v, &a, &b);
		if (r < 0)
			return r;
		env_set(&l->v, a, b);
		return 0;
	case KEY_VOLUMES:
		r = parse_volume_string(x, NULL, v, &a, &b, &ro);
		if (r < 0)
			return r;
		volume_add(&l->v, a, b, ro);
		return 0;
	case KEY_MEMORY:
		return parse_size(x, NULL, v, &l->v.memory);
	case KEY_PIDS:
		return parse_pids(x, NULL, v, &l->v.pids);
	case KEY_CPUS:
		return parse_cpus(x, NULL, v, &l->v.cpus);
	case KEY_HOSTNAME:
		return parse_hostname(x, NULL, v, &l->v.hostname);
	case KEY_PROTECT:
		r = parse_protect(x, NULL, v, &a);
		if (r < 0)
			return r;
		protect_add(&l->v.protect, a);
		free(a);
		return 0;
	default:
		return -EINVAL;
	}
}

int config_set_option(struct paddock_config *c, const char *flag, const char *value, char **reterr)
{
	_cleanup_(layer_done) struct layer l = {};
	struct ctx x = { .source = flag, .flag = true, .reterr = reterr };
	int r;

	for (size_t i = 0; i < ELEMENTSOF(flags); i++) {
		if (!streq(flag, flags[i].name) && !streq_ptr(flag, flags[i].alias))
			continue;
		r = layer_parse_flag(&x, &l, flags[i].bit, value);
		if (r < 0)
			return r;
		l.set = flags[i].bit;
		merge_trusted(c, &l);
		return 0;
	}
	return ctx_error(&x, NULL, "not a configuration option");
}

/* ---- printing ------------------------------------------------------------------------------ */

static struct json_object *rules_to_json(const struct host_rule *rules, size_t n, int which)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *t = NULL;

		if (which >= 0 && rules[i].project_only != (which > 0))
			continue;
		t = host_rule_format(&rules[i]);
		(void)json_object_array_add(a, json_object_new_string(t));
	}
	return a;
}

static struct json_object *strv_to_json(char **l)
{
	struct json_object *a = json_object_new_array();

	STRV_FOREACH (s, l)
		(void)json_object_array_add(a, json_object_new_string(*s));
	return a;
}

/* Secrets as configured: where the value comes from, never the value */
static struct json_object *secrets_to_json(const struct paddock_config *c)
{
	struct json_object *o = json_object_new_object();

	for (size_t i = 0; i < c->n_secrets; i++) {
		const struct config_secret *s = &c->secrets[i];
		struct json_object *e = json_object_new_object();
		_cleanup_free_ char *from =
			s->arg ? xasprintf("%s:%s", secret_from_to_string(s->from), s->arg)
			       : xstrdup(secret_from_to_string(s->from));

		(void)json_object_object_add(e, "from", json_object_new_string(from));
		(void)json_object_object_add(e, "hosts", rules_to_json(s->hosts, s->n_hosts, -1));
		(void)json_object_object_add(e, "env", json_object_new_string(s->env));
		(void)json_object_object_add(e, "headers",
					     s->headers ? strv_to_json(s->headers) : NULL);
		(void)json_object_object_add(e, "timeout",
					     json_object_new_int((int)(s->timeout_ms / 1000)));
		(void)json_object_object_add(o, s->name, e);
	}
	return o;
}

char *config_to_json(const struct paddock_config *c)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	struct json_object *env = json_object_new_object(), *vols = json_object_new_array();
	struct json_object *pass = json_object_new_array();
	size_t n_project_only = 0;

	(void)json_object_object_add(o, "image", json_object_new_string(c->image));
	(void)json_object_object_add(o, "net",
				     json_object_new_string(config_net_to_string(c->net)));
	(void)json_object_object_add(o, "allow", rules_to_json(c->allow, c->n_allow, 0));
	for (size_t i = 0; i < c->n_allow; i++)
		n_project_only += c->allow[i].project_only;
	if (n_project_only)
		(void)json_object_object_add(o, "allow_public_only",
					     rules_to_json(c->allow, c->n_allow, 1));
	(void)json_object_object_add(o, "deny", rules_to_json(c->deny, c->n_deny, -1));
	for (size_t i = 0; i < c->n_env; i++) {
		if (c->env[i].value)
			(void)json_object_object_add(env, c->env[i].name,
						     json_object_new_string(c->env[i].value));
		else
			(void)json_object_array_add(pass, json_object_new_string(c->env[i].name));
	}
	(void)json_object_object_add(o, "env", env);
	(void)json_object_object_add(o, "env_pass", pass);
	for (size_t i = 0; i < c->n_volumes; i++) {
		struct json_object *v = json_object_new_object();

		(void)json_object_object_add(v, "src", json_object_new_string(c->volumes[i].src));
		(void)json_object_object_add(v, "dst", json_object_new_string(c->volumes[i].dst));
		(void)json_object_object_add(v, "ro", json_object_new_boolean(c->volumes[i].ro));
		(void)json_object_array_add(vols, v);
	}
	(void)json_object_object_add(o, "volumes", vols);
	(void)json_object_object_add(o, "memory", json_object_new_int64((int64_t)c->memory));
	(void)json_object_object_add(o, "pids", json_object_new_int64((int64_t)c->pids));
	(void)json_object_object_add(o, "cpus",
				     c->cpus > 0 ? json_object_new_double(c->cpus) : NULL);
	(void)json_object_object_add(o, "hostname",
				     c->hostname ? json_object_new_string(c->hostname) : NULL);
	(void)json_object_object_add(o, "protect", strv_to_json(c->protect));
	(void)json_object_object_add(o, "publish", strv_to_json(c->publish));
	(void)json_object_object_add(o, "inspect", rules_to_json(c->inspect, c->n_inspect, -1));
	(void)json_object_object_add(o, "splice", rules_to_json(c->splice, c->n_splice, -1));
	(void)json_object_object_add(o, "llm_hosts",
				     rules_to_json(c->llm_hosts, c->n_llm_hosts, -1));
	{
		struct json_object *tls = json_object_new_object();

		(void)json_object_object_add(tls, "upstream_ca", strv_to_json(c->tls_upstream_ca));
		(void)json_object_object_add(o, "tls", tls);
	}
	(void)json_object_object_add(o, "secrets", secrets_to_json(c));
	{
		struct json_object *sa = json_object_new_object();

		(void)json_object_object_add(sa, "confirm", strv_to_json(c->ssh_confirm));
		(void)json_object_object_add(sa, "keys", strv_to_json(c->ssh_keys));
		(void)json_object_object_add(
			sa, "timeout",
			c->ssh_confirm_timeout ? json_object_new_int((int)c->ssh_confirm_timeout)
					       : NULL);
		(void)json_object_object_add(o, "ssh_agent", sa);
	}
	{
		struct json_object *au = json_object_new_object();

		(void)json_object_object_add(au, "exec", json_object_new_boolean(c->exec_audit));
		(void)json_object_object_add(o, "audit", au);
	}
	(void)json_object_object_add(o, "sources", strv_to_json(c->sources));
	(void)json_object_object_add(
		o, "project", c->project_file ? json_object_new_string(c->project_file) : NULL);
	return xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_SPACED |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
}

int profile_apply(struct paddock_config *c, const struct config_profile *p, char **reterr)
{
	STRV_FOREACH (h, p->llm_hosts) {
		struct host_rule r;
		const char *why = NULL;

		if (host_rule_parse(*h, strlen(*h), &r, &why) < 0) {
			*reterr = xasprintf("llm_hosts: invalid host rule '%s': %s", *h,
					    strempty(why));
			return -EINVAL;
		}
		rules_add(&c->llm_hosts, &c->n_llm_hosts, &r);
	}
	/* in allowlist mode the agent reaches its model and what it needs; denies still win */
	for (int pass = 0; pass < 2; pass++)
		STRV_FOREACH (h, pass ? p->allow : p->llm_hosts) {
			int r = config_set_option(c, "--allow", *h, reterr);

			if (r < 0)
				return r;
		}
	return 0;
}
