/* SPDX-License-Identifier: MIT */
/*
 * inject.c - secret placeholders: swap them in request heads to bound hosts, refuse them
 * anywhere else
 *
 * DOC: Theory of Operation
 * A sandbox never sees a secret's real value: its environment holds a placeholder,
 * "pdk_<name>_<32 hex>", random per sandbox (128 bits from getrandom()). The proxy swaps
 * the placeholder for the value in the requests it relays, and only where that is what the
 * user asked for: on a connection whose TLS it terminated (so the value is encrypted on to
 * the server it verified), to a host the secret is bound to, in a header (or the headers the
 * secret's allowlist names), inside Basic credentials, or in the query string. Every other
 * placeholder is refused: plain HTTP, another host (or another secret's host), the path
 * (servers echo paths in errors and logs), and bodies and relayed streams, which are only
 * scanned (inject_scan()), never rewritten: a body can be compressed, signed or framed in
 * ways a byte swap would break or that would hide the placeholder anyway. One refused
 * placeholder refuses the whole request, and the caller logs secret_leak for each.
 *
 * Matching is exact: a placeholder is one of the table's strings, found with memmem() on
 * "pdk_" and compared; "pdk_" text that is not one of them (another sandbox's placeholder,
 * a variable name) is left alone. A placeholder inside a longer token still matches: 128
 * random bits do not occur by chance.
 *
 * Real values are kept in this table only, copied into the edits handed to
 * h1_head_rewrite() and zeroed (explicit_bzero) when either is freed. Nothing here logs.
 */
#include <strings.h>
#include <string.h>
#include <sys/random.h>

#include "common/cleanup.h"
#include "common/macro.h"
#include "common/xmalloc.h"
#include "proxy/inject.h"
#include "store/hostrule.h"

struct inject_secret {
	char *name;
	char *placeholder;
	size_t placeholder_len;
	char *value;
	size_t value_len;
	struct host_rule *hosts;
	size_t n_hosts;
	char **headers; /* NULL: any header */
	size_t n_headers;
	struct inject_form forms[INJECT_FORMS_MAX]; /* how the value may come back (redact.h) */
	size_t n_forms;
};

struct inject_table {
	struct inject_secret *secrets;
	size_t n;
	size_t max_len; /* longest placeholder */
};

static const char *const where_names[_INJECT_WHERE_MAX] = {
	[INJECT_WHERE_HEADER] = "header", [INJECT_WHERE_BASIC] = "basic",
	[INJECT_WHERE_QUERY] = "query",   [INJECT_WHERE_PATH] = "path",
	[INJECT_WHERE_BODY] = "body",     [INJECT_WHERE_STREAM] = "stream",
};

const char *inject_where_to_string(enum inject_where w)
{
	if (w < 0 || w >= _INJECT_WHERE_MAX)
		return NULL;
	return where_names[w];
}

struct inject_table *inject_table_new(void)
{
	return xcalloc(1, sizeof(struct inject_table));
}

static void secret_done(struct inject_secret *s)
{
	free(s->name);
	free(s->placeholder);
	if (s->value)
		explicit_bzero(s->value, s->value_len);
	free(s->value);
	for (size_t i = 0; i < s->n_hosts; i++)
		host_rule_done(&s->hosts[i]);
	free(s->hosts);
	for (size_t i = 0; i < s->n_headers; i++)
		free(s->headers[i]);
	free(s->headers);
	for (size_t i = 0; i < s->n_forms; i++) {
		explicit_bzero((char *)s->forms[i].p, s->forms[i].len);
		free((char *)s->forms[i].p);
	}
	*s = (struct inject_secret){};
}

struct inject_table *inject_table_free(struct inject_table *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		secret_done(&t->secrets[i]);
	free(t->secrets);
	free(t);
	return NULL;
}

static bool name_is_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > INJECT_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* "pdk_" [a-z0-9_]{1,64} "_" 32 lowercase hex */
static bool placeholder_is_valid(const char *p)
{
	size_t n = p ? strlen(p) : 0, pre = STRLEN(INJECT_PREFIX);

	if (n < pre + 2 + INJECT_HEX_LEN || n > INJECT_PLACEHOLDER_MAX ||
	    memcmp(p, INJECT_PREFIX, pre) != 0 || p[n - INJECT_HEX_LEN - 1] != '_')
		return false;
	for (size_t i = pre; i < n - INJECT_HEX_LEN - 1; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
			return false;
	for (size_t i = n - INJECT_HEX_LEN; i < n; i++)
		if (!is_lower_hex(p[i]))
			return false;
	return true;
}

static bool header_name_is_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 256)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c && strchr("!#$%&'*+-.^_`|~", c))))
			return false;
	}
	return true;
}

