/* SPDX-License-Identifier: MIT */
/*
 * probe.c - attacks and checks run from inside a sandbox by the tests
 *
 * DOC: Theory of Operation
 *
 * One subcommand per attack or question. Each prints one line, "<name>: allowed[ ...]" or
 * "<name>: blocked: <ERRNO>", and exits 0 when the attack succeeded (the thing is possible),
 * 1 when it was blocked, 2 on a usage error. Tests assert on the exit status and, where the
 * layer matters (seccomp's EPERM vs the kernel's own refusal), on the errno name.
 *
 * Probes that cannot be attempted harmlessly (kexec, modules, pivot_root, umount) pass
 * arguments the kernel rejects after its permission check: reaching that check's far side
 * (EINVAL, EBADF, ENOENT) counts as "allowed", EPERM/EACCES/ENOSYS as blocked.
 *
 * It links statically when the toolchain can, so it runs in a sandbox whatever its /usr.
 * It does not use paddock's code on purpose: it is the attacker, not a client.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef TIOCL_GETSHIFTSTATE
#define TIOCL_GETSHIFTSTATE 6
#endif

#define EXIT_ALLOWED 0
#define EXIT_BLOCKED 1
#define EXIT_USAGE   2

static const char *probe_name = "probe";

static const char *errno_name(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

static int allowed(void)
{
	printf("%s: allowed\n", probe_name);
	return EXIT_ALLOWED;
}

/* Allowed, as shown by an error the kernel gives only past its permission check */
static int allowed_past_permission(int e)
{
	printf("%s: allowed (%s after the permission check)\n", probe_name, errno_name(e));
	return EXIT_ALLOWED;
}

static int blocked(int e)
{
	printf("%s: blocked: %s\n", probe_name, errno_name(e));
	return EXIT_BLOCKED;
}

/* Result of a call that returns >= 0 on success and -1/errno on failure */
static int result(long r)
{
	if (r < 0)
		return blocked(errno);
	return allowed();
}

/* Result of a call made with bad arguments: only a permission refusal counts as blocked */
static int result_past_permission(long r)
{
	if (r >= 0)
		return allowed();
	if (errno == EPERM || errno == EACCES || errno == ENOSYS)
		return blocked(errno);
	return allowed_past_permission(errno);
}

static int usage(void)
{
	fprintf(stderr, "usage: probe SUBCOMMAND [ARGS]  (see tests/helpers/probe.c)\n");
	return EXIT_USAGE;
}

static int parse_long(const char *s, long min, long max, long *ret)
{
	char *end;
	long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_fd(int argc, char **argv, int idx, int *ret)
{
	long v = 0;

	if (argc > idx && parse_long(argv[idx], 0, INT_MAX, &v) < 0)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

static int probe_tiocsti(int fd, unsigned long cmd)
{
	char c = ' ';

	return result(syscall(SYS_ioctl, fd, cmd, &c));
}

static int probe_tioclinux(int fd)
{
	char sub = TIOCL_GETSHIFTSTATE;

	return result(ioctl(fd, TIOCLINUX, &sub));
}

static int probe_io_uring(void)
{
	unsigned char params[120] = {}; /* struct io_uring_params, zeroed */

	return result(syscall(SYS_io_uring_setup, 1, params));
}

static int probe_bpf(void)
{
	union bpf_attr attr = {
		.map_type = BPF_MAP_TYPE_ARRAY,
		.key_size = 4,
		.value_size = 4,
		.max_entries = 1,
	};

	return result(syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr)));
}

static int probe_userfaultfd(void)
{
	long r = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);

	if (r < 0 && errno == EINVAL) /* kernel < 5.11 */
		r = syscall(SYS_userfaultfd, O_CLOEXEC);
	return result(r);
}

static int probe_perf_event(void)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.disabled = 1,
		.exclude_kernel = 1,
		.exclude_hv = 1,
	};

	return result(syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
}

static int probe_keyctl(void)
{
	/* the user keyring is shared by every process of the uid, inside and outside */
	return result(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0));
}

static int probe_kexec(void)
{
	/* 1000 segments > KEXEC_SEGMENT_MAX: EINVAL once permitted, never loads anything */
	return result_past_permission(syscall(SYS_kexec_load, 0UL, 1000UL, NULL, 0UL));
}

