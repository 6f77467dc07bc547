/* SPDX-License-Identifier: MIT */
/*
 * ca.c - the per-user certificate authority: create, load, rotate
 *
 * DOC: Theory of Operation
 * A sandbox trusts one extra CA, paddock's, so that the proxy can terminate TLS for the hosts
 * it must look into (a bound secret, an `inspect` rule). The CA is per user, in the data
 * directory: $DATA/ca/ is 0700 and holds ca.key (0600), ca.crt and a lock file. Nothing of it
 * is mounted into a sandbox except, through the trust bundle, the certificate.
 *
 * Every operation that reads or writes the pair holds an exclusive flock() on $DATA/ca/lock:
 * two paddock processes started at once for the first time end with one CA, the one the
 * first of them wrote; the second loads it.
 *
 * Files are written as: temporary file created with O_EXCL|O_NOFOLLOW, fchmod, write, fsync,
 * rename, fsync of the directory. A pair is replaced in this order: write ca.key.new and
 * ca.crt.new, rename the key, rename the certificate. Under the lock, a leftover ca.key.new
 * means a crash before the first rename (the old pair is whole: the .new files are removed);
 * a leftover ca.crt.new alone means a crash between the renames (it is renamed into place).
 *
 * The key is refused unless it is a regular file owned by the caller with mode exactly 0600:
 * a key others could read was possibly read, and a CA whose key leaked must be rotated rather
 * than used. The message names the file and the two ways out.
 *
 * See docs/design/tls.md for the certificate profile (and why it has no name constraints).
 */
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca.h"
#include "common/fd.h"
#include "common/macro.h"
#include "common/path.h"
#include "common/xmalloc.h"
#include "store/paths.h"
#include "tls-internal.h"

#define CA_FILE_MAX (64 * 1024)

struct ca {
	char *dir;
	char *key_path;
	char *cert_path;
	EVP_PKEY *key;
	X509 *cert;
	char *cert_pem;
	time_t not_after;
	unsigned generation;
};

static void set_err(char **reterr, const char *fmt, ...) _printf_(2, 3);
static void set_err(char **reterr, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	if (!reterr)
		return;
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		abort();
	va_end(ap);
	free(*reterr);
	*reterr = m;
}

/* Record the message and evaluate to @r (negative), which is evaluated before the message. */
#define ca_error(reterr, r, ...)                                                                   \
	({                                                                                         \
		int _r = (r);                                                                      \
		set_err((reterr), __VA_ARGS__);                                                    \
		_r;                                                                                \
	})

/* ---- helpers shared with mint.c and bundle.c ---------------------------------------------- */

int tls_set_random_serial(X509 *x)
{
	_cleanup_(BN_freep) BIGNUM *bn = BN_new();

	if (!bn)
		return -ENOMEM;
	do {
		if (!BN_rand(bn, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY))
			return -EIO;
	} while (BN_is_zero(bn));
	return BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ? 0 : -EIO;
}

int tls_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	_cleanup_(X509_EXTENSION_freep) X509_EXTENSION *e = NULL;
	X509V3_CTX v3;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!e || !X509_add_ext(x, e, -1))
		return -EIO;
	return 0;
}

int tls_write_file_atomic(int dirfd, const char *name, const void *buf, size_t n, mode_t mode)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", name, (int)getpid());
	_cleanup_close_ int fd = -EBADF;
	int r;

	(void)unlinkat(dirfd, tmp, 0); /* a leftover of a crashed process with our pid */
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	r = RET_NERRNO(fchmod(fd, mode));
	if (r >= 0)
		r = loop_write(fd, buf, n);
	if (r >= 0)
		r = RET_NERRNO(fsync(fd));
	if (r >= 0)
		r = RET_NERRNO(renameat(dirfd, tmp, dirfd, name));
	if (r < 0) {
		(void)unlinkat(dirfd, tmp, 0);
		return r;
	}
	(void)fsync(dirfd);
	return 0;
}

char *tls_pem_of_cert(X509 *x)
{
	_cleanup_(BIO_free_allp) BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;

	if (!b || !PEM_write_bio_X509(b, x))
		abort(); /* only memory can fail here */
	n = BIO_get_mem_data(b, &p);
	return xstrndup(p, (size_t)n);
}

int tls_asn1_time_to_time(const ASN1_TIME *t, time_t *ret)
{
	struct tm tm = {};

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return -EINVAL;
	*ret = timegm(&tm);
	return 0;
}

/* ---- files -------------------------------------------------------------------------------- */

