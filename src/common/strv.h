/* SPDX-License-Identifier: MIT */
/*
 * strv.h - NULL-terminated string vectors
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"

char **strv_free(char **l);
static inline void strv_freep(char ***l)
{
	strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
/* strv_push() - append, taking ownership of @s */
void strv_push(char ***l, char *s);
void strv_extend(char ***l, const char *s);
char **strv_copy(char *const *l);
bool strv_contains(char *const *l, const char *s);
/* strv_remove() - drop every element equal to @s; returns how many were dropped */
size_t strv_remove(char **l, const char *s);

/* NOLINTNEXTLINE(bugprone-macro-parentheses): @s is the name being declared */
#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)
