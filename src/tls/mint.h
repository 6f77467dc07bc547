/* SPDX-License-Identifier: MIT */
/*
 * mint.h - leaf certificates for intercepted hosts, signed by the user's CA, and a cache of
 * ready server SSL_CTXs (docs/design/tls.md)
 *
 * Use in the proxy, once the ClientHello's SNI (or the original destination for an IP) gave
 * the canonical host H and the policy said "terminate":
 *
 *	SSL *ssl;
 *	r = mint_server_ssl_new(mint, H, &ssl);               accept state, leaf for H
 *	r = tlsio_new(base, fd, ssl, true, &cbs, high, low, &side);   proxy/tlsio.h
 */
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"

struct ca;
struct mint;

/* Leaves are valid this long (and never beyond the CA) ... */
#define MINT_LEAF_DAYS 30
/* ... and are minted again when a cached one has less than this left */
#define MINT_RENEW_SECONDS (24 * 3600)
/* notBefore is this far in the past, for clocks that lag the host's */
#define MINT_BACKDATE 3600
/* Default size of the cache of server contexts */
#define MINT_CACHE_DEFAULT 1024

/**
 * mint_leaf() - a new leaf certificate for @host, signed by @ca; not cached
 * @ca: the CA (signs through ca_sign())
 * @key: the leaf's key pair (its public half goes into the certificate)
 * @host: a canonical host name (lowercase, no trailing dot), or an IPv4 / IPv6 literal
 *        without brackets; at most 253 bytes
 * @ret: the certificate (X509_free())
 *
 * Profile: v3, random 128-bit serial, subject CN=@host (empty when @host is longer than the 64
 * bytes a CN may hold; the SAN is critical then), SAN exactly @host (a dNSName, or an
 * iPAddress for a literal), basicConstraints CA:FALSE, keyUsage digitalSignature (critical),
 * extendedKeyUsage serverAuth, SKI, AKI = the CA's SKI, validity from now - MINT_BACKDATE
 * to min(now + MINT_LEAF_DAYS, the CA's end), ECDSA with SHA-256.
 *
 * Return: 0, -EINVAL for an invalid @host (wildcards included), or -EIO.
 */
int mint_leaf(struct ca *ca, EVP_PKEY *key, const char *host, X509 **ret);

/**
 * mint_new() - a minter with an LRU cache of server contexts
 * @ca: the CA (borrowed: it must outlive the minter). A ca_rotate() of it is noticed at the
 *      next call: the cache is emptied and a new leaf key made.
 * @cache_max: how many hosts to keep (0: MINT_CACHE_DEFAULT)
 * @ret: the minter (mint_free())
 *
 * Makes the one ECDSA P-256 key pair that every leaf of this minter uses.
 *
 * Return: 0 or -EIO.
 */
int mint_new(struct ca *ca, size_t cache_max, struct mint **ret);

/* mint_free() - NULL-safe; frees the cached contexts (SSLs made from them keep theirs) */
struct mint *mint_free(struct mint *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct mint *, mint_free)

/**
 * mint_server_ctx() - the server SSL_CTX presenting a leaf for @host
 * @m: the minter
 * @host: as for mint_leaf()
 * @ret: the context, borrowed: valid until the next mint_*() call on @m, so call SSL_new()
 *       on it at once (an SSL keeps its own reference), or SSL_CTX_up_ref() it
 *
 * A cached context is returned as it is (no signing) while its leaf has more than
 * MINT_RENEW_SECONDS left. The context: TLS 1.2 or later, no renegotiation, the leaf and the
 * CA as its chain, ALPN that selects "http/1.1" when the client offers it and otherwise
 * selects nothing (a client offering only h2 gets no ALPN and falls back or gives up; the
 * handshake itself does not fail).
 *
 * Return: 0, -EINVAL for an invalid @host, or -EIO.
 */
int mint_server_ctx(struct mint *m, const char *host, SSL_CTX **ret);

/**
 * mint_server_ssl_new() - SSL_new(mint_server_ctx(@host)) in accept state
 * @ret: the SSL (SSL_free(), or owned by the bufferevent it is given to)
 *
 * Return: as mint_server_ctx().
 */
int mint_server_ssl_new(struct mint *m, const char *host, SSL **ret);

/* struct mint_stats - counters of one minter, for tests, `--debug` and the benchmark */
struct mint_stats {
	uint64_t hits;
	uint64_t misses; /* a leaf was signed */
	uint64_t evictions;
	uint64_t flushes; /* the CA changed */
	size_t entries;
};

void mint_get_stats(const struct mint *m, struct mint_stats *ret);