static void forms_make(struct inject_secret *s);

static int add_fail(const char **why, const char *msg, int r)
{
	if (why)
		*why = msg;
	return r;
}

int inject_table_add(struct inject_table *t, const char *name, const char *placeholder,
		     const void *value, size_t value_len, char *const *hosts, char *const *headers,
		     const char **reterr_why)
{
	struct inject_secret s = {};
	const unsigned char *v = value;
	const char *why = NULL;
	int r;

	if (!name_is_valid(name))
		return add_fail(reterr_why, "invalid secret name", -EINVAL);
	if (!placeholder_is_valid(placeholder))
		return add_fail(reterr_why, "invalid placeholder", -EINVAL);
	if (!value || value_len == 0 || value_len > INJECT_VALUE_MAX)
		return add_fail(reterr_why, "secret value empty or too long", -EINVAL);
	for (size_t i = 0; i < value_len; i++)
		if (v[i] < 0x20 || v[i] == 0x7f)
			return add_fail(reterr_why, "control character in secret value", -EINVAL);
	if (!hosts || !hosts[0])
		return add_fail(reterr_why, "secret bound to no host", -EINVAL);
	for (size_t i = 0; i < t->n; i++)
		if (streq(t->secrets[i].name, name) ||
		    streq(t->secrets[i].placeholder, placeholder))
			return add_fail(reterr_why,
					"secret name or placeholder already in the table", -EINVAL);
	if (t->n >= INJECT_SECRETS_MAX)
		return add_fail(reterr_why, "too many secrets", -E2BIG);

	for (size_t i = 0; hosts[i]; i++) {
		struct host_rule rule;

		if (s.n_hosts >= INJECT_HOSTS_MAX) {
			r = add_fail(&why, "too many hosts for one secret", -E2BIG);
			goto fail;
		}
		r = host_rule_parse(hosts[i], strlen(hosts[i]), &rule, &why);
		if (r < 0)
			goto fail;
		s.hosts = xreallocarray(s.hosts, s.n_hosts + 1, sizeof(*s.hosts));
		s.hosts[s.n_hosts++] = rule;
	}
	for (size_t i = 0; headers && headers[i]; i++) {
		if (!header_name_is_valid(headers[i]) || s.n_headers >= INJECT_HEADERS_MAX) {
			r = add_fail(&why, "invalid or too many header names", -EINVAL);
			goto fail;
		}
		s.headers = xreallocarray(s.headers, s.n_headers + 1, sizeof(*s.headers));
		s.headers[s.n_headers++] = xstrdup(headers[i]);
	}
	if (headers && s.n_headers == 0) {
		r = add_fail(&why, "empty header list (omit it to allow any header)", -EINVAL);
		goto fail;
	}
	s.name = xstrdup(name);
	s.placeholder = xstrdup(placeholder);
	s.placeholder_len = strlen(placeholder);
	s.value = xmalloc(value_len);
	memcpy(s.value, value, value_len);
	s.value_len = value_len;
	forms_make(&s);

	t->secrets = xreallocarray(t->secrets, t->n + 1, sizeof(*t->secrets));
	t->secrets[t->n++] = s;
	t->max_len = MAX(t->max_len, s.placeholder_len);
	return 0;

fail:
	secret_done(&s);
	return add_fail(reterr_why, why ? why : "invalid secret", r);
}

int inject_placeholder_new(const char *name, char **ret)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[INJECT_HEX_LEN / 2];
	size_t got = 0, n, pos;
	char *p;

	if (!name_is_valid(name))
		return -EINVAL;
	while (got < sizeof(rnd)) {
		ssize_t k = getrandom(rnd + got, sizeof(rnd) - got, 0); /* #syscalls: getrandom */

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)k;
	}
	n = strlen(name);
	p = xmalloc(STRLEN(INJECT_PREFIX) + n + 1 + INJECT_HEX_LEN + 1);
	memcpy(p, INJECT_PREFIX, STRLEN(INJECT_PREFIX));
	pos = STRLEN(INJECT_PREFIX);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		p[pos++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c == '-' ? '_' : c;
	}
	p[pos++] = '_';
	for (size_t i = 0; i < sizeof(rnd); i++) {
		p[pos++] = hex[rnd[i] >> 4];
		p[pos++] = hex[rnd[i] & 0xf];
	}
	p[pos] = '\0';
	explicit_bzero(rnd, sizeof(rnd));
	*ret = p;
	return 0;
}

