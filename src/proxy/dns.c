/* SPDX-License-Identifier: MIT */
/*
 * dns.c - the sandbox's DNS server: strict query parser, response builders, policy glue
 *
 * DOC: Theory of Operation
 * Inside a sandbox, /etc/resolv.conf names paddock's resolver: a UDP socket in the sandbox's
 * network namespace whose fd the supervisor's loop serves. Each datagram goes through
 * dns_server_handle(), which never looks anything up: an allowed name gets a fake address from
 * 198.18.0.0/15 (fakeip.c), a denied one NXDOMAIN. Nothing a sandbox puts in a query ever
 * leaves the host, so DNS cannot carry data out (THREATS.md 3), and a connection to a fake
 * address tells the proxy which name it was for (docs/design/dns.md).
 *
 * The parser accepts only what a stub resolver sends: one question, no records besides an
 * EDNS OPT, plain labels of [A-Za-z0-9_-] (no compression pointers: a query has nothing to
 * point back to), the IN class, no trailing bytes. Structural faults are checked before
 * refusals, so a packet that is both malformed and odd is answered FORMERR. The decoded name
 * keeps the case the client sent (resolvers may randomise it, draft-vixie-dnsext-0x20); the
 * question is echoed byte for byte, and dns_server_handle() lowercases the name before the
 * policy and the fake-address table see it, so "GitHub.com" and "github.com" share an address.
 *
 * Responses are built into the caller's buffer through a writer that stops at the buffer's
 * end and at the size the client can receive: 512 bytes, or with EDNS the smaller of the
 * client's announced size and 1232 (the DNS flag day 2020 value). The largest response
 * (question, one A record, OPT) is under 300 bytes, so the limits only bite on a small @cap.
 * Answers carry AA (this server is the authority for the sandbox's view) and RA, copy RD
 * and CD, and use a fixed TTL of 60 s; negative answers carry no SOA, so they are not cached.
 */
#include <errno.h>
#include <string.h>

#include "common/macro.h"
#include "dns.h"
#include "fakeip.h"

