/* SPDX-License-Identifier: MIT */
/*
 * test-limits.c - resource limits: the parsers, the plan for each kind of host, cpu.max, the
 * rlimits and oom_score_adj of a child, and a live probe (plus, where this process may create
 * a cgroup v2 child, a real freeze, thaw and kill)
 */
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fd.h"
#include "common/macro.h"
#include "sandbox/features.h"
#include "sandbox/limits.h"
#include "tap.h"

#define M (1U << LIMITS_CTRL_MEMORY)
#define P (1U << LIMITS_CTRL_PIDS)
#define C (1U << LIMITS_CTRL_CPU)
#define G (UINT64_C(1) << 30)

static const char hybrid_mountinfo[] =
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

/* ---- /proc/self/cgroup and mountinfo ---- */

TEST(self_cgroup_delegated_scope)
{
	static const char text[] = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
				   "run-p1234.scope\n";
	_cleanup_free_ char *p = NULL;

	ASSERT_OK(cgroup_parse_self(text, &p));
	ASSERT_STREQ(p, "/user.slice/user-1000.slice/user@1000.service/app.slice/run-p1234.scope");
	ASSERT_ERR(cgroup_parse_self("4:memory:/x\n1:cpu:/\n", &p), ENOENT);
}

TEST(mountinfo_unified)
{
	_cleanup_free_ char *m = NULL, *r = NULL;

	ASSERT_OK(limits_parse_mountinfo("25 1 0:22 / /sys/fs/cgroup rw,nosuid shared:4 - "
					 "cgroup2 cgroup2 rw,nsdelegate\n",
					 &m, &r));
	ASSERT_STREQ(m, "/sys/fs/cgroup");
	ASSERT_STREQ(r, "/");
}

TEST(mountinfo_hybrid)
{
	_cleanup_free_ char *m = NULL, *r = NULL;

	ASSERT_OK(limits_parse_mountinfo(hybrid_mountinfo, &m, &r));
	ASSERT_STREQ(m, "/sys/fs/cgroup/unified");
	ASSERT_TRUE(limits_mountinfo_v1_has(hybrid_mountinfo, "memory"));
	ASSERT_TRUE(limits_mountinfo_v1_has(hybrid_mountinfo, "pids"));
	ASSERT_TRUE(limits_mountinfo_v1_has(hybrid_mountinfo, "cpu"));
	ASSERT_FALSE(limits_mountinfo_v1_has(hybrid_mountinfo, "io"));
	ASSERT_FALSE(limits_mountinfo_v1_has(hybrid_mountinfo, "systemd"));
}

TEST(mountinfo_escapes_and_root)
{
	/* a bind of a subtree first, then the whole hierarchy: the whole one wins */
	static const char text[] = "30 25 0:22 /user.slice /mnt/a rw - cgroup2 none rw\n"
				   "31 25 0:22 / /sys/fs/my\\040cg rw master:1 - cgroup2 none rw\n";
	_cleanup_free_ char *m = NULL, *r = NULL, *m2 = NULL, *r2 = NULL;

	ASSERT_OK(limits_parse_mountinfo(text, &m, &r));
	ASSERT_STREQ(m, "/sys/fs/my cg");
	ASSERT_STREQ(r, "/");
	ASSERT_OK(limits_parse_mountinfo("30 25 0:22 /user.slice /mnt/a rw - cgroup2 none rw", &m2,
					 &r2));
	ASSERT_STREQ(m2, "/mnt/a");
	ASSERT_STREQ(r2, "/user.slice");
}

TEST(mountinfo_none_or_malformed)
{
	_cleanup_free_ char *m = NULL;

	ASSERT_ERR(limits_parse_mountinfo("", &m, NULL), ENOENT);
	ASSERT_ERR(limits_parse_mountinfo("32 31 0:29 / /c rw - cgroup cgroup rw,cpu\n", &m, NULL),
		   ENOENT);
	/* no " - " separator, or too few fields: not a cgroup2 line */
	ASSERT_ERR(limits_parse_mountinfo("41 31 0:38 / /u rw cgroup2 cgroup2 rw\n", &m, NULL),
		   ENOENT);
	ASSERT_ERR(limits_parse_mountinfo("- cgroup2 x y\n", &m, NULL), ENOENT);
	/* a bad escape or a relative mount point */
	ASSERT_ERR(limits_parse_mountinfo("1 2 0:1 / /a\\9 rw - cgroup2 c rw\n", &m, NULL),
		   EBADMSG);
	ASSERT_ERR(limits_parse_mountinfo("1 2 0:1 / /a\\000 rw - cgroup2 c rw\n", &m, NULL),
		   EBADMSG);
	ASSERT_ERR(limits_parse_mountinfo("1 2 0:1 / rel rw - cgroup2 c rw\n", &m, NULL), EBADMSG);
	ASSERT_NULL(m);
}

