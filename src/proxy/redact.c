/* SPDX-License-Identifier: MIT */
/*
 * redact.c - a real value that a bound host sends back never reaches the sandbox
 *
 * DOC: Theory of Operation
 * The proxy swaps a placeholder for its real value only on the way to a host the secret is
 * bound to. A host that reflects what it received (an echo endpoint, an error message that
 * quotes the key, a "self" link with the query) would hand the value straight back to the
 * sandbox. So every answer on a terminated connection to a bound host is checked for the
 * values of the secrets bound to that host, in each form inject_forms() lists (as it is,
 * percent-encoded, base64 at each alignment), and each occurrence is overwritten with as many
 * REDACT_CHAR bytes: the length stays, so Content-Length and chunk framing stay right and
 * nothing has to be buffered beyond one form's length.
 *
 * Bodies arrive in pieces. A form split across two pieces is still found: the longest tail of
 * a piece that is the start of some form is held back and checked with the next piece. The
 * hold is given out at the end of the message (redact_flush()), or when a stream pauses, so
 * server-sent events and websocket messages are never delayed by it. A form cut short there
 * (a prefix at the end of a message, or a suffix at the start of one) is redacted when it is
 * at least INJECT_FORM_MIN bytes long; shorter pieces are let through, so at most that many
 * bytes at each end of a value can come back when a host cuts it up on purpose.
 *
 * The intercept path (intercept.c) also asks bound hosts for identity encoding, and refuses
 * a compressed answer from one, since a compressed body cannot be checked.
 */
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/xmalloc.h"
#include "proxy/redact.h"

static void shift_make(struct redact *r);

void redact_init(struct redact *r, const struct inject_table *t, const char *host, uint16_t port)
{
	*r = (struct redact){ .at_start = true };
	r->n = inject_forms(t, host, port, &r->forms);
	for (size_t i = 0; i < r->n; i++)
		r->longest = MAX(r->longest, r->forms[i].len);
	if (r->n > 0) {
		r->shift = xmalloc(REDACT_SHIFT_SIZE);
		shift_make(r);
		r->hold[0] = xmalloc(r->longest);
		r->hold[1] = xmalloc(r->longest);
	}
}

bool redact_active(const struct redact *r)
{
	return r->n > 0;
}

void redact_done(struct redact *r)
{
	for (size_t i = 0; i < 2; i++)
		if (r->hold[i]) {
			explicit_bzero(r->hold[i], r->longest);
			free(r->hold[i]);
		}
	free(r->forms);
	free(r->shift);
	*r = (struct redact){};
}

const char *redact_take_hit(struct redact *r)
{
	const char *h = r->hit;

	r->hit = NULL;
	return h;
}

static void hit(struct redact *r, const struct inject_form *f)
{
	if (!r->hit)
		r->hit = f->secret;
}

/*
 * The bytes S = A (@alen bytes) then B: is S[@i, @i + @k) equal to @p? The caller ensures
 * @i + @k <= @alen + B's length.
 */
static bool seq_eq(const char *a, size_t alen, const char *b, size_t i, const char *p, size_t k)
{
	if (i < alen) {
		size_t n = MIN(k, alen - i);

		if (memcmp(a + i, p, n) != 0)
			return false;
		return k == n || memcmp(b, p + n, k - n) == 0;
	}
	return memcmp(b + (i - alen), p, k) == 0;
}

static void seq_fill(char *a, size_t alen, char *b, size_t i, size_t k)
{
	if (i < alen) {
		size_t n = MIN(k, alen - i);

		memset(a + i, REDACT_CHAR, n);
		i = alen;
		k -= n;
	}
	if (k > 0)
		memset(b + (i - alen), REDACT_CHAR, k);
}

/* The hash of the two bytes ending at @p (a block of the Wu-Manber scan) */
static unsigned block_hash(const char *p)
{
	unsigned v = ((unsigned)(unsigned char)p[-1] << 8) | (unsigned char)p[0];

	return (v * 0x9e37u >> 4) & (REDACT_SHIFT_SIZE - 1);
}

/*
 * Wu-Manber: a window of @m bytes (the shortest form) slides over the text; the shift table
 * says, for the hash of the window's last two bytes, how far the window can move before one
 * of those two bytes can line up with the same bytes in some form. A shift of 0 means a form
 * may start at the window: compare them all there.
 */
static void shift_make(struct redact *r)
{
	size_t m = SIZE_MAX;

	for (size_t i = 0; i < r->n; i++)
		m = MIN(m, r->forms[i].len);
	m = MIN(m, (size_t)UINT8_MAX);
	r->m = m;
	memset(r->shift, (int)(m - 1), REDACT_SHIFT_SIZE);
	for (size_t i = 0; i < r->n; i++)
		for (size_t q = 1; q < m; q++) {
			unsigned h = block_hash(r->forms[i].p + q);

			r->shift[h] = (uint8_t)MIN((size_t)r->shift[h], m - 1 - q);
		}
}

/* A form that starts at @start is redacted; returns 1 if one did */
static size_t redact_at(struct redact *r, char *buf, size_t len, size_t start)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct inject_form *f = &r->forms[i];

		if (buf[start] == f->p[0] && f->len <= len - start &&
		    memcmp(buf + start, f->p, f->len) == 0) {
			memset(buf + start, REDACT_CHAR, f->len);
			hit(r, f);
			return 1;
		}
	}
	return 0;
}

