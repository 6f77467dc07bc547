/* SPDX-License-Identifier: MIT */
/*
 * quote.h - a user-controlled string made safe for a message
 */
#pragma once

#include <stddef.h>

/*
 * str_quote() - @n bytes of @s in single quotes, control bytes, bytes >= 0x7f, quotes and
 * backslashes as \xNN, cut at 80 bytes with "..." after. A new string.
 */
char *str_quote(const char *s, size_t n);
