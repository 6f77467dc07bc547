/* SPDX-License-Identifier: MIT */
/*
 * path.c - lexical path handling
 *
 * DOC: Theory of Operation
 * These helpers never touch the filesystem. Policy decisions that depend on where a path
 * really points (symlinks) are taken on file descriptors with openat2(RESOLVE_*) elsewhere;
 * this file only makes the textual comparisons exact: component-wise prefixes, no "..".
 */
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "xmalloc.h"

char *path_normalize(const char *p)
{
	size_t n;
	char *r, *w;
	const char *s;

	if (!p || p[0] != '/')
		return NULL;
	n = strlen(p);
	r = xmalloc(n + 1);
	w = r;
	s = p;
	while (*s) {
		const char *e;
		size_t len;

		while (*s == '/')
			s++;
		if (!*s)
			break;
		e = strchrnul(s, '/');
		len = (size_t)(e - s);
		if (len == 1 && s[0] == '.') {
			s = e;
			continue;
		}
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			free(r);
			return NULL;
		}
		*w++ = '/';
		memcpy(w, s, len);
		w += len;
		s = e;
	}
	if (w == r)
		*w++ = '/';
	*w = '\0';
	return r;
}

const char *path_startswith(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (streq(prefix, "/"))
		return path[0] == '/' ? path + 1 : NULL;
	if (strncmp(path, prefix, n) != 0)
		return NULL;
	if (path[n] == '\0')
		return path + n;
	if (path[n] != '/')
		return NULL;
	return path + n + 1;
}

bool path_is_below_or_equal(const char *path, const char *prefix)
{
	return path_startswith(path, prefix) != NULL;
}

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	while (la > 0 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	return xasprintf("%.*s/%s", (int)la, a, b);
}

bool path_is_safe_relative(const char *p)
{
	const char *s = p;

	if (!p || !*p || *p == '/')
		return false;
	while (*s) {
		const char *e = strchrnul(s, '/');
		size_t len = (size_t)(e - s);

		if (len == 0 || (len == 1 && s[0] == '.') ||
		    (len == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		for (const char *c = s; c < e; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				return false;
		s = *e ? e + 1 : e;
	}
	return true;
}

char *path_dirname(const char *p)
{
	const char *slash = strrchr(p, '/');

	if (!slash || slash == p)
		return xstrdup("/");
	return xstrndup(p, (size_t)(slash - p));
}
