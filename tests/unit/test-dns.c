/* SPDX-License-Identifier: MIT */
/*
 * test-dns.c - the sandbox's DNS server: query parser, response builders, dns_server_handle()
 *
 * Packets are written in a small notation (see pkt()): hex bytes, 'text', and name:a.b for a
 * wire-format name, so that each table row shows the one field it breaks. The decoded name
 * keeps the client's case; dns_server_handle() lowercases it for the policy and the fake
 * address table, and echoes the question as sent.
 */
#include <arpa/inet.h>
#include <ctype.h>

#include "common/macro.h"
#include "proxy/dns.h"
#include "proxy/fakeip.h"
#include "tap.h"

/*
 * pkt() - assemble a packet from space-separated tokens: hex digits (an even number),
 * 'text' (bytes as written, no spaces inside), name:LABEL.LABEL (length-prefixed labels and
 * the root label; name: alone is the root). Aborts the test on a bad spec.
 */
static size_t pkt(const char *spec, uint8_t *out, size_t cap)
{
	size_t n = 0;
	const char *p = spec;

	while (*p) {
		const char *end;

		if (*p == ' ') {
			p++;
			continue;
		}
		end = strchr(p, ' ');
		if (!end)
			end = p + strlen(p);
		if (*p == '\'') {
			for (const char *c = p + 1; c < end - 1; c++)
				out[n++] = (uint8_t)*c;
		} else if (strncmp(p, "name:", 5) == 0) {
			const char *l = p + 5;

			while (l < end) {
				const char *dot = memchr(l, '.', (size_t)(end - l));
				size_t len = (size_t)((dot ? dot : end) - l);

				out[n++] = (uint8_t)len;
				memcpy(out + n, l, len);
				n += len;
				l += len + 1;
			}
			out[n++] = 0;
		} else {
			for (const char *c = p; c < end; c += 2) {
				unsigned v;

				if (end - c < 2 || sscanf(c, "%2x", &v) != 1) {
					printf("# bad spec '%s'\n", spec);
					abort();
				}
				out[n++] = (uint8_t)v;
			}
		}
		if (n > cap)
			abort();
		p = end;
	}
	return n;
}

/* A query header: ID 0x1234, RD, one question */
#define HDR        "1234 0100 0001 0000 0000 0000 "
#define HDR_EDNS   "1234 0100 0001 0000 0000 0001 "
#define Q(name, t) "name:" name " " t " 0001"
#define OPT(size)  " 00 0029 " size " 00 00 0000 0000"
#define T_A        "0001"
#define T_AAAA     "001c"

static int policy(void *arg, const char *name)
{
	size_t n = strlen(name);

	(*(int *)arg)++;
	if (streq(name, "error.test"))
		return -EIO;
	if (n >= 12 && streq(name + n - 12, "allowed.test"))
		return 1;
	return streq(name, "example.com") || streq(name, "_svc.example.com");
}

struct response {
	uint16_t id, flags, qd, an, ns, ar;
	int rcode;           /* with the OPT's extended bits */
	size_t question_len; /* bytes after the header that are the question */
	struct in_addr a;    /* the A record, if any */
	uint32_t ttl;
	bool opt;
	uint16_t opt_size;
};

