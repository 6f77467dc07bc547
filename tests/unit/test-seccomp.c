/* SPDX-License-Identifier: MIT */
/*
 * test-seccomp.c - the sandbox's syscall filter, loaded for real in forked children
 *
 * Each attack runs twice: under the filter, where it must fail with the filter's errno, and
 * without it (the control), where it must not fail that way, so a filter that denies nothing
 * cannot pass.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "common/macro.h"
#include "sandbox/seccomp.h"
#include "sandbox-test.h"
#include "tap.h"

static const struct seccomp_opts opts_default = { .root = false };
static const struct seccomp_opts opts_root = { .root = true };

static int setup_filter(void *userdata)
{
	const struct seccomp_opts *opts = userdata ? userdata : &opts_default;
	int r;

	r = set_nnp();
	if (r < 0)
		return r;
	return seccomp_install_sandbox(opts);
}

TEST(install_sets_filter_mode)
{
	struct child_result res;

	ASSERT_OK(RUN_PROBE(setup_filter, NULL, &res, "seccomp"));
	ASSERT_EQ(res.status, 1);
	ASSERT_TRUE(strstr(res.out, "Seccomp=2") != NULL);

	ASSERT_OK(RUN_PROBE(NULL, NULL, &res, "seccomp"));
	ASSERT_TRUE(strstr(res.out, "Seccomp=2") == NULL);
}

static int setup_filter_without_nnp(void *userdata)
{
	return seccomp_install_sandbox(&opts_default);
}

TEST(install_without_nnp_fails_unprivileged)
{
	struct child_result res;

	if (geteuid() == 0)
		TEST_SKIP("root may load a filter without no_new_privs");
	ASSERT_OK(RUN_PROBE(setup_filter_without_nnp, NULL, &res, "seccomp"));
	ASSERT_EQ(res.status, CHILD_SETUP_FAILED);
}

/* The parent holds a pty master; the child makes the slave its controlling tty on fd 0 */
struct pty_setup {
	const char *slave;
	bool filter;
};

static int setup_pty(void *userdata)
{
	const struct pty_setup *p = userdata;
	int fd;

	if (setsid() < 0)
		return -errno;
	fd = open(p->slave, O_RDWR | O_CLOEXEC); /* no O_NOCTTY: becomes the controlling tty */
	if (fd < 0)
		return -errno;
	if (ioctl(fd, TIOCSCTTY, 0) < 0 && errno != EPERM)
		return -errno;
	if (dup2(fd, STDIN_FILENO) < 0)
		return -errno;
	return p->filter ? setup_filter(NULL) : 0;
}

static void check_tty_attack(const char *attack)
{
	struct pty_setup p = {};
	struct child_result res;
	int master;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	ASSERT_TRUE(master >= 0);
	ASSERT_EQ(grantpt(master), 0);
	ASSERT_EQ(unlockpt(master), 0);
	p.slave = ptsname(master);
	ASSERT_NOT_NULL(p.slave);

	p.filter = false;
	ASSERT_OK(RUN_PROBE(setup_pty, &p, &res, attack, "0"));
	ASSERT_PROBE_NOT_BLOCKED_WITH(res, "EPERM");

	p.filter = true;
	ASSERT_OK(RUN_PROBE(setup_pty, &p, &res, attack, "0"));
	ASSERT_PROBE_BLOCKED(res, "EPERM");
	(void)close(master);
}

TEST(tiocsti_denied)
{
	check_tty_attack("tiocsti");
}

TEST(tiocsti_with_high_bits_denied)
{
	/* the kernel sees TIOCSTI in 0x100005412: the control run injects */
	check_tty_attack("tiocsti-high");
}

TEST(tioclinux_denied)
{
	check_tty_attack("tioclinux");
}

/* Run @attack (probe args) without and with the filter: errno @errname only with it */
static void check_probe_denied(const char *errname, const char *const *args)
{
	struct child_result res;

	ASSERT_OK(run_child(NULL, NULL, NULL, args, &res));
	ASSERT_PROBE_NOT_BLOCKED_WITH(res, "EPERM");
	ASSERT_TRUE(strstr(res.out, errname) == NULL);

	ASSERT_OK(run_child(setup_filter, NULL, NULL, args, &res));
	ASSERT_EQ(res.status, 1);
	ASSERT_TRUE(strstr(res.out, ": blocked: ") != NULL);
	ASSERT_TRUE(strstr(res.out, errname) != NULL);
}