/*
 * Finding placeholders
 */

/* The first placeholder in @p (@len bytes): its secret, and its offset in @ret_off. */
static const struct inject_secret *find_placeholder(const struct inject_table *t, const char *p,
						    size_t len, size_t *ret_off)
{
	size_t off = 0, pre = STRLEN(INJECT_PREFIX);

	if (t->n == 0 || !p)
		return NULL;
	while (off + pre <= len) {
		const char *q = memmem(p + off, len - off, INJECT_PREFIX, pre);
		size_t at;

		if (!q)
			return NULL;
		at = (size_t)(q - p);
		for (size_t i = 0; i < t->n; i++) {
			const struct inject_secret *s = &t->secrets[i];

			if (s->placeholder_len <= len - at &&
			    memcmp(q, s->placeholder, s->placeholder_len) == 0) {
				*ret_off = at;
				return s;
			}
		}
		off = at + 1;
	}
	return NULL;
}

void inject_scan_init(struct inject_scan *st, const struct inject_table *t)
{
	*st = (struct inject_scan){ .table = t };
}

const char *inject_scan(struct inject_scan *st, const void *buf, size_t len)
{
	const struct inject_table *t = st->table;
	const struct inject_secret *found = NULL;
	size_t keep, off;

	if (!t || t->max_len == 0 || len == 0)
		return NULL;
	keep = t->max_len - 1;
	if (st->carry_len > 0) {
		/* a placeholder split between the pieces: carry + the start of @buf */
		char win[2 * INJECT_PLACEHOLDER_MAX];
		size_t head = MIN(len, keep);

		memcpy(win, st->carry, st->carry_len);
		memcpy(win + st->carry_len, buf, head);
		found = find_placeholder(t, win, st->carry_len + head, &off);
	}
	if (!found)
		found = find_placeholder(t, buf, len, &off);

	/* keep the last @keep bytes of carry + @buf */
	if (len >= keep) {
		memcpy(st->carry, (const char *)buf + len - keep, keep);
		st->carry_len = keep;
	} else {
		size_t old = MIN(st->carry_len, keep - len);

		memmove(st->carry, st->carry + st->carry_len - old, old);
		memcpy(st->carry + old, buf, len);
		st->carry_len = old + len;
	}
	return found ? found->name : NULL;
}

/*
 * Heads
 */

static bool secret_bound(const struct inject_secret *s, const char *host, uint16_t port)
{
	for (size_t i = 0; i < s->n_hosts; i++) {
		const struct host_rule *r = &s->hosts[i];

		if (r->port && r->port != port)
			continue;
		if (r->kind == HOST_NAME || r->kind == HOST_WILDCARD) {
			if (host_rule_match_name(r, host))
				return true;
		} else if (streq(r->host, host))
			return true;
	}
	return false;
}

size_t inject_table_size(const struct inject_table *t)
{
	return t ? t->n : 0;
}

bool inject_table_binds(const struct inject_table *t, const char *host, uint16_t port)
{
	if (!t || !host)
		return false;
	for (size_t i = 0; i < t->n; i++)
		if (secret_bound(&t->secrets[i], host, port))
			return true;
	return false;
}

static bool header_allowed(const struct inject_secret *s, struct http_span field)
{
	if (!s->headers)
		return true;
	for (size_t i = 0; i < s->n_headers; i++)
		if (strlen(s->headers[i]) == field.len &&
		    strncasecmp(s->headers[i], field.p, field.len) == 0)
			return true;
	return false;
}

struct ctx {
	const struct inject_table *t;
	const char *host;
	uint16_t port;
	bool terminated;
	struct inject_result res;
	size_t n_hits;  /* injections, listed in res.hits while there are no leaks */
	size_t n_leaks; /* leaks: once there is one, res.hits lists only leaks */
	size_t grown;   /* bytes the swaps add to the head */
	bool too_big;   /* they would make it larger than H1_OUT_HEAD_MAX */
};