static int probe_init_module(void)
{
	/* a bad fd: EBADF once permitted */
	return result_past_permission(syscall(SYS_finit_module, -1, "", 0));
}

static int probe_mount(const char *target)
{
	return result(mount("paddock-probe", target, "tmpfs", 0, "size=64k"));
}

static int probe_umount(const char *target)
{
	return result_past_permission(umount2(target, MNT_DETACH));
}

static int probe_pivot_root(void)
{
	/* the permission check comes before the path lookups: ENOENT means permitted */
	return result_past_permission(syscall(SYS_pivot_root, "/nonexistent-paddock-probe",
					      "/nonexistent-paddock-probe"));
}

static int probe_wait_child(pid_t pid)
{
	if (pid < 0)
		return blocked(errno);
	if (pid == 0)
		_exit(0);
	(void)waitpid(pid, NULL, 0);
	return allowed();
}

static int probe_clone_newuser(void)
{
	/* raw clone: child returns 0 on the same stack, like fork() */
	return probe_wait_child((pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
}

static int probe_clone3(void)
{
	struct clone_args args = { .exit_signal = SIGCHLD };

	return probe_wait_child((pid_t)syscall(SYS_clone3, &args, sizeof(args)));
}

static int probe_setns(const char *path)
{
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("%s: cannot open '%s': %s\n", probe_name, path, errno_name(errno));
		return EXIT_USAGE;
	}
	r = setns(fd, 0);
	(void)close(fd);
	return result_past_permission(r);
}

static const struct {
	const char *name;
	int domain, type, protocol;
} socket_kinds[] = {
	{ "unix", AF_UNIX, SOCK_STREAM, 0 },
	{ "inet", AF_INET, SOCK_STREAM, 0 },
	{ "inet6", AF_INET6, SOCK_STREAM, 0 },
	{ "raw-inet", AF_INET, SOCK_RAW, 1 /* IPPROTO_ICMP */ },
	{ "netlink", AF_NETLINK, SOCK_RAW, 0 /* NETLINK_ROUTE */ },
	{ "netlink-netfilter", AF_NETLINK, SOCK_RAW, 12 /* NETLINK_NETFILTER */ },
	{ "netlink-audit", AF_NETLINK, SOCK_RAW, 9 /* NETLINK_AUDIT */ },
	{ "netlink-uevent", AF_NETLINK, SOCK_RAW, 15 /* NETLINK_KOBJECT_UEVENT */ },
	{ "packet", AF_PACKET, SOCK_DGRAM, 0 },
	{ "vsock", AF_VSOCK, SOCK_STREAM, 0 },
	{ "alg", AF_ALG, SOCK_SEQPACKET, 0 },
	{ "bluetooth", AF_BLUETOOTH, SOCK_RAW, 1 /* BTPROTO_HCI */ },
};

static int probe_socket(const char *kind)
{
	for (size_t i = 0; i < sizeof(socket_kinds) / sizeof(socket_kinds[0]); i++) {
		if (strcmp(kind, socket_kinds[i].name) != 0)
			continue;
		return result(socket(socket_kinds[i].domain, socket_kinds[i].type | SOCK_CLOEXEC,
				     socket_kinds[i].protocol));
	}
	fprintf(stderr, "probe: unknown socket kind '%s'\n", kind);
	return EXIT_USAGE;
}

static int probe_ptrace(const char *arg)
{
	long pid;

	if (parse_long(arg, 1, INT_MAX, &pid) < 0)
		return usage();
	/* PTRACE_SEIZE does not stop the tracee; our exit detaches */
	return result(ptrace(PTRACE_SEIZE, (pid_t)pid, NULL, NULL));
}

static int parse_signal(const char *s, int *ret)
{
	static const struct {
		const char *name;
		int sig;
	} names[] = { { "HUP", SIGHUP },   { "INT", SIGINT },   { "KILL", SIGKILL },
		      { "TERM", SIGTERM }, { "STOP", SIGSTOP }, { "CONT", SIGCONT },
		      { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 } };
	long v;

	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0) {
			*ret = names[i].sig;
			return 0;
		}
	if (parse_long(s, 0, 64, &v) < 0)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

static int probe_kill(const char *pid_s, const char *sig_s)
{
	long pid;
	int sig;

	if (parse_long(pid_s, INT_MIN + 1, INT_MAX, &pid) < 0 || parse_signal(sig_s, &sig) < 0)
		return usage();
	return result(kill((pid_t)pid, sig));
}

/* Print "Key: value" lines of /proc/self/status whose key is in @keys; count non-zero ones */
static int status_fields(const char *const *keys, size_t n_keys, int *ret_nonzero)
{
	char line[256];
	int nonzero = 0, found = 0;
	FILE *f;

	f = fopen("/proc/self/status", "re");
	if (!f)
		return -errno;
	printf("%s:", probe_name);
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *v;

		if (!colon)
			continue;
		*colon = '\0';
		for (size_t i = 0; i < n_keys; i++) {
			if (strcmp(line, keys[i]) != 0)
				continue;
			v = colon + 1 + strspn(colon + 1, " \t");
			v[strcspn(v, "\n")] = '\0';
			printf(" %s=%s", line, v);
			found++;
			if (strspn(v, "0") != strlen(v))
				nonzero++;
		}
	}
	printf("\n");
	(void)fclose(f);
	if (found != (int)n_keys)
		return -ENODATA;
	*ret_nonzero = nonzero;
	return 0;
}