/* ---- flat keyed files and controller lists ---- */

TEST(keyed_files)
{
	static const char events[] = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\n"
				     "oom_group_kill 0\n";
	uint64_t v = 77;

	ASSERT_OK(limits_parse_keyed(events, "oom_kill", &v));
	ASSERT_EQ(v, 2);
	ASSERT_OK(limits_parse_keyed(events, "oom", &v)); /* not a prefix match of oom_kill */
	ASSERT_EQ(v, 3);
	ASSERT_OK(limits_parse_keyed("populated 1\nfrozen 1", "frozen", &v));
	ASSERT_EQ(v, 1);
	ASSERT_ERR(limits_parse_keyed(events, "frozen", &v), ENOENT);
	ASSERT_ERR(limits_parse_keyed("frozen x\n", "frozen", &v), EBADMSG);
	ASSERT_ERR(limits_parse_keyed("frozen \n", "frozen", &v), EBADMSG);
	ASSERT_ERR(limits_parse_keyed("frozen 18446744073709551616\n", "frozen", &v), EBADMSG);
	ASSERT_OK(limits_parse_keyed("frozen 18446744073709551615\n", "frozen", &v));
	ASSERT_TRUE(v == UINT64_MAX);
}

TEST(controller_lists)
{
	ASSERT_EQ(limits_parse_controllers("cpuset cpu io memory hugetlb pids rdma misc\n"),
		  M | P | C);
	ASSERT_EQ(limits_parse_controllers("cpuset io memory\n"), M);
	ASSERT_EQ(limits_parse_controllers("hugetlb\n"), 0);
	ASSERT_EQ(limits_parse_controllers(""), 0);
	ASSERT_STREQ(limits_ctrl_to_string(LIMITS_CTRL_CPU), "cpu");
	ASSERT_NULL(limits_ctrl_to_string(_LIMITS_CTRL_MAX));
	ASSERT_STREQ(limits_mech_to_string(LIMITS_MECH_RLIMIT), "rlimit");
}

/* ---- CPUs ---- */

TEST(cpus_to_milli)
{
	uint64_t m = 99;

	ASSERT_OK(limits_cpus_to_milli(0, &m));
	ASSERT_EQ(m, 0);
	ASSERT_OK(limits_cpus_to_milli(2, &m));
	ASSERT_EQ(m, 2000);
	ASSERT_OK(limits_cpus_to_milli(0.5, &m));
	ASSERT_EQ(m, 500);
	ASSERT_OK(limits_cpus_to_milli(1.2345, &m)); /* rounded to the nearest */
	ASSERT_EQ(m, 1235);
	ASSERT_OK(limits_cpus_to_milli(0.01, &m)); /* the kernel's smallest quota, 1 ms */
	ASSERT_EQ(m, 10);
	ASSERT_OK(limits_cpus_to_milli(4096, &m));
	ASSERT_EQ(m, 4096000);
	ASSERT_ERR(limits_cpus_to_milli(0.004, &m), ERANGE);
	ASSERT_ERR(limits_cpus_to_milli(-1, &m), EINVAL);
	ASSERT_ERR(limits_cpus_to_milli(__builtin_nan(""), &m), EINVAL);
	ASSERT_EQ(m, 4096000); /* unchanged on failure */
}

TEST(cpu_max_line)
{
	char buf[32];

	ASSERT_OK(limits_cpu_max_format(500, buf, sizeof(buf)));
	ASSERT_STREQ(buf, "50000 100000");
	ASSERT_OK(limits_cpu_max_format(2000, buf, sizeof(buf)));
	ASSERT_STREQ(buf, "200000 100000");
	ASSERT_OK(limits_cpu_max_format(10, buf, sizeof(buf)));
	ASSERT_STREQ(buf, "1000 100000");
	ASSERT_OK(limits_cpu_max_format(0, buf, sizeof(buf)));
	ASSERT_STREQ(buf, "max 100000");
	ASSERT_OK(limits_cpu_max_format(4096000, buf, sizeof(buf)));
	ASSERT_STREQ(buf, "409600000 100000");
	ASSERT_ERR(limits_cpu_max_format(500, buf, 6), ENOBUFS);
}

