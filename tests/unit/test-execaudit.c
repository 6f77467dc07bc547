/* SPDX-License-Identifier: MIT */
/*
 * test-execaudit.c - reading an execve's argv from another process's memory, with the limits
 *
 * Each test builds an argv in its own memory and forks: the child has the same addresses and
 * contents, and waits; the parent reads the child's copy as the supervisor reads a sandboxed
 * caller's (process_vm_readv), then kills it.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/execaudit.h"
#include "tap.h"

static struct execaudit_args args;

/* a child holding a copy of our memory, until reap() */
static pid_t twin(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	return pid;
}

static void reap(pid_t pid)
{
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
}

static int read_in_twin(char **argv)
{
	pid_t pid = twin();
	int r;

	if (pid < 0)
		return -errno;
	r = execaudit_read_args(pid, (uint64_t)(uintptr_t)argv, &args);
	reap(pid);
	return r;
}

static const char *arg(size_t i)
{
	return args.buf + args.off[i];
}

TEST(plain_argv_with_odd_bytes)
{
	char *argv[] = { "sh", "-c", "a b\tc", "line1\nline2", "\xff\xfe bad utf8", "", NULL };

	ASSERT_OK(read_in_twin(argv));
	ASSERT_EQ(args.argc, 6u);
	ASSERT_FALSE(args.truncated);
	ASSERT_EQ(args.error, 0);
	for (size_t i = 0; i < 6; i++) {
		ASSERT_STREQ(arg(i), argv[i]);
		ASSERT_EQ(args.len[i], strlen(argv[i]));
	}
}

TEST(null_argv_is_empty)
{
	ASSERT_OK(read_in_twin(NULL));
	ASSERT_EQ(args.argc, 0u);
	ASSERT_FALSE(args.truncated);
}

TEST(too_many_arguments)
{
	static char *argv[EXECAUDIT_ARGC_MAX + 50];

	for (size_t i = 0; i < EXECAUDIT_ARGC_MAX + 49; i++)
		argv[i] = "x";
	argv[EXECAUDIT_ARGC_MAX + 49] = NULL;
	ASSERT_OK(read_in_twin(argv));
	ASSERT_EQ(args.argc, (size_t)EXECAUDIT_ARGC_MAX);
	ASSERT_TRUE(args.truncated);
}

TEST(exactly_the_maximum_is_not_truncated)
{
	static char *argv[EXECAUDIT_ARGC_MAX + 1];

	for (size_t i = 0; i < EXECAUDIT_ARGC_MAX; i++)
		argv[i] = "y";
	argv[EXECAUDIT_ARGC_MAX] = NULL;
	ASSERT_OK(read_in_twin(argv));
	ASSERT_EQ(args.argc, (size_t)EXECAUDIT_ARGC_MAX);
	ASSERT_FALSE(args.truncated);
}

TEST(one_huge_argument)
{
	size_t n = 100 * 1024;
	char *big = malloc(n + 1), *argv[] = { "echo", big, "after", NULL };

	ASSERT_NOT_NULL(big);
	memset(big, 'z', n);
	big[n] = '\0';
	ASSERT_OK(read_in_twin(argv));
	free(big);
	ASSERT_EQ(args.argc, 2u);
	ASSERT_TRUE(args.truncated);
	ASSERT_STREQ(arg(0), "echo");
	/* the rest of the 64 KiB budget, NUL included */
	ASSERT_EQ(args.len[1], (size_t)EXECAUDIT_ARGS_MAX - 5 - 1);
	ASSERT_EQ(arg(1)[0], 'z');
}

TEST(total_budget)
{
	static char chunk[10000];
	char *argv[12];

	memset(chunk, 'q', sizeof(chunk) - 1);
	for (size_t i = 0; i < 11; i++)
		argv[i] = chunk;
	argv[11] = NULL;
	ASSERT_OK(read_in_twin(argv));
	ASSERT_TRUE(args.truncated);
	ASSERT_EQ(args.argc, 7u); /* 6 whole ones (60,000 bytes), then a cut one */
	ASSERT_EQ(args.len[5], sizeof(chunk) - 1);
	ASSERT_EQ(args.len[6], (size_t)EXECAUDIT_ARGS_MAX - 6 * sizeof(chunk) - 1);
}

TEST(string_ending_at_an_unmapped_page)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, (size_t)pg * 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	char *edge, *runaway, *argv[4];
	int r;

	/* mapped, hole, mapped, hole */
	ASSERT_TRUE(m != MAP_FAILED);
	ASSERT_EQ(munmap(m + pg, (size_t)pg), 0);
	ASSERT_EQ(munmap(m + 3 * pg, (size_t)pg), 0);
	/* "edge" ends with its NUL in the last byte of a mapped page: readable whole */
	edge = m + pg - 5;
	memcpy(edge, "edge", 5);
	/* "runaway" has no NUL before the hole */
	runaway = m + 3 * pg - 100;
	memset(runaway, 'r', 100);
	argv[0] = edge;
	argv[1] = runaway;
	argv[2] = "never";
	argv[3] = NULL;
	r = read_in_twin(argv);
	ASSERT_OK(r);
	ASSERT_EQ(args.argc, 1u);
	ASSERT_STREQ(arg(0), "edge");
	ASSERT_EQ(args.error, -EFAULT);
	(void)munmap(m, (size_t)pg);
	(void)munmap(m + 2 * pg, (size_t)pg);
}

TEST(bad_pointers)
{
	char *argv[] = { (char *)8, NULL };
	pid_t pid = twin();
	int r1, r2;

	r1 = execaudit_read_args(pid, 4096, &args);
	r2 = execaudit_read_args(pid, (uint64_t)(uintptr_t)argv, &args);
	reap(pid);
	ASSERT_ERR(r1, EFAULT);
	ASSERT_ERR(r2, EFAULT);
}

TEST(read_string_limits)
{
	char buf[8];
	const char *s = "0123456789";
	pid_t pid = twin();
	ssize_t k1, k2, k3;

	k1 = execaudit_read_string(pid, (uint64_t)(uintptr_t) "abc", buf, sizeof(buf));
	k2 = execaudit_read_string(pid, (uint64_t)(uintptr_t)s, buf, sizeof(buf));
	k3 = execaudit_read_string(pid, 0, buf, sizeof(buf));
	reap(pid);
	ASSERT_EQ(k1, 3);
	ASSERT_EQ(k2, -ENAMETOOLONG);
	ASSERT_STREQ(buf, "0123456");
	ASSERT_EQ(k3, -EFAULT);
}

TEST(gone_process)
{
	char *argv[] = { "x", NULL };
	pid_t pid = twin();

	reap(pid);
	ASSERT_ERR(execaudit_read_args(pid, (uint64_t)(uintptr_t)argv, &args), ESRCH);
}

int main(void)
{
	return tap_run();
}
