/* SPDX-License-Identifier: MIT */
/*
 * test-landlock.c - Landlock rules and scoping, enforced for real in forked children
 *
 * The tree under a fresh /tmp directory:
 *   rw/       RW rule       ro/f  (no rule: "/" is RO)
 *   wf/f      WRITE_FILE    file  a regular file with an RW rule (file rights only)
 */
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "common/macro.h"
#include "sandbox/landlock.h"
#include "sandbox-test.h"
#include "tap.h"

struct tree {
	char dir[64];
	char rw[96], ro[96], ro_f[96], wf[96], wf_f[96], file[96], missing[96];
};

static void tree_path(char *buf, size_t n, const char *dir, const char *rel)
{
	(void)snprintf(buf, n, "%s/%s", dir, rel);
}

static int touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	(void)close(fd);
	return 0;
}

static int tree_make(struct tree *t)
{
	(void)snprintf(t->dir, sizeof(t->dir), "/tmp/paddock-test-landlock-XXXXXX");
	if (!mkdtemp(t->dir))
		return -errno;
	tree_path(t->rw, sizeof(t->rw), t->dir, "rw");
	tree_path(t->ro, sizeof(t->ro), t->dir, "ro");
	tree_path(t->ro_f, sizeof(t->ro_f), t->dir, "ro/f");
	tree_path(t->wf, sizeof(t->wf), t->dir, "wf");
	tree_path(t->wf_f, sizeof(t->wf_f), t->dir, "wf/f");
	tree_path(t->file, sizeof(t->file), t->dir, "file");
	tree_path(t->missing, sizeof(t->missing), t->dir, "missing");
	if (mkdir(t->rw, 0755) < 0 || mkdir(t->ro, 0755) < 0 || mkdir(t->wf, 0755) < 0)
		return -errno;
	if (touch(t->ro_f) < 0 || touch(t->wf_f) < 0 || touch(t->file) < 0)
		return -errno;
	return 0;
}

static void tree_remove(struct tree *t)
{
	char cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", t->dir);
	(void)system(cmd); /* NOLINT(cert-env33-c): a test's own temporary directory */
}

static bool exists(const char *dir, const char *rel)
{
	char p[160];

	tree_path(p, sizeof(p), dir, rel);
	return access(p, F_OK) == 0;
}

static int require_landlock(void)
{
	int abi = landlock_abi_version();

	if (abi == -EOPNOTSUPP || abi == -ENOSYS)
		return 0;
	return abi;
}

static struct tree tree;

static int setup_restrict(void *userdata)
{
	const struct tree *t = userdata ? userdata : &tree;
	const struct landlock_rule rules[] = {
		{ "/", LANDLOCK_LEVEL_RO },           { t->rw, LANDLOCK_LEVEL_RW },
		{ t->wf, LANDLOCK_LEVEL_WRITE_FILE }, { t->file, LANDLOCK_LEVEL_RW },
		{ t->missing, LANDLOCK_LEVEL_RW },    { "/dev/null", LANDLOCK_LEVEL_DEV },
	};
	const char *errpath = NULL;
	int r;

	r = set_nnp();
	if (r < 0)
		return r;
	r = landlock_restrict_self(rules, ELEMENTSOF(rules), &errpath);
	if (r < 0)
		printf("landlock_restrict_self: %s, path %s\n", strerror(-r), strempty(errpath));
	return r < 0 ? r : 0;
}

TEST(abi_version)
{
	int abi = landlock_abi_version();

	printf("# Landlock ABI %d\n", abi);
	if (abi == -EOPNOTSUPP || abi == -ENOSYS)
		TEST_SKIP("Landlock not available");
	ASSERT_TRUE(abi >= 1);
}

TEST(write_only_beneath_rw_rule)
{
	struct child_result res;
	char p[160];

	if (require_landlock() <= 0)
		TEST_SKIP("Landlock not available");
	ASSERT_OK(tree_make(&tree));

	tree_path(p, sizeof(p), tree.dir, "rw/new");
	ASSERT_OK(RUN_PROBE(setup_restrict, NULL, &res, "landlock-write", p));
	ASSERT_PROBE_ALLOWED(res);
	ASSERT_TRUE(exists(tree.dir, "rw/new"));

	tree_path(p, sizeof(p), tree.dir, "ro/new");
	ASSERT_OK(RUN_PROBE(setup_restrict, NULL, &res, "landlock-write", p));
	ASSERT_PROBE_BLOCKED(res, "EACCES");
	ASSERT_FALSE(exists(tree.dir, "ro/new"));

	/* next to the workspace, not in it: no prefix confusion */
	tree_path(p, sizeof(p), tree.dir, "rw-evil");
	ASSERT_OK(RUN_PROBE(setup_restrict, NULL, &res, "landlock-write", p));
	ASSERT_PROBE_BLOCKED(res, "EACCES");

	/* control: the same write without Landlock */
	tree_path(p, sizeof(p), tree.dir, "ro/new");
	ASSERT_OK(RUN_PROBE(NULL, NULL, &res, "landlock-write", p));
	ASSERT_PROBE_ALLOWED(res);
	ASSERT_TRUE(exists(tree.dir, "ro/new"));
	tree_remove(&tree);
}

