/* SPDX-License-Identifier: MIT */
/*
 * protect.h - workspace paths the host later executes or trusts
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* the built-in list (SPEC.md section 3); a trailing '/' means "a directory" */
extern const char *const protect_default_paths[];

enum protect_action {
	PROTECT_READONLY,  /* exists: bound read-only over itself */
	PROTECT_MASK_DIR,  /* was missing: an empty read-only directory */
	PROTECT_MASK_FILE, /* was missing: an empty read-only file */
};

struct protect_item {
	char *rel; /* relative to the workspace, symlink-free */
	enum protect_action action;
	bool placeholder; /* paddock creates (and later removes) the empty mount point */
	bool adopted;     /* the placeholder of another live sandbox: exists, not created */
};

struct protect_set {
	struct protect_item *items;
	size_t n;
};

/*
 * protect_resolve() - resolve @patterns (relative paths; a '*' glob allowed in the last
 * component; trailing '/' = directory) inside the workspace open at @ws_fd (whose real path is
 * @ws_path), without following any symlink out of it. Adds core.hooksPath from .git/config.
 * Does not log; on failure @reterr_pattern names the pattern and @reterr_detail says why
 * (both newly allocated). Return: 0 or -errno (-EXDEV: a symlink leaves the workspace).
 */
int protect_resolve(int ws_fd, const char *ws_path, char *const *patterns, struct protect_set *ret,
		    char **reterr_pattern, char **reterr_detail);

/* protect_create_placeholders() - create the empty mount points; 0 or -errno (@reterr_rel) */
int protect_create_placeholders(int ws_fd, const struct protect_set *set, const char **reterr_rel);

/*
 * protect_remove_placeholder() - remove the placeholder at @rel if it is still an empty
 * directory (@dir) or an empty regular file; anything else is left alone. 0 or -errno.
 */
int protect_remove_placeholder(int ws_fd, const char *rel, bool dir);

void protect_set_free(struct protect_set *s);
