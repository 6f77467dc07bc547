/* SPDX-License-Identifier: MIT */
/*
 * profile.c - agent profiles
 *
 * DOC: Theory of Operation
 * A profile says what one agent needs, so that `paddock run -- claude` works with nothing else
 * given: its model APIs (`llm_hosts`: "thinking" in `paddock status`, and allowed in allowlist
 * mode), the hosts it needs besides them in allowlist mode, the environment variables its keys
 * live in (a secret declared in the config with one of those `env` names is exposed by default),
 * and where it keeps its state in the home. The profile is chosen by --profile, else by the
 * basename of the command; a user's config may add profiles or replace a built-in one whole.
 * The lists below are the agents' documented defaults as of this version.
 */
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/xmalloc.h"
#include "profile.h"

#define L(...) ((char **)(const char *[]){ __VA_ARGS__, NULL })

const struct config_profile profile_builtins[] = {
	{
		.name = (char *)"claude",
		.command = L("claude"),
		.llm_hosts = L("api.anthropic.com"),
		.secrets =
			L("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"),
		.home = L(".claude", ".claude.json"),
		.allow = L("*.anthropic.com", "claude.ai", "*.claude.ai"),
	},
	{
		.name = (char *)"codex",
		.command = L("codex"),
		.llm_hosts = L("api.openai.com", "chatgpt.com"),
		.secrets = L("OPENAI_API_KEY", "CODEX_API_KEY"),
		.home = L(".codex"),
		.allow = L("*.openai.com", "chatgpt.com", "*.chatgpt.com"),
	},
	{
		.name = (char *)"pi",
		.command = L("pi"),
		.llm_hosts = L("api.anthropic.com", "api.openai.com",
			       "generativelanguage.googleapis.com", "openrouter.ai"),
		.secrets = L("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY",
			     "OPENROUTER_API_KEY"),
		.home = L(".pi"),
		.allow = L("api.anthropic.com", "api.openai.com",
			   "generativelanguage.googleapis.com", "openrouter.ai"),
	},
	{
		.name = (char *)"gemini",
		.command = L("gemini"),
		.llm_hosts = L("generativelanguage.googleapis.com", "cloudcode-pa.googleapis.com"),
		.secrets = L("GEMINI_API_KEY", "GOOGLE_API_KEY"),
		.home = L(".gemini"),
		.allow = L("*.googleapis.com", "accounts.google.com"),
	},
	{
		.name = (char *)"opencode",
		.command = L("opencode"),
		.llm_hosts = L("api.anthropic.com", "api.openai.com", "opencode.ai"),
		.secrets = L("ANTHROPIC_API_KEY", "OPENAI_API_KEY"),
		.home = L(".config/opencode", ".local/share/opencode", ".local/state/opencode"),
		.allow = L("opencode.ai", "*.opencode.ai", "models.dev"),
	},
	{
		.name = (char *)"aider",
		.command = L("aider"),
		.llm_hosts = L("api.openai.com", "api.anthropic.com"),
		.secrets = L("OPENAI_API_KEY", "ANTHROPIC_API_KEY"),
		.home = L(".aider"),
		.allow = L("api.openai.com", "api.anthropic.com"),
	},
	{
		.name = (char *)"shell", .command = NULL, /* the user's $SHELL */
	},
};
const size_t profile_builtins_n = ELEMENTSOF(profile_builtins);

const struct config_profile *profile_find(const struct paddock_config *c, const char *name)
{
	for (size_t i = 0; c && i < c->n_profiles; i++)
		if (streq(c->profiles[i].name, name))
			return &c->profiles[i];
	for (size_t i = 0; i < profile_builtins_n; i++)
		if (streq(profile_builtins[i].name, name))
			return &profile_builtins[i];
	return NULL;
}

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

const struct config_profile *profile_for_command(const struct paddock_config *c, const char *argv0)
{
	const char *b = argv0 ? base(argv0) : "";

	for (size_t i = 0; c && i < c->n_profiles; i++)
		if (c->profiles[i].command && streq(base(c->profiles[i].command[0]), b))
			return &c->profiles[i];
	for (size_t i = 0; i < profile_builtins_n; i++)
		if (profile_builtins[i].command && streq(base(profile_builtins[i].command[0]), b))
			return profile_find(c, profile_builtins[i].name);
	return profile_find(c, "shell");
}

char *profile_names(const struct paddock_config *c)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < profile_builtins_n; i++) {
		char *t = xasprintf("%s%s%s", s, *s ? " " : "", profile_builtins[i].name);

		free(s);
		s = t;
	}
	for (size_t i = 0; c && i < c->n_profiles; i++) {
		char *t;

		if (profile_find(NULL, c->profiles[i].name))
			continue; /* replaces a built-in: already listed */
		t = xasprintf("%s %s", s, c->profiles[i].name);
		free(s);
		s = t;
	}
	return s;
}
