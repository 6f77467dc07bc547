/* SPDX-License-Identifier: MIT */
/*
 * test-tls.c - the CA, leaf minting and its cache, upstream verification, the trust bundle
 *
 * Every CA lives in a fresh temporary data directory. TLS handshakes run in memory: two SSLs
 * on memory BIOs, the bytes moved by hand (as test-peek.c makes ClientHellos). The cost of a
 * leaf, signed and cached, is printed as TAP comments.
 */
#include <fcntl.h>
#include <malloc.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/path.h"
#include "common/xmalloc.h"
#include "tap.h"
#include "tls/ca.h"
#include "tls/mint.h"
#include "tls/tls.h"

static char *tmpdir_new(void)
{
	char t[] = "/tmp/paddock-test-tls.XXXXXX";

	PADDOCK_ASSERT(mkdtemp(t));
	return xstrdup(t);
}

static void rm_rf(const char *dir)
{
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);

	(void)system(cmd);
}

#define _cleanup_tmpdir_ _cleanup_(tmpdir_freep)
static void tmpdir_freep(char **p)
{
	if (*p) {
		rm_rf(*p);
		free(*p);
	}
}

static struct ca *new_ca(const char *dir)
{
	struct ca *ca = NULL;
	_cleanup_free_ char *err = NULL;
	int r = ca_load_or_create(dir, &ca, &err);

	if (r < 0)
		printf("# ca_load_or_create: %s\n", err);
	PADDOCK_ASSERT(r >= 0);
	return ca;
}