/* ---- the plan ---- */

static struct limits_host host(bool can_create, unsigned usable, unsigned enabled, bool root)
{
	struct limits_host h = {
		.dirfd = -EBADF,
		.can_create = can_create,
		.available = usable,
		.enabled = enabled,
		.usable = can_create ? usable : 0,
		.host_root = root,
		.freeze = can_create,
		.kill = can_create,
	};

	if (!can_create)
		snprintf(h.why_cgroup, sizeof(h.why_cgroup), "cgroup /x not delegated");
	for (int i = 0; i < _LIMITS_CTRL_MAX; i++)
		if (!can_create)
			snprintf(h.why_ctrl[i], sizeof(h.why_ctrl[i]),
				 "%s: no cgroup of our own (%.200s)", limits_ctrl_to_string(i),
				 h.why_cgroup);
		else if (!(h.usable & (1U << i)))
			snprintf(h.why_ctrl[i], sizeof(h.why_ctrl[i]), "%s not delegated",
				 limits_ctrl_to_string(i));
	return h;
}

TEST(plan_delegated_everything)
{
	struct limits_host h = host(true, M | P | C, M | P | C, false);
	struct limits_plan p;
	char d[512];

	ASSERT_OK(limits_plan(&h, 8 * G, 4096, 1500, &p, NULL));
	ASSERT_TRUE(p.cgroup);
	ASSERT_EQ(p.memory_mech, LIMITS_MECH_CGROUP);
	ASSERT_EQ(p.pids_mech, LIMITS_MECH_CGROUP);
	ASSERT_EQ(p.cpus_mech, LIMITS_MECH_CGROUP);
	ASSERT_EQ(p.controllers, M | P | C);
	ASSERT_FALSE(p.needs_leaf);
	ASSERT_TRUE(p.freeze && p.kill);
	limits_describe(&p, d, sizeof(d));
	ASSERT_STREQ(d, "memory 8G by cgroup memory.max; pids 4096 by cgroup pids.max; cpus "
			"1.500 by cgroup cpu.max; suspend by cgroup.freeze; stop by cgroup.kill");
}

TEST(plan_delegated_no_cpu_limit_asked)
{
	struct limits_host h = host(true, M | P | C, 0, false);
	struct limits_plan p;

	h.needs_leaf = true;
	ASSERT_OK(limits_plan(&h, 8 * G, 4096, 0, &p, NULL));
	ASSERT_EQ(p.cpus_mech, LIMITS_MECH_NONE);
	ASSERT_EQ(p.controllers, M | P); /* cpu is not enabled when not needed */
	ASSERT_TRUE(p.needs_leaf);

	/* no limit at all: still a cgroup (freeze, kill), no controller, no leaf */
	ASSERT_OK(limits_plan(&h, 0, 0, 0, &p, NULL));
	ASSERT_TRUE(p.cgroup);
	ASSERT_EQ(p.controllers, 0);
	ASSERT_FALSE(p.needs_leaf);
	ASSERT_EQ(p.memory_mech, LIMITS_MECH_NONE);
	ASSERT_EQ(p.pids_mech, LIMITS_MECH_NONE);
}

TEST(plan_delegated_without_memory)
{
	struct limits_host h = host(true, P | C, P | C, false);
	struct limits_plan p;
	char d[512];

	ASSERT_OK(limits_plan(&h, 2 * G, 100, 0, &p, NULL));
	ASSERT_EQ(p.memory_mech, LIMITS_MECH_RLIMIT);
	ASSERT_EQ(p.pids_mech, LIMITS_MECH_CGROUP);
	ASSERT_EQ(p.controllers, P);
	limits_describe(&p, d, sizeof(d));
	ASSERT_NOT_NULL(strstr(d, "memory 2G per process by RLIMIT_DATA"));
	ASSERT_NOT_NULL(strstr(d, "pids 100 by cgroup pids.max"));
}