/* Just enough of a response parser for what dns.c writes. */
static void parse_response(const uint8_t *b, size_t n, struct response *r)
{
	size_t off = DNS_HEADER_SIZE;

	memset(r, 0, sizeof(*r));
	if (n < DNS_HEADER_SIZE)
		TAP_FAIL("response of %zu bytes", n);
	r->id = (uint16_t)(b[0] << 8 | b[1]);
	r->flags = (uint16_t)(b[2] << 8 | b[3]);
	r->qd = (uint16_t)(b[4] << 8 | b[5]);
	r->an = (uint16_t)(b[6] << 8 | b[7]);
	r->ns = (uint16_t)(b[8] << 8 | b[9]);
	r->ar = (uint16_t)(b[10] << 8 | b[11]);
	r->rcode = r->flags & DNS_FLAG_RCODE_MASK;
	if (r->qd == 1) {
		while (off < n && b[off] != 0)
			off += b[off] + 1u;
		off += 5;
		r->question_len = off - DNS_HEADER_SIZE;
	}
	if (r->an == 1) {
		/* pointer to the question's name, type A, class IN, TTL, length 4, address */
		if (off + 16 > n || b[off] != 0xc0 || b[off + 1] != 0x0c || b[off + 3] != 1 ||
		    b[off + 5] != 1 || b[off + 10] != 0 || b[off + 11] != 4)
			TAP_FAIL("bad A record");
		r->ttl = (uint32_t)b[off + 6] << 24 | (uint32_t)b[off + 7] << 16 |
			 (uint32_t)b[off + 8] << 8 | b[off + 9];
		memcpy(&r->a.s_addr, b + off + 12, 4);
		off += 16;
	}
	if (r->ar == 1) {
		if (off + 11 > n || b[off] != 0 || b[off + 2] != 41)
			TAP_FAIL("bad OPT record");
		r->opt = true;
		r->opt_size = (uint16_t)(b[off + 3] << 8 | b[off + 4]);
		r->rcode |= b[off + 5] << 4;
		off += 11;
	}
	if (off != n)
		TAP_FAIL("response has %zu bytes, parsed %zu", n, off);
}

enum {
	DROP = -1,
};

struct dns_case {
	const char *what;
	const char *spec;
	int parse;        /* dns_parse_query(): 0 or -errno */
	const char *name; /* the decoded name when parse == 0 */
	int rcode;        /* dns_server_handle(): the response code, or DROP */
	int answers;      /* ANCOUNT */
	bool echo;        /* the question is echoed */
	bool asked;       /* the policy was consulted */
};