/* mkdir -p with mode 0700 for what it creates; existing directories are left as they are */
static int mkdir_parents(const char *path)
{
	_cleanup_free_ char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Read @name (at most CA_FILE_MAX bytes) from @dirfd; -ENOENT when missing. */
static int read_at(int dirfd, const char *name, struct stat *ret_st, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -EBADF;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, ret_st) < 0)
		return -errno;
	if (!S_ISREG(ret_st->st_mode))
		return -EBADFD;
	return read_fd(fd, CA_FILE_MAX, ret, ret_len);
}

static bool exists_at(int dirfd, const char *name)
{
	return faccessat(dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Complete or undo a replacement that a crash interrupted (see the theory of operation). */
static int recover_at(int dirfd)
{
	if (exists_at(dirfd, CA_KEY_NAME ".new")) {
		(void)unlinkat(dirfd, CA_KEY_NAME ".new", 0);
		(void)unlinkat(dirfd, CA_CERT_NAME ".new", 0);
		return 0;
	}
	if (exists_at(dirfd, CA_CERT_NAME ".new"))
		return RET_NERRNO(renameat(dirfd, CA_CERT_NAME ".new", dirfd, CA_CERT_NAME));
	return 0;
}

/* ---- the certificate ---------------------------------------------------------------------- */

/* "paddock sandbox CA (user@host)", cut to the 64 bytes a CN may have */
static char *ca_common_name(void)
{
	const struct passwd *pw = getpwuid(geteuid());
	char host[256] = "localhost";
	char *cn;

	(void)gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	cn = xasprintf("paddock sandbox CA (%.16s@%.24s)", pw ? pw->pw_name : "user", host);
	PADDOCK_ASSERT(strlen(cn) <= 64);
	return cn;
}

static int ca_generate(EVP_PKEY **ret_key, X509 **ret_cert)
{
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *key = EVP_EC_gen("P-256");
	_cleanup_(X509_freep) X509 *x = X509_new();
	_cleanup_free_ char *cn = ca_common_name();
	X509_NAME *name;
	int r;

	if (!key || !x)
		return -EIO;
	name = X509_get_subject_name(x);
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"paddock",
					-1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					-1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), CA_VALIDITY_DAYS, 0, NULL) ||
	    !X509_set_pubkey(x, key))
		return -EIO;
	r = tls_set_random_serial(x);
	if (r < 0)
		return r;
	/* SKI first: the AKI of a self-signed certificate is computed from it */
	if (tls_add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
	    tls_add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
	    tls_add_ext(x, x, NID_subject_key_identifier, "hash") < 0 ||
	    tls_add_ext(x, x, NID_authority_key_identifier, "keyid:always") < 0)
		return -EIO;
	if (!X509_sign(x, key, EVP_sha256()))
		return -EIO;
	*ret_key = TAKE_PTR(key);
	*ret_cert = TAKE_PTR(x);
	return 0;
}

static char *pem_of_key(EVP_PKEY *key, size_t *ret_len)
{
	_cleanup_(BIO_free_allp) BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *copy;
	long n;

	if (!b || !PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL))
		abort();
	n = BIO_get_mem_data(b, &p);
	copy = xmalloc((size_t)n + 1);
	memcpy(copy, p, (size_t)n);
	copy[n] = '\0';
	OPENSSL_cleanse(p, (size_t)n);
	*ret_len = (size_t)n;
	return copy;
}

/* Write a new pair in place of the old one (under the lock). */
static int write_pair_at(int dirfd, EVP_PKEY *key, X509 *cert)
{
	_cleanup_free_ char *pem = tls_pem_of_cert(cert);
	size_t klen = 0;
	char *kpem = pem_of_key(key, &klen);
	int r;

	r = tls_write_file_atomic(dirfd, CA_KEY_NAME ".new", kpem, klen, 0600);
	OPENSSL_cleanse(kpem, klen);
	free(kpem);
	if (r >= 0)
		r = tls_write_file_atomic(dirfd, CA_CERT_NAME ".new", pem, strlen(pem), 0644);
	if (r >= 0)
		r = RET_NERRNO(renameat(dirfd, CA_KEY_NAME ".new", dirfd, CA_KEY_NAME));
	if (r >= 0)
		r = RET_NERRNO(renameat(dirfd, CA_CERT_NAME ".new", dirfd, CA_CERT_NAME));
	if (r < 0) {
		(void)recover_at(dirfd);
		return r;
	}
	(void)fsync(dirfd);
	return 0;
}

/* Make @ca hold @key and @cert (taken). */
static void ca_install(struct ca *ca, EVP_PKEY *key, X509 *cert)
{
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	free(ca->cert_pem);
	ca->key = key;
	ca->cert = cert;
	ca->cert_pem = tls_pem_of_cert(cert);
	ca->not_after = 0;
	(void)tls_asn1_time_to_time(X509_get0_notAfter(cert), &ca->not_after);
	ca->generation++;
}