static char *read_text(const char *path)
{
	char *s = NULL;

	PADDOCK_ASSERT(read_file_at(AT_FDCWD, path, 32 << 20, &s, NULL) >= 0);
	return s;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* ---- the CA ------------------------------------------------------------------------------- */

TEST(ca_created_private_and_reloaded)
{
	_cleanup_tmpdir_ char *d = tmpdir_new();
	_cleanup_free_ char *data = path_join(d, "data/paddock"), *err = NULL;
	_cleanup_(ca_freep) struct ca *ca = NULL, *again = NULL;
	char fp1[CA_FINGERPRINT_SIZE], fp2[CA_FINGERPRINT_SIZE];
	struct stat st;

	ASSERT_EQ(ca_load_or_create(data, &ca, &err), CA_CREATED);
	_cleanup_free_ char *dir = path_join(data, "ca");
	ASSERT_OK(stat(dir, &st));
	ASSERT_EQ(st.st_mode & 07777, 0700);
	ASSERT_OK(stat(ca_key_path(ca), &st));
	ASSERT_EQ(st.st_mode & 07777, 0600);
	ASSERT_EQ(st.st_uid, geteuid());
	ASSERT_OK(stat(ca_cert_path(ca), &st));
	ASSERT_EQ(st.st_mode & 07777, 0644);

	ASSERT_EQ(ca_load_or_create(data, &again, &err), CA_LOADED);
	ca_fingerprint(ca, fp1);
	ca_fingerprint(again, fp2);
	ASSERT_STREQ(fp1, fp2);
	ASSERT_EQ(strlen(fp1), 95);
	ASSERT_STREQ(ca_cert_pem(ca), ca_cert_pem(again));
	/* the fingerprint is openssl's: SHA-256 of the DER */
	{
		unsigned char md[32];
		unsigned n = 0;
		char hex[4];

		ASSERT_TRUE(X509_digest(ca_cert(again), EVP_sha256(), md, &n));
		(void)snprintf(hex, sizeof(hex), "%02X", md[31]);
		ASSERT_STREQ(fp1 + 93, hex);
	}
}

TEST(ca_key_0644_refused_naming_the_file)
{
	_cleanup_tmpdir_ char *d = tmpdir_new();
	_cleanup_(ca_freep) struct ca *ca = new_ca(d), *again = NULL;
	_cleanup_free_ char *err = NULL;

	ASSERT_OK(chmod(ca_key_path(ca), 0644));
	ASSERT_ERR(ca_load_or_create(d, &again, &err), EPERM);
	ASSERT_NULL(again);
	ASSERT_NOT_NULL(err);
	ASSERT_TRUE(strstr(err, ca_key_path(ca)) != NULL);
	ASSERT_TRUE(strstr(err, "0644") != NULL);
	printf("# %s\n", err);

	/* a replacement is the way out */
	ASSERT_OK(ca_replace(d, &again, &err));
	{
		struct stat st;

		ASSERT_OK(stat(ca_key_path(again), &st));
		ASSERT_EQ(st.st_mode & 07777, 0600);
	}
}

TEST(ca_dir_not_private_refused)
{
	_cleanup_tmpdir_ char *d = tmpdir_new();
	_cleanup_(ca_freep) struct ca *ca = NULL;
	_cleanup_free_ char *dir = path_join(d, "ca"), *err = NULL;

	ASSERT_OK(mkdir(dir, 0755));
	ASSERT_OK(chmod(dir, 0755));
	ASSERT_ERR(ca_load_or_create(d, &ca, &err), EPERM);
	ASSERT_TRUE(strstr(err, dir) != NULL);
}

TEST(ca_symlinked_key_refused)
{
	_cleanup_tmpdir_ char *d = tmpdir_new();
	_cleanup_(ca_freep) struct ca *ca = new_ca(d), *again = NULL;
	_cleanup_free_ char *err = NULL, *moved = path_join(d, "elsewhere.key");

	ASSERT_OK(rename(ca_key_path(ca), moved));
	ASSERT_OK(symlink(moved, ca_key_path(ca)));
	ASSERT_TRUE(ca_load_or_create(d, &again, &err) < 0);
	ASSERT_TRUE(strstr(err, ca_key_path(ca)) != NULL);
}

TEST(ca_profile)
{
	_cleanup_tmpdir_ char *d = tmpdir_new();
	_cleanup_(ca_freep) struct ca *ca = new_ca(d);
	X509 *x = ca_cert(ca);
	const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
	BASIC_CONSTRAINTS *bc;
	time_t nb = 0, na = 0;
	char cn[128];
	int crit = -1;

	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	ASSERT_NOT_NULL(bc);
	ASSERT_TRUE(bc->ca);
	ASSERT_EQ(ASN1_INTEGER_get(bc->pathlen), 0);
	ASSERT_EQ(crit, 1);
	BASIC_CONSTRAINTS_free(bc);
	ASSERT_TRUE(X509_get_key_usage(x) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
	ASSERT_EQ(X509_EXTENSION_get_critical(
			  X509_get_ext(x, X509_get_ext_by_NID(x, NID_key_usage, -1))),
		  1);
	ASSERT_NOT_NULL(X509_get0_subject_key_id(x));
	ASSERT_TRUE(X509_get_ext_by_NID(x, NID_name_constraints, -1) < 0); /* tls.md */
	ASSERT_TRUE(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
					      sizeof(cn)) > 0);
	ASSERT_TRUE(strncmp(cn, "paddock sandbox CA (", 20) == 0);
	ASSERT_TRUE(strchr(cn, '@') != NULL);
	ASSERT_TRUE(EVP_PKEY_is_a(X509_get0_pubkey(x), "EC"));
	ASSERT_EQ(EVP_PKEY_get_bits(X509_get0_pubkey(x)), 256);
	ASSERT_TRUE(serial->length >= 14 && serial->length <= 17);
	ASSERT_OK(tls_asn1_time_to_time(X509_get0_notBefore(x), &nb));
	ASSERT_OK(tls_asn1_time_to_time(X509_get0_notAfter(x), &na));
	ASSERT_TRUE(na - nb >= (time_t)CA_VALIDITY_DAYS * 86400);
	ASSERT_TRUE(na - nb <= (time_t)CA_VALIDITY_DAYS * 86400 + 7200);
	ASSERT_EQ(ca_not_after(ca), na);
	/* self-signed, and valid for OpenSSL's strict mode (what python 3.13 asks for) */
	{
		X509_STORE *store = X509_STORE_new();
		X509_STORE_CTX *sc = X509_STORE_CTX_new();

		X509_STORE_add_cert(store, x);
		X509_STORE_set_flags(store, X509_V_FLAG_X509_STRICT);
		X509_STORE_CTX_init(sc, store, x, NULL);
		ASSERT_EQ(X509_verify_cert(sc), 1);
		X509_STORE_CTX_free(sc);
		X509_STORE_free(store);
	}
}

/* Two to four processes creating the CA at once end with one CA. */
TEST(ca_concurrent_first_use)
{
	_cleanup_tmpdir_ char *d = tmpdir_new();
	_cleanup_(ca_freep) struct ca *ca = NULL;
	char fp[CA_FINGERPRINT_SIZE];
	int pipes[4][2], created = 0;

	for (int i = 0; i < 4; i++) {
		pid_t pid;

		ASSERT_OK(pipe(pipes[i]));
		pid = fork();
		ASSERT_TRUE(pid >= 0);
		if (pid == 0) {
			struct ca *c = NULL;
			char out[CA_FINGERPRINT_SIZE + 1];
			int r = ca_load_or_create(d, &c, NULL);

			if (r < 0)
				_exit(2);
			ca_fingerprint(c, out);
			out[CA_FINGERPRINT_SIZE - 1] = r == CA_CREATED ? 'C' : 'L';
			(void)loop_write(pipes[i][1], out, CA_FINGERPRINT_SIZE);
			_exit(0);
		}
		close(pipes[i][1]);
	}
	ca = new_ca(d);
	ca_fingerprint(ca, fp);
	for (int i = 0; i < 4; i++) {
		char got[CA_FINGERPRINT_SIZE];
		int status;

		ASSERT_EQ(loop_read(pipes[i][0], got, sizeof(got)), CA_FINGERPRINT_SIZE);
		close(pipes[i][0]);
		created += got[CA_FINGERPRINT_SIZE - 1] == 'C';
		got[CA_FINGERPRINT_SIZE - 1] = '\0';
		fp[CA_FINGERPRINT_SIZE - 1] = '\0';
		ASSERT_TRUE(strncmp(got, fp, CA_FINGERPRINT_SIZE - 1) == 0);
		ASSERT_TRUE(wait(&status) > 0);
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ASSERT_TRUE(created <= 1);
}

/* A crash between the two renames of a rotation is completed; one before them is undone. */
TEST(ca_interrupted_rotation_recovered)
{
	_cleanup_tmpdir_ char *d = tmpdir_new(), *d2 = tmpdir_new();
	_cleanup_(ca_freep) struct ca *ca = new_ca(d), *other = new_ca(d2), *again = NULL;
	_cleanup_free_ char *crt_new = xasprintf("%s.new", ca_cert_path(ca)),
			    *key_new = xasprintf("%s.new", ca_key_path(ca)), *err = NULL;
	char fp1[CA_FINGERPRINT_SIZE], fp2[CA_FINGERPRINT_SIZE];

	/* before the first rename: both .new files; the old pair stays */
	ASSERT_OK(link(ca_key_path(other), key_new));
	ASSERT_OK(link(ca_cert_path(other), crt_new));
	ASSERT_EQ(ca_load_or_create(d, &again, &err), CA_LOADED);
	ca_fingerprint(ca, fp1);
	ca_fingerprint(again, fp2);
	ASSERT_STREQ(fp1, fp2);
	ASSERT_TRUE(access(key_new, F_OK) < 0 && access(crt_new, F_OK) < 0);
	again = ca_free(again);

	/* between the renames: the new key in place, the new certificate still .new */
	ASSERT_OK(rename(ca_key_path(other), ca_key_path(ca)));
	ASSERT_OK(rename(ca_cert_path(other), crt_new));
	ASSERT_EQ(ca_load_or_create(d, &again, &err), CA_LOADED);
	ca_fingerprint(other, fp1);
	ca_fingerprint(again, fp2);
	ASSERT_STREQ(fp1, fp2);
}

TEST(ca_mismatched_pair_refused)
{
	_cleanup_tmpdir_ char *d = tmpdir_new(), *d2 = tmpdir_new();
	_cleanup_(ca_freep) struct ca *ca = new_ca(d), *other = new_ca(d2), *again = NULL;
	_cleanup_free_ char *err = NULL;

	ASSERT_OK(rename(ca_cert_path(other), ca_cert_path(ca)));
	ASSERT_ERR(ca_load_or_create(d, &again, &err), EINVAL);
	ASSERT_TRUE(strstr(err, "does not belong") != NULL);
}

/* ---- leaves ------------------------------------------------------------------------------- */

static EVP_PKEY *leaf_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	PADDOCK_ASSERT(k);
	return k;
}

/* X509_verify_cert of @leaf against a store holding only @ca, strict, for @host (or none) */
static int verify_leaf(struct ca *ca, X509 *leaf, const char *host)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	int r;

	X509_STORE_add_cert(store, ca_cert(ca));
	X509_STORE_set_flags(store, X509_V_FLAG_X509_STRICT);
	X509_STORE_CTX_init(sc, store, leaf, NULL);
	X509_STORE_CTX_set_purpose(sc, X509_PURPOSE_SSL_SERVER);
	if (host)
		X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(sc), host, 0);
	r = X509_verify_cert(sc);
	if (r != 1)
		printf("# verify: %s\n",
		       X509_verify_cert_error_string(X509_STORE_CTX_get_error(sc)));
	X509_STORE_CTX_free(sc);
	X509_STORE_free(store);
	return r;
}

