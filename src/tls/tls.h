/* SPDX-License-Identifier: MIT */
/*
 * tls.h - TLS towards the real servers, and the trust bundle for inside the sandbox
 *
 * The proxy's side of an intercepted connection has two TLS sessions: the one with the
 * sandbox, which presents a leaf minted by paddock's CA (mint.h), and this one, to the real
 * server, which verifies the server as any careful client would. There is no way to turn
 * that verification off: a private CA is added with the tls.upstream_ca config key instead.
 */
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <time.h>

#include "common/cleanup.h"

struct ca;

DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(SSL_CTX *, SSL_CTX_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(SSL *, SSL_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_EXTENSION *, X509_EXTENSION_free)

/* tls_asn1_time_to_time() - an ASN1_TIME (notBefore, notAfter) as time_t; 0 or -EINVAL */
int tls_asn1_time_to_time(const ASN1_TIME *t, time_t *ret);

/* The only protocol either side negotiates (until HTTP/2 is implemented with :authority checks) */
#define TLS_ALPN_HTTP11 "http/1.1"

/**
 * tls_upstream_ctx_new() - the SSL_CTX for connections to real servers
 * @extra_ca_files: NULL-terminated list of PEM files trusted in addition to the host's store
 *                  (config tls.upstream_ca), or NULL
 * @ret: the context (SSL_CTX_free())
 * @reterr: if not NULL, set to a new message on failure naming the file
 *
 * Trusts the host's default store (SSL_CTX_set_default_verify_paths(): OpenSSL's default
 * file and directory, or SSL_CERT_FILE / SSL_CERT_DIR of the paddock process) plus each file
 * of @extra_ca_files, every one of which must hold at least one certificate. TLS 1.2 or
 * later, SSL_VERIFY_PEER, ALPN "http/1.1". Create one per proxy and share it; each
 * connection gets its SSL from tls_upstream_ssl_new().
 *
 * Return: 0, -ENOENT/-EACCES/-EINVAL for a bad file, or -EIO.
 */
int tls_upstream_ctx_new(char **extra_ca_files, SSL_CTX **ret, char **reterr);

/**
 * tls_upstream_ssl_new() - an SSL for one connection to @host
 * @ctx: from tls_upstream_ctx_new()
 * @host: the canonical name (or IPv4 / IPv6 literal, without brackets) the sandbox asked for
 * @ret: the SSL, in connect state (SSL_free(); or give it a socket and hand it to
 *       tlsio_new(), proxy/tlsio.h)
 *
 * A name is sent as SNI and checked against the certificate (SSL_set1_host, no partial
 * wildcards); an IP literal is not sent as SNI (RFC 6066) and must appear as an iPAddress
 * SAN. The handshake fails with X509_V_ERR_HOSTNAME_MISMATCH / _IP_ADDRESS_MISMATCH or the
 * chain's error; SSL_get_verify_result() says which, for the log.
 *
 * Return: 0, -EINVAL for an invalid @host, or -ENOMEM.
 */
int tls_upstream_ssl_new(SSL_CTX *ctx, const char *host, SSL **ret);

/* Where the bundle is mounted inside, and what the variables of tls_bundle_env point to */
#define TLS_BUNDLE_SANDBOX_PATH "/etc/ssl/certs/ca-certificates.crt"
/* The name of the bundle in the data directory (tls_bundle_write()'s usual @out_path) */
#define TLS_BUNDLE_NAME "ca-bundle.pem"

/*
 * tls_bundle_env - NULL-terminated: the environment variables that point clients at a CA
 * bundle; each is set to TLS_BUNDLE_SANDBOX_PATH inside (OpenSSL and Go: SSL_CERT_FILE;
 * node, python requests, curl, git, pip, cargo, the AWS SDKs, deno: the others).
 */
extern const char *const tls_bundle_env[];

/*
 * The host's CA bundles that tls_bundle_write() looks for, in order: Debian/Ubuntu,
 * Fedora/RHEL, openSUSE, Alpine/Arch. NULL-terminated.
 */
extern const char *const tls_system_bundles[];

/**
 * tls_bundle_write() - write the trust bundle for sandboxes: the host's roots, then @ca's
 * certificate
 * @ca: the CA
 * @system_bundle: the host bundle to copy, or NULL for the first of tls_system_bundles[]
 *                 that exists
 * @out_path: where to write it (absolute; written atomically, mode 0644)
 * @ret_system: if not NULL, set to the system bundle used (borrowed: @system_bundle or an
 *              entry of tls_system_bundles[]), or NULL when none was found
 *
 * Without a system bundle the file holds only paddock's CA: intercepted connections work,
 * relayed ones fail verification inside. Return 1 then so the caller can warn ("install
 * ca-certificates").
 *
 * Return: 0, 1 (no system bundle), or -errno (-EFBIG for a system bundle over 16 MiB).
 */
int tls_bundle_write(const struct ca *ca, const char *system_bundle, const char *out_path,
		     const char **ret_system);