/*
 * Load the pair from @dirfd. 0 loaded, -ENOENT when the key or the certificate is missing
 * (the caller creates a new pair), other -errno with a message.
 */
static int load_pair_at(struct ca *ca, int dirfd, char **reterr)
{
	_cleanup_free_ char *kbuf = NULL, *cbuf = NULL;
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
	_cleanup_(X509_freep) X509 *cert = NULL;
	_cleanup_(BIO_free_allp) BIO *b = NULL;
	size_t klen = 0, clen = 0;
	struct stat st = {};
	int r;

	r = read_at(dirfd, CA_KEY_NAME, &st, &kbuf, &klen);
	if (r == -ENOENT)
		return r;
	if (r == -EBADFD)
		return ca_error(reterr, -EPERM,
				"CA key '%s' is not a regular file; remove it to get a new CA",
				ca->key_path);
	if (r < 0)
		return ca_error(reterr, r, "cannot read the CA key '%s': %s", ca->key_path,
				strerror(-r));
	if (st.st_uid != geteuid() || (st.st_mode & 07777) != 0600) {
		_cleanup_free_ char *what =
			st.st_uid != geteuid()
				? xasprintf("is owned by uid %u, not by you", (unsigned)st.st_uid)
				: xasprintf("has mode %04o", (unsigned)(st.st_mode & 07777));

		OPENSSL_cleanse(kbuf, klen);
		return ca_error(reterr, -EPERM,
				"CA key '%s' %s: it must be yours with mode 0600, or others may "
				"have read it. If nobody else could, fix it (chmod 600 '%s'); "
				"otherwise run 'paddock ca rotate'",
				ca->key_path, what, ca->key_path);
	}
	b = BIO_new_mem_buf(kbuf, (int)klen);
	key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	OPENSSL_cleanse(kbuf, klen);
	if (!key || !EVP_PKEY_is_a(key, "EC"))
		return ca_error(reterr, -EINVAL,
				"CA key '%s' is not a PEM EC private key; run 'paddock ca rotate' "
				"for a new CA",
				ca->key_path);

	r = read_at(dirfd, CA_CERT_NAME, &st, &cbuf, &clen);
	if (r == -ENOENT)
		return r;
	if (r < 0)
		return ca_error(reterr, r, "cannot read the CA certificate '%s': %s", ca->cert_path,
				r == -EBADFD ? "not a regular file" : strerror(-r));
	BIO_free_all(b);
	b = BIO_new_mem_buf(cbuf, (int)clen);
	cert = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	if (!cert)
		return ca_error(reterr, -EINVAL,
				"CA certificate '%s' is not a PEM certificate; run 'paddock ca "
				"rotate' for a new CA",
				ca->cert_path);
	if (X509_check_private_key(cert, key) != 1)
		return ca_error(reterr, -EINVAL,
				"CA certificate '%s' does not belong to the key '%s'; run 'paddock "
				"ca rotate' for a new CA",
				ca->cert_path, ca->key_path);
	ERR_clear_error();
	ca_install(ca, TAKE_PTR(key), TAKE_PTR(cert));
	return 0;
}

static int create_pair_at(struct ca *ca, int dirfd, char **reterr)
{
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
	_cleanup_(X509_freep) X509 *cert = NULL;
	int r;

	r = ca_generate(&key, &cert);
	if (r < 0)
		return ca_error(reterr, r, "cannot generate a CA key and certificate (OpenSSL)");
	r = write_pair_at(dirfd, key, cert);
	if (r < 0)
		return ca_error(reterr, r, "cannot write the CA to '%s': %s", ca->dir,
				strerror(-r));
	ca_install(ca, TAKE_PTR(key), TAKE_PTR(cert));
	return 0;
}