#define DNS_OPT_DO 0x8000 /* the DNSSEC OK bit in an OPT record's flags */

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool is_name_byte(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/*
 * Walk the wire-format name at *@off. On success *@off is just past the root label, @out (if
 * not NULL, DNS_NAME_MAX + 1 bytes) holds the text form and *@ret_odd says whether a byte
 * outside [A-Za-z0-9_-] occurs. -EBADMSG for a truncated name, a pointer or an extended label
 * type, or a name longer than 253 bytes in text form (255 on the wire).
 */
static int name_decode(const uint8_t *buf, size_t len, size_t *off, char *out, size_t *ret_len,
		       bool *ret_odd)
{
	size_t o = *off, n = 0;
	bool odd = false;

	for (;;) {
		uint8_t l;

		if (o >= len)
			return -EBADMSG;
		l = buf[o++];
		if (l == 0)
			break;
		if (l > 63) /* 0xc0: compression pointer; 0x40, 0x80: extended or reserved */
			return -EBADMSG;
		if (l > len - o)
			return -EBADMSG;
		if (n + (n > 0) + l > DNS_NAME_MAX)
			return -EBADMSG;
		if (n > 0 && out)
			out[n] = '.';
		n += n > 0;
		for (size_t i = 0; i < l; i++) {
			if (!is_name_byte(buf[o + i]))
				odd = true;
			if (out)
				out[n + i] = (char)buf[o + i];
		}
		n += l;
		o += l;
	}
	if (out)
		out[n] = '\0';
	*off = o;
	if (ret_len)
		*ret_len = n;
	if (ret_odd)
		*ret_odd = odd;
	return 0;
}

/* The additional section's one record: an OPT on the root name with well-formed options. */
static int opt_parse(const uint8_t *buf, size_t len, size_t *off, struct dns_query *q)
{
	size_t o = *off;
	uint16_t rdlen;

	/* root name (1), type (2), class = UDP size (2), TTL = ext rcode, version, flags (4) */
	if (len - o < 11 || buf[o] != 0)
		return -EBADMSG;
	if (get_u16(buf + o + 1) != DNS_TYPE_OPT)
		return -EBADMSG;
	q->edns = true;
	q->edns_udp_size = MAX(get_u16(buf + o + 3), (uint16_t)DNS_UDP_MAX);
	if (buf[o + 5] != 0) /* an extended rcode has no meaning in a query */
		return -EBADMSG;
	q->edns_version = buf[o + 6];
	q->edns_do = get_u16(buf + o + 7) & DNS_OPT_DO;
	rdlen = get_u16(buf + o + 9);
	o += 11;
	if (rdlen > len - o)
		return -EBADMSG;
	/* options: code (2), length (2), data; each must end inside the record */
	for (size_t end = o + rdlen; o < end;) {
		uint16_t olen;

		if (end - o < 4)
			return -EBADMSG;
		olen = get_u16(buf + o + 2);
		o += 4;
		if (olen > end - o)
			return -EBADMSG;
		o += olen;
	}
	*off = o;
	return 0;
}

int dns_parse_query(const uint8_t *buf, size_t len, struct dns_query *ret)
{
	struct dns_query q = {};
	size_t off = DNS_HEADER_SIZE;
	bool odd;
	int r;

	if (!buf || len < DNS_HEADER_SIZE)
		return -EMSGSIZE;
	q.id = get_u16(buf);
	q.flags = get_u16(buf + 2);
	if (q.flags & DNS_FLAG_QR)
		return -ENOMSG;
	if (q.flags & DNS_FLAG_OPCODE_MASK)
		return -EOPNOTSUPP;
	if (q.flags & (DNS_FLAG_AA | DNS_FLAG_TC | DNS_FLAG_RA | DNS_FLAG_Z | DNS_FLAG_RCODE_MASK))
		return -EBADMSG;
	if (get_u16(buf + 4) != 1 || get_u16(buf + 6) != 0 || get_u16(buf + 8) != 0 ||
	    get_u16(buf + 10) > 1)
		return -EBADMSG;

	r = name_decode(buf, len, &off, q.name, &q.name_len, &odd);
	if (r < 0)
		return r;
	if (len - off < 4)
		return -EBADMSG;
	q.qtype = get_u16(buf + off);
	q.qclass = get_u16(buf + off + 2);
	off += 4;
	q.question_len = off - DNS_HEADER_SIZE;
	memcpy(q.question, buf + DNS_HEADER_SIZE, q.question_len);

	if (get_u16(buf + 10) == 1) {
		r = opt_parse(buf, len, &off, &q);
		if (r < 0)
			return r;
	}
	if (off != len)
		return -EBADMSG;

	if (odd || q.qclass != DNS_CLASS_IN)
		return -EINVAL;
	*ret = q;
	return 0;
}

int dns_rcode_from_error(int error)
{
	switch (error) {
	case -EOPNOTSUPP:
		return DNS_RCODE_NOTIMP;
	case -EINVAL:
		return DNS_RCODE_REFUSED;
	case -EBADMSG:
		return DNS_RCODE_FORMERR;
	default:
		return -1;
	}
}

/*
 * struct writer - appends to a caller buffer, never past @cap; a write that does not fit sets
 * @overflow and writes nothing, so the caller checks once at the end.
 */
struct writer {
	uint8_t *buf;
	size_t cap;
	size_t off;
	bool overflow;
};

static void put_bytes(struct writer *w, const void *p, size_t n)
{
	if (w->overflow || n > w->cap - w->off) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->off, p, n);
	w->off += n;
}

static void put_u16(struct writer *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put_bytes(w, b, sizeof(b));
}

static void put_u32(struct writer *w, uint32_t v)
{
	put_u16(w, (uint16_t)(v >> 16));
	put_u16(w, (uint16_t)v);
}

static int writer_finish(const struct writer *w)
{
	return w->overflow ? -ENOBUFS : (int)w->off;
}

/*
 * The response to a parsed query: header, the question as sent, at most one A record, and an
 * OPT record when the query had one. @rcode is 0-4095; bits above the low four go in the OPT.
 */
static int build_response(const struct dns_query *q, int rcode, bool aa, const struct in_addr *a,
			  uint8_t *buf, size_t cap)
{
	struct writer w = { .buf = buf };
	uint16_t flags;

	if (!q || !buf || rcode < 0 || rcode > 4095 || (rcode > 15 && !q->edns))
		return -EINVAL;
	if (q->question_len < 5 || q->question_len > sizeof(q->question))
		return -EINVAL;
	w.cap = MIN(cap, q->edns ? MIN((size_t)q->edns_udp_size, (size_t)DNS_EDNS_UDP_SIZE)
				 : (size_t)DNS_UDP_MAX);
	flags = DNS_FLAG_QR | DNS_FLAG_RA | (q->flags & (DNS_FLAG_RD | DNS_FLAG_CD)) |
		(uint16_t)(rcode & DNS_FLAG_RCODE_MASK);
	if (aa)
		flags |= DNS_FLAG_AA;

	put_u16(&w, q->id);
	put_u16(&w, flags);
	put_u16(&w, 1);         /* QDCOUNT */
	put_u16(&w, a ? 1 : 0); /* ANCOUNT */
	put_u16(&w, 0);         /* NSCOUNT */
	put_u16(&w, q->edns ? 1 : 0);
	put_bytes(&w, q->question, q->question_len);
	if (a) {
		put_u16(&w, 0xc000 | DNS_HEADER_SIZE); /* the name: a pointer to the question's */
		put_u16(&w, DNS_TYPE_A);
		put_u16(&w, DNS_CLASS_IN);
		put_u32(&w, DNS_TTL);
		put_u16(&w, sizeof(a->s_addr));
		put_bytes(&w, &a->s_addr, sizeof(a->s_addr)); /* already in network order */
	}
	if (q->edns) {
		/* root name; type OPT; our UDP size; extended rcode, version 0; flags (DO copied,
		 * RFC 3225); no options */
		uint8_t opt[11] = { 0,
				    0,
				    DNS_TYPE_OPT,
				    DNS_EDNS_UDP_SIZE >> 8,
				    DNS_EDNS_UDP_SIZE & 0xff,
				    (uint8_t)(rcode >> 4),
				    0,
				    q->edns_do ? 0x80 : 0,
				    0,
				    0,
				    0 };

		put_bytes(&w, opt, sizeof(opt));
	}
	return writer_finish(&w);
}

