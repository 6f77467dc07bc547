/* SPDX-License-Identifier: MIT */
/*
 * peek.c - classify the first bytes of a captured TCP connection
 *
 * DOC: Theory of Operation
 * Every TCP connection from the sandbox reaches the proxy with its original destination, a
 * fake address standing for a name. Before it relays a byte, the proxy peeks at what the
 * client sent and this module says what it is, so that the name the client uses inside the
 * protocol (TLS SNI, HTTP Host) can be held to the name the connection was made to:
 *
 * - TLS: the first byte is 22 (handshake). Nothing starting so is ever "other": a server
 *   might accept what we fail to parse, so a malformed hello is an error, never raw TCP. Each
 *   record must be a handshake record of version 0x0301-0x0304, 1 to 2^14 bytes long; the
 *   fragments are joined until the whole ClientHello (at most PEEK_HELLO_MAX) is there, so a
 *   hello split over many records is read like any other. The hello is checked field by
 *   field with every length bounded by its container; the extension block must fill the
 *   message exactly; an extension type may appear once; pre_shared_key must be last.
 *   server_name must hold exactly one host_name of 1-255 printable ASCII bytes (no NUL, no
 *   space). An encrypted ClientHello (or the older ESNI draft) is refused: the name the
 *   server acts on would be hidden from the proxy. ALPN names are reported (no NUL; at most
 *   PEEK_ALPN_MAX), as is whether TLS 1.3 is offered. Bytes after the hello are the server's.
 * - SSLv2-style hellos (high bit set in the first byte, message type 1, an SSL/TLS version)
 *   are refused; no server should speak it, and it has no SNI.
 * - HTTP: a known method followed by a space, or a first line that contains " HTTP/" (any
 *   case), so that lower-case or unknown methods and request lines with odd bytes meet the
 *   strict parser (http1.c) and its refusal instead of being relayed raw to a lenient server.
 *   A leading CR or LF is HTTP too: servers skip empty lines before a request.
 * - Anything else is OTHER: a first byte that cannot start a method (postgres, binary
 *   protocols), or a complete first line that is not a request line ("SSH-2.0-..."), or a
 *   control byte in the first line.
 *
 * A prefix of any of these is PEEK_NEED_MORE with a guess of what it becomes. The guess is
 * OTHER only when no further byte could make it TLS or HTTP that we would let through (no
 * bytes yet, or an SSLv2-like prefix); a stalled prefix that is TLS- or HTTP-like must be
 * refused by the caller, or a client could wait out the classifier and then send a request.
 */
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/macro.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "peek.h"

#define TLS_RECORD_HANDSHAKE       22
#define TLS_HANDSHAKE_CLIENT_HELLO 1
#define TLS_RECORD_MAX             (1u << 14)

#define TLS_EXT_SERVER_NAME        0
#define TLS_EXT_ALPN               16
#define TLS_EXT_PRE_SHARED_KEY     41
#define TLS_EXT_SUPPORTED_VERSIONS 43
#define TLS_EXT_ECH                0xfe0d
#define TLS_EXT_ESNI               0xffce

static int fail(const char **why, const char *msg, int r)
{
	*why = msg;
	return r;
}

/* A bounded cursor over a byte string; every read checks what is left. */
struct reader {
	const uint8_t *p;
	size_t len;
};

static bool rd_u8(struct reader *r, unsigned *v)
{
	if (r->len < 1)
		return false;
	*v = r->p[0];
	r->p++, r->len--;
	return true;
}

static bool rd_u16(struct reader *r, unsigned *v)
{
	if (r->len < 2)
		return false;
	*v = (unsigned)r->p[0] << 8 | r->p[1];
	r->p += 2, r->len -= 2;
	return true;
}

static bool rd_skip(struct reader *r, size_t n)
{
	if (r->len < n)
		return false;
	r->p += n, r->len -= n;
	return true;
}

/* A vector: a @width-byte length then that many bytes, which become @ret. */
static bool rd_vec(struct reader *r, unsigned width, struct reader *ret)
{
	unsigned n;

	if (!(width == 1 ? rd_u8(r, &n) : rd_u16(r, &n)) || r->len < n)
		return false;
	*ret = (struct reader){ r->p, n };
	r->p += n, r->len -= n;
	return true;
}

