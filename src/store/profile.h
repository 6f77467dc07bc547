/* SPDX-License-Identifier: MIT */
/*
 * profile.h - agent profiles: the built-in ones, and the config's (SPEC.md sections 2 and 5)
 */
#pragma once

#include "config.h"

/* the built-in profiles, in `paddock run --help` order */
extern const struct config_profile profile_builtins[];
extern const size_t profile_builtins_n;

/* profile_find() - the profile @name: the config's if it defines one, else a built-in; or NULL */
const struct config_profile *profile_find(const struct paddock_config *c, const char *name);

/*
 * profile_for_command() - the profile whose command's basename is @argv0's basename (the
 * config's first, then the built-ins'), or "shell"
 */
const struct config_profile *profile_for_command(const struct paddock_config *c, const char *argv0);

/* profile_names() - every profile's name, space-separated (for messages); a new string */
char *profile_names(const struct paddock_config *c);