static int probe_status(const char *const *keys, size_t n_keys)
{
	int nonzero = 0, r;

	r = status_fields(keys, n_keys, &nonzero);
	if (r < 0) {
		fprintf(stderr, "probe: /proc/self/status: %s\n", strerror(-r));
		return EXIT_USAGE;
	}
	return nonzero ? EXIT_BLOCKED : EXIT_ALLOWED;
}

static int probe_caps(void)
{
	static const char *const keys[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	int nonzero = 0, r;

	r = status_fields(keys, 5, &nonzero);
	if (r < 0) {
		fprintf(stderr, "probe: /proc/self/status: %s\n", strerror(-r));
		return EXIT_USAGE;
	}
	/* "possible" here means: some capability is left */
	return nonzero ? EXIT_ALLOWED : EXIT_BLOCKED;
}

static int probe_open(const char *path, const char *mode)
{
	int flags = O_RDONLY, fd;

	if (mode && strcmp(mode, "w") == 0)
		flags = O_WRONLY;
	else if (mode && strcmp(mode, "r") != 0)
		return usage();
	fd = open(path, flags | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0)
		(void)close(fd);
	return result(fd);
}

static int probe_landlock_write(const char *path)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd >= 0)
		(void)close(fd);
	return result(fd);
}

static int probe_mknod(const char *path)
{
	return result(mknod(path, S_IFCHR | 0666, makedev(1, 3)));
}

static int probe_chmod_suid(const char *path)
{
	struct stat st;

	if (chmod(path, 04755) < 0)
		return blocked(errno);
	if (stat(path, &st) < 0)
		return blocked(errno);
	if (!(st.st_mode & S_ISUID))
		return blocked(EPERM);
	return allowed();
}

static int probe_abstract_connect(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	socklen_t salen;
	int fd, r;

	if (len == 0 || len >= sizeof(sa.sun_path) - 1)
		return usage();
	memcpy(sa.sun_path + 1, name, len); /* sun_path[0] = '\0': abstract */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return blocked(errno);
	r = connect(fd, (struct sockaddr *)&sa, salen);
	if (r < 0 && errno == EPROTOTYPE) {
		(void)close(fd);
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return blocked(errno);
		r = connect(fd, (struct sockaddr *)&sa, salen);
	}
	(void)close(fd);
	return result(r);
}

#ifdef __x86_64__
static int probe_x32(void)
{
	/* an x32 getpid(): a filter built for x86_64 kills the process */
	return result(syscall(0x40000000L | SYS_getpid));
}

static int probe_i386(void)
{
	long ret;

	/* i386 getpid (20) through int 0x80 */
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "r8", "r9", "r10", "r11", "memory");
	if (ret < 0) {
		errno = (int)-ret;
		return blocked(errno);
	}
	return allowed();
}
#endif

