/* SPDX-License-Identifier: MIT */
/*
 * plan.h - the mount plan of a sandbox on the host image
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "protect.h"
#include "spec.h"

struct plan_volume {
	char *src; /* resolved host path */
	char *dst; /* normalized path inside */
	bool ro;
};

struct plan_input {
	const char *workspace; /* resolved, normalized */
	const char *home;      /* normalized; the user's home on the host and inside */
	const char *home_src;  /* a persistent sandbox's own home directory, bound at @home;
				* NULL: an empty tmpfs */
	const char *path_env;  /* the host's PATH: its directories inside the home are bound ro */
	const struct plan_volume *volumes;
	size_t n_volumes;
	const struct protect_set *protect;
	char *const *private_dirs; /* paddock's own config, data and runtime directories */
	bool network;              /* capture on: resolv.conf points at paddock's resolver */
	bool image; /* the root is a golden image's clone (spec->image_*): no host system dirs */
	/* review mode (docs/design/review.md): the workspace's writable layer; NULL: bound rw */
	const char *review_upper, *review_work;
};

/* the home paths that never enter a sandbox, relative to the home */
extern const char *const plan_home_denied[];

/*
 * plan_check_workspace() - refuse a workspace that would expose what the sandbox must not
 * see: "/", the home or one of its ancestors, a credential directory, paddock's own state,
 * a system directory. Does not log; @reterr_why says why (static string).
 */
int plan_check_workspace(const struct plan_input *in, const char **reterr_why);

/* plan_check_volume() - the same for a -v volume; -EINVAL/-EPERM with @reterr_why */
int plan_check_volume(const struct plan_input *in, const struct plan_volume *v,
		      const char **reterr_why);

/* plan_build() - fill @spec's mount list and Landlock rw paths. Does not log. */
int plan_build(const struct plan_input *in, struct sandbox_spec *spec);
