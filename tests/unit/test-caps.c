/* SPDX-License-Identifier: MIT */
/*
 * test-caps.c - the capability drop, checked after execve() of the probe
 *
 * Each child enters a fresh user namespace first (where it holds every capability, as the
 * sandbox init does), so the test means the same as root and as an unprivileged user.
 */
#include <inttypes.h>
#include <linux/securebits.h>
#include <stdint.h>

#include "common/macro.h"
#include "sandbox/caps.h"
#include "sandbox/landlock.h"
#include "sandbox/seccomp.h"
#include "sandbox-test.h"
#include "tap.h"

/* podman's default set, as caps.h lists it */
#define KEPT_ROOT UINT64_C(0x800405fb)

struct caps_setup {
	long inner_uid; /* -1: the caller's own uid */
	bool drop;
	bool root;
	bool full; /* the sandbox init's whole order: nnp, landlock, caps, seccomp */
};

static int setup_caps(void *userdata)
{
	const struct caps_setup *c = userdata;
	int r;

	r = enter_userns(0, c->inner_uid);
	if (r < 0)
		return r;
	r = set_nnp();
	if (r < 0)
		return r;
	if (c->full) {
		const struct landlock_rule rules[] = { { "/", LANDLOCK_LEVEL_RO } };

		r = landlock_restrict_self(rules, ELEMENTSOF(rules), NULL);
		if (r < 0 && r != -EOPNOTSUPP && r != -ENOSYS)
			return r;
	}
	if (c->drop) {
		r = caps_drop_for_exec(c->root);
		if (r < 0)
			return r;
	}
	if (c->full) {
		const struct seccomp_opts opts = { .root = c->root };

		r = seccomp_install_sandbox(&opts);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The value of "Key=hex" in the probe's line */
static int probe_field(const char *out, const char *key, uint64_t *ret)
{
	char pattern[32];
	const char *p;

	(void)snprintf(pattern, sizeof(pattern), " %s=", key);
	p = strstr(out, pattern);
	if (!p)
		return -ENOENT;
	*ret = strtoull(p + strlen(pattern), NULL, 16);
	return 0;
}

/*
 * Every capability the kernel knows: a new user namespace starts with a full bounding set,
 * whatever the parent's was, which is why the drop matters even for a host user without caps
 */
static uint64_t all_caps(void)
{
	unsigned int last = 0;
	FILE *f;

	f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (!f)
		return 0;
	/* NOLINTNEXTLINE(cert-err34-c): the kernel writes a small number; range-checked */
	if (fscanf(f, "%u", &last) != 1 || last > 62)
		last = 0;
	(void)fclose(f);
	return (UINT64_C(1) << (last + 1)) - 1;
}

static void assert_caps(const struct child_result *res, uint64_t expect_set, uint64_t expect_inh)
{
	static const char *const sets[] = { "CapPrm", "CapEff", "CapBnd" };
	uint64_t v;

	for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
		ASSERT_OK(probe_field(res->out, sets[i], &v));
		ASSERT_EQ(v, expect_set);
	}
	ASSERT_OK(probe_field(res->out, "CapInh", &v));
	ASSERT_EQ(v, expect_inh);
	ASSERT_OK(probe_field(res->out, "CapAmb", &v));
	ASSERT_EQ(v, 0);
}

TEST(control_uid0_in_userns_keeps_caps)
{
	struct caps_setup c = { .inner_uid = 0 };
	struct child_result res;

	ASSERT_OK(RUN_PROBE(setup_caps, &c, &res, "caps"));
	ASSERT_EQ(res.status, 0);
	assert_caps(&res, all_caps(), 0);
}

TEST(drop_all_as_uid0)
{
	/* uid 0 inside: securebits must stop execve() from granting the root set */
	struct caps_setup c = { .inner_uid = 0, .drop = true };
	struct child_result res;

	ASSERT_OK(RUN_PROBE(setup_caps, &c, &res, "caps"));
	ASSERT_EQ(res.status, 1);
	assert_caps(&res, 0, 0);
}

TEST(drop_all_as_own_uid)
{
	struct caps_setup c = { .inner_uid = -1, .drop = true };
	struct child_result res;

	ASSERT_OK(RUN_PROBE(setup_caps, &c, &res, "caps"));
	ASSERT_EQ(res.status, 1);
	assert_caps(&res, 0, 0);
}

TEST(root_keeps_podman_set)
{
	struct caps_setup c = { .inner_uid = 0, .drop = true, .root = true };
	struct child_result res;

	ASSERT_OK(RUN_PROBE(setup_caps, &c, &res, "caps"));
	ASSERT_EQ(res.status, 0);
	assert_caps(&res, KEPT_ROOT, KEPT_ROOT);
}

static int check_securebits(void *userdata)
{
	const int want = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
			 SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED;
	int bits;

	bits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	printf("securebits: %#x\n", bits);
	if (bits != want)
		return 1;
	/* locked: clearing them must fail */
	if (prctl(PR_SET_SECUREBITS, 0, 0, 0, 0) == 0)
		return 2;
	return 0;
}

TEST(securebits_locked)
{
	struct caps_setup c = { .inner_uid = 0, .drop = true };
	struct child_result res;

	ASSERT_OK(run_child(setup_caps, check_securebits, &c, NULL, &res));
	ASSERT_EQ(res.status, 0);
}

TEST(init_order_end_to_end)
{
	struct caps_setup c = { .inner_uid = 0, .drop = true, .full = true };
	struct child_result res;

	ASSERT_OK(RUN_PROBE(setup_caps, &c, &res, "caps"));
	ASSERT_EQ(res.status, 1);
	assert_caps(&res, 0, 0);
	ASSERT_OK(RUN_PROBE(setup_caps, &c, &res, "nnp"));
	ASSERT_TRUE(strstr(res.out, "NoNewPrivs=1") != NULL);
	ASSERT_OK(RUN_PROBE(setup_caps, &c, &res, "seccomp"));
	ASSERT_TRUE(strstr(res.out, "Seccomp=2") != NULL);
	ASSERT_OK(RUN_PROBE(setup_caps, &c, &res, "unshare-user"));
	ASSERT_PROBE_BLOCKED(res, "EPERM");

	c.root = true;
	ASSERT_OK(RUN_PROBE(setup_caps, &c, &res, "caps"));
	ASSERT_EQ(res.status, 0);
}

int main(void)
{
	return tap_run();
}