static void hit_add(struct ctx *c, const struct inject_secret *s, enum inject_where where,
		    struct http_span field, bool leak)
{
	if (leak && c->n_leaks++ == 0)
		c->res.n_hits = 0; /* from now on, only leaks are reported */
	else if (!leak && c->n_leaks > 0)
		return;
	if (!leak)
		c->n_hits++;
	if (c->res.n_hits >= INJECT_HITS_MAX)
		return;
	if (!c->res.hits)
		c->res.hits = xcalloc(INJECT_HITS_MAX, sizeof(*c->res.hits));
	c->res.hits[c->res.n_hits++] = (struct inject_hit){ s->name, where, field };
}

/* May @s be swapped at @where (in field @field)? */
static bool may_swap(const struct ctx *c, const struct inject_secret *s, enum inject_where where,
		     struct http_span field)
{
	if (!c->terminated || !secret_bound(s, c->host, c->port))
		return false;
	switch (where) {
	case INJECT_WHERE_HEADER:
	case INJECT_WHERE_BASIC:
		return header_allowed(s, field);
	case INJECT_WHERE_QUERY:
		return !s->headers;
	case INJECT_WHERE_PATH:
	case INJECT_WHERE_BODY:
	case INJECT_WHERE_STREAM:
	case _INJECT_WHERE_MAX:
	case _INJECT_WHERE_INVALID:
	default:
		return false;
	}
}

static bool is_unreserved(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

/* A growable buffer that zeroes what it drops, since it holds real values */
struct sbuf {
	char *p;
	size_t len, cap;
};

static void sbuf_put(struct sbuf *b, const void *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = MAX(b->cap * 2, b->len + n + 64);
		char *p = xmalloc(cap);

		if (b->p) {
			memcpy(p, b->p, b->len);
			explicit_bzero(b->p, b->cap);
			free(b->p);
		}
		b->p = p;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void sbuf_done(struct sbuf *b)
{
	if (b->p)
		explicit_bzero(b->p, b->cap);
	free(b->p);
	*b = (struct sbuf){};
}

/* Append the real value, percent-encoded when @pct (for the query) */
static void put_value(struct sbuf *b, const struct inject_secret *s, bool pct)
{
	static const char hex[] = "0123456789ABCDEF";

	if (!pct) {
		sbuf_put(b, s->value, s->value_len);
		return;
	}
	for (size_t i = 0; i < s->value_len; i++) {
		unsigned char ch = (unsigned char)s->value[i];
		char e[3] = { '%', hex[ch >> 4], hex[ch & 0xf] };

		if (is_unreserved(ch))
			sbuf_put(b, &ch, 1);
		else
			sbuf_put(b, e, 3);
	}
}

/*
 * Swap the placeholders in @in (@len bytes) found at @where into @out; a placeholder that may
 * not be swapped there is a leak. Returns the number swapped (@out is then complete).
 */
static size_t swap_in(struct ctx *c, const char *in, size_t len, enum inject_where where,
		      struct http_span field, struct sbuf *out)
{
	size_t pos = 0, off, n = 0;
	const struct inject_secret *s;

	if (len == 0)
		return 0;
	while ((s = find_placeholder(c->t, in + pos, len - pos, &off))) {
		if (!may_swap(c, s, where, field)) {
			hit_add(c, s, where, field, true);
			sbuf_put(out, in + pos, off + s->placeholder_len);
			pos += off + s->placeholder_len;
			continue;
		}
		if (c->grown + out->len + off + 3 * s->value_len > H1_OUT_HEAD_MAX) {
			c->too_big = true;
			return 0;
		}
		hit_add(c, s, where, field, false);
		sbuf_put(out, in + pos, off);
		put_value(out, s, where == INJECT_WHERE_QUERY);
		pos += off + s->placeholder_len;
		n++;
	}
	if (n > 0)
		sbuf_put(out, in + pos, len - pos);
	return n;
}

/* Every placeholder in @in is refused: field names, the path */
static void refuse_in(struct ctx *c, const char *in, size_t len, enum inject_where where,
		      struct http_span field)
{
	size_t pos = 0, off;
	const struct inject_secret *s;

	if (len == 0)
		return;
	while ((s = find_placeholder(c->t, in + pos, len - pos, &off))) {
		hit_add(c, s, where, field, true);
		pos += off + s->placeholder_len;
	}
}

/*
 * Base64 (RFC 4648, standard alphabet, padded), for Basic credentials. Decoding is strict:
 * a length that is a multiple of 4, padding only at the end, no stray bits.
 */
static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

static bool b64_decode(const char *in, size_t len, struct sbuf *out)
{
	if (len == 0 || len % 4 != 0)
		return false;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		size_t pad = 0;
		unsigned char o[3];

		for (size_t k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0 || (v[k] = b64_value(in[i + k])) < 0)
				return false;
		}
		if ((pad == 1 && (v[2] & 0x3)) || (pad == 2 && (v[1] & 0xf)))
			return false; /* bits the encoding would have left zero */
		o[0] = (unsigned char)((v[0] << 2) | (v[1] >> 4));
		o[1] = (unsigned char)(((v[1] & 0xf) << 4) | (v[2] >> 2));
		o[2] = (unsigned char)(((v[2] & 0x3) << 6) | v[3]);
		sbuf_put(out, o, 3 - pad);
	}
	return true;
}

