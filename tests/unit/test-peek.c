/* SPDX-License-Identifier: MIT */
/*
 * test-peek.c - classification of first bytes: TLS ClientHellos, HTTP heads, raw TCP
 *
 * ClientHellos come from three places: captured from real clients (curl, node, python,
 * openssl s_client; tests/fuzz/corpus/peek/tls-*.bin), made by OpenSSL in this test
 * (SSL_connect on memory BIOs, with chosen SNI, ALPN and versions), and built by hand here
 * for the malformed cases. Every hello is also checked truncated at every byte offset and
 * re-framed over records of every size.
 */
#include <fcntl.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include "common/fd.h"
#include "proxy/peek.c" /* reaches the readers and the method table */
#include "tap.h"

#define BUF_MAX (70 * 1024)

struct bytes {
	uint8_t b[BUF_MAX];
	size_t n;
};

static void put_u8(struct bytes *o, unsigned v)
{
	PADDOCK_ASSERT(o->n + 1 <= BUF_MAX);
	o->b[o->n++] = (uint8_t)v;
}

static void put_u16(struct bytes *o, unsigned v)
{
	put_u8(o, v >> 8);
	put_u8(o, v & 0xff);
}

static void put_mem(struct bytes *o, const void *p, size_t n)
{
	PADDOCK_ASSERT(o->n + n <= BUF_MAX);
	memcpy(o->b + o->n, p, n);
	o->n += n;
}

/* One extension for build_hello(): type and body. */
struct ext {
	unsigned type;
	const uint8_t *data;
	size_t len;
};

/* server_name body with @n names of @type, each @name (@len bytes) */
static size_t sni_body(uint8_t *out, unsigned type, const char *name, size_t len, unsigned n)
{
	struct bytes b = {};
	size_t list = n * (3 + len);

	put_u16(&b, (unsigned)list);
	for (unsigned i = 0; i < n; i++) {
		put_u8(&b, type);
		put_u16(&b, (unsigned)len);
		put_mem(&b, name, len);
	}
	memcpy(out, b.b, b.n);
	return b.n;
}

/* A ClientHello handshake message (header included) with @exts (no extension block if NULL). */
static void build_hello(struct bytes *o, unsigned version, const struct ext *exts, size_t n_ext)
{
	static struct bytes body;
	size_t ext_len = 0;
	uint8_t random[32] = { 1, 2, 3 };

	body.n = 0;
	put_u16(&body, version);
	put_mem(&body, random, sizeof(random));
	put_u8(&body, 0);  /* session id */
	put_u16(&body, 2); /* cipher suites */
	put_u16(&body, 0x1301);
	put_u8(&body, 1); /* compression methods */
	put_u8(&body, 0);
	if (exts) {
		for (size_t i = 0; i < n_ext; i++)
			ext_len += 4 + exts[i].len;
		put_u16(&body, (unsigned)ext_len);
		for (size_t i = 0; i < n_ext; i++) {
			put_u16(&body, exts[i].type);
			put_u16(&body, (unsigned)exts[i].len);
			put_mem(&body, exts[i].data, exts[i].len);
		}
	}
	o->n = 0;
	put_u8(o, 1);
	put_u8(o, (unsigned)(body.n >> 16));
	put_u16(o, (unsigned)(body.n & 0xffff));
	put_mem(o, body.b, body.n);
}

/* Put handshake bytes @m into records of at most @frag bytes, record version @rv. */
static void frame(struct bytes *o, const uint8_t *m, size_t n, size_t frag, unsigned rv)
{
	o->n = 0;
	for (size_t off = 0; off < n; off += frag) {
		size_t k = MIN(frag, n - off);

		put_u8(o, 22);
		put_u16(o, rv);
		put_u16(o, (unsigned)k);
		put_mem(o, m + off, k);
	}
}