/* Open $DATA/ca (checked 0700, ours) and take its lock. */
static int ca_open_locked(struct ca *ca, int *ret_dirfd, int *ret_lockfd, char **reterr)
{
	_cleanup_close_ int dirfd = -EBADF, lockfd = -EBADF;
	int r;

	r = paths_ensure_private_dir(ca->dir, geteuid());
	if (r == -EPERM)
		return ca_error(reterr, r,
				"'%s' must be a directory owned by you with mode 0700 (it holds "
				"the CA key): check who else could read it, then 'chmod 700 %s'",
				ca->dir, ca->dir);
	if (r < 0)
		return ca_error(reterr, r, "cannot create or open the CA directory '%s': %s",
				ca->dir, strerror(-r));
	dirfd = open(ca->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return ca_error(reterr, -errno, "cannot open '%s': %m", ca->dir);
	lockfd = openat(dirfd, CA_LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lockfd < 0)
		return ca_error(reterr, -errno, "cannot open the lock '%s/" CA_LOCK_NAME "': %m",
				ca->dir);
	while (flock(lockfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return ca_error(reterr, -errno, "cannot lock '%s/" CA_LOCK_NAME "': %m",
					ca->dir);
	r = recover_at(dirfd);
	if (r < 0)
		return ca_error(reterr, r, "cannot complete an interrupted CA rotation in '%s': %s",
				ca->dir, strerror(-r));
	*ret_dirfd = TAKE_FD(dirfd);
	*ret_lockfd = TAKE_FD(lockfd);
	return 0;
}

/* ---- API ---------------------------------------------------------------------------------- */

struct ca *ca_free(struct ca *ca)
{
	if (!ca)
		return NULL;
	EVP_PKEY_free(ca->key); /* OpenSSL clears the key material it frees */
	X509_free(ca->cert);
	free(ca->cert_pem);
	free(ca->dir);
	free(ca->key_path);
	free(ca->cert_path);
	free(ca);
	return NULL;
}

/* ca_load_or_create() and ca_replace(): @replace makes a new pair whatever is there */
static int ca_open(const char *data_dir, bool replace, struct ca **ret, char **reterr)
{
	_cleanup_(ca_freep) struct ca *ca = xcalloc(1, sizeof(*ca));
	_cleanup_close_ int dirfd = -EBADF, lockfd = -EBADF;
	int r, result = CA_LOADED;

	if (!data_dir || data_dir[0] != '/')
		return ca_error(reterr, -EINVAL, "data directory '%s' is not an absolute path",
				strempty(data_dir));
	ca->dir = path_join(data_dir, CA_DIR_NAME);
	ca->key_path = path_join(ca->dir, CA_KEY_NAME);
	ca->cert_path = path_join(ca->dir, CA_CERT_NAME);
	r = mkdir_parents(data_dir);
	if (r < 0)
		return ca_error(reterr, r, "cannot create the data directory '%s': %s", data_dir,
				strerror(-r));
	r = ca_open_locked(ca, &dirfd, &lockfd, reterr);
	if (r < 0)
		return r;

	r = replace ? -ENOENT : load_pair_at(ca, dirfd, reterr);
	if (r == -ENOENT) {
		r = create_pair_at(ca, dirfd, reterr);
		result = CA_CREATED;
	} else if (r >= 0 && ca->not_after < time(NULL) + (time_t)CA_RENEW_DAYS * 86400) {
		r = create_pair_at(ca, dirfd, reterr);
		result = CA_RENEWED;
	}
	if (r < 0)
		return r;
	*ret = TAKE_PTR(ca);
	return result;
}

int ca_load_or_create(const char *data_dir, struct ca **ret, char **reterr)
{
	return ca_open(data_dir, false, ret, reterr);
}

int ca_replace(const char *data_dir, struct ca **ret, char **reterr)
{
	int r = ca_open(data_dir, true, ret, reterr);

	return r < 0 ? r : 0;
}

int ca_rotate(struct ca *ca, char **reterr)
{
	_cleanup_close_ int dirfd = -EBADF, lockfd = -EBADF;
	int r;

	r = ca_open_locked(ca, &dirfd, &lockfd, reterr);
	if (r < 0)
		return r;
	return create_pair_at(ca, dirfd, reterr);
}

X509 *ca_cert(const struct ca *ca)
{
	return ca->cert;
}

const char *ca_cert_pem(const struct ca *ca)
{
	return ca->cert_pem;
}

const char *ca_cert_path(const struct ca *ca)
{
	return ca->cert_path;
}

const char *ca_key_path(const struct ca *ca)
{
	return ca->key_path;
}

unsigned ca_generation(const struct ca *ca)
{
	return ca->generation;
}

time_t ca_not_after(const struct ca *ca)
{
	return ca->not_after;
}

void ca_fingerprint(const struct ca *ca, char buf[static CA_FINGERPRINT_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (!X509_digest(ca->cert, EVP_sha256(), md, &n) || n != 32)
		abort();
	for (unsigned i = 0; i < n; i++)
		(void)snprintf(buf + 3 * i, 4, "%02X%s", md[i], i + 1 < n ? ":" : "");
}

int ca_sign(struct ca *ca, X509 *x)
{
	if (!X509_set_issuer_name(x, X509_get_subject_name(ca->cert)))
		return -EIO;
	return X509_sign(x, ca->key, EVP_sha256()) ? 0 : -EIO;
}