#define CHECK_PROBE_DENIED(errname, ...)                                                           \
	check_probe_denied(errname, (const char *const[]){ __VA_ARGS__, NULL })

TEST(io_uring_enosys)
{
	CHECK_PROBE_DENIED("ENOSYS", "io-uring");
}

TEST(clone3_enosys)
{
	CHECK_PROBE_DENIED("ENOSYS", "clone3");
}

TEST(unshare_newuser_denied)
{
	CHECK_PROBE_DENIED("EPERM", "unshare-user");
}

TEST(clone_newuser_denied)
{
	CHECK_PROBE_DENIED("EPERM", "clone-newuser");
}

TEST(netlink_socket_denied_except_route)
{
	struct child_result res;

	CHECK_PROBE_DENIED("EAFNOSUPPORT", "socket", "netlink-netfilter");
	CHECK_PROBE_DENIED("EAFNOSUPPORT", "socket", "netlink-audit");
	CHECK_PROBE_DENIED("EAFNOSUPPORT", "socket", "netlink-uevent");
	/* NETLINK_ROUTE stays: getifaddrs() needs it */
	ASSERT_OK(RUN_PROBE(setup_filter, NULL, &res, "socket", "netlink"));
	ASSERT_PROBE_ALLOWED(res);
}

TEST(other_socket_families_denied)
{
	static const char *const denied[] = { "packet", "vsock", "alg", "bluetooth",
					      "netlink-netfilter" };
	static const char *const kept[] = { "unix", "inet" };
	struct child_result res;

	for (size_t i = 0; i < ELEMENTSOF(denied); i++) {
		ASSERT_OK(RUN_PROBE(setup_filter, NULL, &res, "socket", denied[i]));
		ASSERT_PROBE_BLOCKED(res, "EAFNOSUPPORT");
	}
	for (size_t i = 0; i < ELEMENTSOF(kept); i++) {
		ASSERT_OK(RUN_PROBE(setup_filter, NULL, &res, "socket", kept[i]));
		ASSERT_PROBE_ALLOWED(res);
	}
	/* raw AF_INET passes the filter: the capability drop is what stops it */
	ASSERT_OK(RUN_PROBE(setup_filter, NULL, &res, "raw-inet"));
	ASSERT_PROBE_NOT_BLOCKED_WITH(res, "EAFNOSUPPORT");
}

/* In a private user and mount namespace (uid 0 inside) the control mount succeeds */
static int setup_mountns(void *userdata)
{
	int r;

	r = enter_userns(CLONE_NEWNS, 0);
	if (r < 0)
		return r;
	return userdata ? setup_filter(NULL) : 0;
}

TEST(mount_denied)
{
	char dir[] = "/tmp/paddock-test-seccomp-XXXXXX";
	struct child_result res;

	ASSERT_NOT_NULL(mkdtemp(dir));
	ASSERT_OK(RUN_PROBE(setup_mountns, NULL, &res, "mount", dir));
	ASSERT_PROBE_ALLOWED(res);
	ASSERT_OK(RUN_PROBE(setup_mountns, (void *)1, &res, "mount", dir));
	ASSERT_PROBE_BLOCKED(res, "EPERM");
	ASSERT_OK(RUN_PROBE(setup_mountns, (void *)1, &res, "umount", dir));
	ASSERT_PROBE_BLOCKED(res, "EPERM");
	ASSERT_OK(RUN_PROBE(setup_mountns, (void *)1, &res, "pivot-root"));
	ASSERT_PROBE_BLOCKED(res, "EPERM");
	(void)rmdir(dir);
}

TEST(kernel_surface_probes_denied)
{
	static const char *const attacks[] = { "bpf",   "userfaultfd", "perf-event", "keyctl",
					       "kexec", "init-module", "setns" };
	struct child_result res;

	for (size_t i = 0; i < ELEMENTSOF(attacks); i++) {
		ASSERT_OK(RUN_PROBE(setup_filter, NULL, &res, attacks[i]));
		ASSERT_PROBE_BLOCKED(res, "EPERM");
	}
	/* control: the user keyring is reachable without the filter */
	ASSERT_OK(RUN_PROBE(NULL, NULL, &res, "keyctl"));
	ASSERT_PROBE_ALLOWED(res);
}

/*
 * The whole deny list, called in-process with arguments that are harmless should a call get
 * through (bad fds, NULL pointers, nonexistent paths, bad magic). @ctl marks the calls whose
 * kernel error, without the filter, differs from the filter's, whoever runs the test: those
 * make the control run meaningful.
 */