static const struct dns_case cases[] = {
	/* valid queries */
	{ "A, allowed", HDR Q("example.com", T_A), 0, "example.com", 0, 1, true, true },
	{ "AAAA, allowed: NODATA", HDR Q("example.com", T_AAAA), 0, "example.com", 0, 0, true,
	  true },
	{ "A, mixed case kept, answered", HDR Q("ExAmPle.COM", T_A), 0, "ExAmPle.COM", 0, 1, true,
	  true },
	{ "A, denied: NXDOMAIN", HDR Q("exfil-4142434445.evil.test", T_A), 0,
	  "exfil-4142434445.evil.test", DNS_RCODE_NXDOMAIN, 0, true, true },
	{ "AAAA, denied: NXDOMAIN", HDR Q("evil.test", T_AAAA), 0, "evil.test", DNS_RCODE_NXDOMAIN,
	  0, true, true },
	{ "A, policy error: SERVFAIL", HDR Q("error.test", T_A), 0, "error.test",
	  DNS_RCODE_SERVFAIL, 0, true, true },
	{ "single label", HDR Q("localhost", T_A), 0, "localhost", DNS_RCODE_NXDOMAIN, 0, true,
	  true },
	{ "underscore passes the parser", HDR Q("_svc.example.com", T_A), 0, "_svc.example.com", 0,
	  1, true, true },
	{ "RD clear", "1234 0000 0001 0000 0000 0000 " Q("example.com", T_A), 0, "example.com", 0,
	  1, true, true },
	{ "AD and CD set", "1234 0130 0001 0000 0000 0000 " Q("example.com", T_A), 0, "example.com",
	  0, 1, true, true },
	{ "label of 63",
	  HDR Q("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.allowed.test",
		T_A),
	  0, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.allowed.test", 0, 1,
	  true, true },

	/* types other than A and AAAA, and the root */
	{ "MX refused", HDR Q("example.com", "000f"), 0, "example.com", DNS_RCODE_REFUSED, 0, true,
	  false },
	{ "TXT refused", HDR Q("example.com", "0010"), 0, "example.com", DNS_RCODE_REFUSED, 0, true,
	  false },
	{ "ANY refused", HDR Q("example.com", "00ff"), 0, "example.com", DNS_RCODE_REFUSED, 0, true,
	  false },
	{ "HTTPS refused", HDR Q("example.com", "0041"), 0, "example.com", DNS_RCODE_REFUSED, 0,
	  true, false },
	{ "PTR refused", HDR Q("1.0.18.198.in-addr.arpa", "000c"), 0, "1.0.18.198.in-addr.arpa",
	  DNS_RCODE_REFUSED, 0, true, false },
	{ "AXFR refused", HDR Q("example.com", "00fc"), 0, "example.com", DNS_RCODE_REFUSED, 0,
	  true, false },
	{ "root refused", HDR "00 0001 0001", 0, "", DNS_RCODE_REFUSED, 0, true, false },

	/* header fields */
	{ "QR set: a response, dropped", "1234 8100 0001 0000 0000 0000 " Q("example.com", T_A),
	  -ENOMSG, NULL, DROP },
	{ "opcode IQUERY", "1234 0900 0001 0000 0000 0000 " Q("example.com", T_A), -EOPNOTSUPP,
	  NULL, DNS_RCODE_NOTIMP, 0, true },
	{ "opcode STATUS", "1234 1100 0001 0000 0000 0000 " Q("example.com", T_A), -EOPNOTSUPP,
	  NULL, DNS_RCODE_NOTIMP, 0, true },
	{ "opcode NOTIFY", "1234 2000 0001 0000 0000 0000 " Q("example.com", "0006"), -EOPNOTSUPP,
	  NULL, DNS_RCODE_NOTIMP, 0, true },
	{ "opcode UPDATE", "1234 2800 0001 0000 0000 0000 " Q("example.com", "0006"), -EOPNOTSUPP,
	  NULL, DNS_RCODE_NOTIMP, 0, true },
	{ "AA set", "1234 0500 0001 0000 0000 0000 " Q("example.com", T_A), -EBADMSG, NULL,
	  DNS_RCODE_FORMERR, 0, true },
	{ "TC set", "1234 0300 0001 0000 0000 0000 " Q("example.com", T_A), -EBADMSG, NULL,
	  DNS_RCODE_FORMERR, 0, true },
	{ "RA set", "1234 0180 0001 0000 0000 0000 " Q("example.com", T_A), -EBADMSG, NULL,
	  DNS_RCODE_FORMERR, 0, true },
	{ "Z set", "1234 0140 0001 0000 0000 0000 " Q("example.com", T_A), -EBADMSG, NULL,
	  DNS_RCODE_FORMERR, 0, true },
	{ "RCODE set", "1234 0103 0001 0000 0000 0000 " Q("example.com", T_A), -EBADMSG, NULL,
	  DNS_RCODE_FORMERR, 0, true },
	{ "QDCOUNT 0", "1234 0100 0000 0000 0000 0000", -EBADMSG, NULL, DNS_RCODE_FORMERR, 0,
	  false },
	{ "QDCOUNT 2", "1234 0100 0002 0000 0000 0000 " Q("example.com", T_A) " " Q("a.b", T_A),
	  -EBADMSG, NULL, DNS_RCODE_FORMERR, 0, false },
	{ "ANCOUNT 1",
	  "1234 0100 0001 0001 0000 0000 " Q("example.com",
					     T_A) " c00c 0001 0001 0000003c 0004 01020304",
	  -EBADMSG, NULL, DNS_RCODE_FORMERR, 0, true },
	{ "NSCOUNT 1", "1234 0100 0001 0000 0001 0000 " Q("example.com", T_A), -EBADMSG, NULL,
	  DNS_RCODE_FORMERR, 0, true },
	{ "ARCOUNT 2",
	  "1234 0100 0001 0000 0000 0002 " Q("example.com", T_A) OPT("1000") OPT("1000"), -EBADMSG,
	  NULL, DNS_RCODE_FORMERR, 0, true },

	/* names */
	{ "compression pointer as the name", HDR "c00c 0001 0001", -EBADMSG, NULL,
	  DNS_RCODE_FORMERR, 0, false },
	{ "compression pointer after a label", HDR "07 'example' c00c 0001 0001", -EBADMSG, NULL,
	  DNS_RCODE_FORMERR, 0, false },
	{ "extended label type 0x40", HDR "41 00 0001 0001", -EBADMSG, NULL, DNS_RCODE_FORMERR, 0,
	  false },
	{ "reserved label type 0x80", HDR "80 00 0001 0001", -EBADMSG, NULL, DNS_RCODE_FORMERR, 0,
	  false },
	{ "label of 64",
	  HDR Q("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test", T_A),
	  -EBADMSG, NULL, DNS_RCODE_FORMERR, 0, false },
	{ "root label in the middle", HDR "01 'a' 00 01 'b' 00 0001 0001", -EBADMSG, NULL,
	  DNS_RCODE_FORMERR, 0, true },
	{ "NUL byte in a label", HDR "03 'a' 00 'b' 04 'test' 00 0001 0001", -EINVAL, NULL,
	  DNS_RCODE_REFUSED, 0, true },
	{ "space in a label", HDR "03 'a' 20 'b' 04 'test' 00 0001 0001", -EINVAL, NULL,
	  DNS_RCODE_REFUSED, 0, true },
	{ "dot inside a label", HDR "03 'a.b' 04 'test' 00 0001 0001", -EINVAL, NULL,
	  DNS_RCODE_REFUSED, 0, true },
	{ "wildcard label", HDR "01 '*' 04 'test' 00 0001 0001", -EINVAL, NULL, DNS_RCODE_REFUSED,
	  0, true },
	{ "high byte (UTF-8)", HDR "05 'caf' c3a9 04 'test' 00 0001 0001", -EINVAL, NULL,
	  DNS_RCODE_REFUSED, 0, true },
	{ "slash and backslash", HDR "03 '/' 5c 'x' 04 'test' 00 0001 0001", -EINVAL, NULL,
	  DNS_RCODE_REFUSED, 0, true },
	{ "class CH", HDR "name:version.bind 0010 0003", -EINVAL, NULL, DNS_RCODE_REFUSED, 0,
	  true },
	{ "class ANY", HDR "name:example.com 0001 00ff", -EINVAL, NULL, DNS_RCODE_REFUSED, 0,
	  true },
	{ "NUL byte and malformed: FORMERR wins",
	  "1234 0100 0001 0001 0000 0000 03 'a' 00 'b' 00 0001 0001", -EBADMSG, NULL,
	  DNS_RCODE_FORMERR, 0, true },

	/* truncation and trailing bytes */
	{ "empty packet", "", -EMSGSIZE, NULL, DROP },
	{ "one byte", "12", -EMSGSIZE, NULL, DROP },
	{ "11 bytes", "1234 0100 0001 0000 0000 00", -EMSGSIZE, NULL, DROP },
	{ "header only", HDR, -EBADMSG, NULL, DNS_RCODE_FORMERR, 0, false },
	{ "name cut in a label", HDR "07 'exam'", -EBADMSG, NULL, DNS_RCODE_FORMERR, 0, false },
	{ "name without its root label", HDR "07 'example' 03 'com'", -EBADMSG, NULL,
	  DNS_RCODE_FORMERR, 0, false },
	{ "no type", HDR "name:example.com", -EBADMSG, NULL, DNS_RCODE_FORMERR, 0, false },
	{ "half a class", HDR "name:example.com 0001 00", -EBADMSG, NULL, DNS_RCODE_FORMERR, 0,
	  false },
	{ "a trailing byte", HDR Q("example.com", T_A) " 00", -EBADMSG, NULL, DNS_RCODE_FORMERR, 0,
	  true },

	/* EDNS */
	{ "EDNS A", HDR_EDNS Q("example.com", T_A) OPT("1000"), 0, "example.com", 0, 1, true,
	  true },
	{ "EDNS AAAA", HDR_EDNS Q("example.com", T_AAAA) OPT("04d0"), 0, "example.com", 0, 0, true,
	  true },
	{ "EDNS denied", HDR_EDNS Q("evil.test", T_A) OPT("04d0"), 0, "evil.test",
	  DNS_RCODE_NXDOMAIN, 0, true, true },
	{ "EDNS with a cookie option",
	  HDR_EDNS Q("example.com", T_A) " 00 0029 1000 00 00 0000 000c 000a 0008 0102030405060708",
	  0, "example.com", 0, 1, true, true },
	{ "EDNS size below 512", HDR_EDNS Q("example.com", T_A) OPT("0010"), 0, "example.com", 0, 1,
	  true, true },
	{ "EDNS version 1: BADVERS", HDR_EDNS Q("example.com", T_A) " 00 0029 1000 00 01 0000 0000",
	  0, "example.com", DNS_RCODE_BADVERS, 0, true, false },
	{ "EDNS extended rcode in a query",
	  HDR_EDNS Q("example.com", T_A) " 00 0029 1000 01 00 0000 0000", -EBADMSG, NULL,
	  DNS_RCODE_FORMERR, 0, true },
	{ "EDNS option overruns the record",
	  HDR_EDNS Q("example.com", T_A) " 00 0029 1000 00 00 0000 0006 000a 0004 0102", -EBADMSG,
	  NULL, DNS_RCODE_FORMERR, 0, true },
	{ "EDNS half an option header",
	  HDR_EDNS Q("example.com", T_A) " 00 0029 1000 00 00 0000 0002 000a", -EBADMSG, NULL,
	  DNS_RCODE_FORMERR, 0, true },
	{ "EDNS rdata past the packet",
	  HDR_EDNS Q("example.com", T_A) " 00 0029 1000 00 00 0000 0010 000a", -EBADMSG, NULL,
	  DNS_RCODE_FORMERR, 0, true },
	{ "OPT on a non-root name",
	  HDR_EDNS Q("example.com", T_A) " 01 'a' 00 0029 1000 00 00 0000 0000", -EBADMSG, NULL,
	  DNS_RCODE_FORMERR, 0, true },
	{ "additional record not an OPT",
	  HDR_EDNS Q("example.com", T_A) " 00 0001 0001 0000003c 0004 01020304", -EBADMSG, NULL,
	  DNS_RCODE_FORMERR, 0, true },
	{ "ARCOUNT 1, no record", HDR_EDNS Q("example.com", T_A), -EBADMSG, NULL, DNS_RCODE_FORMERR,
	  0, true },
	{ "OPT cut short", HDR_EDNS Q("example.com", T_A) " 00 0029 10", -EBADMSG, NULL,
	  DNS_RCODE_FORMERR, 0, true },
};

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