TEST(plan_delegated_without_pids)
{
	struct limits_host h = host(true, M | C, M | C, false);
	struct limits_plan p;

	ASSERT_OK(limits_plan(&h, 8 * G, 4096, 250, &p, NULL));
	ASSERT_EQ(p.memory_mech, LIMITS_MECH_CGROUP);
	ASSERT_EQ(p.pids_mech, LIMITS_MECH_RLIMIT);
	ASSERT_FALSE(p.pids_exempt);
	ASSERT_EQ(p.cpus_mech, LIMITS_MECH_CGROUP);
	ASSERT_EQ(p.controllers, M | C);
}

TEST(plan_delegated_without_cpu_refuses_cpus)
{
	struct limits_host h = host(true, M | P, M | P, false);
	struct limits_plan p = { .memory = 12345 };
	_cleanup_free_ char *err = NULL;

	ASSERT_ERR(limits_plan(&h, 8 * G, 4096, 500, &p, &err), EOPNOTSUPP);
	printf("# %s\n", err);
	ASSERT_NOT_NULL(strstr(err, "--cpus 0.500"));
	ASSERT_NOT_NULL(strstr(err, "cpu not delegated"));
	ASSERT_NOT_NULL(strstr(err, "Remove --cpus"));
	ASSERT_EQ(p.memory, 12345); /* unchanged */
	ASSERT_OK(limits_plan(&h, 8 * G, 4096, 0, &p, NULL));
}

TEST(plan_not_delegated_user)
{
	struct limits_host h = host(false, M | P | C, 0, false);
	struct limits_plan p;
	_cleanup_free_ char *err = NULL;
	char d[512];

	ASSERT_OK(limits_plan(&h, 8 * G, 4096, 0, &p, NULL));
	ASSERT_FALSE(p.cgroup);
	ASSERT_EQ(p.controllers, 0);
	ASSERT_EQ(p.memory_mech, LIMITS_MECH_RLIMIT);
	ASSERT_EQ(p.pids_mech, LIMITS_MECH_RLIMIT);
	ASSERT_FALSE(p.pids_exempt);
	ASSERT_FALSE(p.freeze || p.kill);
	limits_describe(&p, d, sizeof(d));
	ASSERT_STREQ(d, "memory 8G per process by RLIMIT_DATA; pids 4096 by RLIMIT_NPROC (per "
			"sandbox); cpus unlimited; suspend by SIGSTOP; stop by killing the init");
	/* a non-default memory is allowed (and described), a CPU limit is not */
	ASSERT_OK(limits_plan(&h, 512 << 20, 64, 0, &p, NULL));
	ASSERT_EQ(p.memory, 512 << 20);
	ASSERT_ERR(limits_plan(&h, 8 * G, 4096, 2000, &p, &err), EOPNOTSUPP);
	printf("# %s\n", err);
	ASSERT_NOT_NULL(strstr(err, "--cpus 2.000"));
	ASSERT_NOT_NULL(strstr(err, "cgroup /x not delegated"));
}

TEST(plan_not_delegated_host_root)
{
	struct limits_host h = host(false, 0, 0, true);
	struct limits_plan p;
	char d[512];

	ASSERT_OK(limits_plan(&h, 8 * G, 4096, 0, &p, NULL));
	ASSERT_EQ(p.pids_mech, LIMITS_MECH_RLIMIT);
	ASSERT_TRUE(p.pids_exempt);
	limits_describe(&p, d, sizeof(d));
	ASSERT_NOT_NULL(strstr(d, "not enforced: the kernel exempts host root"));
}

TEST(plan_root_cgroup_without_controllers)
{
	/* this machine as root: a child of the v2 root can be made, no controller is there */
	struct limits_host h = host(true, 0, 0, true);
	struct limits_plan p;

	h.is_root = true;
	ASSERT_OK(limits_plan(&h, 8 * G, 4096, 0, &p, NULL));
	ASSERT_TRUE(p.cgroup && p.freeze && p.kill);
	ASSERT_EQ(p.memory_mech, LIMITS_MECH_RLIMIT);
	ASSERT_EQ(p.pids_mech, LIMITS_MECH_RLIMIT);
	ASSERT_TRUE(p.pids_exempt);
	ASSERT_EQ(p.controllers, 0);
}

/* ---- rlimits and oom_score_adj of a child ---- */