TEST(leaf_verifies_for_its_host_only)
{
	_cleanup_tmpdir_ char *d = tmpdir_new();
	_cleanup_(ca_freep) struct ca *ca = new_ca(d);
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *k = leaf_key();
	_cleanup_(X509_freep) X509 *leaf = NULL;

	ASSERT_OK(mint_leaf(ca, k, "api.example.com", &leaf));
	ASSERT_EQ(verify_leaf(ca, leaf, NULL), 1);
	ASSERT_EQ(verify_leaf(ca, leaf, "api.example.com"), 1);
	ASSERT_EQ(X509_check_host(leaf, "api.example.com", 0, 0, NULL), 1);
	ASSERT_EQ(X509_check_host(leaf, "other.example.com", 0, 0, NULL), 0);
	ASSERT_EQ(X509_check_host(leaf, "example.com", 0, 0, NULL), 0);
	ASSERT_TRUE(verify_leaf(ca, leaf, "other.example.com") != 1);
}

TEST(leaf_san_exactly_the_host)
{
	_cleanup_tmpdir_ char *d = tmpdir_new();
	_cleanup_(ca_freep) struct ca *ca = new_ca(d);
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *k = leaf_key();
	static const char *const hosts[] = { "api.example.com", "10.1.2.3", "::1", "2001:db8::7" };

	for (size_t i = 0; i < ELEMENTSOF(hosts); i++) {
		_cleanup_(X509_freep) X509 *leaf = NULL;
		GENERAL_NAMES *gens;
		const GENERAL_NAME *g;
		bool is_ip = strchr(hosts[i], ':') || (hosts[i][0] >= '0' && hosts[i][0] <= '9');
		int crit = -1;

		ASSERT_OK(mint_leaf(ca, k, hosts[i], &leaf));
		gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, &crit, NULL);
		ASSERT_NOT_NULL(gens);
		ASSERT_EQ(sk_GENERAL_NAME_num(gens), 1);
		ASSERT_EQ(crit, 0);
		g = sk_GENERAL_NAME_value(gens, 0);
		if (is_ip) {
			ASSERT_EQ(g->type, GEN_IPADD);
			ASSERT_EQ(X509_check_ip_asc(leaf, hosts[i], 0), 1);
			ASSERT_EQ(X509_check_ip_asc(leaf, "10.1.2.4", 0), 0);
		} else {
			ASSERT_EQ(g->type, GEN_DNS);
			ASSERT_EQ(ASN1_STRING_length(g->d.dNSName), (int)strlen(hosts[i]));
			ASSERT_TRUE(memcmp(ASN1_STRING_get0_data(g->d.dNSName), hosts[i],
					   strlen(hosts[i])) == 0);
		}
		GENERAL_NAMES_free(gens);
		ASSERT_EQ(verify_leaf(ca, leaf, NULL), 1);
		ASSERT_EQ(X509_get_ext_by_NID(leaf, NID_subject_alt_name,
					      X509_get_ext_by_NID(leaf, NID_subject_alt_name, -1)),
			  -1);
	}
}

