/* SPDX-License-Identifier: MIT */
/*
 * macro.h - small helpers shared by every module
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#define ELEMENTSOF(x)  (sizeof(x) / sizeof((x)[0]))
#define _unused_       __attribute__((unused))
#define _noreturn_     __attribute__((noreturn))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _pure_         __attribute__((pure))
#define _likely_(x)    __builtin_expect(!!(x), 1)
#define _unlikely_(x)  __builtin_expect(!!(x), 0)

/* RET_NERRNO() - turn a libc-style "-1 and errno" return into -errno */
static inline int RET_NERRNO(int r)
{
	if (r < 0)
		return errno > 0 ? -errno : -EIO;
	return r;
}

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define STRLEN(s) (sizeof(s) - 1)

static inline bool streq_ptr(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

#define streq(a, b) (__builtin_strcmp((a), (b)) == 0)

/* dot_or_dot_dot() - "." or "..", the directory entries every walk skips */
static inline bool dot_or_dot_dot(const char *s)
{
	return s[0] == '.' && (s[1] == '\0' || (s[1] == '.' && s[2] == '\0'));
}

static inline const char *strempty(const char *s)
{
	return s ? s : "";
}

#define PADDOCK_ASSERT(expr)                                                                       \
	do {                                                                                       \
		if (_unlikely_(!(expr)))                                                           \
			paddock_assert_fail(#expr, __FILE__, __LINE__, __func__);                  \
	} while (0)

_noreturn_ void paddock_assert_fail(const char *expr, const char *file, int line, const char *func);