static int parse_server_name(struct reader ext, char **ret, const char **why)
{
	struct reader list, name;
	unsigned type;

	if (!rd_vec(&ext, 2, &list) || ext.len != 0)
		return fail(why, "malformed server_name extension", -EBADMSG);
	if (list.len == 0)
		return fail(why, "empty server_name extension", -EBADMSG);
	if (!rd_u8(&list, &type) || !rd_vec(&list, 2, &name))
		return fail(why, "malformed server_name extension", -EBADMSG);
	if (list.len != 0)
		return fail(why, "more than one name in server_name", -EBADMSG);
	if (type != 0)
		return fail(why, "server_name of a type other than host_name", -EBADMSG);
	if (name.len == 0)
		return fail(why, "empty server_name", -EBADMSG);
	if (name.len > PEEK_SNI_MAX)
		return fail(why, "server_name longer than 255 bytes", -EBADMSG);
	for (size_t i = 0; i < name.len; i++) {
		if (name.p[i] == 0)
			return fail(why, "NUL byte in server_name", -EBADMSG);
		if (name.p[i] <= 0x20 || name.p[i] >= 0x7f)
			return fail(why, "space, control or non-ASCII byte in server_name",
				    -EBADMSG);
	}
	*ret = xstrndup((const char *)name.p, name.len);
	return 0;
}

static int parse_alpn(struct reader ext, char ***ret, const char **why)
{
	_cleanup_strv_free_ char **l = NULL;
	struct reader list, name;
	size_t n = 0;

	if (!rd_vec(&ext, 2, &list) || ext.len != 0 || list.len == 0)
		return fail(why, "malformed ALPN extension", -EBADMSG);
	while (list.len > 0) {
		if (!rd_vec(&list, 1, &name) || name.len == 0)
			return fail(why, "malformed ALPN extension", -EBADMSG);
		if (memchr(name.p, 0, name.len))
			return fail(why, "NUL byte in an ALPN protocol name", -EBADMSG);
		if (++n > PEEK_ALPN_MAX)
			return fail(why, "too many ALPN protocols", -E2BIG);
		strv_push(&l, xstrndup((const char *)name.p, name.len));
	}
	*ret = TAKE_PTR(l);
	return 0;
}

static int parse_supported_versions(struct reader ext, bool *ret_tls13, const char **why)
{
	struct reader list;
	bool tls13 = false;

	if (!rd_vec(&ext, 1, &list) || ext.len != 0 || list.len == 0 || list.len % 2)
		return fail(why, "malformed supported_versions extension", -EBADMSG);
	while (list.len > 0) {
		unsigned v;

		(void)rd_u16(&list, &v);
		if (v == 0x0304)
			tls13 = true;
	}
	*ret_tls13 = tls13;
	return 0;
}

/* The body of a ClientHello handshake message (after type and length). */
static int parse_client_hello(struct reader m, struct peek_result *res, const char **why)
{
	_cleanup_free_ char *sni = NULL;
	_cleanup_strv_free_ char **alpn = NULL;
	struct reader v, exts;
	unsigned version, x;
	bool tls13 = false, seen_psk = false, has_null = false;
	uint8_t seen[65536 / 8] = {};
	int r;

	if (!rd_u16(&m, &version))
		return fail(why, "truncated ClientHello", -EBADMSG);
	if (version >> 8 != 3)
		return fail(why, "ClientHello of an unknown protocol version", -EBADMSG);
	if (version < 0x0301)
		return fail(why, "SSL 3.0 ClientHello", -EPROTONOSUPPORT);
	if (version > 0x0304)
		return fail(why, "ClientHello of an unknown protocol version", -EBADMSG);
	if (!rd_skip(&m, 32))
		return fail(why, "truncated ClientHello", -EBADMSG);
	if (!rd_vec(&m, 1, &v) || v.len > 32)
		return fail(why, "malformed session id in ClientHello", -EBADMSG);
	if (!rd_vec(&m, 2, &v) || v.len < 2 || v.len % 2)
		return fail(why, "malformed cipher suites in ClientHello", -EBADMSG);
	if (!rd_vec(&m, 1, &v) || v.len < 1)
		return fail(why, "malformed compression methods in ClientHello", -EBADMSG);
	while (rd_u8(&v, &x))
		has_null = has_null || x == 0;
	if (!has_null)
		return fail(why, "ClientHello without the null compression method", -EBADMSG);

	if (m.len > 0) {
		if (!rd_vec(&m, 2, &exts) || m.len != 0)
			return fail(why, "malformed extensions in ClientHello", -EBADMSG);
		while (exts.len > 0) {
			struct reader data;
			unsigned type;

			if (!rd_u16(&exts, &type) || !rd_vec(&exts, 2, &data))
				return fail(why, "malformed extension in ClientHello", -EBADMSG);
			if (seen[type / 8] & (1u << (type % 8)))
				return fail(why, "duplicate extension in ClientHello", -EBADMSG);
			seen[type / 8] |= (uint8_t)(1u << (type % 8));
			if (seen_psk)
				return fail(why, "pre_shared_key is not the last extension",
					    -EBADMSG);

			switch (type) {
			case TLS_EXT_SERVER_NAME:
				r = parse_server_name(data, &sni, why);
				break;
			case TLS_EXT_ALPN:
				r = parse_alpn(data, &alpn, why);
				break;
			case TLS_EXT_SUPPORTED_VERSIONS:
				r = parse_supported_versions(data, &tls13, why);
				break;
			case TLS_EXT_PRE_SHARED_KEY:
				seen_psk = true;
				r = 0;
				break;
			case TLS_EXT_ECH:
			case TLS_EXT_ESNI:
				r = fail(why, "encrypted ClientHello hides the server name",
					 -EPROTONOSUPPORT);
				break;
			default:
				r = 0;
			}
			if (r < 0)
				return r;
		}
	}

	res->sni = TAKE_PTR(sni);
	res->alpn = TAKE_PTR(alpn);
	res->tls_legacy_version = (uint16_t)version;
	res->tls13 = tls13;
	return 0;
}

