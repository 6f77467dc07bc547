/* SPDX-License-Identifier: MIT */
/*
 * fakeip.c - per-sandbox table of fake addresses (198.18.0.0/15), one per allowed name
 *
 * DOC: Theory of Operation
 * The sandbox's DNS server answers an allowed name with a fake address; when the sandbox then
 * connects to it, the proxy maps the address back to the name, resolves the name host-side and
 * checks what it dials (docs/design/dns.md). The table is the one place both directions live.
 *
 * Addresses come from 198.18.0.0/15 (RFC 2544 benchmarking space, never routed on the
 * internet), in order: entry k gets 198.18.0.0 + 256 * (k / 254) + (k % 254 + 1), so host
 * parts .0 and .255, which some software treats as network or broadcast addresses, are never
 * handed out, and the reverse lookup is arithmetic plus an array index. Entries are never
 * removed or recycled: a connection may use an address long after the answer's TTL, and a
 * reused address would send it to another name. The table is bounded instead (65,000 names by
 * default; the range holds 130,048); a full table makes the DNS server answer REFUSED.
 *
 * Name to address is an open-addressing hash table (linear probing, load at most 1/2, slots
 * hold index + 1 into the name array) keyed with SipHash under a random key, because the
 * names are chosen by the sandbox: with a fixed hash it could make every name collide and turn
 * each lookup into a scan of the table inside the supervisor's loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/macro.h"
#include "common/siphash.h"
#include "common/xmalloc.h"
#include "fakeip.h"

struct fakeip {
	uint8_t key[SIPHASH_KEY_SIZE];
	size_t max;
	char **names; /* by index; names[k] has address k */
	size_t n_names;
	size_t alloc_names;
	uint32_t *slots; /* 0 = empty, else index + 1 */
	size_t n_slots;  /* a power of two */
};

static int random_fill(void *p, size_t n)
{
	uint8_t *b = p;

	while (n > 0) {
		ssize_t k = getrandom(b, n, 0);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

int fakeip_new(size_t max_names, struct fakeip **ret)
{
	struct fakeip *f;
	int r;

	if (max_names == 0)
		max_names = FAKEIP_MAX_NAMES;
	if (max_names > FAKEIP_RANGE_SIZE)
		return -EINVAL;
	f = xcalloc(1, sizeof(*f));
	r = random_fill(f->key, sizeof(f->key));
	if (r < 0) {
		free(f);
		return r;
	}
	f->max = max_names;
	f->n_slots = 64;
	f->slots = xcalloc(f->n_slots, sizeof(*f->slots));
	*ret = f;
	return 0;
}

struct fakeip *fakeip_free(struct fakeip *f)
{
	if (!f)
		return NULL;
	for (size_t i = 0; i < f->n_names; i++)
		free(f->names[i]);
	free(f->names);
	free(f->slots);
	free(f);
	return NULL;
}

static size_t slot_of(const struct fakeip *f, const char *name, size_t len)
{
	return (size_t)siphash24(name, len, f->key) & (f->n_slots - 1);
}

/* The slot holding @name, or the empty slot where it would go. */
static size_t slot_find(const struct fakeip *f, const char *name, size_t len)
{
	size_t s = slot_of(f, name, len);

	while (f->slots[s] != 0 && !streq(f->names[f->slots[s] - 1], name))
		s = (s + 1) & (f->n_slots - 1);
	return s;
}

static void slots_grow(struct fakeip *f)
{
	size_t n = f->n_slots * 2;

	free(f->slots);
	f->slots = xcalloc(n, sizeof(*f->slots));
	f->n_slots = n;
	for (size_t k = 0; k < f->n_names; k++) {
		size_t s = slot_of(f, f->names[k], strlen(f->names[k]));

		while (f->slots[s] != 0)
			s = (s + 1) & (n - 1);
		f->slots[s] = (uint32_t)(k + 1);
	}
}

static struct in_addr index_to_addr(size_t k)
{
	uint32_t a = FAKEIP_NET + (uint32_t)(k / 254) * 256 + (uint32_t)(k % 254) + 1;

	return (struct in_addr){ .s_addr = htonl(a) };
}

int fakeip_get(struct fakeip *f, const char *name, struct in_addr *ret)
{
	size_t len, s;

	if (!f || !name)
		return -EINVAL;
	len = strnlen(name, FAKEIP_NAME_MAX + 1);
	if (len == 0 || len > FAKEIP_NAME_MAX)
		return -EINVAL;
	s = slot_find(f, name, len);
	if (f->slots[s] != 0) {
		*ret = index_to_addr(f->slots[s] - 1);
		return 0;
	}
	if (f->n_names >= f->max)
		return -ENOSPC;

	if (f->n_names == f->alloc_names) {
		f->alloc_names = MAX(f->alloc_names * 2, (size_t)64);
		f->names = xreallocarray(f->names, f->alloc_names, sizeof(*f->names));
	}
	f->names[f->n_names] = xstrndup(name, len);
	f->slots[s] = (uint32_t)(f->n_names + 1);
	*ret = index_to_addr(f->n_names);
	f->n_names++;
	if (f->n_names * 2 > f->n_slots)
		slots_grow(f);
	return 1;
}

int fakeip_find(const struct fakeip *f, const char *name, struct in_addr *ret)
{
	size_t len, s;

	if (!f || !name)
		return -ENOENT;
	len = strnlen(name, FAKEIP_NAME_MAX + 1);
	if (len == 0 || len > FAKEIP_NAME_MAX)
		return -ENOENT;
	s = slot_find(f, name, len);
	if (f->slots[s] == 0)
		return -ENOENT;
	*ret = index_to_addr(f->slots[s] - 1);
	return 0;
}

bool fakeip_in_range(struct in_addr addr)
{
	return (ntohl(addr.s_addr) & FAKEIP_MASK) == FAKEIP_NET;
}

const char *fakeip_reverse(const struct fakeip *f, struct in_addr addr)
{
	uint32_t off, host;
	size_t k;

	if (!f || !fakeip_in_range(addr))
		return NULL;
	off = ntohl(addr.s_addr) - FAKEIP_NET;
	host = off & 0xff;
	if (host == 0 || host == 255)
		return NULL;
	k = (size_t)(off >> 8) * 254 + host - 1;
	return k < f->n_names ? f->names[k] : NULL;
}

size_t fakeip_count(const struct fakeip *f)
{
	return f ? f->n_names : 0;
}