TEST(leaf_profile)
{
	_cleanup_tmpdir_ char *d = tmpdir_new();
	_cleanup_(ca_freep) struct ca *ca = new_ca(d);
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *k = leaf_key();
	_cleanup_(X509_freep) X509 *leaf = NULL, *leaf2 = NULL;
	time_t nb = 0, na = 0, now = time(NULL);
	char cn[300];

	ASSERT_OK(mint_leaf(ca, k, "api.example.com", &leaf));
	ASSERT_OK(tls_asn1_time_to_time(X509_get0_notBefore(leaf), &nb));
	ASSERT_OK(tls_asn1_time_to_time(X509_get0_notAfter(leaf), &na));
	ASSERT_TRUE(na - nb <= 90 * 86400);
	ASSERT_TRUE(na <= now + MINT_LEAF_DAYS * 86400 + 5);
	ASSERT_TRUE(nb <= now - MINT_BACKDATE + 5 && nb >= now - MINT_BACKDATE - 5);
	ASSERT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(leaf),
					X509_get0_subject_key_id(ca_cert(ca))),
		  0);
	ASSERT_NOT_NULL(X509_get0_subject_key_id(leaf));
	ASSERT_TRUE(ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(leaf),
					  X509_get0_subject_key_id(ca_cert(ca))) != 0);
	ASSERT_TRUE(X509_get_key_usage(leaf) == KU_DIGITAL_SIGNATURE);
	ASSERT_EQ(X509_EXTENSION_get_critical(
			  X509_get_ext(leaf, X509_get_ext_by_NID(leaf, NID_key_usage, -1))),
		  1);
	ASSERT_TRUE(X509_get_extended_key_usage(leaf) == XKU_SSL_SERVER);
	ASSERT_EQ(X509_check_ca(leaf), 0);
	ASSERT_TRUE(X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn,
					      sizeof(cn)) > 0);
	ASSERT_STREQ(cn, "api.example.com");
	ASSERT_EQ(X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(ca_cert(ca))), 0);
	/* random serials */
	ASSERT_OK(mint_leaf(ca, k, "api.example.com", &leaf2));
	ASSERT_TRUE(ASN1_INTEGER_cmp(X509_get0_serialNumber(leaf), X509_get0_serialNumber(leaf2)) !=
		    0);
}

/* A name longer than a CN may be: no CN, a critical SAN, and it still verifies. */
TEST(leaf_long_name)
{
	_cleanup_tmpdir_ char *d = tmpdir_new();
	_cleanup_(ca_freep) struct ca *ca = new_ca(d);
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *k = leaf_key();
	_cleanup_(X509_freep) X509 *leaf = NULL;
	char host[254];
	int crit = -1;
	void *gens;

	/* labels of 63, 63, 63 and 61 bytes: 253 in all, the longest name */
	memset(host, 'a', sizeof(host));
	host[63] = host[127] = host[191] = '.';
	host[253] = '\0';
	ASSERT_EQ(strlen(host), 253);
	ASSERT_OK(mint_leaf(ca, k, host, &leaf));
	ASSERT_EQ(X509_NAME_entry_count(X509_get_subject_name(leaf)), 0);
	gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, &crit, NULL);
	ASSERT_NOT_NULL(gens);
	GENERAL_NAMES_free(gens);
	ASSERT_EQ(crit, 1);
	ASSERT_EQ(verify_leaf(ca, leaf, host), 1);
}