#define NOPATH "/nonexistent-paddock-test"
#define HIGH32 (UINT64_C(1) << 32)

static const struct deny_case {
	const char *name;
	long nr;
	long a[6];
	int err; /* with the filter */
	bool ctl;
} deny_cases[] = {
	{ "ioctl TIOCSTI", SYS_ioctl, { -1, TIOCSTI, 0 }, EPERM, true },
	{ "ioctl TIOCSTI|1<<32", SYS_ioctl, { -1, (long)(TIOCSTI | HIGH32), 0 }, EPERM, true },
	{ "ioctl TIOCLINUX", SYS_ioctl, { -1, TIOCLINUX, 0 }, EPERM, true },
	{ "ioctl TIOCLINUX|0xff<<32",
	  SYS_ioctl,
	  { -1, (long)(TIOCLINUX | (HIGH32 * 0xff)) },
	  EPERM,
	  true },
	{ "io_uring_setup", SYS_io_uring_setup, { 0, 0 }, ENOSYS, true },
	{ "io_uring_enter", SYS_io_uring_enter, { -1 }, ENOSYS, true },
	{ "io_uring_register", SYS_io_uring_register, { -1 }, ENOSYS, true },
	{ "clone3", SYS_clone3, { 0, 0 }, ENOSYS, true },
	{ "bpf", SYS_bpf, { 0, 0, 0 }, EPERM, false },
	{ "userfaultfd", SYS_userfaultfd, { -1 }, EPERM, false },
	{ "perf_event_open", SYS_perf_event_open, { 0, 0, -1, -1, 0 }, EPERM, false },
	{ "add_key", SYS_add_key, { 0 }, EPERM, true },
	{ "request_key", SYS_request_key, { 0 }, EPERM, true },
	{ "keyctl", SYS_keyctl, { -1 }, EPERM, true },
	{ "kexec_load", SYS_kexec_load, { 0, 1000, 0, 0 }, EPERM, false },
	{ "kexec_file_load", SYS_kexec_file_load, { -1, -1, 0, 0, 0 }, EPERM, false },
	{ "init_module", SYS_init_module, { 0, 0, 0 }, EPERM, false },
	{ "finit_module", SYS_finit_module, { -1, 0, 0 }, EPERM, false },
	{ "delete_module", SYS_delete_module, { 0, 0 }, EPERM, false },
	{ "acct", SYS_acct, { (long)NOPATH }, EPERM, false },
	{ "swapon", SYS_swapon, { (long)NOPATH, 0 }, EPERM, false },
	{ "swapoff", SYS_swapoff, { (long)NOPATH }, EPERM, false },
	{ "reboot", SYS_reboot, { 0, 0, 0, 0 }, EPERM, false },
	{ "syslog", SYS_syslog, { 10, 0, 0 }, EPERM, false },
	{ "uselib", SYS_uselib, { 0 }, EPERM, false },
	{ "settimeofday", SYS_settimeofday, { 0, 0 }, EPERM, false },
	{ "clock_settime", SYS_clock_settime, { 0, 0 }, EPERM, false },
	{ "adjtimex", SYS_adjtimex, { 0 }, EPERM, true },
	{ "clock_adjtime", SYS_clock_adjtime, { 0, 0 }, EPERM, true },
	{ "quotactl", SYS_quotactl, { 0, 0, 0, 0 }, EPERM, false },
	{ "quotactl_fd", SYS_quotactl_fd, { -1, 0, 0, 0 }, EPERM, false },
	{ "name_to_handle_at", SYS_name_to_handle_at, { -1, 0, 0, 0, 0 }, EPERM, true },
	{ "open_by_handle_at", SYS_open_by_handle_at, { -1, 0, 0 }, EPERM, false },
	{ "vhangup", SYS_vhangup, { 0 }, EPERM, false },
	{ "personality READ_IMPLIES_EXEC", SYS_personality, { 0x0400000 }, EPERM, true },
	{ "personality ADDR_NO_RANDOMIZE", SYS_personality, { 0x0040000 }, EPERM, true },
	{ "personality 1<<32", SYS_personality, { (long)HIGH32 }, EPERM, true },
	{ "personality 0x1", SYS_personality, { 0x1 }, EPERM, false },
	{ "personality 0x7", SYS_personality, { 0x7 }, EPERM, false },
	{ "personality 0x9", SYS_personality, { 0x9 }, EPERM, false },
	{ "personality 0x1ffff", SYS_personality, { 0x1ffff }, EPERM, false },
	{ "personality 0x20001", SYS_personality, { 0x20001 }, EPERM, false },
	{ "personality 0x20007", SYS_personality, { 0x20007 }, EPERM, false },
	{ "personality 0x20009", SYS_personality, { 0x20009 }, EPERM, false },
	{ "personality 0x7fffffff", SYS_personality, { 0x7fffffff }, EPERM, false },
	{ "personality 0xfffffffe", SYS_personality, { 0xfffffffe }, EPERM, false },
	{ "personality (long)(HIGH32 | 0x8)",
	  SYS_personality,
	  { (long)(HIGH32 | 0x8) },
	  EPERM,
	  false },
	{ "mount", SYS_mount, { 0, 0, 0, 0, 0 }, EPERM, true },
	{ "umount2", SYS_umount2, { 0, 0 }, EPERM, true },
	{ "pivot_root", SYS_pivot_root, { 0, 0 }, EPERM, false },
	{ "chroot", SYS_chroot, { 0 }, EPERM, true },
	{ "move_mount", SYS_move_mount, { -1, 0, -1, 0, 0 }, EPERM, false },
	{ "open_tree", SYS_open_tree, { -1, 0, 0 }, EPERM, false },
	{ "fsopen", SYS_fsopen, { 0, 0 }, EPERM, false },
	{ "fsconfig", SYS_fsconfig, { -1, 0, 0, 0, 0 }, EPERM, false },
	{ "fsmount", SYS_fsmount, { -1, 0, 0 }, EPERM, false },
	{ "fspick", SYS_fspick, { -1, 0, 0 }, EPERM, false },
	{ "mount_setattr", SYS_mount_setattr, { -1, 0, 0, 0, 0 }, EPERM, false },
	{ "setns", SYS_setns, { -1, 0 }, EPERM, true },
	{ "unshare CLONE_NEWUSER", SYS_unshare, { CLONE_NEWUSER }, EPERM, true },
	{ "socket AF_NETLINK NETLINK_NETFILTER",
	  SYS_socket,
	  { AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 12 },
	  EAFNOSUPPORT,
	  true },
	{ "socket AF_NETLINK protocol 1<<32",
	  SYS_socket,
	  { AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, (long)HIGH32 },
	  EAFNOSUPPORT,
	  false },
	{ "socket AF_UNIX|1<<32",
	  SYS_socket,
	  { (long)(AF_UNIX | HIGH32), SOCK_STREAM, 0 },
	  EAFNOSUPPORT,
	  true },
	{ "socket 63", SYS_socket, { 63, SOCK_STREAM, 0 }, EAFNOSUPPORT, false },
	{ "socket 1000", SYS_socket, { 1000, SOCK_STREAM, 0 }, EAFNOSUPPORT, false },
	{ "socketpair AF_NETLINK",
	  SYS_socketpair,
	  { AF_NETLINK, SOCK_DGRAM, 0, 0 },
	  EAFNOSUPPORT,
	  true },
};

