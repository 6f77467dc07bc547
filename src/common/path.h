/* SPDX-License-Identifier: MIT */
/*
 * path.h - lexical path handling (no filesystem access)
 */
#pragma once

#include <stdbool.h>

/*
 * path_normalize() - clean an absolute path lexically: collapse "//", drop "." and trailing
 * "/". Returns a new string, or NULL when @p is not absolute or contains "..": callers that
 * must not be confused by ".." refuse such paths instead of guessing.
 */
char *path_normalize(const char *p);

/*
 * path_startswith() - if @path equals @prefix or lies below it (component-wise, so "/a/proj"
 * is not below "/a/pro"), return the rest of @path after the prefix without leading '/'
 * ("" when equal); else NULL. Both must be normalized.
 */
const char *path_startswith(const char *path, const char *prefix);

/* path_is_below_or_equal() - path_startswith() != NULL */
bool path_is_below_or_equal(const char *path, const char *prefix);

/* path_join() - "a" + "/" + "b", with exactly one '/' between */
char *path_join(const char *a, const char *b);

/* path_is_safe_relative() - relative, no "..", no empty or "." components, no NUL-ish bytes */
bool path_is_safe_relative(const char *p);

/* path_dirname() - new string holding the parent of a normalized absolute path */
char *path_dirname(const char *p);