/*
 * Join the handshake fragments of the records at the start of @buf until a whole ClientHello
 * is there, then parse it. @buf[0] is 22.
 */
static int classify_tls(const uint8_t *buf, size_t len, struct peek_result *res, const char **why)
{
	_cleanup_free_ uint8_t *msg = NULL;
	size_t off = 0, have = 0, want = SIZE_MAX;

	msg = xmalloc(MIN(len, (size_t)PEEK_HELLO_MAX));
	for (;;) {
		size_t rlen, avail, take;

		/* the record header, checked byte by byte as it arrives */
		if (off < len && buf[off] != TLS_RECORD_HANDSHAKE)
			return fail(why, "TLS record other than handshake inside the ClientHello",
				    -EBADMSG);
		if (off + 1 < len && buf[off + 1] != 3)
			return fail(why, "TLS record of an unknown version", -EBADMSG);
		if (off + 2 < len && (buf[off + 2] < 1 || buf[off + 2] > 4))
			return fail(why, "TLS record of an unsupported version",
				    buf[off + 2] == 0 ? -EPROTONOSUPPORT : -EBADMSG);
		if (off + 5 > len) {
			res->kind = PEEK_NEED_MORE;
			return 0;
		}
		rlen = (size_t)buf[off + 3] << 8 | buf[off + 4];
		if (rlen == 0)
			return fail(why, "empty TLS handshake record", -EBADMSG);
		if (rlen > TLS_RECORD_MAX)
			return fail(why, "TLS record longer than 2^14 bytes", -EBADMSG);
		off += 5;
		avail = MIN(rlen, len - off);

		/* append the fragment, up to the end of the hello once its length is known */
		take = avail;
		if (want != SIZE_MAX)
			take = MIN(take, want - have);
		if (have + take > PEEK_HELLO_MAX)
			take = PEEK_HELLO_MAX -
			       have; /* @msg's size; the length check below fails */
		memcpy(msg + have, buf + off, take);
		have += take;
		if (want == SIZE_MAX && have >= 1 && msg[0] != TLS_HANDSHAKE_CLIENT_HELLO)
			return fail(why, "TLS handshake that is not a ClientHello", -EBADMSG);
		if (want == SIZE_MAX && have >= 4) {
			size_t hlen = (size_t)msg[1] << 16 | (size_t)msg[2] << 8 | msg[3];

			if (hlen + 4 > PEEK_HELLO_MAX)
				return fail(why, "ClientHello too large", -E2BIG);
			want = hlen + 4;
			if (have > want) {
				take -= have - want;
				have = want;
			}
		}
		if (want != SIZE_MAX && have == want) {
			int r;

			r = parse_client_hello((struct reader){ msg + 4, want - 4 }, res, why);
			if (r < 0)
				return r;
			res->kind = PEEK_TLS;
			res->consumed = off + take;
			return 0;
		}
		if (avail < rlen) {
			res->kind = PEEK_NEED_MORE;
			return 0;
		}
		off += rlen;
	}
}

/* Methods whose request line makes a connection HTTP at first sight */
static const char *const known_methods[] = {
	"GET",   "HEAD",   "POST",     "PUT",       "DELETE",     "CONNECT", "OPTIONS",
	"TRACE", "PATCH",  "PROPFIND", "PROPPATCH", "MKCOL",      "COPY",    "MOVE",
	"LOCK",  "UNLOCK", "REPORT",   "SEARCH",    "MKCALENDAR",
};