static void b64_encode(const unsigned char *in, size_t len, struct sbuf *out)
{
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		char o[4];

		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		o[0] = b64[(v >> 18) & 0x3f];
		o[1] = b64[(v >> 12) & 0x3f];
		o[2] = i + 1 < len ? b64[(v >> 6) & 0x3f] : '=';
		o[3] = i + 2 < len ? b64[v & 0x3f] : '=';
		sbuf_put(out, o, 4);
	}
}

static void edit_add(struct ctx *c, size_t field, struct sbuf *value)
{
	c->res.edits = xreallocarray(c->res.edits, c->res.n_edits + 1, sizeof(*c->res.edits));
	/* the edit owns the buffer now (what lies beyond len was never written) */
	c->res.edits[c->res.n_edits++] = (struct h1_edit){ field, value->p, value->len };
	*value = (struct sbuf){};
}

static bool span_starts_ci(struct http_span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len >= n && strncasecmp(s.p, lit, n) == 0;
}

/* "Authorization: Basic <base64>": swap inside the credentials. False if not Basic. */
static bool inject_basic(struct ctx *c, size_t i, const struct http_field *f)
{
	_cleanup_(sbuf_done) struct sbuf dec = {}, swapped = {}, val = {};
	struct http_span v = f->value;
	size_t sp;

	if (!(f->name.len == STRLEN("authorization") &&
	      strncasecmp(f->name.p, "authorization", f->name.len) == 0))
		return false;
	if (!span_starts_ci(v, "basic ") && !span_starts_ci(v, "basic\t"))
		return false;
	sp = STRLEN("basic");
	while (sp < v.len && (v.p[sp] == ' ' || v.p[sp] == '\t'))
		sp++;
	if (!b64_decode(v.p + sp, v.len - sp, &dec))
		return false;
	if (swap_in(c, dec.p, dec.len, INJECT_WHERE_BASIC, f->name, &swapped) == 0)
		return true; /* no placeholder, or only ones refused */
	sbuf_put(&val, v.p, sp);
	b64_encode((const unsigned char *)swapped.p, swapped.len, &val);
	c->grown += val.len > v.len ? val.len - v.len : 0;
	edit_add(c, i, &val);
	return true;
}

static void inject_field(struct ctx *c, size_t i, const struct http_field *f)
{
	_cleanup_(sbuf_done) struct sbuf out = {};

	refuse_in(c, f->name.p, f->name.len, INJECT_WHERE_HEADER, f->name);
	if (inject_basic(c, i, f))
		return;
	if (swap_in(c, f->value.p, f->value.len, INJECT_WHERE_HEADER, f->name, &out) == 0)
		return;
	c->grown += out.len > f->value.len ? out.len - f->value.len : 0;
	edit_add(c, i, &out);
}

static void inject_target(struct ctx *c, const struct http_head *h)
{
	_cleanup_(sbuf_done) struct sbuf out = {};
	struct http_span t = h->target.path;
	const char *q = t.p ? memchr(t.p, '?', t.len) : NULL;
	size_t path_len = q ? (size_t)(q - t.p) : t.len;
	struct http_span none = {};

	/* in the host of an absolute- or authority-form target, or the path: always refused */
	refuse_in(c, h->target.authority.host.p, h->target.authority.host.len, INJECT_WHERE_PATH,
		  none);
	if (t.len == 0)
		return;
	refuse_in(c, t.p, path_len, INJECT_WHERE_PATH, none);
	if (!q)
		return;
	sbuf_put(&out, t.p, path_len + 1);
	if (swap_in(c, q + 1, t.len - path_len - 1, INJECT_WHERE_QUERY, none, &out) == 0)
		return;
	c->grown += out.len > t.len ? out.len - t.len : 0;
	edit_add(c, H1_EDIT_TARGET, &out);
}

