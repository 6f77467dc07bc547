/* SPDX-License-Identifier: MIT */
/*
 * test-fakeip.c - fake addresses: stable, unique, reversible, bounded
 */
#include <arpa/inet.h>

#include "common/xmalloc.h"
#include "proxy/fakeip.h"
#include "tap.h"

static uint32_t host(struct in_addr a)
{
	return ntohl(a.s_addr);
}

static struct in_addr addr(const char *s)
{
	struct in_addr a = {};

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return a;
}

TEST(first_addresses)
{
	struct fakeip *f = NULL;
	struct in_addr a, b;

	ASSERT_OK(fakeip_new(0, &f));
	ASSERT_EQ(fakeip_get(f, "github.com", &a), 1);
	ASSERT_EQ(host(a), host(addr("198.18.0.1")));
	ASSERT_EQ(fakeip_get(f, "pypi.org", &b), 1);
	ASSERT_EQ(host(b), host(addr("198.18.0.2")));
	/* stable: asking again allocates nothing */
	ASSERT_EQ(fakeip_get(f, "github.com", &b), 0);
	ASSERT_EQ(a.s_addr, b.s_addr);
	ASSERT_EQ(fakeip_count(f), 2);
	/* byte for byte: the caller canonicalises (the DNS server lowercases) */
	ASSERT_EQ(fakeip_get(f, "GitHub.com", &b), 1);
	ASSERT_NE(a.s_addr, b.s_addr);
	fakeip_free(f);
}

TEST(find_does_not_allocate)
{
	struct fakeip *f = NULL;
	struct in_addr a = { .s_addr = 7 }, b;

	ASSERT_OK(fakeip_new(0, &f));
	ASSERT_ERR(fakeip_find(f, "github.com", &a), ENOENT);
	ASSERT_EQ(a.s_addr, 7);
	ASSERT_EQ(fakeip_count(f), 0);
	ASSERT_EQ(fakeip_get(f, "github.com", &a), 1);
	ASSERT_OK(fakeip_find(f, "github.com", &b));
	ASSERT_EQ(a.s_addr, b.s_addr);
	fakeip_free(f);
}

TEST(bad_names)
{
	struct fakeip *f = NULL;
	struct in_addr a = { .s_addr = 7 };
	char name[300];

	ASSERT_OK(fakeip_new(0, &f));
	ASSERT_ERR(fakeip_get(f, "", &a), EINVAL);
	ASSERT_ERR(fakeip_get(f, NULL, &a), EINVAL);
	memset(name, 'a', sizeof(name));
	name[254] = '\0';
	ASSERT_ERR(fakeip_get(f, name, &a), EINVAL);
	ASSERT_EQ(a.s_addr, 7);
	name[253] = '\0';
	ASSERT_EQ(fakeip_get(f, name, &a), 1);
	ASSERT_STREQ(fakeip_reverse(f, a), name);
	fakeip_free(f);
}

/* The whole range: every address unique, inside 198.18.0.0/15, never .0 or .255, reversible. */
TEST(whole_range_unique_and_reversible)
{
	struct fakeip *f = NULL;
	uint8_t *seen = xcalloc(1u << 17, 1);
	struct in_addr a;
	char name[32];

	ASSERT_OK(fakeip_new(FAKEIP_RANGE_SIZE, &f));
	for (size_t i = 0; i < FAKEIP_RANGE_SIZE; i++) {
		uint32_t h;

		snprintf(name, sizeof(name), "host-%zu.example", i);
		ASSERT_EQ(fakeip_get(f, name, &a), 1);
		h = host(a);
		ASSERT_TRUE(fakeip_in_range(a));
		ASSERT_NE(h & 0xff, 0);
		ASSERT_NE(h & 0xff, 255);
		ASSERT_EQ(seen[h - FAKEIP_NET], 0);
		seen[h - FAKEIP_NET] = 1;
		if (i == 254)
			ASSERT_EQ(h, host(addr("198.18.1.1")));
	}
	ASSERT_EQ(host(a), host(addr("198.19.255.254")));
	ASSERT_EQ(fakeip_count(f), FAKEIP_RANGE_SIZE);
	ASSERT_ERR(fakeip_get(f, "one-more.example", &a), ENOSPC);
	/* every name still maps both ways */
	for (size_t i = 0; i < FAKEIP_RANGE_SIZE; i += 97) {
		snprintf(name, sizeof(name), "host-%zu.example", i);
		ASSERT_EQ(fakeip_get(f, name, &a), 0);
		ASSERT_STREQ(fakeip_reverse(f, a), name);
	}
	free(seen);
	fakeip_free(f);
}

TEST(reverse_lookup)
{
	struct fakeip *f = NULL;
	struct in_addr a;

	ASSERT_OK(fakeip_new(0, &f));
	ASSERT_EQ(fakeip_get(f, "github.com", &a), 1);
	ASSERT_STREQ(fakeip_reverse(f, a), "github.com");
	ASSERT_STREQ(fakeip_reverse(f, addr("198.18.0.1")), "github.com");
	/* handed out to nobody yet, the skipped host parts, outside the range */
	ASSERT_NULL(fakeip_reverse(f, addr("198.18.0.2")));
	ASSERT_NULL(fakeip_reverse(f, addr("198.18.0.0")));
	ASSERT_NULL(fakeip_reverse(f, addr("198.18.0.255")));
	ASSERT_NULL(fakeip_reverse(f, addr("198.19.255.255")));
	ASSERT_NULL(fakeip_reverse(f, addr("198.17.0.1")));
	ASSERT_NULL(fakeip_reverse(f, addr("198.20.0.1")));
	ASSERT_NULL(fakeip_reverse(f, addr("127.0.0.1")));
	ASSERT_NULL(fakeip_reverse(NULL, addr("198.18.0.1")));
	ASSERT_TRUE(fakeip_in_range(addr("198.19.255.255")));
	ASSERT_FALSE(fakeip_in_range(addr("198.20.0.0")));
	ASSERT_FALSE(fakeip_in_range(addr("198.17.255.255")));
	fakeip_free(f);
}

TEST(exhaustion_refuses_new_names_only)
{
	struct fakeip *f = NULL;
	struct in_addr a, first = {};
	char name[32];

	ASSERT_OK(fakeip_new(10, &f));
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		ASSERT_EQ(fakeip_get(f, name, &a), 1);
		if (i == 0)
			first = a;
	}
	a.s_addr = 7;
	ASSERT_ERR(fakeip_get(f, "n10.test", &a), ENOSPC);
	ASSERT_EQ(a.s_addr, 7);
	/* nothing recycled: the old names keep their addresses */
	ASSERT_EQ(fakeip_get(f, "n0.test", &a), 0);
	ASSERT_EQ(a.s_addr, first.s_addr);
	ASSERT_STREQ(fakeip_reverse(f, first), "n0.test");
	ASSERT_EQ(fakeip_count(f), 10);
	fakeip_free(f);

	ASSERT_OK(fakeip_new(0, &f));
	for (int i = 0; i < FAKEIP_MAX_NAMES; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		ASSERT_EQ(fakeip_get(f, name, &a), 1);
	}
	ASSERT_ERR(fakeip_get(f, "again.test", &a), ENOSPC);
	fakeip_free(f);
	ASSERT_ERR(fakeip_new(FAKEIP_RANGE_SIZE + 1, &f), EINVAL);
	ASSERT_NULL(fakeip_free(NULL));
}

int main(void)
{
	return tap_run();
}
