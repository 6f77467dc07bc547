/* SPDX-License-Identifier: MIT */
/*
 * utf8.c - strict UTF-8 decoding of one character
 *
 * DOC: Theory of Operation
 * The audit log must be valid UTF-8 so that every JSON reader accepts it, and the readable
 * output of `paddock logs` must not pass terminal control sequences through: both walk strings
 * one character at a time with utf8_char_len(), which accepts only the well-formed sequences
 * of RFC 3629 table 3-7 (no overlong forms, no surrogates, nothing above U+10FFFF).
 */

#include "utf8.h"

size_t utf8_char_len(const char *s, size_t n, uint32_t *ret_cp)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp, min;
	size_t len;

	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		len = 1;
		cp = p[0];
		goto done;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
		min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
		min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
		min = 0x10000;
	} else
		return 0; /* a continuation byte, 0xc0, 0xc1 or 0xf5..0xff */
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
done:
	if (ret_cp)
		*ret_cp = cp;
	return len;
}

bool utf8_is_valid(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t l = utf8_char_len(s + i, n - i, NULL);

		if (l == 0)
			return false;
		i += l;
	}
	return true;
}