TEST(table)
{
	struct fakeip *fip = NULL;

	ASSERT_OK(fakeip_new(0, &fip));
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const struct dns_case *c = &cases[i];
		uint8_t q[1024], resp[DNS_RESPONSE_MAX + 16];
		struct dns_query parsed;
		struct response r;
		size_t qlen = pkt(c->spec, q, sizeof(q)), n;
		int asked = 0, k;

		printf("# %s\n", c->what);
		k = dns_parse_query(q, qlen, &parsed);
		ASSERT_EQ(k, c->parse);
		if (k == 0) {
			ASSERT_STREQ(parsed.name, c->name);
			ASSERT_EQ(parsed.name_len, strlen(c->name));
			ASSERT_EQ(parsed.id, 0x1234);
			ASSERT_EQ(parsed.qclass, DNS_CLASS_IN);
		} else
			ASSERT_EQ(dns_rcode_from_error(k), c->rcode);

		memset(resp, 0xa5, sizeof(resp));
		n = dns_server_handle(q, qlen, resp, DNS_RESPONSE_MAX, fip, policy, &asked);
		for (size_t j = DNS_RESPONSE_MAX; j < sizeof(resp); j++)
			ASSERT_EQ(resp[j], 0xa5);
		ASSERT_EQ(asked > 0, c->asked);
		if (c->rcode == DROP) {
			ASSERT_EQ(n, 0);
			continue;
		}
		ASSERT_TRUE(n >= DNS_HEADER_SIZE && n <= DNS_UDP_MAX);
		parse_response(resp, n, &r);
		ASSERT_EQ(r.id, 0x1234);
		ASSERT_TRUE(r.flags & DNS_FLAG_QR);
		ASSERT_TRUE(r.flags & DNS_FLAG_RA);
		ASSERT_EQ(r.flags & DNS_FLAG_RD, ((q[2] << 8 | q[3]) & DNS_FLAG_RD));
		ASSERT_EQ(r.flags & DNS_FLAG_CD, ((q[2] << 8 | q[3]) & DNS_FLAG_CD));
		ASSERT_EQ(r.flags & DNS_FLAG_OPCODE_MASK,
			  ((q[2] << 8 | q[3]) & DNS_FLAG_OPCODE_MASK));
		ASSERT_EQ(r.flags & (DNS_FLAG_TC | DNS_FLAG_Z | DNS_FLAG_AD), 0);
		ASSERT_EQ(r.rcode, c->rcode);
		ASSERT_EQ(r.an, c->answers);
		ASSERT_EQ(r.ns, 0);
		ASSERT_EQ(r.qd, c->echo ? 1 : 0);
		/* the question exactly as sent, case included */
		if (c->echo)
			ASSERT_TRUE(memcmp(resp + DNS_HEADER_SIZE, q + DNS_HEADER_SIZE,
					   r.question_len) == 0);
		/* answers and NXDOMAIN are authoritative */
		ASSERT_EQ(!!(r.flags & DNS_FLAG_AA),
			  c->parse == 0 && (c->rcode == 0 || c->rcode == DNS_RCODE_NXDOMAIN));
		/* an OPT exactly when the query had a good one */
		ASSERT_EQ(r.opt, c->parse == 0 && strstr(c->spec, " 0029 ") != NULL);
		if (r.opt)
			ASSERT_EQ(r.opt_size, DNS_EDNS_UDP_SIZE);
		if (r.an == 1) {
			char name[DNS_NAME_MAX + 1];

			ASSERT_TRUE(fakeip_in_range(r.a));
			snprintf(name, sizeof(name), "%s", c->name);
			lower(name);
			ASSERT_STREQ(fakeip_reverse(fip, r.a), name);
		}
	}
	fakeip_free(fip);
}

