/* SPDX-License-Identifier: MIT */
/*
 * mint.c - leaf certificates for intercepted hosts, and the cache of server contexts
 *
 * DOC: Theory of Operation
 * When the proxy terminates TLS for host H, it presents a certificate for exactly H, signed
 * by the user's CA (ca.c). Signing costs an ECDSA signature (and building the SSL_CTX around
 * the leaf more than that), so the finished SSL_CTX is cached per host: the second
 * connection to H costs a hash lookup. The cache is bounded (least recently used entries go
 * first) and keyed with SipHash under a random key, since hosts come from the sandbox.
 *
 * One key pair serves every leaf of a minter. A key per host would not separate anything:
 * all of them would sit in the same process as the CA key, and whoever reads one reads all.
 * Sharing it saves a key generation per host. It is replaced, with the whole cache, when the
 * CA changes (ca_generation()).
 *
 * Hosts arriving here were canonicalised by src/common/hostname.c; they are checked again
 * (length, characters, no wildcard) because a certificate for a malformed name must never be
 * signed, whoever the caller is.
 */
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "ca.h"
#include "common/hostname.h"
#include "common/macro.h"
#include "common/siphash.h"
#include "common/xmalloc.h"
#include "mint.h"
#include "tls-internal.h"

#define CN_MAX 64 /* RFC 5280 ub-common-name */

struct entry {
	char *host;
	SSL_CTX *ctx;
	time_t not_after;
	struct entry *hnext;               /* bucket chain */
	struct entry *lru_prev, *lru_next; /* lru_prev is more recently used */
};

struct mint {
	struct ca *ca;
	unsigned generation;
	EVP_PKEY *key;
	X509 *tmpl; /* leaf_template_new() of @key */
	struct entry **buckets;
	size_t n_buckets; /* a power of two */
	size_t n, max;
	struct entry *mru, *lru;
	uint8_t hkey[SIPHASH_KEY_SIZE];
	struct mint_stats stats;
};

/* 1 for a name, 2 for an IP literal, -EINVAL for anything else */
static int host_classify(const char *host, unsigned char ip[static 16], int *ret_iplen)
{
	size_t n;

	if (!host)
		return -EINVAL;
	n = strnlen(host, HOST_NAME_MAX_LEN + 1);
	if (n == 0 || n > HOST_NAME_MAX_LEN)
		return -EINVAL;
	if (inet_pton(AF_INET, host, ip) == 1) {
		*ret_iplen = 4;
		return 2;
	}
	if (inet_pton(AF_INET6, host, ip) == 1) {
		*ret_iplen = 16;
		return 2;
	}
	if (!host_name_is_valid(host, n) || host_name_last_label_is_numeric(host, n))
		return -EINVAL;
	return 1;
}

static int add_san(X509 *x, const char *host, int kind, const unsigned char *ip, int iplen,
		   bool critical)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new(); /* an IA5STRING is the same type */
	int r = -EIO;

	if (!gens || !g || !s)
		goto out;
	if (kind == 2) {
		if (!ASN1_OCTET_STRING_set(s, ip, iplen))
			goto out;
		GENERAL_NAME_set0_value(g, GEN_IPADD, s);
	} else {
		ASN1_IA5STRING_free(s);
		s = ASN1_IA5STRING_new();
		if (!s || !ASN1_STRING_set(s, host, (int)strlen(host)))
			goto out;
		GENERAL_NAME_set0_value(g, GEN_DNS, s);
	}
	s = NULL;
	if (!sk_GENERAL_NAME_push(gens, g))
		goto out;
	g = NULL;
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, critical ? 1 : 0,
			      X509V3_ADD_DEFAULT) == 1)
		r = 0;
out:
	ASN1_OCTET_STRING_free(s);
	GENERAL_NAME_free(g);
	GENERAL_NAMES_free(gens);
	return r;
}

/*
 * What every leaf of one key under one CA shares: version, public key and the constant
 * extensions. Made once per minter and CA generation: encoding the public key (OpenSSL 3's
 * encoder lookup) costs several times the signature.
 */