TEST(leaf_invalid_hosts_refused)
{
	_cleanup_tmpdir_ char *d = tmpdir_new();
	_cleanup_(ca_freep) struct ca *ca = new_ca(d);
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *k = leaf_key();
	_cleanup_(mint_freep) struct mint *m = NULL;
	static const char *const bad[] = {
		"",        "*.example.com",  "Example.com",     "example.com.",
		"a b.com", "a,DNS:evil.com", "exa\x01mple.com", "-a.com",
		"127.1",   "[::1]",          "a..com",          "ex_ample.com",
	};
	char longname[300];
	X509 *leaf = NULL;
	SSL_CTX *ctx = NULL;

	ASSERT_OK(mint_new(ca, 4, &m));
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		ASSERT_ERR(mint_leaf(ca, k, bad[i], &leaf), EINVAL);
		ASSERT_ERR(mint_server_ctx(m, bad[i], &ctx), EINVAL);
	}
	ASSERT_ERR(mint_leaf(ca, k, NULL, &leaf), EINVAL);
	memset(longname, 'a', sizeof(longname));
	for (int i = 50; i < 299; i += 51)
		longname[i] = '.';
	longname[254] = '\0';
	ASSERT_ERR(mint_leaf(ca, k, longname, &leaf), EINVAL);
	ASSERT_ERR(mint_server_ctx(m, longname, &ctx), EINVAL);
	ASSERT_NULL(leaf);
	ASSERT_NULL(ctx);
}

/* ---- the cache ---------------------------------------------------------------------------- */

static X509 *ctx_leaf(SSL_CTX *ctx)
{
	return SSL_CTX_get0_certificate(ctx);
}

TEST(cache_hit_eviction_and_rotation)
{
	_cleanup_tmpdir_ char *d = tmpdir_new();
	_cleanup_(ca_freep) struct ca *ca = new_ca(d);
	_cleanup_(mint_freep) struct mint *m = NULL;
	SSL_CTX *a = NULL, *a2 = NULL, *b = NULL, *c = NULL;
	struct mint_stats st;
	_cleanup_free_ char *err = NULL;

	ASSERT_OK(mint_new(ca, 2, &m));
	ASSERT_OK(mint_server_ctx(m, "a.example", &a));
	ASSERT_OK(mint_server_ctx(m, "a.example", &a2));
	ASSERT_TRUE(a == a2);
	mint_get_stats(m, &st);
	ASSERT_EQ(st.hits, 1);
	ASSERT_EQ(st.misses, 1);
	ASSERT_EQ(X509_check_host(ctx_leaf(a), "a.example", 0, 0, NULL), 1);

	ASSERT_OK(mint_server_ctx(m, "b.example", &b));
	ASSERT_TRUE(b != a);
	ASSERT_OK(mint_server_ctx(m, "a.example", &a2)); /* a is now the most recent */
	ASSERT_TRUE(a2 == a);
	ASSERT_OK(mint_server_ctx(m, "c.example", &c)); /* evicts b, the least recent */
	mint_get_stats(m, &st);
	ASSERT_EQ(st.evictions, 1);
	ASSERT_EQ(st.entries, 2);
	ASSERT_OK(mint_server_ctx(m, "a.example", &a2));
	mint_get_stats(m, &st);
	ASSERT_EQ(st.misses, 3); /* a was kept */
	ASSERT_OK(mint_server_ctx(m, "b.example", &b));
	mint_get_stats(m, &st);
	ASSERT_EQ(st.misses, 4); /* b was not */

	/* rotation: the next call mints under the new CA, with a new key */
	{
		_cleanup_(X509_freep) X509 *old_leaf = X509_dup(ctx_leaf(a));
		_cleanup_(X509_freep) X509 *old_ca = X509_dup(ca_cert(ca));
		unsigned gen = ca_generation(ca);

		ASSERT_OK(ca_rotate(ca, &err));
		ASSERT_TRUE(ca_generation(ca) != gen);
		ASSERT_TRUE(X509_cmp(old_ca, ca_cert(ca)) != 0);
		ASSERT_OK(mint_server_ctx(m, "a.example", &a2));
		mint_get_stats(m, &st);
		ASSERT_EQ(st.flushes, 1);
		ASSERT_EQ(st.misses, 5);
		ASSERT_EQ(st.entries, 1);
		ASSERT_TRUE(X509_cmp(old_leaf, ctx_leaf(a2)) != 0);
		ASSERT_EQ(verify_leaf(ca, ctx_leaf(a2), "a.example"), 1);
		ASSERT_TRUE(EVP_PKEY_eq(X509_get0_pubkey(old_leaf),
					X509_get0_pubkey(ctx_leaf(a2))) != 1);
	}
}

/* ---- handshakes in memory ----------------------------------------------------------------- */

static void pump(BIO *from, BIO *to)
{
	char buf[16384];
	int n;

	while ((n = BIO_read(from, buf, sizeof(buf))) > 0)
		PADDOCK_ASSERT(BIO_write(to, buf, n) == n);
}

/* Run the handshake of @c (client) and @s (server), both freshly made. 0 or -1. */
static int handshake(SSL *c, SSL *s)
{
	BIO *c_in = BIO_new(BIO_s_mem()), *c_out = BIO_new(BIO_s_mem());
	BIO *s_in = BIO_new(BIO_s_mem()), *s_out = BIO_new(BIO_s_mem());
	bool c_done = false, s_done = false;

	SSL_set_bio(c, c_in, c_out);
	SSL_set_bio(s, s_in, s_out);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	for (int i = 0; i < 20 && !(c_done && s_done); i++) {
		int rc = c_done ? 1 : SSL_do_handshake(c), rs = s_done ? 1 : SSL_do_handshake(s);

		if (rc <= 0 && SSL_get_error(c, rc) != SSL_ERROR_WANT_READ)
			return -1;
		if (rs <= 0 && SSL_get_error(s, rs) != SSL_ERROR_WANT_READ)
			return -1;
		c_done = rc == 1;
		s_done = rs == 1;
		pump(c_out, s_in);
		pump(s_out, c_in);
	}
	ERR_clear_error();
	return c_done && s_done ? 0 : -1;
}