static int child_check_rlimits(const struct limits_plan *p, rlim_t want_nproc, rlim_t want_data)
{
	struct rlimit nproc, data;

	if (limits_apply_rlimits(p) < 0)
		return 2;
	if (getrlimit(RLIMIT_NPROC, &nproc) < 0 || getrlimit(RLIMIT_DATA, &data) < 0)
		return 3;
	if (nproc.rlim_cur != want_nproc || nproc.rlim_max != want_nproc)
		return 4;
	if (data.rlim_cur != want_data || data.rlim_max != want_data)
		return 5;
	return 0;
}

static int run_child(const struct limits_plan *p, rlim_t nproc, rlim_t data)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(child_check_rlimits(p, nproc, data));
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST(rlimits_in_child)
{
	struct limits_host h = host(false, 0, 0, false);
	struct rlimit nproc, data;
	struct limits_plan p;

	ASSERT_OK(getrlimit(RLIMIT_NPROC, &nproc));
	ASSERT_OK(getrlimit(RLIMIT_DATA, &data));
	ASSERT_OK(limits_plan(&h, 3 * G, 1000, 0, &p, NULL));
	ASSERT_EQ(run_child(&p, 1000, 3 * G), 0);

	/* enforced by cgroup: the child's rlimits stay as they were */
	h = host(true, M | P, M | P, false);
	ASSERT_OK(limits_plan(&h, 3 * G, 1000, 0, &p, NULL));
	ASSERT_EQ(run_child(&p, nproc.rlim_cur, data.rlim_cur), 0);

	/* and ours were never touched */
	struct rlimit after;
	ASSERT_OK(getrlimit(RLIMIT_DATA, &after));
	ASSERT_TRUE(after.rlim_cur == data.rlim_cur);
}

TEST(oom_protect_child)
{
	_cleanup_free_ char *adj = NULL;
	char path[64];
	int fds[2], status;
	pid_t pid;
	char c;

	ASSERT_OK(pipe2(fds, O_CLOEXEC));
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		(void)close(fds[1]);
		_exit(read(fds[0], &c, 1) == 0 ? 0 : 1); /* until the parent closes */
	}
	(void)close(fds[0]);
	ASSERT_OK(limits_oom_protect_child(pid));
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	ASSERT_OK(read_file_at(AT_FDCWD, path, 64, &adj, NULL));
	(void)close(fds[1]);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_STREQ(adj, "1000\n");
	ASSERT_ERR(limits_oom_protect_child(0), EINVAL);
}

/* ---- the sandbox's cgroup on a plain directory: names, cleanup, removal ---- */

static int tmp_host(struct limits_host *h, char *dir)
{
	*h = (struct limits_host){ .dirfd = -EBADF };
	if (!mkdtemp(dir))
		return -errno;
	*h = (struct limits_host){ .dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC),
				   .can_create = true };
	return h->dirfd < 0 ? -errno : 0;
}

TEST(create_refuses_bad_names)
{
	struct limits_host h = host(true, M | P, M | P, false);
	struct limits_plan p;
	const char *step = NULL;
	int fd = -EBADF;

	ASSERT_OK(limits_plan(&h, G, 10, 0, &p, NULL));
	ASSERT_ERR(limits_cgroup_create(&h, "../x", &p, &fd, &step), EINVAL);
	ASSERT_STREQ(step, "name");
	ASSERT_ERR(limits_cgroup_create(&h, ".x", &p, &fd, &step), EINVAL);
	ASSERT_ERR(limits_cgroup_create(&h, "a/b", &p, &fd, &step), EINVAL);
	ASSERT_ERR(limits_cgroup_create(&h, "", &p, &fd, &step), EINVAL);
	ASSERT_ERR(limits_cgroup_remove(&h, "a/b", 1, 0), EINVAL);
	ASSERT_EQ(fd, -EBADF);
}

TEST(create_cleans_up_on_failure)
{
	char dir[] = "/tmp/test-limits-XXXXXX", comp[64];
	struct limits_host h;
	struct limits_plan p = { .cgroup = true, .memory_mech = LIMITS_MECH_CGROUP, .memory = G };
	const char *step = NULL;
	struct stat st;
	int fd = -EBADF;

	ASSERT_OK(tmp_host(&h, dir));
	/* a directory is not a cgroup: mkdir works, memory.max does not exist */
	ASSERT_ERR(limits_cgroup_create(&h, "box", &p, &fd, &step), ENOENT);
	ASSERT_STREQ(step, "memory.max");
	ASSERT_EQ(fd, -EBADF);
	snprintf(comp, sizeof(comp), "paddock-box-%d", (int)getpid());
	ASSERT_TRUE(fstatat(h.dirfd, comp, &st, 0) < 0 && errno == ENOENT);
	ASSERT_OK(rmdir(dir));
	limits_host_done(&h);
}