static int leaf_template_new(struct ca *ca, EVP_PKEY *key, X509 **ret)
{
	_cleanup_(X509_freep) X509 *x = X509_new();

	if (!x || !X509_set_version(x, X509_VERSION_3) || !X509_set_pubkey(x, key) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 0))
		return -EIO;
	if (tls_add_ext(x, ca_cert(ca), NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    tls_add_ext(x, ca_cert(ca), NID_key_usage, "critical,digitalSignature") < 0 ||
	    tls_add_ext(x, ca_cert(ca), NID_ext_key_usage, "serverAuth") < 0 ||
	    tls_add_ext(x, ca_cert(ca), NID_subject_key_identifier, "hash") < 0 ||
	    tls_add_ext(x, ca_cert(ca), NID_authority_key_identifier, "keyid:always") < 0)
		return -EIO;
	/* signed once so that every field is filled: X509_dup() encodes and decodes */
	if (ca_sign(ca, x) < 0)
		return -EIO;
	*ret = TAKE_PTR(x);
	return 0;
}

/* The leaf for @host from @tmpl: names, serial, validity, signature. */
static int leaf_from_template(struct ca *ca, X509 *tmpl, const char *host, X509 **ret)
{
	_cleanup_(X509_freep) X509 *x = NULL;
	unsigned char ip[16];
	int iplen = 0, kind, r;
	time_t now = time(NULL), end;
	bool has_cn;

	kind = host_classify(host, ip, &iplen);
	if (kind < 0)
		return kind;
	has_cn = strlen(host) <= CN_MAX;
	end = MIN(now + (time_t)MINT_LEAF_DAYS * 86400, ca_not_after(ca));

	x = X509_dup(tmpl);
	if (!x || !X509_time_adj_ex(X509_getm_notBefore(x), 0, -MINT_BACKDATE, &now) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, &end))
		return -EIO;
	if (has_cn && !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
						  (const unsigned char *)host, -1, -1, 0))
		return -EIO;
	r = tls_set_random_serial(x);
	if (r < 0)
		return r;
	/* an empty subject makes the SAN the only name: RFC 5280 4.2.1.6 wants it critical */
	r = add_san(x, host, kind, ip, iplen, !has_cn);
	if (r < 0)
		return r;
	r = ca_sign(ca, x);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(x);
	return 0;
}

int mint_leaf(struct ca *ca, EVP_PKEY *key, const char *host, X509 **ret)
{
	_cleanup_(X509_freep) X509 *tmpl = NULL;
	unsigned char ip[16];
	int iplen, r;

	r = host_classify(host, ip, &iplen);
	if (r < 0)
		return r;
	r = leaf_template_new(ca, key, &tmpl);
	if (r < 0)
		return r;
	return leaf_from_template(ca, tmpl, host, ret);
}

/* ALPN: "http/1.1" if offered, else no ALPN at all (RFC 7301 lets the server ignore it) */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned inlen, void *arg)
{
	for (unsigned i = 0; i < inlen;) {
		unsigned n = in[i];

		if (n == 0 || i + 1 + n > inlen)
			break;
		if (n == STRLEN(TLS_ALPN_HTTP11) && memcmp(in + i + 1, TLS_ALPN_HTTP11, n) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)n;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + n;
	}
	return SSL_TLSEXT_ERR_NOACK;
}

static int server_ctx_new(struct mint *m, X509 *leaf, SSL_CTX **ret)
{
	_cleanup_(SSL_CTX_freep) SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	static const unsigned char sid_ctx[] = "paddock";

	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		return -EIO;
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
					 SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (!SSL_CTX_use_certificate(ctx, leaf) || !SSL_CTX_use_PrivateKey(ctx, m->key) ||
	    !SSL_CTX_add1_chain_cert(ctx, ca_cert(m->ca)) || !SSL_CTX_check_private_key(ctx) ||
	    !SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1))
		return -EIO;
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	*ret = TAKE_PTR(ctx);
	return 0;
}

/* ---- the cache ---------------------------------------------------------------------------- */

static size_t bucket_of(const struct mint *m, const char *host)
{
	return (size_t)siphash24(host, strlen(host), m->hkey) & (m->n_buckets - 1);
}

static void lru_unlink(struct mint *m, struct entry *e)
{
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else
		m->mru = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else
		m->lru = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct mint *m, struct entry *e)
{
	e->lru_prev = NULL;
	e->lru_next = m->mru;
	if (m->mru)
		m->mru->lru_prev = e;
	m->mru = e;
	if (!m->lru)
		m->lru = e;
}

static void entry_remove(struct mint *m, struct entry *e)
{
	struct entry **p = &m->buckets[bucket_of(m, e->host)];

	while (*p != e)
		p = &(*p)->hnext;
	*p = e->hnext;
	lru_unlink(m, e);
	SSL_CTX_free(e->ctx);
	free(e->host);
	free(e);
	m->n--;
}

