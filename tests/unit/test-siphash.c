/* SPDX-License-Identifier: MIT */
/*
 * test-siphash.c - SipHash-2-4 against the paper's test vectors
 */
#include "common/siphash.h"
#include "tap.h"

static uint8_t key[SIPHASH_KEY_SIZE];
static uint8_t msg[64];

static void setup(void)
{
	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	for (unsigned i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
}

TEST(paper_vectors)
{
	setup();
	/* key 00..0f; message 00..(len-1) (Aumasson and Bernstein, appendix A and vectors.h) */
	ASSERT_EQ(siphash24(msg, 0, key), UINT64_C(0x726fdb47dd0e0e31));
	ASSERT_EQ(siphash24(msg, 1, key), UINT64_C(0x74f839c593dc67fd));
	ASSERT_EQ(siphash24(msg, 8, key), UINT64_C(0x93f5f5799a932462));
	ASSERT_EQ(siphash24(msg, 15, key), UINT64_C(0xa129ca6149be45e5));
}

TEST(key_matters)
{
	uint8_t other[SIPHASH_KEY_SIZE] = { 1 };

	setup();
	ASSERT_NE(siphash24("github.com", 10, key), siphash24("github.com", 10, other));
	ASSERT_NE(siphash24("github.com", 10, key), siphash24("github.con", 10, key));
}

int main(void)
{
	return tap_run();
}