TEST(names_up_to_253)
{
	uint8_t q[600];
	char name[300], spec[700];
	struct dns_query parsed;
	size_t qlen;

	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
	memset(name, 'a', sizeof(name));
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	snprintf(spec, sizeof(spec), HDR "name:%s 0001 0001", name);
	qlen = pkt(spec, q, sizeof(q));
	ASSERT_EQ(qlen, DNS_HEADER_SIZE + 255 + 4);
	ASSERT_OK(dns_parse_query(q, qlen, &parsed));
	ASSERT_EQ(parsed.name_len, 253);
	ASSERT_STREQ(parsed.name, name);

	/* one more byte: 254 in text, 256 on the wire */
	name[253] = 'a';
	name[254] = '\0';
	snprintf(spec, sizeof(spec), HDR "name:%s 0001 0001", name);
	qlen = pkt(spec, q, sizeof(q));
	ASSERT_ERR(dns_parse_query(q, qlen, &parsed), EBADMSG);

	/* many short labels: "a.a.a...." of 255 bytes */
	for (size_t i = 0; i < 255; i++)
		name[i] = i % 2 ? '.' : 'a';
	name[255] = '\0';
	snprintf(spec, sizeof(spec), HDR "name:%s 0001 0001", name);
	qlen = pkt(spec, q, sizeof(q));
	ASSERT_ERR(dns_parse_query(q, qlen, &parsed), EBADMSG);
	name[253] = '\0';
	snprintf(spec, sizeof(spec), HDR "name:%s 0001 0001", name);
	qlen = pkt(spec, q, sizeof(q));
	ASSERT_OK(dns_parse_query(q, qlen, &parsed));
	ASSERT_EQ(parsed.name_len, 253);
}

