/* SPDX-License-Identifier: MIT */
/*
 * env.h - the sandbox's environment, built from an allowlist
 */
#pragma once

#include <stdbool.h>

/* env_name_is_valid() - [A-Za-z_][A-Za-z0-9_]* */
bool env_name_is_valid(const char *name);

/* env_name_is_allowed() - passed from the host by default (PATH, LANG, LC_*, TERM, ...) */
bool env_name_is_allowed(const char *name);

/*
 * env_name_is_denied() - never enters a sandbox, not even with -e: it makes programs load
 * code or change how they run (LD_*, NODE_OPTIONS, PYTHONSTARTUP, BASH_ENV, PERL5OPT, ...)
 */
bool env_name_is_denied(const char *name);

struct env_input {
	char *const *host;  /* the host's environment (environ) */
	char *const *extra; /* -e / config entries: "NAME" (pass the host's) or "NAME=VALUE" */
	const char *home;
	const char *user;
	const char *shell;
	const char *hostname;
	bool tty;
	bool proxy; /* network capture on: point HTTP_PROXY and friends at paddock's proxy */
};

/*
 * env_build() - allowlisted host variables, then paddock's own (HOME, container=paddock,
 * a default PATH and TERM), then @extra in order. Does not log.
 * On failure @reterr_entry points at the offending @extra entry.
 * Return: 0 or -EINVAL (invalid name) / -EPERM (a denied name).
 */
int env_build(const struct env_input *in, char ***ret, const char **reterr_entry);