TEST(remove_depth_first)
{
	char dir[] = "/tmp/test-limits-XXXXXX";
	struct limits_host h;
	struct stat st;

	ASSERT_OK(tmp_host(&h, dir));
	ASSERT_OK(mkdirat(h.dirfd, "paddock-box-4242", 0755));
	ASSERT_OK(mkdirat(h.dirfd, "paddock-box-4242/a", 0755));
	ASSERT_OK(mkdirat(h.dirfd, "paddock-box-4242/a/b", 0755));
	ASSERT_OK(mkdirat(h.dirfd, "paddock-box-4242/c", 0755));
	ASSERT_OK(mkdirat(h.dirfd, "paddock-other-4242", 0755));
	ASSERT_OK(limits_cgroup_remove(&h, "box", 4242, 0));
	ASSERT_TRUE(fstatat(h.dirfd, "paddock-box-4242", &st, 0) < 0 && errno == ENOENT);
	ASSERT_OK(fstatat(h.dirfd, "paddock-other-4242", &st, 0)); /* only ours */
	ASSERT_OK(limits_cgroup_remove(&h, "box", 4242, 0));       /* gone: still 0 */
	ASSERT_OK(limits_cgroup_remove(&h, "other", 4242, 0));
	ASSERT_OK(rmdir(dir));
	limits_host_done(&h);
}

/* ---- the live host ---- */

static void print_host(const struct limits_host *h, int r)
{
	printf("# probe: %d, mount %s, cgroup %s, root %d, host root %d, can create %d, leaf %d, "
	       "available %#x, enabled %#x, usable %#x, freeze %d, kill %d\n",
	       r, h->mount ? h->mount : "-", h->cgroup ? h->cgroup : "-", h->is_root, h->host_root,
	       h->can_create, h->needs_leaf, h->available, h->enabled, h->usable, h->freeze,
	       h->kill);
	if (h->why_cgroup[0])
		printf("# why cgroup: %s\n", h->why_cgroup);
	for (int i = 0; i < _LIMITS_CTRL_MAX; i++)
		if (h->why_ctrl[i][0])
			printf("# why %s: %s\n", limits_ctrl_to_string(i), h->why_ctrl[i]);
	if (h->why_freeze[0])
		printf("# why freeze: %s\n", h->why_freeze);
	if (h->why_kill[0])
		printf("# why kill: %s\n", h->why_kill);
}

TEST(live_probe)
{
	_cleanup_free_ char *mountinfo = NULL;
	struct limits_host h;
	struct limits_plan p;
	struct statfs sfs;
	char d[512];
	int r;

	r = limits_probe(&h);
	print_host(&h, r);
	ASSERT_OK(read_file_at(AT_FDCWD, "/proc/self/mountinfo", 4 << 20, &mountinfo, NULL));
	ASSERT_EQ(r >= 0, h.can_create);
	ASSERT_EQ(h.can_create, h.why_cgroup[0] == '\0');
	ASSERT_EQ(h.usable & ~h.available, 0);
	for (int i = 0; i < _LIMITS_CTRL_MAX; i++) {
		ASSERT_EQ(!(h.usable & (1U << i)), h.why_ctrl[i][0] != '\0');
		/* a controller bound to v1 is never offered by v2 */
		if (limits_mountinfo_v1_has(mountinfo, limits_ctrl_to_string(i)))
			ASSERT_FALSE(h.available & (1U << i));
	}
	if (h.can_create) {
		ASSERT_EQ(h.freeze, h.why_freeze[0] == '\0');
		ASSERT_EQ(h.kill, h.why_kill[0] == '\0');
	}
	if (h.mount) {
		ASSERT_OK(statfs(h.mount, &sfs));
		ASSERT_TRUE(sfs.f_type == CGROUP2_SUPER_MAGIC);
	}
	if (h.dirfd >= 0) {
		ASSERT_NOT_NULL(h.cgroup);
		ASSERT_TRUE(h.cgroup[0] == '/');
		ASSERT_OK(faccessat(h.dirfd, "cgroup.procs", F_OK, 0));
	}
	if (geteuid() != 0)
		ASSERT_FALSE(h.host_root);
	ASSERT_OK(limits_plan(&h, 8 * G, 4096, 0, &p, NULL));
	limits_describe(&p, d, sizeof(d));
	printf("# default plan: %s\n", d);
	ASSERT_EQ(p.cgroup, h.can_create);
	limits_host_done(&h);
	ASSERT_EQ(h.dirfd, -EBADF);
}

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * The only place where the cgroup path runs on a host without delegation: as root, a child
 * of the cgroup v2 root can be made even without controllers, and cgroup.freeze and
 * cgroup.kill are core files.
 */