/* A one-record hello with extensions @exts. */
static void simple_hello(struct bytes *o, const struct ext *exts, size_t n_ext)
{
	static struct bytes m;

	build_hello(&m, 0x0303, exts, n_ext);
	frame(o, m.b, m.n, 16384, 0x0301);
}

static int classify(const uint8_t *b, size_t n, struct peek_result *r, const char **why)
{
	*why = NULL;
	return peek_classify(b, n, r, why);
}

/*
 * Every proper prefix of a valid hello is NEED_MORE (guess TLS), never an error and never a
 * result; the whole is TLS with SNI @sni.
 */
static void check_hello_prefixes(const uint8_t *b, size_t n, const char *sni)
{
	struct peek_result r = {};
	const char *why;
	int k;

	for (size_t i = 0; i < n; i++) {
		k = classify(b, i, &r, &why);
		if (k != PEEK_NEED_MORE || r.guess != (i ? PEEK_TLS : PEEK_OTHER))
			TAP_FAIL("prefix %zu/%zu: %d guess %d (%s)", i, n, k, r.guess,
				 strempty(why));
		peek_result_done(&r);
	}
	k = classify(b, n, &r, &why);
	if (k != PEEK_TLS)
		TAP_FAIL("whole hello: %d (%s)", k, strempty(why));
	if (!streq_ptr(r.sni, sni))
		TAP_FAIL("SNI '%s', expected '%s'", strempty(r.sni), strempty(sni));
	ASSERT_TRUE(r.consumed <= n);
	peek_result_done(&r);
}

/* A hello made by OpenSSL as a client on memory BIOs. */
static size_t openssl_hello(uint8_t *out, size_t cap, const char *sni, const char *alpn_wire,
			    size_t alpn_len, int max_version)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;
	BIO *rb, *wb;
	int n;

	PADDOCK_ASSERT(ctx);
	if (max_version)
		PADDOCK_ASSERT(SSL_CTX_set_max_proto_version(ctx, max_version) == 1);
	ssl = SSL_new(ctx);
	rb = BIO_new(BIO_s_mem());
	wb = BIO_new(BIO_s_mem());
	SSL_set_bio(ssl, rb, wb);
	if (sni)
		PADDOCK_ASSERT(SSL_set_tlsext_host_name(ssl, sni) == 1);
	if (alpn_wire)
		PADDOCK_ASSERT(SSL_set_alpn_protos(ssl, (const uint8_t *)alpn_wire,
						   (unsigned)alpn_len) == 0);
	SSL_set_connect_state(ssl);
	PADDOCK_ASSERT(SSL_do_handshake(ssl) <= 0);
	n = BIO_read(wb, out, (int)cap);
	PADDOCK_ASSERT(n > 0);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return (size_t)n;
}

TEST(openssl_hellos)
{
	static const struct {
		const char *sni;
		const char *alpn; /* wire format */
		size_t alpn_len;
		int max_version;
		const char *alpn0;
		bool tls13;
	} cases[] = {
		{ "x", NULL, 0, 0, NULL, true },
		{ "api.example.com", "\x08http/1.1", 9, 0, "http/1.1", true },
		{ "github.com", "\x02h2\x08http/1.1", 12, TLS1_2_VERSION, "h2", false },
		{ "Mixed.Case.Example.", NULL, 0, TLS1_VERSION, NULL, false },
		{ NULL, "\x08http/1.1", 9, 0, "http/1.1", true },
	};
	static uint8_t b[BUF_MAX];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct peek_result r = {};
		const char *why;
		size_t n = openssl_hello(b, sizeof(b), cases[i].sni, cases[i].alpn,
					 cases[i].alpn_len, cases[i].max_version);

		ASSERT_EQ(classify(b, n, &r, &why), PEEK_TLS);
		ASSERT_TRUE(streq_ptr(r.sni, cases[i].sni));
		ASSERT_TRUE(streq_ptr(r.alpn ? r.alpn[0] : NULL, cases[i].alpn0));
		ASSERT_EQ(r.tls13, cases[i].tls13);
		ASSERT_EQ(r.consumed, n);
		if (cases[i].sni) {
			ASSERT_TRUE(peek_sni_matches(&r, cases[i].sni));
			ASSERT_FALSE(peek_sni_matches(&r, "evil.com"));
		}
		peek_result_done(&r);
		check_hello_prefixes(b, n, cases[i].sni);
	}
}

