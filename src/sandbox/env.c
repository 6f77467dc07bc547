/* SPDX-License-Identifier: MIT */
/*
 * env.c - the sandbox's environment, built from an allowlist
 *
 * DOC: Theory of Operation
 * A user's environment holds credentials (AWS_SECRET_ACCESS_KEY, GITHUB_TOKEN, SSH_AUTH_SOCK)
 * and settings that make programs load code (LD_PRELOAD, NODE_OPTIONS). So nothing is passed
 * by default except a short list of names that describe the terminal, the locale and the
 * user's preferred tools. -e NAME passes one more, -e NAME=VALUE sets one. A name on the deny
 * list is refused even with -e: what it does (load code into every program) is exactly what a
 * poisoned project config or a copied command line would want to smuggle in.
 */
#include <string.h>
#include <stdlib.h>

#include "common/macro.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "env.h"

/* name lists, filled to the line */
/* clang-format off */
static const char *const allowed[] = {
	"PATH", "LANG", "LANGUAGE", "TERM", "COLORTERM", "TZ", "EDITOR", "VISUAL", "PAGER",
	"NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "FORCE_COLOR", "COLUMNS", "LINES",
	"TERM_PROGRAM", "TERM_PROGRAM_VERSION", "LESS", "LESSCHARSET", "MANPAGER",
};

static const char *const denied[] = {
	"NODE_OPTIONS", "NODE_PATH", "PYTHONSTARTUP", "PYTHONPATH", "PYTHONHOME",
	"PYTHONINSPECT", "PYTHONUSERBASE", "BASH_ENV", "ENV", "PERL5OPT", "PERL5LIB",
	"PERLLIB", "PERL5DB", "RUBYOPT", "RUBYLIB", "GCONV_PATH", "GLIBC_TUNABLES",
	"HOSTALIASES", "LOCPATH", "NLSPATH", "MALLOC_CHECK_", "JAVA_TOOL_OPTIONS",
	"_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "PROMPT_COMMAND", "ZDOTDIR", "SHELLOPTS",
	"BASHOPTS", "PS4", "GIT_EXEC_PATH", "GIT_CONFIG_PARAMETERS", "GIT_SSH_COMMAND",
	"GIT_SSH", "GIT_ASKPASS", "SSH_ASKPASS", "LUA_INIT", "TCLLIBPATH", "DYLD_INSERT_LIBRARIES",
};
/* clang-format on */

static const char *const denied_prefixes[] = { "LD_", "BASH_FUNC_", "LUA_INIT_" };

bool env_name_is_valid(const char *name)
{
	if (!name ||
	    !((*name >= 'A' && *name <= 'Z') || (*name >= 'a' && *name <= 'z') || *name == '_'))
		return false;
	for (const char *p = name + 1; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return strlen(name) <= 256;
}

bool env_name_is_allowed(const char *name)
{
	if (strncmp(name, "LC_", 3) == 0 && env_name_is_valid(name))
		return true;
	for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
		if (streq(name, allowed[i]))
			return true;
	return false;
}

bool env_name_is_denied(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(denied); i++)
		if (streq(name, denied[i]))
			return true;
	for (size_t i = 0; i < ELEMENTSOF(denied_prefixes); i++)
		if (strncmp(name, denied_prefixes[i], strlen(denied_prefixes[i])) == 0)
			return true;
	return false;
}

/* env_set() - replace or append NAME=VALUE */
static void env_set(char ***env, const char *name, const char *value)
{
	size_t n = strlen(name);

	for (char **e = *env; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') {
			free(*e);
			*e = xasprintf("%s=%s", name, value);
			return;
		}
	strv_push(env, xasprintf("%s=%s", name, value));
}

static const char *env_get(char *const *env, const char *name)
{
	size_t n = strlen(name);

	STRV_FOREACH (e, env)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

int env_build(const struct env_input *in, char ***ret, const char **reterr_entry)
{
	_cleanup_strv_free_ char **env = NULL;

	STRV_FOREACH (e, in->host) {
		const char *eq = strchr(*e, '=');
		_cleanup_free_ char *name = NULL;

		if (!eq)
			continue;
		name = xstrndup(*e, (size_t)(eq - *e));
		if (env_name_is_allowed(name) && !env_name_is_denied(name))
			env_set(&env, name, eq + 1);
	}

	env_set(&env, "HOME", in->home);
	if (in->user) {
		env_set(&env, "USER", in->user);
		env_set(&env, "LOGNAME", in->user);
	}
	if (in->shell)
		env_set(&env, "SHELL", in->shell);
	if (in->hostname)
		env_set(&env, "HOSTNAME", in->hostname);
	if (!env_get(env, "PATH"))
		env_set(&env, "PATH",
			"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	if (in->tty && !env_get(env, "TERM"))
		env_set(&env, "TERM", "xterm-256color");
	if (in->proxy) {
		/*
		 * Capture is transparent; these are for tools that insist on a proxy, and they
		 * reach the same policy through the explicit proxy listener.
		 */
		static const char *const vars[] = { "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
						    "http_proxy", "https_proxy", "all_proxy" };

		for (size_t i = 0; i < ELEMENTSOF(vars); i++)
			env_set(&env, vars[i], "http://127.0.0.1:3128");
		env_set(&env, "NO_PROXY", "localhost,127.0.0.1,::1");
		env_set(&env, "no_proxy", "localhost,127.0.0.1,::1");
		env_set(&env, "NODE_USE_ENV_PROXY", "1");
	}
	env_set(&env, "container", "paddock");
	env_set(&env, "PADDOCK", "1");

	STRV_FOREACH (x, in->extra) {
		const char *eq = strchr(*x, '=');
		_cleanup_free_ char *name = eq ? xstrndup(*x, (size_t)(eq - *x)) : xstrdup(*x);

		if (!env_name_is_valid(name)) {
			*reterr_entry = *x;
			return -EINVAL;
		}
		if (env_name_is_denied(name)) {
			*reterr_entry = *x;
			return -EPERM;
		}
		if (eq)
			env_set(&env, name, eq + 1);
		else {
			const char *v = env_get(in->host, name);

			if (v)
				env_set(&env, name, v);
		}
	}
	*ret = TAKE_PTR(env);
	return 0;
}