/* The host as the bound rules are written: lowercase, without a trailing dot */
static bool host_canonical(const char *in, char *buf, size_t size)
{
	size_t n = in ? strlen(in) : 0;

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n >= size)
		return false;
	for (size_t i = 0; i < n; i++)
		buf[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] - 'A' + 'a') : in[i];
	buf[n] = '\0';
	return true;
}

int inject_head(const struct inject_table *t, const struct http_head *h, const char *host,
		uint16_t port, bool terminated, struct inject_result *ret)
{
	char canon[HTTP1_HOST_MAX + 1];
	struct ctx c = { .t = t, .host = canon, .port = port, .terminated = terminated };

	PADDOCK_ASSERT(t && h && ret);
	if (!host_canonical(host, canon, sizeof(canon))) {
		canon[0] = '\0'; /* no host matches: every placeholder is refused */
		c.terminated = false;
	}
	for (size_t i = 0; i < h->n_fields; i++)
		inject_field(&c, i, &h->fields[i]);
	if (!h->response)
		inject_target(&c, h);

	if (c.n_leaks > 0) {
		struct inject_result edits = { .edits = c.res.edits, .n_edits = c.res.n_edits };

		inject_result_done(&edits);
		*ret = (struct inject_result){ .hits = c.res.hits, .n_hits = c.res.n_hits };
		return -EACCES;
	}
	if (c.too_big || h->head_len + c.grown > H1_OUT_HEAD_MAX) {
		inject_result_done(&c.res);
		return -E2BIG;
	}
	*ret = c.res;
	return (int)MIN(c.n_hits, (size_t)INT32_MAX);
}

void inject_result_done(struct inject_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_edits; i++) {
		explicit_bzero((void *)r->edits[i].value, r->edits[i].len);
		free((void *)r->edits[i].value);
	}
	free(r->edits);
	free(r->hits);
	*r = (struct inject_result){};
}

/* --- the forms a real value can come back in ------------------------------------------ */

static void form_add(struct inject_secret *s, struct sbuf *b)
{
	if (b->len < INJECT_FORM_MIN || s->n_forms >= INJECT_FORMS_MAX) {
		sbuf_done(b);
		return;
	}
	for (size_t i = 0; i < s->n_forms; i++)
		if (s->forms[i].len == b->len && memcmp(s->forms[i].p, b->p, b->len) == 0) {
			sbuf_done(b);
			return;
		}
	s->forms[s->n_forms++] =
		(struct inject_form){ .secret = s->name, .p = b->p, .len = b->len };
	*b = (struct sbuf){}; /* the form owns it */
}

/*
 * The value as it is, percent-encoded (as the query gets it), and base64-encoded (standard
 * and URL alphabets) at each of the three alignments it can have inside a longer encoded
 * text, without the characters that depend on the bytes around it.
 */
static void forms_make(struct inject_secret *s)
{
	struct sbuf b = {};

	sbuf_put(&b, s->value, s->value_len);
	form_add(s, &b);
	put_value(&b, s, true);
	form_add(s, &b);
	for (size_t skip = 0; skip < 3; skip++) {
		size_t n = s->value_len > skip ? (s->value_len - skip) / 3 * 3 : 0;
		struct sbuf url = {};

		if (n == 0)
			continue;
		b64_encode((const unsigned char *)s->value + skip, n, &b);
		sbuf_put(&url, b.p, b.len);
		for (size_t i = 0; i < url.len; i++)
			url.p[i] = url.p[i] == '+' ? '-' : url.p[i] == '/' ? '_' : url.p[i];
		form_add(s, &b);
		form_add(s, &url);
	}
}

size_t inject_forms(const struct inject_table *t, const char *host, uint16_t port,
		    struct inject_form **ret)
{
	struct inject_form *f = NULL;
	size_t n = 0;

	*ret = NULL;
	if (!t || !host)
		return 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct inject_secret *s = &t->secrets[i];

		if (!secret_bound(s, host, port) || s->n_forms == 0)
			continue;
		f = xreallocarray(f, n + s->n_forms, sizeof(*f));
		memcpy(f + n, s->forms, s->n_forms * sizeof(*f));
		n += s->n_forms;
	}
	*ret = f;
	return n;
}
