/* SPDX-License-Identifier: MIT */
/*
 * sandbox-test.h - run a hardening step in a forked child, then an attack, and collect the
 * outcome in the parent
 *
 * The hardening primitives are irreversible, so every test forks: the child applies the step
 * under test (a setup callback), then either runs an in-process check (whose return value is
 * its exit status) or execs the probe (tests/helpers/probe.c) with its stdout captured. The
 * parent asserts on the exit status and the probe's output line. Nothing in the child uses the
 * TAP ASSERT macros: it only reports.
 */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Room for the probe's arguments, keeping one slot for the terminating NULL */
#define ELEMENTSOF_ARGV(a) (sizeof(a) / sizeof((a)[0]) - 1)

/* The child's exit status when its setup callback failed */
#define CHILD_SETUP_FAILED 99
/* The status reported for a child killed by a signal: 128 + signal, as shells do */
#define CHILD_SIGNALED(sig) (128 + (sig))

struct child_result {
	int status;     /* exit code, or CHILD_SIGNALED(sig) */
	char out[2048]; /* the child's stdout (probe line), NUL-terminated */
};

/* In the child: apply hardening; 0 or -errno */
typedef int (*child_setup_fn)(void *userdata);
/* In the child after setup, when not exec'ing the probe: the exit status */
typedef int (*child_check_fn)(void *userdata);

static inline const char *probe_path(void)
{
	static char buf[PATH_MAX];
	const char *env = getenv("PADDOCK_PROBE");
	ssize_t n;
	char *slash;

	if (env && *env)
		return env;
	/* fall back to the probe next to this test binary (build/tests/) */
	n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n < 0)
		return "probe";
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash || (size_t)(slash - buf) + sizeof("/probe") > sizeof(buf))
		return "probe";
	strcpy(slash, "/probe");
	return buf;
}

static inline int child_fail(int out_fd, const char *what, int err)
{
	dprintf(out_fd, "child: %s failed: %s\n", what, strerror(err > 0 ? err : -err));
	return CHILD_SETUP_FAILED;
}

/*
 * run_child() - fork; the child runs @setup, then execs the probe with @probe_args (a
 * NULL-terminated list after "probe") or, when @probe_args is NULL, returns @check's value.
 * Return: 0 with @res filled, or -errno when fork/pipe fail
 */
static inline int run_child(child_setup_fn setup, child_check_fn check, void *userdata,
			    const char *const *probe_args, struct child_result *res)
{
	int pipefd[2], status;
	size_t len = 0;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		const char *argv[16] = { "probe" };
		size_t n = 1;
		int r;

		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(pipefd[1], STDOUT_FILENO) < 0)
			_exit(CHILD_SETUP_FAILED);
		if (setup) {
			r = setup(userdata);
			if (r < 0)
				_exit(child_fail(STDOUT_FILENO, "setup", r));
		}
		if (!probe_args) {
			r = check ? check(userdata) : 0;
			fflush(stdout);
			_exit(r);
		}
		for (; probe_args[n - 1] && n < ELEMENTSOF_ARGV(argv); n++)
			argv[n] = probe_args[n - 1];
		argv[n] = NULL;
		execv(probe_path(), (char *const *)argv);
		_exit(child_fail(STDOUT_FILENO, "execv probe", errno));
	}

	(void)close(pipefd[1]);
	for (;;) {
		ssize_t k = read(pipefd[0], res->out + len, sizeof(res->out) - 1 - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
		if (len == sizeof(res->out) - 1)
			break;
	}
	res->out[len] = '\0';
	(void)close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		res->status = WEXITSTATUS(status);
	else
		res->status = CHILD_SIGNALED(WTERMSIG(status));
	printf("# child status %d: %s", res->status, res->out[0] ? res->out : "(no output)\n");
	if (len > 0 && res->out[len - 1] != '\n')
		printf("\n");
	return 0;
}

/* Shorthand: run the probe with the given args after @setup */
#define RUN_PROBE(setup, userdata, res, ...)                                                       \
	run_child((setup), NULL, (userdata), (const char *const[]){ __VA_ARGS__, NULL }, (res))

static inline int write_proc_self(const char *file, const char *s)
{
	char path[64];
	size_t len = strlen(s);
	ssize_t n;
	int fd;

	(void)snprintf(path, sizeof(path), "/proc/self/%s", file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	if (n < 0 || (size_t)n != len) {
		int e = n < 0 ? errno : EIO;
		(void)close(fd);
		return -e;
	}
	return close(fd) < 0 ? -errno : 0;
}

/*
 * enter_userns() - in a child: unshare a user namespace (plus @extra_flags) and map the
 * caller's uid and gid to @inner_uid (or to themselves when @inner_uid < 0), from inside,
 * after denying setgroups, as an unprivileged user can.
 */
static inline int enter_userns(int extra_flags, long inner_uid)
{
	unsigned int uid = (unsigned int)getuid(), gid = (unsigned int)getgid();
	char map[64];
	int r;

	if (unshare(CLONE_NEWUSER | extra_flags) < 0)
		return -errno;
	r = write_proc_self("setgroups", "deny");
	if (r < 0)
		return r;
	(void)snprintf(map, sizeof(map), "%u %u 1\n", inner_uid < 0 ? uid : (unsigned)inner_uid,
		       uid);
	r = write_proc_self("uid_map", map);
	if (r < 0)
		return r;
	(void)snprintf(map, sizeof(map), "%u %u 1\n", inner_uid < 0 ? gid : (unsigned)inner_uid,
		       gid);
	return write_proc_self("gid_map", map);
}

static inline int set_nnp(void)
{
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0;
}

/* Does the probe's line say "allowed", or "blocked: <errname>"? */
#define ASSERT_PROBE_ALLOWED(res)                                                                  \
	do {                                                                                       \
		ASSERT_EQ((res).status, 0);                                                        \
		ASSERT_TRUE(strstr((res).out, ": allowed") != NULL);                               \
	} while (0)
#define ASSERT_PROBE_BLOCKED(res, errname)                                                         \
	do {                                                                                       \
		ASSERT_EQ((res).status, 1);                                                        \
		ASSERT_TRUE(strstr((res).out, ": blocked: " errname "\n") != NULL);                \
	} while (0)
/* Not blocked with this particular errno: the control case of a filter test */
#define ASSERT_PROBE_NOT_BLOCKED_WITH(res, errname)                                                \
	do {                                                                                       \
		ASSERT_TRUE((res).status == 0 || (res).status == 1);                               \
		ASSERT_TRUE(strstr((res).out, ": blocked: " errname "\n") == NULL);                \
	} while (0)