/* A client context trusting only @ca_pem (no system store), offering @alpn (wire form). */
static SSL_CTX *client_ctx(const char *ca_pem, const char *alpn, size_t alpn_len)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	BIO *b = BIO_new_mem_buf(ca_pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);

	PADDOCK_ASSERT(ctx && x);
	PADDOCK_ASSERT(X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), x) == 1);
	X509_STORE_set_flags(SSL_CTX_get_cert_store(ctx), X509_V_FLAG_X509_STRICT);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (alpn)
		PADDOCK_ASSERT(SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)alpn,
						       (unsigned)alpn_len) == 0);
	X509_free(x);
	BIO_free(b);
	return ctx;
}

static SSL *client_ssl(SSL_CTX *ctx, const char *host)
{
	SSL *ssl = SSL_new(ctx);

	PADDOCK_ASSERT(ssl);
	SSL_set_tlsext_host_name(ssl, host);
	PADDOCK_ASSERT(SSL_set1_host(ssl, host) == 1);
	return ssl;
}

#define ALPN_H2_H11 "\x02h2\x08http/1.1"

TEST(handshake_with_minted_leaf)
{
	_cleanup_tmpdir_ char *d = tmpdir_new();
	_cleanup_(ca_freep) struct ca *ca = new_ca(d);
	_cleanup_(mint_freep) struct mint *m = NULL;
	_cleanup_(SSL_CTX_freep) SSL_CTX *cctx =
		client_ctx(ca_cert_pem(ca), ALPN_H2_H11, sizeof(ALPN_H2_H11) - 1);
	_cleanup_(SSL_CTX_freep) SSL_CTX *h2only = client_ctx(ca_cert_pem(ca), "\x02h2", 3);
	_cleanup_(SSL_CTX_freep) SSL_CTX *tls11 = client_ctx(ca_cert_pem(ca), NULL, 0);
	const unsigned char *proto = NULL;
	unsigned plen = 0;

	ASSERT_OK(mint_new(ca, 0, &m));
	{
		_cleanup_(SSL_freep) SSL *c = client_ssl(cctx, "api.example.com"), *s = NULL;

		ASSERT_OK(mint_server_ssl_new(m, "api.example.com", &s));
		ASSERT_OK(handshake(c, s));
		ASSERT_EQ(SSL_get_verify_result(c), X509_V_OK);
		SSL_get0_alpn_selected(c, &proto, &plen);
		ASSERT_EQ(plen, 8);
		ASSERT_TRUE(memcmp(proto, "http/1.1", 8) == 0);
		ASSERT_EQ(SSL_version(c), TLS1_3_VERSION);
		/* the chain sent is the leaf and the CA */
		ASSERT_EQ(sk_X509_num(SSL_get_peer_cert_chain(c)), 2);
	}
	/* h2 only: the handshake succeeds without ALPN, the client decides what to do */
	{
		_cleanup_(SSL_freep) SSL *c = client_ssl(h2only, "api.example.com"), *s = NULL;

		ASSERT_OK(mint_server_ssl_new(m, "api.example.com", &s));
		ASSERT_OK(handshake(c, s));
		SSL_get0_alpn_selected(c, &proto, &plen);
		ASSERT_EQ(plen, 0);
	}
	/* a client asking for another host refuses the leaf */
	{
		_cleanup_(SSL_freep) SSL *c = client_ssl(cctx, "other.example.com"), *s = NULL;

		ASSERT_OK(mint_server_ssl_new(m, "api.example.com", &s));
		ASSERT_TRUE(handshake(c, s) < 0);
		ASSERT_EQ(SSL_get_verify_result(c), X509_V_ERR_HOSTNAME_MISMATCH);
	}
	/* TLS 1.1 is refused */
	{
		_cleanup_(SSL_freep) SSL *c = client_ssl(tls11, "api.example.com"), *s = NULL;

		ASSERT_TRUE(SSL_set_max_proto_version(c, TLS1_1_VERSION) == 1);
		SSL_set_security_level(c, 0);
		ASSERT_OK(mint_server_ssl_new(m, "api.example.com", &s));
		ASSERT_TRUE(handshake(c, s) < 0);
	}
	/* TLS 1.2 works */
	{
		_cleanup_(SSL_freep) SSL *c = client_ssl(tls11, "api.example.com"), *s = NULL;

		ASSERT_TRUE(SSL_set_max_proto_version(c, TLS1_2_VERSION) == 1);
		ASSERT_OK(mint_server_ssl_new(m, "api.example.com", &s));
		ASSERT_OK(handshake(c, s));
		ASSERT_EQ(SSL_version(c), TLS1_2_VERSION);
	}
}