TEST(parse_failure_leaves_ret_alone)
{
	uint8_t q[64];
	struct dns_query parsed;
	size_t qlen = pkt(HDR "c00c 0001 0001", q, sizeof(q));

	memset(&parsed, 0x5a, sizeof(parsed));
	ASSERT_ERR(dns_parse_query(q, qlen, &parsed), EBADMSG);
	ASSERT_EQ(parsed.id, 0x5a5a);
	ASSERT_ERR(dns_parse_query(NULL, 0, &parsed), EMSGSIZE);
}

TEST(stable_answers)
{
	struct fakeip *fip = NULL;
	uint8_t q[128], resp[DNS_RESPONSE_MAX];
	struct response r1, r2, r3;
	size_t qlen;
	int asked = 0;

	ASSERT_OK(fakeip_new(0, &fip));
	qlen = pkt(HDR Q("example.com", T_A), q, sizeof(q));
	parse_response(resp, dns_server_handle(q, qlen, resp, sizeof(resp), fip, policy, &asked),
		       &r1);
	/* the same name in another case (0x20 randomisation) gets the same address */
	qlen = pkt("beef 0100 0001 0000 0000 0000 " Q("EXAMPLE.com", T_A), q, sizeof(q));
	parse_response(resp, dns_server_handle(q, qlen, resp, sizeof(resp), fip, policy, &asked),
		       &r2);
	ASSERT_EQ(r2.id, 0xbeef);
	ASSERT_EQ(r1.a.s_addr, r2.a.s_addr);
	ASSERT_EQ(ntohl(r1.a.s_addr), 0xc6120001); /* 198.18.0.1: the first name */
	ASSERT_EQ(r1.ttl, DNS_TTL);
	qlen = pkt(HDR Q("a.allowed.test", T_A), q, sizeof(q));
	parse_response(resp, dns_server_handle(q, qlen, resp, sizeof(resp), fip, policy, &asked),
		       &r3);
	ASSERT_NE(r1.a.s_addr, r3.a.s_addr);
	ASSERT_EQ(fakeip_count(fip), 2);
	/* AAAA and denied names allocate nothing */
	qlen = pkt(HDR Q("b.allowed.test", T_AAAA), q, sizeof(q));
	ASSERT_TRUE(dns_server_handle(q, qlen, resp, sizeof(resp), fip, policy, &asked) > 0);
	qlen = pkt(HDR Q("evil.test", T_A), q, sizeof(q));
	ASSERT_TRUE(dns_server_handle(q, qlen, resp, sizeof(resp), fip, policy, &asked) > 0);
	ASSERT_EQ(fakeip_count(fip), 2);
	fakeip_free(fip);
}

