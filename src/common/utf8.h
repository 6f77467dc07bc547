/* SPDX-License-Identifier: MIT */
/*
 * utf8.h - strict UTF-8 decoding of one character (no filesystem, no logging)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * utf8_char_len() - the length of the well-formed UTF-8 character at @s (at most @n bytes
 * available), or 0 when the bytes there are not one: a stray continuation byte, a truncated
 * sequence, an overlong form, a UTF-16 surrogate or a code point above U+10FFFF (RFC 3629).
 * An ASCII byte, NUL included, is 1. If @ret_cp is not NULL it receives the code point.
 */
size_t utf8_char_len(const char *s, size_t n, uint32_t *ret_cp);

/* utf8_is_valid() - is the whole of @s (@n bytes) well-formed UTF-8? */
bool utf8_is_valid(const char *s, size_t n);