/* ---- upstream ----------------------------------------------------------------------------- */

TEST(upstream_verification)
{
	/* the "real server": a leaf from another CA, which only an extra CA file makes known */
	_cleanup_tmpdir_ char *d = tmpdir_new();
	_cleanup_free_ char *srv_dir = path_join(d, "server"), *ca_file = path_join(d, "srv.pem"),
			    *empty = path_join(d, "empty.pem"), *missing = path_join(d, "nope.pem"),
			    *err = NULL;
	_cleanup_(ca_freep) struct ca *srv_ca = new_ca(srv_dir);
	_cleanup_(mint_freep) struct mint *srv = NULL;
	_cleanup_(SSL_CTX_freep) SSL_CTX *with = NULL, *without = NULL, *bad = NULL;
	char *extra[] = { ca_file, NULL };
	const unsigned char *proto = NULL;
	unsigned plen = 0;

	ASSERT_OK(write_file_atomic(ca_file, ca_cert_pem(srv_ca), strlen(ca_cert_pem(srv_ca)), 0644,
				    false));
	ASSERT_OK(write_file_atomic(empty, "nothing\n", 8, 0644, false));
	ASSERT_OK(mint_new(srv_ca, 0, &srv));
	ASSERT_OK(tls_upstream_ctx_new(extra, &with, &err));
	ASSERT_OK(tls_upstream_ctx_new(NULL, &without, &err));

	/* the right name, a known CA */
	{
		_cleanup_(SSL_freep) SSL *c = NULL, *s = NULL;

		ASSERT_OK(tls_upstream_ssl_new(with, "upstream.test", &c));
		ASSERT_OK(mint_server_ssl_new(srv, "upstream.test", &s));
		ASSERT_OK(handshake(c, s));
		ASSERT_EQ(SSL_get_verify_result(c), X509_V_OK);
		ASSERT_STREQ(SSL_get_servername(s, TLSEXT_NAMETYPE_host_name), "upstream.test");
		SSL_get0_alpn_selected(c, &proto, &plen);
		ASSERT_EQ(plen, 8);
	}
	/* a certificate for another name */
	{
		_cleanup_(SSL_freep) SSL *c = NULL, *s = NULL;

		ASSERT_OK(tls_upstream_ssl_new(with, "upstream.test", &c));
		ASSERT_OK(mint_server_ssl_new(srv, "evil.test", &s));
		ASSERT_TRUE(handshake(c, s) < 0);
		ASSERT_EQ(SSL_get_verify_result(c), X509_V_ERR_HOSTNAME_MISMATCH);
	}
	/* an unknown CA */
	{
		_cleanup_(SSL_freep) SSL *c = NULL, *s = NULL;

		ASSERT_OK(tls_upstream_ssl_new(without, "upstream.test", &c));
		ASSERT_OK(mint_server_ssl_new(srv, "upstream.test", &s));
		ASSERT_TRUE(handshake(c, s) < 0);
		/* the server sends its CA along: "self-signed certificate in chain" */
		ASSERT_TRUE(SSL_get_verify_result(c) == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
			    SSL_get_verify_result(c) ==
				    X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	}
	/* IP literals: no SNI, the iPAddress SAN is checked */
	{
		_cleanup_(SSL_freep) SSL *c = NULL, *s = NULL, *c2 = NULL, *s2 = NULL;

		ASSERT_OK(tls_upstream_ssl_new(with, "127.0.0.1", &c));
		ASSERT_OK(mint_server_ssl_new(srv, "127.0.0.1", &s));
		ASSERT_OK(handshake(c, s));
		ASSERT_NULL(SSL_get_servername(s, TLSEXT_NAMETYPE_host_name));
		ASSERT_OK(tls_upstream_ssl_new(with, "127.0.0.2", &c2));
		ASSERT_OK(mint_server_ssl_new(srv, "127.0.0.1", &s2));
		ASSERT_TRUE(handshake(c2, s2) < 0);
		ASSERT_EQ(SSL_get_verify_result(c2), X509_V_ERR_IP_ADDRESS_MISMATCH);
	}
	/* bad hosts and files */
	{
		SSL *c = NULL;
		char *e1[] = { missing, NULL }, *e2[] = { empty, NULL };

		ASSERT_ERR(tls_upstream_ssl_new(with, "", &c), EINVAL);
		ASSERT_ERR(tls_upstream_ssl_new(with, "a b", &c), EINVAL);
		ASSERT_ERR(tls_upstream_ssl_new(with, "[::1]", &c), EINVAL);
		ASSERT_NULL(c);
		ASSERT_ERR(tls_upstream_ctx_new(e1, &bad, &err), ENOENT);
		ASSERT_TRUE(strstr(err, missing) != NULL);
		ASSERT_ERR(tls_upstream_ctx_new(e2, &bad, &err), EINVAL);
		ASSERT_TRUE(strstr(err, empty) != NULL);
		ASSERT_NULL(bad);
	}
}

/* ---- the bundle --------------------------------------------------------------------------- */

static int count_certs(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	X509 *x;
	int n = 0;

	PADDOCK_ASSERT(b);
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		n++;
		X509_free(x);
	}
	ERR_clear_error();
	BIO_free(b);
	return n;
}

