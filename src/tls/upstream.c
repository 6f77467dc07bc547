/* SPDX-License-Identifier: MIT */
/*
 * upstream.c - TLS from the proxy to the real server: verified, always
 *
 * DOC: Theory of Operation
 * When the proxy terminates a sandbox's TLS, the sandbox can no longer check the server: the
 * proxy must, exactly as a careful client would. One SSL_CTX per proxy holds the trust store:
 * the host's default one (the same files curl and git on the host use) plus the PEM files of
 * the config key tls.upstream_ca, for private CAs and for tests. Each connection gets an SSL
 * that checks the certificate's names against the host the sandbox asked for (RFC 6125 via
 * X509_check_host: SAN only when there is one, no partial wildcards) or, for an IP literal,
 * its iPAddress SANs. There is no flag to skip any of this.
 */
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/hostname.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "tls-internal.h"

static int upstream_error(char **reterr, int r, const char *fmt, ...) _printf_(3, 4);
static int upstream_error(char **reterr, int r, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	if (reterr) {
		va_start(ap, fmt);
		if (vasprintf(&m, fmt, ap) < 0)
			abort();
		va_end(ap);
		free(*reterr);
		*reterr = m;
	}
	return r;
}

/* Add every certificate of the PEM file @path to @store; at least one must be there. */
static int add_ca_file(X509_STORE *store, const char *path, char **reterr)
{
	_cleanup_(BIO_free_allp) BIO *b = NULL;
	int n = 0;

	b = BIO_new_file(path, "r");
	if (!b) {
		int r = errno > 0 ? -errno : -EIO;

		ERR_clear_error();
		return upstream_error(reterr, r, "tls.upstream_ca: cannot read '%s': %s", path,
				      strerror(-r));
	}
	for (;;) {
		_cleanup_(X509_freep) X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);

		if (!x)
			break;
		if (!X509_STORE_add_cert(store, x)) {
			/* the same certificate twice (also in the system store) is fine */
			ERR_clear_error();
			continue;
		}
		n++;
	}
	ERR_clear_error();
	if (n == 0)
		return upstream_error(reterr, -EINVAL,
				      "tls.upstream_ca: '%s' holds no PEM certificate "
				      "(-----BEGIN CERTIFICATE-----)",
				      path);
	return 0;
}

int tls_upstream_ctx_new(char **extra_ca_files, SSL_CTX **ret, char **reterr)
{
	_cleanup_(SSL_CTX_freep) SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	static const unsigned char alpn[] = "\x08" TLS_ALPN_HTTP11;
	int r;

	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		return upstream_error(reterr, -EIO, "cannot create a TLS client context (OpenSSL)");
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	/* the default store missing is not an error here: the first handshake says so */
	if (!SSL_CTX_set_default_verify_paths(ctx))
		ERR_clear_error();
	STRV_FOREACH (f, extra_ca_files) {
		r = add_ca_file(SSL_CTX_get_cert_store(ctx), *f, reterr);
		if (r < 0)
			return r;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* SSL_CTX_set_alpn_protos() returns 0 on success */
	if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1) != 0)
		return upstream_error(reterr, -EIO, "cannot set ALPN (OpenSSL)");
	*ret = TAKE_PTR(ctx);
	return 0;
}

int tls_upstream_ssl_new(SSL_CTX *ctx, const char *host, SSL **ret)
{
	_cleanup_(SSL_freep) SSL *ssl = NULL;
	unsigned char ip[16];
	size_t n;
	bool is_ip;

	if (!host)
		return -EINVAL;
	n = strnlen(host, HOST_NAME_MAX_LEN + 1);
	if (n == 0 || n > HOST_NAME_MAX_LEN)
		return -EINVAL;
	is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
	if (!is_ip && (!host_name_is_valid(host, n) || host_name_last_label_is_numeric(host, n)))
		return -EINVAL;

	ssl = SSL_new(ctx);
	if (!ssl)
		return -ENOMEM;
	if (is_ip) {
		if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host))
			return -EINVAL;
	} else {
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (!SSL_set_tlsext_host_name(ssl, host) || !SSL_set1_host(ssl, host))
			return -ENOMEM;
	}
	SSL_set_connect_state(ssl);
	*ret = TAKE_PTR(ssl);
	return 0;
}