TEST(alpn_list)
{
	static uint8_t b[BUF_MAX];
	struct peek_result r = {};
	const char *why;
	size_t n = openssl_hello(b, sizeof(b), "h.example", "\x02h2\x08http/1.1\x06spdy/3", 19, 0);

	ASSERT_EQ(classify(b, n, &r, &why), PEEK_TLS);
	ASSERT_EQ(strv_length(r.alpn), 3);
	ASSERT_STREQ(r.alpn[0], "h2");
	ASSERT_STREQ(r.alpn[1], "http/1.1");
	ASSERT_STREQ(r.alpn[2], "spdy/3");
	peek_result_done(&r);
	ASSERT_NULL(r.alpn);
	ASSERT_NULL(r.sni);
}

static size_t read_corpus(const char *name, uint8_t *out, size_t cap)
{
	const char *dir = getenv("PADDOCK_CORPUS_DIR");
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -EBADF;
	ssize_t n;

	if (!dir)
		TEST_SKIP("PADDOCK_CORPUS_DIR not set");
	path = xasprintf("%s/peek/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		TAP_FAIL("open %s: %m", path);
	n = read(fd, out, cap);
	PADDOCK_ASSERT(n > 0);
	return (size_t)n;
}

TEST(captured_hellos)
{
	static const struct {
		const char *file, *sni, *alpn0;
	} cases[] = {
		{ "tls-curl.bin", "api.example.com", "h2" },
		{ "tls-curl-http11.bin", "github.com", "http/1.1" },
		{ "tls-node.bin", "registry.npmjs.org", "h2" },
		{ "tls-python.bin", "pypi.org", "http/1.1" },
		{ "tls-openssl.bin", "x", "http/1.1" },
		{ "tls-openssl-tls12.bin", "example.org", NULL },
		{ "tls-openssl-nosni.bin", NULL, NULL },
	};
	static uint8_t b[BUF_MAX], m[BUF_MAX];
	static struct bytes f;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct peek_result r = {};
		const char *why;
		size_t n = read_corpus(cases[i].file, b, sizeof(b)), hs;

		ASSERT_EQ(classify(b, n, &r, &why), PEEK_TLS);
		ASSERT_TRUE(streq_ptr(r.sni, cases[i].sni));
		ASSERT_TRUE(streq_ptr(r.alpn ? r.alpn[0] : NULL, cases[i].alpn0));
		peek_result_done(&r);
		check_hello_prefixes(b, n, cases[i].sni);

		/* the same hello over records of every size from 1 byte up */
		hs = n - 5;
		memcpy(m, b + 5, hs);
		for (size_t frag = 1; frag <= hs; frag += frag < 64 ? 1 : 37) {
			frame(&f, m, hs, frag, 0x0303);
			ASSERT_EQ(classify(f.b, f.n, &r, &why), PEEK_TLS);
			ASSERT_TRUE(streq_ptr(r.sni, cases[i].sni));
			ASSERT_EQ(r.consumed, f.n);
			peek_result_done(&r);
			if (frag % 7 == 1)
				check_hello_prefixes(f.b, f.n, cases[i].sni);
		}
	}
}

