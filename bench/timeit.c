/* SPDX-License-Identifier: MIT */
/*
 * timeit: wall time of starting a command and waiting for it, for paddock's benchmarks.
 *
 *   timeit [-n N] [-q] [-e FILE] -- CMD [ARG...]
 *
 * Runs CMD N times (default 1), one after the other, and prints one line per run on stdout:
 *
 *   <microseconds> <status>
 *
 * where microseconds is CLOCK_MONOTONIC from just before posix_spawnp() to just after
 * waitpid() returned (so it covers fork/exec, the command and its exit, and nothing of
 * timeit's own start), and status is the exit code, or 128+signal if the command was killed.
 * With -q the command's stdin, stdout and stderr are /dev/null; with -e FILE its stderr is
 * appended to FILE (stdin and stdout stay /dev/null). timeit exits 0 when every run was
 * timed, whatever their status, and 2 on a usage or spawn error.
 *
 * Built on the fly by bench/lib.sh with `cc -O2`; nothing else of paddock uses it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void usage(void)
{
	fprintf(stderr, "usage: timeit [-n N] [-q] [-e FILE] -- CMD [ARG...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	posix_spawn_file_actions_t fa;
	const char *errfile = NULL;
	long n = 1;
	int quiet = 0, opt, r;

	while ((opt = getopt(argc, argv, "+n:qe:")) != -1)
		switch (opt) {
		case 'n': {
			char *end;

			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || n < 1)
				usage();
			break;
		}
		case 'q':
			quiet = 1;
			break;
		case 'e':
			errfile = optarg;
			break;
		default:
			usage();
		}
	if (optind >= argc)
		usage();

	r = posix_spawn_file_actions_init(&fa);
	if (r == 0 && (quiet || errfile))
		r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (r == 0 && (quiet || errfile))
		r = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (r == 0 && errfile)
		r = posix_spawn_file_actions_addopen(&fa, 2, errfile, O_WRONLY | O_CREAT | O_APPEND,
						     0600);
	else if (r == 0 && quiet)
		r = posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (r != 0) {
		fprintf(stderr, "timeit: posix_spawn_file_actions: %s\n", strerror(r));
		return 2;
	}

	for (long i = 0; i < n; i++) {
		long long t0, t1;
		pid_t pid;
		int status;

		t0 = now_ns();
		r = posix_spawnp(&pid, argv[optind], &fa, NULL, &argv[optind], environ);
		if (r != 0) {
			fprintf(stderr, "timeit: %s: %s\n", argv[optind], strerror(r));
			return 2;
		}
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR) {
				fprintf(stderr, "timeit: waitpid: %m\n");
				return 2;
			}
		t1 = now_ns();

		printf("%lld %d\n", (t1 - t0 + 500) / 1000,
		       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		fflush(stdout);
	}

	posix_spawn_file_actions_destroy(&fa);
	return 0;
}