/* Calls that must pass through the filter (their result, not errno, is checked) */
static const struct allow_case {
	const char *name;
	long nr;
	long a[6];
} allow_cases[] = {
	{ "personality query", SYS_personality, { 0xffffffff } },
	{ "personality PER_LINUX32", SYS_personality, { 0x8 } },
	{ "personality UNAME26|PER_LINUX32", SYS_personality, { 0x20008 } },
	{ "personality UNAME26", SYS_personality, { 0x20000 } },
	{ "personality PER_LINUX", SYS_personality, { 0 } },
	{ "socket AF_UNIX", SYS_socket, { AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0 } },
	{ "socket AF_INET", SYS_socket, { AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0 } },
	{ "socket AF_NETLINK NETLINK_ROUTE",
	  SYS_socket,
	  { AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0 } },
	{ "socketpair AF_UNIX", SYS_socketpair, { AF_UNIX, SOCK_STREAM, 0, 0 } },
	{ "ioctl FIONREAD", SYS_ioctl, { 0, FIONREAD, 0 } },
};

/* In the child: returns the 1-based index of the first case that failed, 0 if none */
static int check_deny_table(void *userdata)
{
	bool filtered = userdata != NULL;

	for (size_t i = 0; i < ELEMENTSOF(deny_cases); i++) {
		const struct deny_case *c = &deny_cases[i];
		bool hit;
		long r;

		if (!filtered && !c->ctl)
			continue;
		errno = 0;
		r = syscall(c->nr, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], c->a[5]);
		hit = r == -1 && errno == c->err;
		if (hit != filtered) {
			printf("%s: %ld %s\n", c->name, r, strerrorname_np(errno));
			return (int)i + 1;
		}
	}
	if (!filtered)
		return 0;
	for (size_t i = 0; i < ELEMENTSOF(allow_cases); i++) {
		const struct allow_case *c = &allow_cases[i];
		int sv[2];
		long r;

		errno = 0;
		if (c->nr == SYS_socketpair)
			r = syscall(c->nr, c->a[0], c->a[1], c->a[2], sv);
		else if (c->nr == SYS_ioctl)
			r = syscall(c->nr, c->a[0], c->a[1], &(int){ 0 });
		else
			r = syscall(c->nr, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], c->a[5]);
		/* these may fail (fd 0 need not be a tty), but not with the filter's errnos */
		if (r < 0 && (errno == EPERM || errno == EAFNOSUPPORT)) {
			printf("%s: %ld %s\n", c->name, r, strerrorname_np(errno));
			return 100 + (int)i;
		}
	}
	return 0;
}