/*
 * probe_execveat() - `probe execveat DIR NAME [ARG...]`: execveat(2) NAME relative to an fd
 * of DIR, argv NAME ARG...; `probe fexecve PATH [ARG...]`: execveat(fd of PATH, "",
 * AT_EMPTY_PATH), what fexecve(3) does. The exec audit must see both (tests/e2e/exec-audit.sh).
 */
static int probe_execveat(const char *dir, const char *name, char **args, bool empty_path)
{
	char *argv[64];
	size_t n = 0;
	int fd;

	fd = open(dir, empty_path ? O_RDONLY | O_CLOEXEC : O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return usage();
	argv[n++] = (char *)name;
	for (; *args && n < 63; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	(void)syscall(SYS_execveat, fd, empty_path ? "" : name, argv, environ,
		      empty_path ? AT_EMPTY_PATH : 0);
	return blocked(errno);
}

/*
 * probe_user_notif() - install a seccomp listener of our own on execve: the sandbox would
 * answer its own exec notifications, and the audit would see nothing. The kernel allows one
 * listener per filter chain, so this fails with EBUSY under the exec audit.
 */
static int probe_user_notif(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)SYS_execve, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return blocked(errno);
	return result(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			      SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog));
}

/*
 * deny_and_exec() - `probe deny NAME ERRNO CMD...`: run CMD (paddock itself, in the fail-closed
 * tests) with system call NAME failing with ERRNO, as on a kernel that lacks a feature or a host
 * that forbids it. NAME: a syscall below, or clone-newuser (clone with CLONE_NEWUSER only).
 */
static int deny_and_exec(const char *name, const char *err_s, char **cmd)
{
	static const struct {
		const char *name;
		long nr;
	} calls[] = {
		{ "landlock_create_ruleset", SYS_landlock_create_ruleset },
		{ "landlock_restrict_self", SYS_landlock_restrict_self },
		{ "mount_setattr", SYS_mount_setattr },
		{ "pivot_root", SYS_pivot_root },
		{ "mount", SYS_mount },
		{ "seccomp", SYS_seccomp },
		{ "clone-newuser", SYS_clone },
	};
	long err, nr = -1;
	bool newuser = strcmp(name, "clone-newuser") == 0;

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (strcmp(calls[i].name, name) == 0)
			nr = calls[i].nr;
	if (nr < 0 || parse_long(err_s, 1, 4095, &err) < 0 || !cmd[0])
		return usage();
	{
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 3),
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
			BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, newuser ? CLONE_NEWUSER : 0xffffffff,
				 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		/* clone3() passes its flags in memory, out of seccomp's sight: deny it whole */
		struct sock_filter fu[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)SYS_clone3, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)SYS_clone, 0, 3),
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
			BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NEWUSER, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

		if (newuser) {
			prog.len = sizeof(fu) / sizeof(fu[0]);
			prog.filter = fu;
		} else
			f[3] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
			perror("probe deny: seccomp");
			return EXIT_USAGE;
		}
	}
	execvp(cmd[0], cmd);
	perror("probe deny: exec");
	return 127;
}