TEST(trailing_bytes_are_the_servers)
{
	static uint8_t b[BUF_MAX];
	struct peek_result r = {};
	const char *why;
	size_t n = openssl_hello(b, sizeof(b), "a.example", NULL, 0, 0);

	/* a ChangeCipherSpec record and early data after the hello */
	memcpy(b + n, "\x14\x03\x03\x00\x01\x01\x17\x03\x03", 9);
	ASSERT_EQ(classify(b, n + 9, &r, &why), PEEK_TLS);
	ASSERT_EQ(r.consumed, n);
	ASSERT_STREQ(r.sni, "a.example");
	peek_result_done(&r);
}

static const uint8_t alpn_h11[] = "\x00\x09\x08http/1.1";

#define EXT(t, d, l) ((struct ext){ (t), (const uint8_t *)(d), (l) })

static void expect_refused(const struct bytes *b, int err, const char *why_part)
{
	struct peek_result r = { .kind = 77 };
	const char *why;
	int k = classify(b->b, b->n, &r, &why);

	if (k != -err)
		TAP_FAIL("expected -%d, got %d (%s)", err, k, strempty(why));
	ASSERT_EQ(r.kind, 77); /* untouched */
	if (why_part && (!why || !strstr(why, why_part)))
		TAP_FAIL("reason '%s' lacks '%s'", strempty(why), why_part);
}

TEST(server_name_checks)
{
	static struct bytes b;
	uint8_t sni[1024], sni2[1024];
	char name[300];
	size_t n, n2;
	struct peek_result r = {};
	const char *why;

	/* a hand-built valid hello first */
	n = sni_body(sni, 0, "ok.example", 10, 1);
	simple_hello(&b, (struct ext[]){ EXT(0, sni, n), EXT(16, alpn_h11, 11) }, 2);
	ASSERT_EQ(classify(b.b, b.n, &r, &why), PEEK_TLS);
	ASSERT_STREQ(r.sni, "ok.example");
	ASSERT_STREQ(r.alpn[0], "http/1.1");
	ASSERT_TRUE(peek_sni_matches(&r, "OK.example."));
	ASSERT_FALSE(peek_sni_matches(&r, "ok.example.evil"));
	ASSERT_FALSE(peek_sni_matches(&r, "k.example"));
	peek_result_done(&r);
	check_hello_prefixes(b.b, b.n, "ok.example");

	/* duplicate server_name extensions, even with the same name */
	simple_hello(&b, (struct ext[]){ EXT(0, sni, n), EXT(0, sni, n) }, 2);
	expect_refused(&b, EBADMSG, "duplicate extension");
	n2 = sni_body(sni2, 0, "evil.com", 8, 1);
	simple_hello(&b, (struct ext[]){ EXT(0, sni, n), EXT(16, alpn_h11, 11), EXT(0, sni2, n2) },
		     3);
	expect_refused(&b, EBADMSG, "duplicate extension");

	/* two names in one list, a name of another type */
	n2 = sni_body(sni2, 0, "ok.example", 10, 2);
	simple_hello(&b, (struct ext[]){ EXT(0, sni2, n2) }, 1);
	expect_refused(&b, EBADMSG, "more than one name");
	n2 = sni_body(sni2, 1, "ok.example", 10, 1);
	simple_hello(&b, (struct ext[]){ EXT(0, sni2, n2) }, 1);
	expect_refused(&b, EBADMSG, "host_name");

	/* empty extension, empty list, empty name */
	simple_hello(&b, (struct ext[]){ EXT(0, "", 0) }, 1);
	expect_refused(&b, EBADMSG, "server_name");
	simple_hello(&b, (struct ext[]){ EXT(0, "\x00\x00", 2) }, 1);
	expect_refused(&b, EBADMSG, "empty server_name");
	n2 = sni_body(sni2, 0, "", 0, 1);
	simple_hello(&b, (struct ext[]){ EXT(0, sni2, n2) }, 1);
	expect_refused(&b, EBADMSG, "empty server_name");

	/* NUL: "github.com\0.evil.com" must not become "github.com" */
	n2 = sni_body(sni2, 0, "github.com\0.evil.com", 20, 1);
	simple_hello(&b, (struct ext[]){ EXT(0, sni2, n2) }, 1);
	expect_refused(&b, EBADMSG, "NUL");
	n2 = sni_body(sni2, 0, "github.com\0", 11, 1);
	simple_hello(&b, (struct ext[]){ EXT(0, sni2, n2) }, 1);
	expect_refused(&b, EBADMSG, "NUL");
	n2 = sni_body(sni2, 0, "a b", 3, 1);
	simple_hello(&b, (struct ext[]){ EXT(0, sni2, n2) }, 1);
	expect_refused(&b, EBADMSG, "server_name");
	n2 = sni_body(sni2, 0, "\xc3\xa9.example", 10, 1);
	simple_hello(&b, (struct ext[]){ EXT(0, sni2, n2) }, 1);
	expect_refused(&b, EBADMSG, "non-ASCII");

	/* 255 bytes is the limit */
	memset(name, 'a', sizeof(name));
	for (size_t i = 63; i < sizeof(name); i += 64)
		name[i] = '.';
	n2 = sni_body(sni2, 0, name, 255, 1);
	simple_hello(&b, (struct ext[]){ EXT(0, sni2, n2) }, 1);
	ASSERT_EQ(classify(b.b, b.n, &r, &why), PEEK_TLS);
	ASSERT_EQ(strlen(r.sni), 255);
	peek_result_done(&r);
	n2 = sni_body(sni2, 0, name, 256, 1);
	simple_hello(&b, (struct ext[]){ EXT(0, sni2, n2) }, 1);
	expect_refused(&b, EBADMSG, "longer than 255");

	/* list length disagreeing with the extension length */
	n2 = sni_body(sni2, 0, "ok.example", 10, 1);
	sni2[1]++;
	simple_hello(&b, (struct ext[]){ EXT(0, sni2, n2) }, 1);
	expect_refused(&b, EBADMSG, "malformed server_name");
	sni2[1] -= 2;
	simple_hello(&b, (struct ext[]){ EXT(0, sni2, n2) }, 1);
	expect_refused(&b, EBADMSG, "malformed server_name");
}