/* setsid() first: a vhangup() that got through must not hang up the test's terminal */
static int setup_setsid_filter(void *userdata)
{
	(void)setsid();
	return userdata ? setup_filter(NULL) : 0;
}

TEST(deny_table)
{
	struct child_result res;

	ASSERT_OK(run_child(setup_setsid_filter, check_deny_table, (void *)1, NULL, &res));
	ASSERT_EQ(res.status, 0);
}

TEST(deny_table_control)
{
	struct child_result res;

	ASSERT_OK(run_child(setup_setsid_filter, check_deny_table, NULL, NULL, &res));
	ASSERT_EQ(res.status, 0);
}

/* The filter answers before the kernel sees the NULL path: EPERM, or with --root EFAULT */
static int check_chroot(void *userdata)
{
	const struct seccomp_opts *opts = userdata;
	long r;

	r = syscall(SYS_chroot, NULL);
	printf("chroot: %ld %s\n", r, strerrorname_np(errno));
	return r == -1 && errno == (opts->root ? EFAULT : EPERM) ? 0 : 1;
}

TEST(chroot_allowed_only_with_root)
{
	struct child_result res;

	ASSERT_OK(run_child(setup_filter, check_chroot, (void *)&opts_root, NULL, &res));
	ASSERT_EQ(res.status, 0);
	ASSERT_OK(run_child(setup_filter, check_chroot, (void *)&opts_default, NULL, &res));
	ASSERT_EQ(res.status, 0);
}

static void *thread_main(void *arg)
{
	return arg;
}

/* glibc's pthread_create() tries clone3 first and must fall back to clone on ENOSYS */
static int check_threads_and_fork(void *userdata)
{
	pthread_t t;
	void *ret = NULL;
	pid_t pid;
	int status;

	if (pthread_create(&t, NULL, thread_main, (void *)0x1234) != 0)
		return 10;
	if (pthread_join(t, &ret) != 0 || ret != (void *)0x1234)
		return 11;
	pid = fork();
	if (pid < 0)
		return 12;
	if (pid == 0)
		_exit(7);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 7)
		return 13;
	return 0;
}

TEST(threads_and_fork_still_work)
{
	struct child_result res;

	ASSERT_OK(run_child(setup_filter, check_threads_and_fork, NULL, NULL, &res));
	ASSERT_EQ(res.status, 0);
}

TEST(foreign_arch_kills)
{
#ifdef __x86_64__
	struct child_result res;

	ASSERT_OK(RUN_PROBE(setup_filter, NULL, &res, "x32"));
	ASSERT_EQ(res.status, CHILD_SIGNALED(SIGSYS));

	/* int 0x80 without IA32 emulation is a SIGSEGV whatever the filter says */
	ASSERT_OK(RUN_PROBE(NULL, NULL, &res, "i386"));
	if (res.status != 0)
		TEST_SKIP("no IA32 emulation in this kernel");
	ASSERT_OK(RUN_PROBE(setup_filter, NULL, &res, "i386"));
	ASSERT_EQ(res.status, CHILD_SIGNALED(SIGSYS));
#else
	TEST_SKIP("x86_64 only");
#endif
}

int main(void)
{
	return tap_run();
}