TEST(ro_and_write_file_levels)
{
	struct child_result res;
	char p[160];

	if (require_landlock() <= 0)
		TEST_SKIP("Landlock not available");
	ASSERT_OK(tree_make(&tree));

	ASSERT_OK(RUN_PROBE(setup_restrict, NULL, &res, "open", tree.ro_f, "r"));
	ASSERT_PROBE_ALLOWED(res);
	ASSERT_OK(RUN_PROBE(setup_restrict, NULL, &res, "open", tree.ro_f, "w"));
	ASSERT_PROBE_BLOCKED(res, "EACCES");

	/* WRITE_FILE: existing files are writable, nothing can be created */
	ASSERT_OK(RUN_PROBE(setup_restrict, NULL, &res, "open", tree.wf_f, "w"));
	ASSERT_PROBE_ALLOWED(res);
	tree_path(p, sizeof(p), tree.dir, "wf/new");
	ASSERT_OK(RUN_PROBE(setup_restrict, NULL, &res, "landlock-write", p));
	ASSERT_PROBE_BLOCKED(res, "EACCES");

	/* an RW rule on a regular file: accepted, with the file rights only */
	ASSERT_OK(RUN_PROBE(setup_restrict, NULL, &res, "open", tree.file, "w"));
	ASSERT_PROBE_ALLOWED(res);
	tree_remove(&tree);
}

TEST(dev_level)
{
	struct child_result res;

	if (require_landlock() <= 0)
		TEST_SKIP("Landlock not available");
	ASSERT_OK(tree_make(&tree));
	ASSERT_OK(RUN_PROBE(setup_restrict, NULL, &res, "open", "/dev/null", "w"));
	ASSERT_PROBE_ALLOWED(res);
	ASSERT_OK(RUN_PROBE(setup_restrict, NULL, &res, "open", "/dev/zero", "w"));
	ASSERT_PROBE_BLOCKED(res, "EACCES");
	tree_remove(&tree);
}

struct errpath_case {
	struct landlock_rule rule;
	int expect;
};

static int check_errpath(void *userdata)
{
	const struct errpath_case *c = userdata;
	const char *errpath = "untouched";
	int r;

	if (set_nnp() < 0)
		return 10;
	r = landlock_restrict_self(&c->rule, 1, &errpath);
	printf("landlock_restrict_self: %d, path %s\n", r, strempty(errpath));
	if (c->expect == 0)
		return r > 0 && streq(errpath, "untouched") ? 0 : 1;
	return r == c->expect && errpath == c->rule.path ? 0 : 1;
}

TEST(missing_path_skipped_other_errors_reported)
{
	struct errpath_case c = { .rule = { NULL, LANDLOCK_LEVEL_RW } };
	struct child_result res;
	char longname[400];

	if (require_landlock() <= 0)
		TEST_SKIP("Landlock not available");

	c.rule.path = "/nonexistent-paddock-test/x";
	c.expect = 0;
	ASSERT_OK(run_child(NULL, check_errpath, &c, NULL, &res));
	ASSERT_EQ(res.status, 0);

	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	c.rule.path = longname;
	c.expect = -ENAMETOOLONG;
	ASSERT_OK(run_child(NULL, check_errpath, &c, NULL, &res));
	ASSERT_EQ(res.status, 0);
}

static int setup_restrict_root_ro(void *userdata)
{
	const struct landlock_rule rules[] = { { "/", LANDLOCK_LEVEL_RO } };
	int r;

	r = set_nnp();
	if (r < 0)
		return r;
	r = landlock_restrict_self(rules, ELEMENTSOF(rules), NULL);
	return r < 0 ? r : 0;
}

TEST(signal_scoped)
{
	struct child_result res;
	char pidstr[16];
	pid_t victim;

	if (require_landlock() < 6)
		TEST_SKIP("signal scoping needs Landlock ABI 6");

	victim = fork();
	ASSERT_TRUE(victim >= 0);
	if (victim == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	(void)snprintf(pidstr, sizeof(pidstr), "%d", (int)victim);

	ASSERT_OK(RUN_PROBE(setup_restrict_root_ro, NULL, &res, "kill", pidstr, "0"));
	ASSERT_PROBE_BLOCKED(res, "EPERM");
	ASSERT_OK(RUN_PROBE(setup_restrict_root_ro, NULL, &res, "kill", pidstr, "TERM"));
	ASSERT_PROBE_BLOCKED(res, "EPERM");
	/* control */
	ASSERT_OK(RUN_PROBE(NULL, NULL, &res, "kill", pidstr, "0"));
	ASSERT_PROBE_ALLOWED(res);

	(void)kill(victim, SIGKILL);
	(void)waitpid(victim, NULL, 0);
}

TEST(abstract_unix_socket_scoped)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct child_result res;
	char name[64];
	int fd;

	if (require_landlock() < 6)
		TEST_SKIP("abstract socket scoping needs Landlock ABI 6");

	(void)snprintf(name, sizeof(name), "paddock-test-landlock-%d", (int)getpid());
	memcpy(sa.sun_path + 1, name, strlen(name));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(bind(fd, (struct sockaddr *)&sa,
		       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))),
		  0);
	ASSERT_EQ(listen(fd, 4), 0);

	ASSERT_OK(RUN_PROBE(setup_restrict_root_ro, NULL, &res, "abstract-connect", name));
	ASSERT_PROBE_BLOCKED(res, "EPERM");
	/* control */
	ASSERT_OK(RUN_PROBE(NULL, NULL, &res, "abstract-connect", name));
	ASSERT_PROBE_ALLOWED(res);
	(void)close(fd);
}

int main(void)
{
	return tap_run();
}