TEST(extension_checks)
{
	static struct bytes b, m;
	uint8_t sni[64];
	size_t n = sni_body(sni, 0, "ok.example", 10, 1);
	struct peek_result r = {};
	const char *why;

	/* any duplicate extension type */
	simple_hello(&b,
		     (struct ext[]){ EXT(0, sni, n), EXT(10, "\x00\x02\x00\x1d", 4),
				     EXT(10, "\x00\x02\x00\x17", 4) },
		     3);
	expect_refused(&b, EBADMSG, "duplicate");
	/* GREASE-like unknown extensions are fine when distinct */
	simple_hello(&b, (struct ext[]){ EXT(0x0a0a, "", 0), EXT(0, sni, n), EXT(0x1a1a, "\0", 1) },
		     3);
	ASSERT_EQ(classify(b.b, b.n, &r, &why), PEEK_TLS);
	peek_result_done(&r);

	/* encrypted ClientHello and ESNI hide the real name */
	simple_hello(&b, (struct ext[]){ EXT(0, sni, n), EXT(0xfe0d, "\0\0\0", 3) }, 2);
	expect_refused(&b, EPROTONOSUPPORT, "encrypted");
	simple_hello(&b, (struct ext[]){ EXT(0xffce, "\0\0\0", 3), EXT(0, sni, n) }, 2);
	expect_refused(&b, EPROTONOSUPPORT, "encrypted");

	/* pre_shared_key must be last */
	simple_hello(&b, (struct ext[]){ EXT(41, "\0", 1), EXT(0, sni, n) }, 2);
	expect_refused(&b, EBADMSG, "pre_shared_key");
	simple_hello(&b, (struct ext[]){ EXT(0, sni, n), EXT(41, "\0", 1) }, 2);
	ASSERT_EQ(classify(b.b, b.n, &r, &why), PEEK_TLS);
	peek_result_done(&r);

	/* ALPN */
	simple_hello(&b, (struct ext[]){ EXT(16, "\x00\x00", 2) }, 1);
	expect_refused(&b, EBADMSG, "ALPN");
	simple_hello(&b, (struct ext[]){ EXT(16, "\x00\x03\x02h2\x00", 6) }, 1);
	expect_refused(&b, EBADMSG, "ALPN");
	simple_hello(&b, (struct ext[]){ EXT(16, "\x00\x03\x02h\0", 5) }, 1);
	expect_refused(&b, EBADMSG, "NUL");
	simple_hello(&b, (struct ext[]){ EXT(16, "\x00\x03\x00\x01h", 5) }, 1);
	expect_refused(&b, EBADMSG, "ALPN");

	/* no extension block at all (old clients): TLS without SNI */
	simple_hello(&b, NULL, 0);
	ASSERT_EQ(classify(b.b, b.n, &r, &why), PEEK_TLS);
	ASSERT_NULL(r.sni);
	ASSERT_NULL(r.alpn);
	peek_result_done(&r);

	/* an extension overrunning the block, bytes after the block */
	build_hello(&m, 0x0303, (struct ext[]){ EXT(0, sni, n) }, 1);
	m.b[m.n - n - 1]++; /* the extension's length */
	frame(&b, m.b, m.n, 16384, 0x0301);
	expect_refused(&b, EBADMSG, "malformed extension");
	build_hello(&m, 0x0303, (struct ext[]){ EXT(0, sni, n) }, 1);
	m.b[3]++; /* the handshake length: one byte more */
	put_u8(&m, 0);
	frame(&b, m.b, m.n, 16384, 0x0301);
	expect_refused(&b, EBADMSG, "malformed extensions");
}