TEST(bundle_system_roots_plus_ca)
{
	_cleanup_tmpdir_ char *d = tmpdir_new();
	_cleanup_(ca_freep) struct ca *ca = new_ca(d);
	_cleanup_free_ char *out = path_join(d, TLS_BUNDLE_NAME), *fake = path_join(d, "roots.pem"),
			    *text = NULL, *roots = NULL;
	const char *used = NULL;
	struct stat st;
	size_t n = 0;
	int n_roots;

	/* the host's bundle if there is one, else another CA standing in for it */
	if (access(tls_system_bundles[0], R_OK) == 0) {
		ASSERT_EQ(tls_bundle_write(ca, NULL, out, &used), 0);
		ASSERT_STREQ(used, tls_system_bundles[0]);
		roots = read_text(tls_system_bundles[0]);
	} else {
		_cleanup_free_ char *other = path_join(d, "other");
		_cleanup_(ca_freep) struct ca *o = new_ca(other);

		ASSERT_OK(write_file_atomic(fake, ca_cert_pem(o), strlen(ca_cert_pem(o)), 0644,
					    false));
		ASSERT_EQ(tls_bundle_write(ca, fake, out, &used), 0);
		roots = read_text(fake);
	}
	n_roots = count_certs(used);
	ASSERT_TRUE(n_roots > 0);
	ASSERT_EQ(count_certs(out), n_roots + 1);
	text = read_text(out);
	n = strlen(roots);
	ASSERT_TRUE(strncmp(text, roots, n) == 0);
	ASSERT_TRUE(strstr(text + n, ca_cert_pem(ca)) != NULL);
	ASSERT_OK(stat(out, &st));
	ASSERT_EQ(st.st_mode & 07777, 0644);
	printf("# bundle: %d roots from %s + paddock's CA\n", n_roots, used);

	/* no system bundle: only the CA, and 1 to say so */
	free(text);
	used = "x";
	ASSERT_EQ(tls_bundle_write(ca, fake, out, &used), access(fake, F_OK) == 0 ? 0 : 1);
	if (access(fake, F_OK) < 0) {
		ASSERT_NULL(used);
		ASSERT_EQ(count_certs(out), 1);
	}
	text = read_text(out);
	ASSERT_TRUE(strstr(text, ca_cert_pem(ca)) != NULL);
	ASSERT_ERR(tls_bundle_write(ca, NULL, "relative.pem", NULL), EINVAL);
}

TEST(bundle_env)
{
	static const char *const want[] = {
		"SSL_CERT_FILE",     "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE",
		"CURL_CA_BUNDLE",    "GIT_SSL_CAINFO",      "PIP_CERT",
		"CARGO_HTTP_CAINFO", "AWS_CA_BUNDLE",       "DENO_CERT",
	};
	size_t n = 0;

	while (tls_bundle_env[n])
		n++;
	ASSERT_EQ(n, ELEMENTSOF(want));
	for (size_t i = 0; i < n; i++)
		ASSERT_STREQ(tls_bundle_env[i], want[i]);
}

/* ---- cost --------------------------------------------------------------------------------- */

TEST(mint_cost)
{
	_cleanup_tmpdir_ char *d = tmpdir_new();
	_cleanup_(ca_freep) struct ca *ca = new_ca(d);
	_cleanup_(mint_freep) struct mint *m = NULL;
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *k = leaf_key();
	enum { N = 200 };
	SSL_CTX *ctx = NULL;
	double t0, t_leaf, t_ctx, t_hit;
	size_t mem;
	char host[64];

	ASSERT_OK(mint_new(ca, N, &m));
	t0 = now_us();
	for (int i = 0; i < N; i++) {
		X509 *x = NULL;

		(void)snprintf(host, sizeof(host), "h%d.example.com", i);
		ASSERT_OK(mint_leaf(ca, k, host, &x));
		X509_free(x);
	}
	t_leaf = (now_us() - t0) / N;
	mem = mallinfo2().uordblks;
	t0 = now_us();
	for (int i = 0; i < N; i++) {
		(void)snprintf(host, sizeof(host), "h%d.example.com", i);
		ASSERT_OK(mint_server_ctx(m, host, &ctx));
	}
	t_ctx = (now_us() - t0) / N;
	mem = (mallinfo2().uordblks - mem) / N;
	t0 = now_us();
	for (int j = 0; j < 10; j++)
		for (int i = 0; i < N; i++) {
			(void)snprintf(host, sizeof(host), "h%d.example.com", i);
			ASSERT_OK(mint_server_ctx(m, host, &ctx));
		}
	t_hit = (now_us() - t0) / (10 * N);
	printf("# mint: %.1f us per signed leaf (mint_leaf), %.1f us per new server SSL_CTX (leaf "
	       "included), %.2f us per cached lookup, %zu bytes per cached host\n",
	       t_leaf, t_ctx, t_hit, mem);
	ASSERT_TRUE(t_hit < t_ctx);
}

int main(void)
{
	return tap_run();
}