int main(int argc, char **argv)
{
	const char *cmd;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return usage();
	cmd = probe_name = argv[1];

#define ARGS(min, max)                                                                             \
	do {                                                                                       \
		if (argc < (min) + 2 || argc > (max) + 2)                                          \
			return usage();                                                            \
	} while (0)

	if (strcmp(cmd, "deny") == 0) {
		if (argc < 5)
			return usage();
		return deny_and_exec(argv[2], argv[3], argv + 4);
	}
	if (strcmp(cmd, "tiocsti") == 0 || strcmp(cmd, "tiocsti-high") == 0 ||
	    strcmp(cmd, "tioclinux") == 0) {
		ARGS(0, 1);
		if (parse_fd(argc, argv, 2, &fd) < 0)
			return usage();
		if (strcmp(cmd, "tioclinux") == 0)
			return probe_tioclinux(fd);
		return probe_tiocsti(fd, strcmp(cmd, "tiocsti") == 0
						 ? (unsigned long)TIOCSTI
						 : (unsigned long)TIOCSTI | (1UL << 32));
	}
	if (strcmp(cmd, "io-uring") == 0) {
		ARGS(0, 0);
		return probe_io_uring();
	}
	if (strcmp(cmd, "bpf") == 0) {
		ARGS(0, 0);
		return probe_bpf();
	}
	if (strcmp(cmd, "userfaultfd") == 0) {
		ARGS(0, 0);
		return probe_userfaultfd();
	}
	if (strcmp(cmd, "perf-event") == 0) {
		ARGS(0, 0);
		return probe_perf_event();
	}
	if (strcmp(cmd, "keyctl") == 0) {
		ARGS(0, 0);
		return probe_keyctl();
	}
	if (strcmp(cmd, "kexec") == 0) {
		ARGS(0, 0);
		return probe_kexec();
	}
	if (strcmp(cmd, "init-module") == 0) {
		ARGS(0, 0);
		return probe_init_module();
	}
	if (strcmp(cmd, "mount") == 0) {
		ARGS(0, 1);
		return probe_mount(argc > 2 ? argv[2] : "/tmp");
	}
	if (strcmp(cmd, "umount") == 0) {
		ARGS(0, 1);
		return probe_umount(argc > 2 ? argv[2] : "/tmp");
	}
	if (strcmp(cmd, "pivot-root") == 0) {
		ARGS(0, 0);
		return probe_pivot_root();
	}
	if (strcmp(cmd, "unshare-user") == 0) {
		ARGS(0, 0);
		return result(unshare(CLONE_NEWUSER));
	}
	if (strcmp(cmd, "clone-newuser") == 0) {
		ARGS(0, 0);
		return probe_clone_newuser();
	}
	if (strcmp(cmd, "clone3") == 0) {
		ARGS(0, 0);
		return probe_clone3();
	}
	if (strcmp(cmd, "setns") == 0) {
		ARGS(0, 1);
		return probe_setns(argc > 2 ? argv[2] : "/proc/self/ns/net");
	}
	if (strcmp(cmd, "socket") == 0) {
		ARGS(1, 1);
		return probe_socket(argv[2]);
	}
	if (strcmp(cmd, "raw-inet") == 0) {
		ARGS(0, 0);
		return probe_socket("raw-inet");
	}
	if (strcmp(cmd, "ptrace-pid") == 0) {
		ARGS(1, 1);
		return probe_ptrace(argv[2]);
	}
	if (strcmp(cmd, "kill") == 0) {
		ARGS(2, 2);
		return probe_kill(argv[2], argv[3]);
	}
	if (strcmp(cmd, "caps") == 0) {
		ARGS(0, 0);
		return probe_caps();
	}
	if (strcmp(cmd, "nnp") == 0) {
		static const char *const keys[] = { "NoNewPrivs" };

		ARGS(0, 0);
		return probe_status(keys, 1);
	}
	if (strcmp(cmd, "seccomp") == 0) {
		static const char *const keys[] = { "Seccomp" };

		ARGS(0, 0);
		return probe_status(keys, 1);
	}
	if (strcmp(cmd, "landlock-write") == 0) {
		ARGS(1, 1);
		return probe_landlock_write(argv[2]);
	}
	if (strcmp(cmd, "open") == 0) {
		ARGS(1, 2);
		return probe_open(argv[2], argc > 3 ? argv[3] : NULL);
	}
	if (strcmp(cmd, "mknod") == 0) {
		ARGS(1, 1);
		return probe_mknod(argv[2]);
	}
	if (strcmp(cmd, "chmod-suid") == 0) {
		ARGS(1, 1);
		return probe_chmod_suid(argv[2]);
	}
	if (strcmp(cmd, "abstract-connect") == 0) {
		ARGS(1, 1);
		return probe_abstract_connect(argv[2]);
	}
	if (strcmp(cmd, "execveat") == 0) {
		if (argc < 4)
			return usage();
		return probe_execveat(argv[2], argv[3], argv + 4, false);
	}
	if (strcmp(cmd, "fexecve") == 0) {
		if (argc < 3)
			return usage();
		return probe_execveat(argv[2], argv[2], argv + 3, true);
	}
	if (strcmp(cmd, "user-notif") == 0) {
		ARGS(0, 0);
		return probe_user_notif();
	}
#ifdef __x86_64__
	if (strcmp(cmd, "x32") == 0) {
		ARGS(0, 0);
		return probe_x32();
	}
	if (strcmp(cmd, "i386") == 0) {
		ARGS(0, 0);
		return probe_i386();
	}
#endif
	return usage();
}
