/* SPDX-License-Identifier: MIT */
/*
 * test-env.c - the sandbox environment is built from an allowlist
 */
#include "common/macro.h"
#include "common/strv.h"
#include "sandbox/env.h"
#include "tap.h"

static const char *get(char **env, const char *name)
{
	size_t n = strlen(name);

	STRV_FOREACH (e, env)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

static char *host[] = {
	"PATH=/usr/bin:/bin",
	"LANG=C.UTF-8",
	"LC_ALL=C",
	"TERM=screen",
	"HOME=/home/host",
	"AWS_SECRET_ACCESS_KEY=xyz",
	"GITHUB_TOKEN=ghp_x",
	"SSH_AUTH_SOCK=/run/user/1000/ssh",
	"LD_PRELOAD=/evil.so",
	"NODE_OPTIONS=--require /evil.js",
	"BASH_FUNC_x%%=() { evil; }",
	"MYVAR=host-value",
	"NOEQUALS",
	NULL,
};

TEST(allowlist_only)
{
	_cleanup_strv_free_ char **env = NULL;
	const char *bad = NULL;
	struct env_input in = { .host = host, .home = "/home/u", .user = "u", .tty = false };

	ASSERT_OK(env_build(&in, &env, &bad));
	ASSERT_STREQ(get(env, "PATH"), "/usr/bin:/bin");
	ASSERT_STREQ(get(env, "LANG"), "C.UTF-8");
	ASSERT_STREQ(get(env, "LC_ALL"), "C");
	ASSERT_STREQ(get(env, "TERM"), "screen");
	ASSERT_STREQ(get(env, "HOME"), "/home/u");
	ASSERT_STREQ(get(env, "USER"), "u");
	ASSERT_STREQ(get(env, "container"), "paddock");
	ASSERT_NULL(get(env, "AWS_SECRET_ACCESS_KEY"));
	ASSERT_NULL(get(env, "GITHUB_TOKEN"));
	ASSERT_NULL(get(env, "SSH_AUTH_SOCK"));
	ASSERT_NULL(get(env, "LD_PRELOAD"));
	ASSERT_NULL(get(env, "NODE_OPTIONS"));
	ASSERT_NULL(get(env, "MYVAR"));
	STRV_FOREACH (e, env)
		ASSERT_TRUE(strncmp(*e, "BASH_FUNC_", 10) != 0);
}

TEST(extra_pass_and_set)
{
	_cleanup_strv_free_ char **env = NULL;
	char *extra[] = { "MYVAR", "SET=direct", "UNSET_ON_HOST", "LANG=fr_FR.UTF-8", NULL };
	const char *bad = NULL;
	struct env_input in = { .host = host, .extra = extra, .home = "/h" };

	ASSERT_OK(env_build(&in, &env, &bad));
	ASSERT_STREQ(get(env, "MYVAR"), "host-value");
	ASSERT_STREQ(get(env, "SET"), "direct");
	ASSERT_NULL(get(env, "UNSET_ON_HOST"));
	ASSERT_STREQ(get(env, "LANG"), "fr_FR.UTF-8");
	/* no duplicate after an override */
	{
		int n = 0;

		STRV_FOREACH (e, env)
			n += strncmp(*e, "LANG=", 5) == 0;
		ASSERT_EQ(n, 1);
	}
}

TEST(denied_names_refused_even_explicitly)
{
	static const char *const names[] = {
		"LD_PRELOAD=/x",    "LD_LIBRARY_PATH",     "LD_AUDIT=x",      "NODE_OPTIONS=x",
		"PYTHONSTARTUP=x",  "BASH_ENV=x",          "PERL5OPT=x",      "RUBYOPT=x",
		"GLIBC_TUNABLES=x", "JAVA_TOOL_OPTIONS=x", "BASH_FUNC_f%%=x", "ENV=x"
	};

	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		_cleanup_strv_free_ char **env = NULL;
		char *extra[] = { (char *)names[i], NULL };
		const char *bad = NULL;
		struct env_input in = { .host = host, .extra = extra, .home = "/h" };
		int r = env_build(&in, &env, &bad);

		if (strchr(names[i], '%'))
			ASSERT_ERR(r, EINVAL); /* not even a valid name */
		else
			ASSERT_ERR(r, EPERM);
		ASSERT_STREQ(bad, names[i]);
	}
}

TEST(invalid_names)
{
	static const char *const names[] = { "1ABC=x", "A-B=x", "=x", "A B", "" };

	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		_cleanup_strv_free_ char **env = NULL;
		char *extra[] = { (char *)names[i], NULL };
		const char *bad = NULL;
		struct env_input in = { .host = host, .extra = extra, .home = "/h" };

		ASSERT_ERR(env_build(&in, &env, &bad), EINVAL);
	}
	ASSERT_TRUE(env_name_is_valid("_A1"));
	ASSERT_FALSE(env_name_is_valid("A\nB"));
}

TEST(defaults_when_missing)
{
	_cleanup_strv_free_ char **env = NULL;
	char *none[] = { NULL };
	const char *bad = NULL;
	struct env_input in = { .host = none, .home = "/h", .tty = true };

	ASSERT_OK(env_build(&in, &env, &bad));
	ASSERT_NOT_NULL(get(env, "PATH"));
	ASSERT_STREQ(get(env, "TERM"), "xterm-256color");
}

int main(void)
{
	return tap_run();
}
