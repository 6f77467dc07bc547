/* SPDX-License-Identifier: MIT */
/*
 * quote.c - a user-controlled string made safe for a message
 */
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "quote.h"
#include "xmalloc.h"

char *str_quote(const char *s, size_t n)
{
	size_t max = MIN(n, (size_t)80), w = 0;
	char *r = xmalloc(max * 4 + 8);

	r[w++] = '\'';
	for (size_t i = 0; i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '\'' || c == '\\')
			w += (size_t)sprintf(r + w, "\\x%02x", c);
		else
			r[w++] = (char)c;
	}
	r[w++] = '\'';
	if (n > max) {
		memcpy(r + w, "...", 3);
		w += 3;
	}
	r[w] = '\0';
	return r;
}