TEST(record_and_version_checks)
{
	static struct bytes b, m;
	uint8_t sni[64];
	size_t n = sni_body(sni, 0, "ok.example", 10, 1);
	struct peek_result r = {};
	const char *why;

	build_hello(&m, 0x0303, (struct ext[]){ EXT(0, sni, n) }, 1);

	/* record versions: 0x0301-0x0304 */
	for (unsigned v = 0x0301; v <= 0x0304; v++) {
		frame(&b, m.b, m.n, 16384, v);
		ASSERT_EQ(classify(b.b, b.n, &r, &why), PEEK_TLS);
		peek_result_done(&r);
	}
	frame(&b, m.b, m.n, 16384, 0x0300);
	expect_refused(&b, EPROTONOSUPPORT, "version");
	frame(&b, m.b, m.n, 16384, 0x0305);
	expect_refused(&b, EBADMSG, "version");
	frame(&b, m.b, m.n, 16384, 0x0203);
	expect_refused(&b, EBADMSG, "version");
	/* refused from the third byte, before the rest arrives */
	ASSERT_EQ(classify((const uint8_t *)"\x16\x03\x07", 3, &r, &why), -EBADMSG);
	ASSERT_EQ(classify((const uint8_t *)"\x16\x02", 2, &r, &why), -EBADMSG);

	/* a second record of another type, or an empty one, inside the hello */
	frame(&b, m.b, m.n, 20, 0x0303);
	b.b[25] = 21;
	expect_refused(&b, EBADMSG, "other than handshake");
	frame(&b, m.b, m.n, 20, 0x0303);
	memmove(b.b + 30, b.b + 25, b.n - 25);
	memcpy(b.b + 25, "\x16\x03\x03\x00\x00", 5);
	b.n += 5;
	expect_refused(&b, EBADMSG, "empty TLS handshake record");

	/* record longer than 2^14 */
	frame(&b, m.b, m.n, 16384, 0x0303);
	b.b[3] = 0x40, b.b[4] = 0x01;
	expect_refused(&b, EBADMSG, "2^14");

	/* a handshake that is not a ClientHello, or absurdly long */
	frame(&b, m.b, m.n, 16384, 0x0303);
	b.b[5] = 2;
	expect_refused(&b, EBADMSG, "not a ClientHello");
	frame(&b, m.b, m.n, 16384, 0x0303);
	b.b[6] = 0x10;
	expect_refused(&b, E2BIG, "too large");

	/* a hello longer than its message: the session id overruns */
	frame(&b, m.b, m.n, 16384, 0x0303);
	b.b[5 + 4 + 2 + 32] = 33;
	expect_refused(&b, EBADMSG, "session id");

	/* hello versions */
	build_hello(&m, 0x0300, (struct ext[]){ EXT(0, sni, n) }, 1);
	frame(&b, m.b, m.n, 16384, 0x0301);
	expect_refused(&b, EPROTONOSUPPORT, "SSL 3.0");
	build_hello(&m, 0x0305, (struct ext[]){ EXT(0, sni, n) }, 1);
	frame(&b, m.b, m.n, 16384, 0x0301);
	expect_refused(&b, EBADMSG, "version");

	/* the record ends before the hello and nothing follows yet */
	build_hello(&m, 0x0303, (struct ext[]){ EXT(0, sni, n) }, 1);
	frame(&b, m.b, 20, 20, 0x0303);
	ASSERT_EQ(classify(b.b, b.n, &r, &why), PEEK_NEED_MORE);
	ASSERT_EQ(r.guess, PEEK_TLS);
}

