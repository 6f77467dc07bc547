/* SPDX-License-Identifier: MIT */
/*
 * log.c - diagnostics
 *
 * DOC: Theory of Operation
 * Each process has a role ("paddock", "paddock[init]") printed before its messages. Messages go
 * to stderr; errors read "paddock: error: ..." so a user can tell them from the command's own
 * output. Debug output is enabled by --debug (or PADDOCK_DEBUG=1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static const char *log_role = "paddock";
static int log_max_level = LOG_NOTICE;

void log_set_role(const char *role)
{
	log_role = role;
}

void log_set_max_level(int level)
{
	log_max_level = level;
}

int log_get_max_level(void)
{
	return log_max_level;
}

void log_open(void)
{
	const char *e = getenv("PADDOCK_DEBUG");

	if (e && *e && !streq(e, "0"))
		log_max_level = LOG_DEBUG;
}

static const char *level_prefix(int level)
{
	switch (level) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error: ";
	case LOG_WARNING:
		return "warning: ";
	case LOG_DEBUG:
		return "debug: ";
	default:
		return "";
	}
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int saved = errno;

	(void)file;
	(void)line;
	if (error < 0)
		error = -error;
	/* %m prints strerror(errno): make it print our error */
	errno = error;
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	(void)fprintf(stderr, "%s: %s%s\n", log_role, level_prefix(level), buf);
	errno = saved;
	return error > 0 ? -error : -EIO;
}

void paddock_assert_fail(const char *expr, const char *file, int line, const char *func)
{
	(void)fprintf(stderr, "%s: assertion '%s' failed at %s:%d, %s(); aborting\n", log_role,
		      expr, file, line, func);
	abort();
}
