/* SPDX-License-Identifier: MIT */
/*
 * fuzz-review-journal.c - libFuzzer target for review mode's apply journal parser
 *
 * The input is a journal file's content, any bytes (store/review.c: a magic line, then
 * NUL-terminated records "CTMODE\tPATH"). Invariants checked:
 *
 * - a refusal is -EBADMSG and leaves the result untouched;
 * - every accepted entry has a known change and type, a mode within 07777, and a path that
 *   is relative with no empty, "." or ".." component (apply opens it beneath the workspace);
 * - the entries written back in the journal's format parse to the same entries.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "store/review.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const char *p)
{
	PADDOCK_ASSERT(p[0] && p[0] != '/');
	for (const char *c = p;;) {
		size_t k = strcspn(c, "/");

		PADDOCK_ASSERT(k > 0);
		PADDOCK_ASSERT(!(k == 1 && c[0] == '.'));
		PADDOCK_ASSERT(!(k == 2 && c[0] == '.' && c[1] == '.'));
		c += k;
		if (!*c)
			break;
		c++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct review_list l = { .items = (void *)1, .n = 7 }, again = {};
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if (size > 65536)
		return 0;
	r = review_journal_parse((const char *)data, size, &l);
	if (r < 0) {
		PADDOCK_ASSERT(r == -EBADMSG);
		PADDOCK_ASSERT(l.items == (void *)1 && l.n == 7);
		return 0;
	}
	f = open_memstream(&buf, &len);
	if (!f)
		abort();
	fputs("paddock review journal 1\n", f);
	for (size_t i = 0; i < l.n; i++) {
		const struct review_entry *e = &l.items[i];

		PADDOCK_ASSERT(strchr("AMD", e->change) && e->change);
		PADDOCK_ASSERT(strchr("fldo", e->type) && e->type);
		PADDOCK_ASSERT(e->mode <= 07777);
		check_path(e->path);
		fprintf(f, "%c%c%o\t%s", e->change, e->type, (unsigned)e->mode, e->path);
		fputc('\0', f);
	}
	if (fclose(f) != 0)
		abort();
	PADDOCK_ASSERT(review_journal_parse(buf, len, &again) == 0);
	PADDOCK_ASSERT(again.n == l.n);
	for (size_t i = 0; i < l.n; i++) {
		PADDOCK_ASSERT(streq(again.items[i].path, l.items[i].path));
		PADDOCK_ASSERT(again.items[i].change == l.items[i].change);
		PADDOCK_ASSERT(again.items[i].type == l.items[i].type);
		PADDOCK_ASSERT(again.items[i].mode == l.items[i].mode);
	}
	review_list_free(&again);
	review_list_free(&l);
	free(buf);
	return 0;
}