TEST(live_cgroup_freeze_thaw_kill)
{
	struct limits_host h;
	struct limits_plan p;
	_cleanup_close_ int fd = -EBADF;
	const char *step = NULL;
	volatile uint64_t *counter;
	uint64_t a, b, oom = 0;
	char name[32], comp[64];
	struct stat st;
	int status, r;
	pid_t pid;

	r = limits_probe(&h);
	if (r < 0 || !h.freeze || !h.kill) {
		static char reason[LIMITS_WHY_MAX + 32];

		snprintf(reason, sizeof(reason), "no cgroup v2 child here: %s",
			 h.why_cgroup[0] ? h.why_cgroup : h.why_freeze);
		limits_host_done(&h);
		TEST_SKIP(reason);
	}
	/* the limits this host can enforce by cgroup, small enough to read back */
	ASSERT_OK(limits_plan(&h, (h.usable & M) ? 256 << 20 : 0, (h.usable & P) ? 64 : 0,
			      (h.usable & C) ? 500 : 0, &p, NULL));
	snprintf(name, sizeof(name), "test%d", (int)getpid());
	r = limits_cgroup_create(&h, name, &p, &fd, &step);
	if (r < 0)
		printf("# create failed at %s: %s\n", step, strerror(-r));
	ASSERT_OK(r);
	if (p.pids_mech == LIMITS_MECH_CGROUP) {
		_cleanup_free_ char *v = NULL;

		ASSERT_OK(read_file_at(fd, "pids.max", 64, &v, NULL));
		ASSERT_STREQ(v, "64\n");
	}
	if (p.cpus_mech == LIMITS_MECH_CGROUP) {
		_cleanup_free_ char *v = NULL;

		ASSERT_OK(read_file_at(fd, "cpu.max", 64, &v, NULL));
		ASSERT_STREQ(v, "50000 100000\n");
	}

	counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(counter != MAP_FAILED);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		/* never outlive a failed test: a busy loop would be left spinning */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			(*counter)++;
	}
	ASSERT_OK(limits_cgroup_attach(fd, pid));
	ASSERT_OK(limits_cgroup_freeze(fd, true, 2000));
	a = *counter;
	sleep_ms(150);
	b = *counter;
	printf("# frozen: counter %" PRIu64 " -> %" PRIu64 "\n", a, b);
	ASSERT_TRUE(a == b);

	ASSERT_OK(limits_cgroup_freeze(fd, false, 2000));
	sleep_ms(50);
	a = *counter;
	sleep_ms(100);
	b = *counter;
	printf("# thawed: counter %" PRIu64 " -> %" PRIu64 "\n", a, b);
	ASSERT_TRUE(b > a);

	r = limits_cgroup_oom_kills(fd, &oom);
	if (p.memory_mech == LIMITS_MECH_CGROUP) {
		ASSERT_OK(r);
		ASSERT_EQ(oom, 0);
	} else
		ASSERT_ERR(r, EOPNOTSUPP);

	/* busy while the process lives, then kill, and removal waits for the exit */
	ASSERT_ERR(limits_cgroup_remove(&h, name, getpid(), 0), EBUSY);
	int64_t t0 = ms_now();
	ASSERT_OK(limits_cgroup_kill(fd));
	ASSERT_OK(limits_cgroup_remove(&h, name, getpid(), 2000));
	printf("# killed and removed in %" PRId64 " ms\n", ms_now() - t0);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	snprintf(comp, sizeof(comp), "paddock-%s-%d", name, (int)getpid());
	ASSERT_TRUE(fstatat(h.dirfd, comp, &st, 0) < 0 && errno == ENOENT);
	munmap((void *)counter, 4096);
	limits_host_done(&h);
}

int main(void)
{
	return tap_run();
}