TEST(sslv2_refused)
{
	/* an SSLv2-compatible CLIENT-HELLO announcing TLS 1.0 and SSL 2.0 */
	static const uint8_t v2[] = { 0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00 };
	static const uint8_t v20[] = { 0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15 };
	struct peek_result r = {};
	const char *why;

	ASSERT_EQ(classify(v2, sizeof(v2), &r, &why), -EPROTONOSUPPORT);
	ASSERT_TRUE(strstr(why, "SSLv2"));
	ASSERT_EQ(classify(v20, sizeof(v20), &r, &why), -EPROTONOSUPPORT);
	ASSERT_EQ(classify(v2, 3, &r, &why), PEEK_NEED_MORE);
	ASSERT_EQ(r.guess, PEEK_OTHER);
	/* a binary protocol with the high bit set is other */
	ASSERT_EQ(classify((const uint8_t *)"\x85\x00\x07\x00\x00", 5, &r, &why), PEEK_OTHER);
}

static int classify_str(const char *s, struct peek_result *r, const char **why)
{
	return classify((const uint8_t *)s, strlen(s), r, why);
}

TEST(http_and_other)
{
	static const struct {
		const char *in;
		int kind;  /* or -errno */
		int guess; /* for PEEK_NEED_MORE */
	} cases[] = {
		{ "", PEEK_NEED_MORE, PEEK_OTHER },
		{ "G", PEEK_NEED_MORE, PEEK_HTTP },
		{ "GE", PEEK_NEED_MORE, PEEK_HTTP },
		{ "GET", PEEK_NEED_MORE, PEEK_HTTP },
		{ "GET ", PEEK_NEED_MORE, PEEK_HTTP },
		{ "GET / HTTP/1.1\r\nHost: a.example\r\n", PEEK_NEED_MORE, PEEK_HTTP },
		{ "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", PEEK_HTTP, 0 },
		{ "PROPFIND /d HTTP/1.1\r\nHost: a.example\r\n\r\n", PEEK_HTTP, 0 },
		{ "FOO / HTTP/1.1\r\nHost: a.example\r\n\r\n", PEEK_HTTP, 0 },
		/* looks like a request line: parsed, and refused */
		{ "get / HTTP/1.1\r\nHost: a.example\r\n\r\n", -EBADMSG, 0 },
		{ "get / http/1.1\r\n", -EBADMSG, 0 },
		{ "GET\t/ HTTP/1.1\r\n", -EBADMSG, 0 },
		{ "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", -EBADMSG, 0 },
		{ "\nGET / HTTP/1.1\r\n", -EBADMSG, 0 },
		{ "\r", PEEK_NEED_MORE, PEEK_HTTP },
		{ "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", -EPROTONOSUPPORT, 0 },
		{ "GET /\r\n", -EBADMSG, 0 }, /* HTTP/0.9 */
		{ "GET / HTTP/1.1\n", -EBADMSG, 0 },
		/* a stalled first line that could still become a request: refuse on timeout */
		{ "get / ", PEEK_NEED_MORE, PEEK_HTTP },
		{ "SSH-2.0-Open", PEEK_NEED_MORE, PEEK_HTTP },
		/* other protocols */
		{ "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", PEEK_OTHER, 0 },
		{ "*1\r\n$4\r\nPING\r\n", PEEK_OTHER, 0 },
		{ "PING\r\n", PEEK_OTHER, 0 },
		{ "\x01\x02", PEEK_OTHER, 0 },
		{ "{\"json\": 1}", PEEK_OTHER, 0 },
		{ "A\x01", PEEK_OTHER, 0 },
		{ "GETX\x01 / HTTP/1.1", PEEK_OTHER, 0 },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct peek_result r = {};
		const char *why = NULL;
		int k = classify_str(cases[i].in, &r, &why);

		if (k != cases[i].kind)
			TAP_FAIL("case %zu '%s': %d (%s), expected %d", i, cases[i].in, k,
				 strempty(why), cases[i].kind);
		if (k == PEEK_NEED_MORE && r.guess != cases[i].guess)
			TAP_FAIL("case %zu: guess %d, expected %d", i, r.guess, cases[i].guess);
		if (k < 0 && !why)
			TAP_FAIL("case %zu: no reason", i);
		peek_result_done(&r);
	}

	/* postgres' SSLRequest: binary from the first byte */
	{
		struct peek_result r = {};
		const char *why;

		ASSERT_EQ(classify((const uint8_t *)"\0\0\0\x08\x04\xd2\x16\x2f", 8, &r, &why),
			  PEEK_OTHER);
	}
}

