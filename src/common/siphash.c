/* SPDX-License-Identifier: MIT */
/*
 * siphash.c - SipHash-2-4
 *
 * DOC: Theory of Operation
 * Hash tables keyed by strings a sandbox chooses (host names in the fake-IP table, later the
 * proxy's tables) must not let the sandbox pick keys that all land in one bucket, or every
 * lookup becomes a walk of the whole table inside the supervisor's single loop. SipHash with
 * a random per-table key makes collisions unpredictable. Written from the paper's description
 * (four 64-bit lanes, two compression rounds per 8-byte word, four finalisation rounds); the
 * unit test checks the paper's test vectors.
 */
#include <string.h>

#include "siphash.h"

static inline uint64_t rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* sipround() - one SipRound over the state v[0..3] */
static inline void sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl64(v[1], 13);
	v[1] ^= v[0];
	v[0] = rotl64(v[0], 32);
	v[2] += v[3];
	v[3] = rotl64(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = rotl64(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = rotl64(v[1], 17);
	v[1] ^= v[2];
	v[2] = rotl64(v[2], 32);
}

uint64_t siphash24(const void *data, size_t len, const uint8_t key[SIPHASH_KEY_SIZE])
{
	const uint8_t *p = data;
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	uint64_t v[4] = {
		k0 ^ UINT64_C(0x736f6d6570736575),
		k1 ^ UINT64_C(0x646f72616e646f6d),
		k0 ^ UINT64_C(0x6c7967656e657261),
		k1 ^ UINT64_C(0x7465646279746573),
	};
	uint64_t b = (uint64_t)len << 56, m;
	size_t left = len;

	for (; left >= 8; left -= 8, p += 8) {
		m = load_le64(p);
		v[3] ^= m;
		sipround(v);
		sipround(v);
		v[0] ^= m;
	}
	for (size_t i = 0; i < left; i++)
		b |= (uint64_t)p[i] << (8 * i);
	v[3] ^= b;
	sipround(v);
	sipround(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}