TEST(full_table_refused)
{
	struct fakeip *fip = NULL;
	uint8_t q[128], resp[DNS_RESPONSE_MAX];
	struct response r;
	size_t qlen;
	int asked = 0;

	ASSERT_OK(fakeip_new(1, &fip));
	qlen = pkt(HDR Q("a.allowed.test", T_A), q, sizeof(q));
	parse_response(resp, dns_server_handle(q, qlen, resp, sizeof(resp), fip, policy, &asked),
		       &r);
	ASSERT_EQ(r.rcode, 0);
	qlen = pkt(HDR Q("b.allowed.test", T_A), q, sizeof(q));
	parse_response(resp, dns_server_handle(q, qlen, resp, sizeof(resp), fip, policy, &asked),
		       &r);
	ASSERT_EQ(r.rcode, DNS_RCODE_REFUSED);
	/* the name that has an address keeps it */
	qlen = pkt(HDR Q("a.allowed.test", T_A), q, sizeof(q));
	parse_response(resp, dns_server_handle(q, qlen, resp, sizeof(resp), fip, policy, &asked),
		       &r);
	ASSERT_EQ(r.rcode, 0);
	ASSERT_EQ(r.an, 1);
	/* no table, no policy: refused, denied */
	parse_response(resp, dns_server_handle(q, qlen, resp, sizeof(resp), NULL, policy, &asked),
		       &r);
	ASSERT_EQ(r.rcode, DNS_RCODE_REFUSED);
	parse_response(resp, dns_server_handle(q, qlen, resp, sizeof(resp), fip, NULL, NULL), &r);
	ASSERT_EQ(r.rcode, DNS_RCODE_NXDOMAIN);
	fakeip_free(fip);
}

