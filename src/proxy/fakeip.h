/* SPDX-License-Identifier: MIT */
/*
 * fakeip.h - per-sandbox table of fake addresses (198.18.0.0/15), one per allowed name
 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#define FAKEIP_NET        UINT32_C(0xc6120000) /* 198.18.0.0, host byte order */
#define FAKEIP_MASK       UINT32_C(0xfffe0000) /* /15 */
#define FAKEIP_RANGE_SIZE (512 * 254)          /* .0 and .255 host parts are never used */
#define FAKEIP_MAX_NAMES  65000                /* the default bound per sandbox */
#define FAKEIP_NAME_MAX   253

struct fakeip;

/**
 * fakeip_new() - an empty table
 * @max_names: how many names it may hold; 0 for FAKEIP_MAX_NAMES; at most FAKEIP_RANGE_SIZE
 * @ret: the table (free with fakeip_free())
 *
 * Return: 0, -EINVAL for a @max_names above the range, or -errno from getrandom() (the hash
 * key).
 */
int fakeip_new(size_t max_names, struct fakeip **ret);

/* fakeip_free() - free @f (NULL is fine); returns NULL */
struct fakeip *fakeip_free(struct fakeip *f);

/**
 * fakeip_get() - the fake address of @name, allocating one if the name is new
 * @f: the table
 * @name: the name, already canonical (names are compared byte for byte; the DNS server
 *        passes them lowercased, without a trailing dot)
 * @ret: its address (network byte order)
 *
 * Addresses are handed out in order from 198.18.0.1, skipping host parts .0 and .255, and are
 * never reused: a connection may still be using an address long after its DNS answer expired.
 *
 * Return: 1 if the name was new, 0 if it already had an address, -EINVAL for an empty name or
 * one longer than 253 bytes, -ENOSPC when the table is full (@ret untouched on failure).
 */
int fakeip_get(struct fakeip *f, const char *name, struct in_addr *ret);

/**
 * fakeip_find() - the fake address of @name, without allocating
 * @f: the table
 * @name: the name
 * @ret: its address (network byte order), if found
 *
 * Return: 0, or -ENOENT.
 */
int fakeip_find(const struct fakeip *f, const char *name, struct in_addr *ret);

/**
 * fakeip_reverse() - the name a fake address was handed out for
 * @f: the table
 * @addr: the address (network byte order), e.g. from SO_ORIGINAL_DST
 *
 * Return: the name (owned by @f, valid for its life), or NULL if @addr is outside the range or
 * was never handed out.
 */
const char *fakeip_reverse(const struct fakeip *f, struct in_addr addr);

/* fakeip_in_range() - whether @addr (network byte order) is in 198.18.0.0/15 */
bool fakeip_in_range(struct in_addr addr);

/* fakeip_count() - how many names have an address */
size_t fakeip_count(const struct fakeip *f);
