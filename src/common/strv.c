/* SPDX-License-Identifier: MIT */
/*
 * strv.c - NULL-terminated string vectors
 */
#include <stdlib.h>
#include <string.h>

#include "strv.h"
#include "xmalloc.h"

char **strv_free(char **l)
{
	if (!l)
		return NULL;
	for (char **s = l; *s; s++)
		free(*s);
	free(l);
	return NULL;
}

size_t strv_length(char *const *l)
{
	size_t n = 0;

	while (l && l[n])
		n++;
	return n;
}

void strv_push(char ***l, char *s)
{
	size_t n = strv_length(*l);

	*l = xreallocarray(*l, n + 2, sizeof(char *));
	(*l)[n] = s;
	(*l)[n + 1] = NULL;
}

void strv_extend(char ***l, const char *s)
{
	strv_push(l, xstrdup(s));
}

char **strv_copy(char *const *l)
{
	char **r = xcalloc(strv_length(l) + 1, sizeof(char *));
	size_t i = 0;

	STRV_FOREACH (s, l)
		r[i++] = xstrdup(*s);
	return r;
}

bool strv_contains(char *const *l, const char *s)
{
	STRV_FOREACH (i, l)
		if (strcmp(*i, s) == 0)
			return true;
	return false;
}

size_t strv_remove(char **l, const char *s)
{
	size_t i, j, n = 0;

	if (!l)
		return 0;
	for (i = 0, j = 0; l[i]; i++) {
		if (strcmp(l[i], s) == 0) {
			free(l[i]);
			n++;
		} else
			l[j++] = l[i];
	}
	l[j] = NULL;
	return n;
}
