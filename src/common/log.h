/* SPDX-License-Identifier: MIT */
/*
 * log.h - diagnostics to stderr (or journald's stream), syslog levels
 *
 * log_*_errno(r, ...) set errno to -r so "%m" works, and return r (always negative), so an
 * orchestrator can write: return log_error_errno(r, "Failed to mount '%s': %m", path);
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

void log_set_role(const char *role);
void log_set_max_level(int level);
int log_get_max_level(void);
/* log_set_stderr_tty() - called once; decides whether messages are coloured */
void log_open(void);

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...)
	_printf_(5, 6);

#define log_full_errno(level, error, ...)                                                          \
	({                                                                                         \
		int _e = (error);                                                                  \
		(log_get_max_level() >= (level))                                                   \
			? log_internal((level), _e, __FILE__, __LINE__, __VA_ARGS__)               \
			: (_e > 0 ? -_e : (_e < 0 ? _e : -EIO));                                   \
	})

#define log_full(level, ...) (void)log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, (e), __VA_ARGS__)
