/* SPDX-License-Identifier: MIT */
/*
 * test-features.c - host feature probes: the parsers, and that every probe gives a verdict
 */
#include <sys/wait.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/macro.h"
#include "sandbox/features.h"
#include "tap.h"

TEST(cgroup_parse_self_unified)
{
	_cleanup_free_ char *p = NULL;

	ASSERT_OK(cgroup_parse_self("0::/user.slice/user-1000.slice/session-2.scope\n", &p));
	ASSERT_STREQ(p, "/user.slice/user-1000.slice/session-2.scope");
}

TEST(cgroup_parse_self_hybrid)
{
	static const char hybrid[] = "9:name=systemd:/\n"
				     "4:memory:/process_api/8cdb\n"
				     "1:cpu:/\n"
				     "0::/\n";
	_cleanup_free_ char *p = NULL;

	ASSERT_OK(cgroup_parse_self(hybrid, &p));
	ASSERT_STREQ(p, "/");
}

TEST(cgroup_parse_self_no_trailing_newline)
{
	_cleanup_free_ char *p = NULL;

	ASSERT_OK(cgroup_parse_self("1:cpu:/\n0::/a b", &p));
	ASSERT_STREQ(p, "/a b");
}

TEST(cgroup_parse_self_v1_only_and_garbage)
{
	char *p = NULL;

	ASSERT_ERR(cgroup_parse_self("4:memory:/x\n1:cpu:/\n", &p), ENOENT);
	ASSERT_ERR(cgroup_parse_self("", &p), ENOENT);
	ASSERT_ERR(cgroup_parse_self("0::relative\n", &p), EINVAL);
	/* "10::" is not "0::" */
	ASSERT_ERR(cgroup_parse_self("10::/x\n", &p), ENOENT);
	ASSERT_NULL(p);
}

TEST(cgroup_controllers_has)
{
	ASSERT_TRUE(cgroup_controllers_has("cpuset cpu io memory pids\n", "memory"));
	ASSERT_TRUE(cgroup_controllers_has("cpuset cpu io memory pids\n", "pids"));
	ASSERT_TRUE(cgroup_controllers_has("memory", "memory"));
	ASSERT_FALSE(cgroup_controllers_has("hugetlb\n", "memory"));
	ASSERT_FALSE(cgroup_controllers_has("", "memory"));
	/* whole words only */
	ASSERT_FALSE(cgroup_controllers_has("cpuset", "cpu"));
	ASSERT_FALSE(cgroup_controllers_has("xpids", "pids"));
	ASSERT_TRUE(cgroup_controllers_has("cpuset cpu", "cpu"));
}

TEST(subid_parse)
{
	static const char subuid[] = "# comment\n"
				     "alice:100000:65536\n"
				     "1002:300000:1000\n"
				     "bob:165536:65536\n";
	unsigned long start = 0, count = 0;

	ASSERT_OK(subid_parse(subuid, "bob", 1001, &start, &count));
	ASSERT_EQ(start, 165536);
	ASSERT_EQ(count, 65536);
	ASSERT_OK(subid_parse(subuid, "carol", 1002, &start, &count)); /* by uid */
	ASSERT_EQ(start, 300000);
	ASSERT_EQ(count, 1000);
	ASSERT_ERR(subid_parse(subuid, "al", 1003, &start, &count), ENOENT); /* no prefix match */
	ASSERT_ERR(subid_parse(subuid, NULL, 100, &start, &count), ENOENT);
	ASSERT_ERR(subid_parse("", "bob", 1, &start, &count), ENOENT);
	ASSERT_ERR(subid_parse("bob:x:1\n", "bob", 1, &start, &count), EINVAL);
	ASSERT_ERR(subid_parse("bob:1:0\n", "bob", 1, &start, &count), EINVAL);
	ASSERT_ERR(subid_parse("bob:1\n", "bob", 1, &start, &count), EINVAL);
	ASSERT_OK(subid_parse("bob:5:7", "bob", 1, &start, &count)); /* no final newline */
	ASSERT_EQ(start, 5);
	ASSERT_EQ(count, 7);
}

TEST(landlock_abi_describe)
{
	char buf[128], tiny[6];

	landlock_abi_describe(1, buf, sizeof(buf));
	ASSERT_STREQ(buf, "fs");
	landlock_abi_describe(4, buf, sizeof(buf));
	ASSERT_STREQ(buf, "fs, refer, truncate, net");
	landlock_abi_describe(7, buf, sizeof(buf));
	ASSERT_STREQ(buf, "fs, refer, truncate, net, ioctl_dev, scoping, logging");
	landlock_abi_describe(9, buf, sizeof(buf));
	ASSERT_STREQ(buf, "fs, refer, truncate, net, ioctl_dev, scoping, logging, and newer");
	landlock_abi_describe(7, tiny, sizeof(tiny)); /* truncates, terminated */
	ASSERT_EQ(strlen(tiny), sizeof(tiny) - 1);
}

TEST(state_strings)
{
	ASSERT_STREQ(feature_state_to_string(FEATURE_OK), "ok");
	ASSERT_STREQ(feature_state_to_string(FEATURE_LIMITED), "limited");
	ASSERT_STREQ(feature_state_to_string(FEATURE_MISSING), "missing");
	ASSERT_NULL(feature_state_to_string(_FEATURE_STATE_MAX));
	ASSERT_NULL(feature_state_to_string(_FEATURE_STATE_INVALID));
}

TEST(default_run_ok)
{
	struct feature f[2] = {
		{ .required = true, .state = FEATURE_LIMITED },
		{ .required = false, .state = FEATURE_MISSING },
	};

	ASSERT_TRUE(features_default_run_ok(f, 2));
	f[0].state = FEATURE_MISSING;
	ASSERT_FALSE(features_default_run_ok(f, 2));
}

/* Each probe gives a verdict, a detail, and a fix when not OK; they reap their children. */
TEST(probe_all)
{
	struct feature f[_FEATURE_ID_MAX];
	struct timespec a, b;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &a);
	features_probe_all(f);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	printf("# all probes: %ld ms\n", ms);
	for (int i = 0; i < _FEATURE_ID_MAX; i++) {
		printf("# %-16s %-7s %s\n", f[i].key, feature_state_to_string(f[i].state),
		       f[i].detail);
		ASSERT_EQ(f[i].id, i);
		ASSERT_NOT_NULL(f[i].key);
		ASSERT_NOT_NULL(f[i].name);
		ASSERT_NOT_NULL(feature_state_to_string(f[i].state));
		ASSERT_TRUE(f[i].detail[0] != '\0');
		ASSERT_TRUE((f[i].state == FEATURE_OK) == (f[i].fix[0] == '\0'));
	}
	ASSERT_TRUE(f[FEATURE_LANDLOCK].required);
	ASSERT_TRUE(f[FEATURE_SECCOMP_NOTIFY].required);
	ASSERT_TRUE(f[FEATURE_PTY].required);
	ASSERT_TRUE(f[FEATURE_NFTABLES].required); /* the default --net public needs it */
	ASSERT_FALSE(f[FEATURE_TUN].required);     /* the capture routes through lo */
	ASSERT_FALSE(f[FEATURE_CGROUP2].required);
	ASSERT_FALSE(f[FEATURE_LIMITS].required);
	ASSERT_FALSE(f[FEATURE_SUBID].required);
	/* no child left behind, not even a zombie */
	ASSERT_EQ(waitpid(-1, NULL, WNOHANG), -1);
	ASSERT_EQ(errno, ECHILD);
	ASSERT_TRUE(ms < 3000);
}

int main(void)
{
	return tap_run();
}