size_t redact_buf(struct redact *r, char *buf, size_t len)
{
	size_t hits = 0, m = r->m, pos[REDACT_LANES], end[REDACT_LANES];
	size_t lanes = len >= REDACT_LANES * 1024u ? REDACT_LANES : 1;
	bool more = true;

	if (r->n == 0 || len < m)
		return 0;
	/*
	 * Each step depends on the one before (a load, a hash, a load): a few independent
	 * lanes, each over its share of window ends, let the CPU overlap them.
	 */
	for (size_t k = 0; k < lanes; k++) {
		pos[k] = MAX(len * k / lanes, m - 1);
		end[k] = len * (k + 1) / lanes;
	}
	while (more) {
		more = false;
		for (size_t k = 0; k < lanes; k++) {
			size_t sh;

			if (pos[k] >= end[k])
				continue;
			more = true;
			sh = r->shift[block_hash(buf + pos[k])];
			if (sh > 0) {
				pos[k] += sh;
				continue;
			}
			hits += redact_at(r, buf, len, pos[k] + 1 - m);
			pos[k]++;
		}
	}
	return hits;
}

/* At the start of a message: the longest head of @buf that ends a form, if long enough */
static void redact_suffixes(struct redact *r, char *buf, size_t len)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct inject_form *f = &r->forms[i];

		for (size_t j = 1; j + INJECT_FORM_MIN <= f->len; j++) {
			size_t k = f->len - j;

			if (k <= len && buf[0] == f->p[j] && memcmp(buf, f->p + j, k) == 0) {
				memset(buf, REDACT_CHAR, k);
				hit(r, f);
				break;
			}
		}
	}
}

/*
 * Where the bytes to hold back start in S = A (@alen bytes) then B (@blen bytes): the
 * smallest position whose tail is a proper prefix of a form; @alen + @blen when none is.
 */
static size_t hold_start(const struct redact *r, const char *a, size_t alen, const char *b,
			 size_t blen)
{
	size_t total = alen + blen, from = total > r->longest - 1 ? total - (r->longest - 1) : 0;
	size_t best = total;

	for (size_t fi = 0; fi < r->n; fi++) {
		const struct inject_form *f = &r->forms[fi];
		size_t i = from;

		while (i < best) {
			const char *s;
			size_t k = total - i;

			/* the next position holding the form's first byte */
			if (i < alen) {
				s = memchr(a + i, f->p[0], alen - i);
				if (!s) {
					i = alen;
					continue;
				}
				i = (size_t)(s - a);
			} else {
				s = memchr(b + (i - alen), f->p[0], total - i);
				if (!s)
					break;
				i = alen + (size_t)(s - b);
			}
			if (i >= best)
				break;
			k = total - i;
			if (k < f->len && seq_eq(a, alen, b, i, f->p, k)) {
				best = i;
				break;
			}
			i++;
		}
	}
	return best;
}

size_t redact_stream(struct redact *r, char *buf, size_t len, struct iovec out[2])
{
	char *held = r->hold[r->cur], *next = r->hold[r->cur ^ 1u];
	size_t h = r->hold_len, total = h + len, keep, n = 0;

	if (r->n == 0) {
		out[0] = (struct iovec){ .iov_base = buf, .iov_len = len };
		return len > 0;
	}
	if (len == 0)
		return 0;
	if (r->at_start && h == 0)
		redact_suffixes(r, buf, len);
	r->at_start = false;
	/* forms that begin in what was held */
	for (size_t i = 0; i < h; i++)
		for (size_t fi = 0; fi < r->n; fi++) {
			const struct inject_form *f = &r->forms[fi];

			if (held[i] == f->p[0] && i + f->len <= total &&
			    seq_eq(held, h, buf, i, f->p, f->len)) {
				seq_fill(held, h, buf, i, f->len);
				hit(r, f);
			}
		}
	(void)redact_buf(r, buf, len);

	keep = hold_start(r, held, h, buf, len);
	if (keep <= h) {
		if (keep > 0)
			out[n++] = (struct iovec){ .iov_base = held, .iov_len = keep };
		memcpy(next, held + keep, h - keep);
		memcpy(next + (h - keep), buf, len);
	} else {
		if (h > 0)
			out[n++] = (struct iovec){ .iov_base = held, .iov_len = h };
		out[n++] = (struct iovec){ .iov_base = buf, .iov_len = keep - h };
		memcpy(next, buf + (keep - h), total - keep);
	}
	r->hold_len = total - keep;
	r->cur ^= 1u;
	return n;
}

size_t redact_flush(struct redact *r, struct iovec out[1])
{
	char *held = r->hold[r->cur];
	size_t h = r->hold_len;

	r->at_start = true;
	if (h == 0)
		return 0;
	if (h >= INJECT_FORM_MIN) {
		/* a form cut short by the end: the hold is the start of one (hold_start()) */
		for (size_t fi = 0; fi < r->n; fi++)
			if (r->forms[fi].len > h && memcmp(held, r->forms[fi].p, h) == 0) {
				hit(r, &r->forms[fi]);
				break;
			}
		memset(held, REDACT_CHAR, h);
	}
	r->hold_len = 0;
	/* the next call writes the other buffer, so this one stays valid until then */
	r->cur ^= 1u;
	out[0] = (struct iovec){ .iov_base = held, .iov_len = h };
	return 1;
}