static void cache_flush(struct mint *m)
{
	while (m->mru)
		entry_remove(m, m->mru);
}

static struct entry *cache_find(struct mint *m, const char *host)
{
	for (struct entry *e = m->buckets[bucket_of(m, host)]; e; e = e->hnext)
		if (streq(e->host, host))
			return e;
	return NULL;
}

/* The CA rotated since the last call: new key, empty cache. */
static int mint_check_generation(struct mint *m)
{
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
	_cleanup_(X509_freep) X509 *tmpl = NULL;
	int r;

	if (m->generation == ca_generation(m->ca))
		return 0;
	key = EVP_EC_gen("P-256");
	if (!key)
		return -EIO;
	r = leaf_template_new(m->ca, key, &tmpl);
	if (r < 0)
		return r;
	cache_flush(m);
	EVP_PKEY_free(m->key);
	X509_free(m->tmpl);
	m->key = TAKE_PTR(key);
	m->tmpl = TAKE_PTR(tmpl);
	m->generation = ca_generation(m->ca);
	m->stats.flushes++;
	return 0;
}

int mint_new(struct ca *ca, size_t cache_max, struct mint **ret)
{
	_cleanup_(mint_freep) struct mint *m = xcalloc(1, sizeof(*m));
	int r;

	m->ca = ca;
	m->max = cache_max ? cache_max : MINT_CACHE_DEFAULT;
	m->n_buckets = 16;
	while (m->n_buckets < m->max)
		m->n_buckets <<= 1;
	m->buckets = xcalloc(m->n_buckets, sizeof(struct entry *));
	if (getrandom(m->hkey, sizeof(m->hkey), 0) != (ssize_t)sizeof(m->hkey))
		return -EIO;
	m->generation = ca_generation(ca) - 1; /* the first check makes the key */
	r = mint_check_generation(m);
	if (r < 0)
		return r;
	m->stats.flushes = 0;
	*ret = TAKE_PTR(m);
	return 0;
}

struct mint *mint_free(struct mint *m)
{
	if (!m)
		return NULL;
	if (m->buckets)
		cache_flush(m);
	free(m->buckets);
	EVP_PKEY_free(m->key);
	X509_free(m->tmpl);
	free(m);
	return NULL;
}

int mint_server_ctx(struct mint *m, const char *host, SSL_CTX **ret)
{
	_cleanup_(X509_freep) X509 *leaf = NULL;
	SSL_CTX *ctx = NULL;
	unsigned char ip[16];
	struct entry *e;
	time_t not_after = 0;
	int iplen, r;

	r = host_classify(host, ip, &iplen);
	if (r < 0)
		return r;
	r = mint_check_generation(m);
	if (r < 0)
		return r;
	e = cache_find(m, host);
	if (e && e->not_after - MINT_RENEW_SECONDS > time(NULL)) {
		lru_unlink(m, e);
		lru_push_front(m, e);
		m->stats.hits++;
		*ret = e->ctx;
		return 0;
	}
	if (e)
		entry_remove(m, e); /* about to expire */

	r = leaf_from_template(m->ca, m->tmpl, host, &leaf);
	if (r < 0)
		return r;
	r = server_ctx_new(m, leaf, &ctx);
	if (r < 0)
		return r;
	(void)tls_asn1_time_to_time(X509_get0_notAfter(leaf), &not_after);
	m->stats.misses++;
	if (m->n >= m->max) { /* one in, one out: n never exceeds max */
		PADDOCK_ASSERT(m->lru);
		entry_remove(m, m->lru);
		m->stats.evictions++;
	}
	e = xcalloc(1, sizeof(*e));
	e->host = xstrdup(host);
	e->ctx = ctx;
	e->not_after = not_after;
	e->hnext = m->buckets[bucket_of(m, host)];
	m->buckets[bucket_of(m, host)] = e;
	lru_push_front(m, e);
	m->n++;
	*ret = ctx;
	return 0;
}

int mint_server_ssl_new(struct mint *m, const char *host, SSL **ret)
{
	SSL_CTX *ctx = NULL;
	SSL *ssl;
	int r;

	r = mint_server_ctx(m, host, &ctx);
	if (r < 0)
		return r;
	ssl = SSL_new(ctx);
	if (!ssl)
		return -ENOMEM;
	SSL_set_accept_state(ssl);
	*ret = ssl;
	return 0;
}

void mint_get_stats(const struct mint *m, struct mint_stats *ret)
{
	*ret = m->stats;
	ret->entries = m->n;
}