TEST(http_result)
{
	static uint8_t b[BUF_MAX];
	struct peek_result r = {};
	const char *why;
	size_t n = read_corpus("http-curl-post", b, sizeof(b));

	ASSERT_EQ(classify(b, n, &r, &why), PEEK_HTTP);
	ASSERT_EQ(r.consumed, n - 3); /* the body "a=b" follows */
	ASSERT_EQ(r.http.method, HTTP_METHOD_POST);
	ASSERT_EQ(r.http.body, HTTP_BODY_LENGTH);
	ASSERT_EQ(r.http.content_length, 3);
	ASSERT_TRUE(http1_host_matches(&r.http, "example.com", 0));
	ASSERT_FALSE(http1_host_matches(&r.http, "example.org", 0));
	ASSERT_NULL(r.sni);

	n = read_corpus("http-curl-connect", b, sizeof(b));
	ASSERT_EQ(classify(b, n, &r, &why), PEEK_HTTP);
	ASSERT_EQ(r.http.method, HTTP_METHOD_CONNECT);
	ASSERT_TRUE(http1_host_matches(&r.http, "github.com", 443));
	ASSERT_FALSE(http1_host_matches(&r.http, "github.com", 22));

	/* every prefix of a head is NEED_MORE, guess HTTP */
	for (size_t i = 1; i < r.consumed; i++) {
		struct peek_result p = {};

		ASSERT_EQ(classify(b, i, &p, &why), PEEK_NEED_MORE);
		ASSERT_EQ(p.guess, PEEK_HTTP);
	}
}

int main(void)
{
	return tap_run();
}
