/* SPDX-License-Identifier: MIT */
/*
 * tls-internal.h - helpers shared by ca.c, mint.c and bundle.c
 */
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/cleanup.h"
#include "tls.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free_all)
DEFINE_TRIVIAL_CLEANUP_FUNC(BIGNUM *, BN_free)

/*
 * tls_set_random_serial() - give @x a random 128-bit positive, non-zero serial (RFC 5280
 * 4.1.2.2: at most 20 octets; CA/B Forum: at least 64 bits of randomness). 0 or -EIO.
 */
int tls_set_random_serial(X509 *x);

/*
 * tls_add_ext() - add the extension @nid with the OpenSSL config @value ("critical,CA:TRUE")
 * to @x, in the context of @issuer (which may be @x itself). 0 or -EIO.
 */
int tls_add_ext(X509 *x, X509 *issuer, int nid, const char *value);

/*
 * tls_write_file_atomic() - write @buf to @dirfd/@name: a temporary file created with O_EXCL
 * and mode @mode (set with fchmod, so the umask does not change it), fsync, rename over
 * @name, fsync of the directory. Readers see the old content or the new one. 0 or -errno.
 */
int tls_write_file_atomic(int dirfd, const char *name, const void *buf, size_t n, mode_t mode);

/* tls_pem_of_cert() - @x as a PEM string (free()) */
char *tls_pem_of_cert(X509 *x);
