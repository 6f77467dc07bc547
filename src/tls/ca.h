/* SPDX-License-Identifier: MIT */
/*
 * ca.h - the per-user certificate authority that sandboxes trust (docs/design/tls.md)
 *
 * The CA lives in $DATA/ca/ (0700): ca.key (0600, PKCS#8 PEM, ECDSA P-256) and ca.crt. It is
 * created on first use and replaced by ca_rotate(). Only the host side reads the key; a
 * sandbox sees the certificate, through the trust bundle (tls.h).
 */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <time.h>

#include "common/cleanup.h"

#define CA_DIR_NAME  "ca"
#define CA_KEY_NAME  "ca.key"
#define CA_CERT_NAME "ca.crt"
#define CA_LOCK_NAME "lock"
/* validity of a new CA, and how long before its end ca_load_or_create() replaces it */
#define CA_VALIDITY_DAYS 730
#define CA_RENEW_DAYS    30
/* "AB:CD:...": 32 bytes as hex pairs joined by ':', plus the NUL */
#define CA_FINGERPRINT_SIZE (32 * 3)

struct ca;

/* What ca_load_or_create() did (all >= 0). */
enum ca_loaded {
	CA_LOADED,  /* the existing CA */
	CA_CREATED, /* there was none (or only half of one): a new CA */
	CA_RENEWED, /* the existing CA expires within CA_RENEW_DAYS: a new CA replaced it */
};

/**
 * ca_load_or_create() - the user's CA, created on first use
 * @data_dir: paddock's data directory (paths_data_dir()); created 0700 if missing
 * @ret: the CA (free with ca_free())
 * @reterr: if not NULL, set to a new message on failure, naming the file and what to do
 *
 * Holds an exclusive lock on $DATA/ca/lock throughout, so two paddock processes starting at
 * once end up with the same CA. Refuses a key that is not a regular file owned by the caller
 * with mode 0600 (-EPERM), a directory that is not 0700 (-EPERM), a certificate that does not
 * belong to the key (-EINVAL). Never logs.
 *
 * Return: an enum ca_loaded (>= 0), or -errno.
 */
int ca_load_or_create(const char *data_dir, struct ca **ret, char **reterr);

/**
 * ca_rotate() - replace the CA with a new one
 * @ca: the CA; on success it holds the new key and certificate
 * @reterr: as for ca_load_or_create()
 *
 * Both files are replaced under the lock, each atomically (a crash between the two renames
 * is completed by the next ca_load_or_create()). ca_generation() changes, which empties the
 * leaf caches of every struct mint using @ca. Sandboxes already running keep trusting the old
 * CA until they restart.
 *
 * Return: 0 or -errno; @ca is unchanged on failure.
 */
int ca_rotate(struct ca *ca, char **reterr);

/**
 * ca_replace() - a new CA in @data_dir, whatever is there (also a key refused by
 * ca_load_or_create(): this is `paddock ca rotate`'s way out of a leaked or broken CA)
 * @data_dir, @ret, @reterr: as for ca_load_or_create()
 *
 * Return: 0 or -errno.
 */
int ca_replace(const char *data_dir, struct ca **ret, char **reterr);

/* ca_free() - NULL-safe; wipes the key. Returns NULL. */
struct ca *ca_free(struct ca *ca);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ca *, ca_free)

/* ca_cert() - the CA certificate (borrowed; valid until ca_rotate() or ca_free()) */
X509 *ca_cert(const struct ca *ca);

/* ca_cert_pem() - the CA certificate in PEM form (borrowed, as ca_cert()) */
const char *ca_cert_pem(const struct ca *ca);

/* ca_cert_path(), ca_key_path() - $DATA/ca/ca.crt and $DATA/ca/ca.key */
const char *ca_cert_path(const struct ca *ca);
const char *ca_key_path(const struct ca *ca);

/* ca_generation() - changes at every ca_rotate(); caches of leaves compare it */
unsigned ca_generation(const struct ca *ca);

/* ca_not_after() - when the CA certificate expires */
time_t ca_not_after(const struct ca *ca);

/**
 * ca_fingerprint() - SHA-256 of the DER certificate, as "AB:CD:..." (what browsers and
 * `openssl x509 -fingerprint -sha256` print)
 * @ca: the CA
 * @buf: at least CA_FINGERPRINT_SIZE bytes
 */
void ca_fingerprint(const struct ca *ca, char buf[static CA_FINGERPRINT_SIZE]);

/**
 * ca_sign() - sign @x with the CA key (SHA-256), after setting its issuer to the CA's subject
 * @ca: the CA
 * @x: a certificate whose extensions are complete
 *
 * The one place the key is used: a key-holder process (DESIGN.md) replaces this with
 * "sign this TBS" over IPC.
 *
 * Return: 0 or -EIO.
 */
int ca_sign(struct ca *ca, X509 *x);