/* Every builder, at every capacity below what it needs: -ENOBUFS, and nothing past @cap. */
TEST(builders_respect_cap)
{
	uint8_t q[128], buf[DNS_RESPONSE_MAX + 1];
	struct dns_query parsed;
	struct in_addr a = { .s_addr = htonl(0xc6120001) };
	size_t qlen = pkt(HDR_EDNS Q("example.com", T_A) OPT("1000"), q, sizeof(q));
	int full[4], k;

	ASSERT_OK(dns_parse_query(q, qlen, &parsed));
	full[0] = dns_build_a(&parsed, a, buf, sizeof(buf));
	full[1] = dns_build_empty(&parsed, buf, sizeof(buf));
	full[2] = dns_build_error(&parsed, DNS_RCODE_NXDOMAIN, buf, sizeof(buf));
	full[3] = dns_build_reject(q, qlen, DNS_RCODE_FORMERR, buf, sizeof(buf));
	ASSERT_EQ(full[0], 12 + 17 + 16 + 11);
	ASSERT_EQ(full[1], 12 + 17 + 11);
	ASSERT_EQ(full[2], 12 + 17 + 11);
	ASSERT_EQ(full[3], 12 + 17);
	for (int b = 0; b < 4; b++)
		for (size_t cap = 0; cap < (size_t)full[b]; cap++) {
			memset(buf, 0xa5, sizeof(buf));
			k = b == 0   ? dns_build_a(&parsed, a, buf, cap)
			    : b == 1 ? dns_build_empty(&parsed, buf, cap)
			    : b == 2 ? dns_build_error(&parsed, DNS_RCODE_NXDOMAIN, buf, cap)
				     : dns_build_reject(q, qlen, DNS_RCODE_FORMERR, buf, cap);
			ASSERT_ERR(k, ENOBUFS);
			for (size_t j = cap; j < sizeof(buf); j++)
				ASSERT_EQ(buf[j], 0xa5);
		}
}

TEST(builders_refuse_bad_input)
{
	uint8_t q[128], buf[DNS_RESPONSE_MAX];
	struct dns_query parsed;
	size_t qlen = pkt(HDR Q("example.com", T_A), q, sizeof(q));

	ASSERT_OK(dns_parse_query(q, qlen, &parsed));
	/* BADVERS needs EDNS to carry its upper bits */
	ASSERT_ERR(dns_build_error(&parsed, DNS_RCODE_BADVERS, buf, sizeof(buf)), EINVAL);
	ASSERT_ERR(dns_build_error(&parsed, -1, buf, sizeof(buf)), EINVAL);
	ASSERT_ERR(dns_build_error(&parsed, 4096, buf, sizeof(buf)), EINVAL);
	ASSERT_ERR(dns_build_error(NULL, 0, buf, sizeof(buf)), EINVAL);
	ASSERT_ERR(dns_build_reject(q, qlen, 16, buf, sizeof(buf)), EINVAL);
	/* a response or a runt is never answered */
	ASSERT_EQ(dns_build_reject(q, 11, DNS_RCODE_FORMERR, buf, sizeof(buf)), 0);
	q[2] |= 0x80;
	ASSERT_EQ(dns_build_reject(q, qlen, DNS_RCODE_FORMERR, buf, sizeof(buf)), 0);
}

TEST(edns_limits_response_size)
{
	uint8_t q[128], buf[DNS_RESPONSE_MAX];
	struct dns_query parsed;
	struct response r;
	size_t qlen =
		pkt(HDR_EDNS Q("example.com", T_A) " 00 0029 1000 00 00 8000 0000", q, sizeof(q));
	int n;

	ASSERT_OK(dns_parse_query(q, qlen, &parsed));
	ASSERT_EQ(parsed.edns_udp_size, 4096);
	ASSERT_TRUE(parsed.edns_do);
	n = dns_build_error(&parsed, DNS_RCODE_BADVERS, buf, sizeof(buf));
	ASSERT_TRUE(n > 0);
	parse_response(buf, (size_t)n, &r);
	ASSERT_EQ(r.rcode, DNS_RCODE_BADVERS);
	ASSERT_EQ(r.flags & DNS_FLAG_RCODE_MASK, 0);
	/* DO copied into the OPT's flags */
	ASSERT_EQ(buf[n - 4], 0x80);
	/* a client that announces less than 512 still gets 512 */
	qlen = pkt(HDR_EDNS Q("example.com", T_A) OPT("0001"), q, sizeof(q));
	ASSERT_OK(dns_parse_query(q, qlen, &parsed));
	ASSERT_EQ(parsed.edns_udp_size, DNS_UDP_MAX);
	ASSERT_FALSE(parsed.edns_do);
}

int main(void)
{
	return tap_run();
}