static bool is_tchar(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

/* 1: @s is a known method; 0: a proper prefix of one; -1: neither */
static int known_method(const uint8_t *s, size_t n)
{
	int best = -1;

	for (size_t i = 0; i < ELEMENTSOF(known_methods); i++) {
		size_t m = strlen(known_methods[i]);

		if (n <= m && memcmp(s, known_methods[i], n) == 0)
			best = MAX(best, n == m ? 1 : 0);
	}
	return best;
}

static bool has_http_version(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i + 6 <= n; i++)
		if (s[i] == ' ' && strncasecmp((const char *)s + i + 1, "HTTP/", 5) == 0)
			return true;
	return false;
}

/* Return 1 when @buf should be parsed as HTTP, 0 when it is OTHER, -EAGAIN when unsure. */
static int looks_like_http(const uint8_t *buf, size_t len)
{
	size_t tok = 0, eol;

	if (buf[0] == '\r' || buf[0] == '\n')
		return 1;
	if (!is_tchar(buf[0]))
		return 0;
	while (tok < len && is_tchar(buf[tok]))
		tok++;
	if (tok < len && buf[tok] == ' ' && known_method(buf, tok) == 1)
		return 1;
	if (tok == len && known_method(buf, tok) >= 0)
		return -EAGAIN;
	for (eol = 0; eol < len && buf[eol] != '\n'; eol++)
		if ((buf[eol] < 0x20 && buf[eol] != '\t' && buf[eol] != '\r') || buf[eol] == 0x7f)
			return 0;
	if (has_http_version(buf, eol))
		return 1;
	return eol < len ? 0 : -EAGAIN;
}

static bool is_sslv2_hello(const uint8_t *buf, size_t len)
{
	return len >= 5 && (buf[0] & 0x80) && buf[2] == 1 &&
	       ((buf[3] == 0 && buf[4] == 2) || (buf[3] == 3 && buf[4] <= 4));
}

int peek_classify(const uint8_t *buf, size_t len, struct peek_result *ret, const char **reterr_why)
{
	struct peek_result res = { .kind = PEEK_NEED_MORE, .guess = PEEK_OTHER };
	const char *why = NULL;
	int r = 0;

	if (!buf || !ret)
		return -EINVAL;
	if (len == 0)
		goto done;

	if (buf[0] == TLS_RECORD_HANDSHAKE) {
		res.guess = PEEK_TLS;
		r = classify_tls(buf, len, &res, &why);
		goto done;
	}
	if (buf[0] & 0x80) {
		if (is_sslv2_hello(buf, len)) {
			r = fail(&why, "SSLv2-style ClientHello", -EPROTONOSUPPORT);
			goto done;
		}
		if (len < 5 && (len < 3 || buf[2] == 1))
			goto done; /* NEED_MORE, guess OTHER */
		res.kind = res.guess = PEEK_OTHER;
		goto done;
	}

	r = looks_like_http(buf, len);
	if (r == 0) {
		res.kind = res.guess = PEEK_OTHER;
		goto done;
	}
	res.guess = PEEK_HTTP;
	if (r == -EAGAIN) {
		r = 0;
		goto done;
	}
	r = http1_parse_head((const char *)buf, len, &ret->http, &why);
	if (r == -EAGAIN) {
		r = 0;
		goto done;
	}
	if (r >= 0) {
		res.kind = PEEK_HTTP;
		res.consumed = (size_t)r;
		r = 0;
	}

done:
	if (r < 0) {
		peek_result_done(&res);
		if (reterr_why)
			*reterr_why = why ? why : "malformed request";
		return r;
	}
	if (res.kind != PEEK_NEED_MORE)
		res.guess = res.kind;
	if (res.kind != PEEK_HTTP)
		memset(&ret->http, 0, offsetof(struct http_head, fields));
	ret->kind = res.kind;
	ret->guess = res.guess;
	ret->consumed = res.consumed;
	ret->sni = res.sni;
	ret->alpn = res.alpn;
	ret->tls_legacy_version = res.tls_legacy_version;
	ret->tls13 = res.tls13;
	return res.kind;
}

void peek_result_done(struct peek_result *r)
{
	if (!r)
		return;
	free(r->sni);
	r->sni = NULL;
	r->alpn = strv_free(r->alpn);
}

bool peek_sni_matches(const struct peek_result *r, const char *name)
{
	if (!r || !r->sni || !name)
		return false;
	return http1_name_equal(r->sni, strlen(r->sni), name, strlen(name));
}