int dns_build_a(const struct dns_query *q, struct in_addr addr, uint8_t *buf, size_t cap)
{
	return build_response(q, DNS_RCODE_NOERROR, true, &addr, buf, cap);
}

int dns_build_empty(const struct dns_query *q, uint8_t *buf, size_t cap)
{
	return build_response(q, DNS_RCODE_NOERROR, true, NULL, buf, cap);
}

int dns_build_error(const struct dns_query *q, int rcode, uint8_t *buf, size_t cap)
{
	return build_response(q, rcode, rcode == DNS_RCODE_NXDOMAIN, NULL, buf, cap);
}

int dns_build_reject(const uint8_t *query, size_t qlen, int rcode, uint8_t *buf, size_t cap)
{
	struct writer w = { .buf = buf, .cap = MIN(cap, (size_t)DNS_UDP_MAX) };
	size_t off = DNS_HEADER_SIZE;
	bool echo = false;
	uint16_t flags;

	if (!query || qlen < DNS_HEADER_SIZE)
		return 0;
	flags = get_u16(query + 2);
	if (flags & DNS_FLAG_QR)
		return 0;
	if (!buf || rcode < 0 || rcode > 15)
		return -EINVAL;
	if (get_u16(query + 4) == 1 && name_decode(query, qlen, &off, NULL, NULL, NULL) >= 0 &&
	    qlen - off >= 4) {
		off += 4;
		echo = true;
	}

	put_bytes(&w, query, 2); /* ID */
	put_u16(&w, DNS_FLAG_QR | DNS_FLAG_RA |
			    (flags & (DNS_FLAG_OPCODE_MASK | DNS_FLAG_RD | DNS_FLAG_CD)) |
			    (uint16_t)rcode);
	put_u16(&w, echo ? 1 : 0);
	put_u16(&w, 0);
	put_u16(&w, 0);
	put_u16(&w, 0);
	if (echo)
		put_bytes(&w, query + DNS_HEADER_SIZE, off - DNS_HEADER_SIZE);
	return writer_finish(&w);
}

static void ascii_lower(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] - 'A' + 'a') : src[i];
	dst[n] = '\0';
}

size_t dns_server_handle(const uint8_t *q, size_t qlen, uint8_t *resp, size_t cap,
			 struct fakeip *fip, int (*allow)(void *arg, const char *name), void *arg)
{
	struct dns_query query;
	char name[DNS_NAME_MAX + 1];
	struct in_addr addr;
	int r, rcode;

	r = dns_parse_query(q, qlen, &query);
	if (r < 0) {
		rcode = dns_rcode_from_error(r);
		if (rcode < 0)
			return 0;
		r = dns_build_reject(q, qlen, rcode, resp, cap);
		return r > 0 ? (size_t)r : 0;
	}

	if (query.edns && query.edns_version != 0)
		r = dns_build_error(&query, DNS_RCODE_BADVERS, resp, cap);
	else if (query.name_len == 0 || (query.qtype != DNS_TYPE_A && query.qtype != DNS_TYPE_AAAA))
		r = dns_build_error(&query, DNS_RCODE_REFUSED, resp, cap);
	else {
		ascii_lower(name, query.name, query.name_len);
		r = allow ? allow(arg, name) : 0;
		if (r < 0)
			r = dns_build_error(&query, DNS_RCODE_SERVFAIL, resp, cap);
		else if (r == 0)
			r = dns_build_error(&query, DNS_RCODE_NXDOMAIN, resp, cap);
		else if (query.qtype == DNS_TYPE_AAAA)
			r = dns_build_empty(&query, resp, cap);
		else if (!fip || fakeip_get(fip, name, &addr) < 0)
			r = dns_build_error(&query, DNS_RCODE_REFUSED, resp, cap);
		else
			r = dns_build_a(&query, addr, resp, cap);
	}
	return r > 0 ? (size_t)r : 0;
}
