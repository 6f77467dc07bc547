/* SPDX-License-Identifier: MIT */
/*
 * seccomp.c - the sandbox's syscall filter (libseccomp)
 *
 * DOC: Theory of Operation
 *
 * The sandboxed command runs under a deny-list filter: the default action is ALLOW, and the
 * filter returns an errno for the syscalls below. A deny-list (rather than docker's allow-list)
 * because the command is an arbitrary toolchain (compilers, language runtimes, package
 * managers) whose syscall set we cannot enumerate; the namespaces, the capability drop and
 * Landlock are the primary boundary, and this filter removes kernel attack surface and the few
 * operations those layers do not cover. Each group and why it is denied:
 *
 * - Terminal injection (THREATS.md 1): ioctl(TIOCSTI) pushes bytes into a terminal's input
 *   queue, ioctl(TIOCLINUX) pastes the console selection. The kernel reads the ioctl command
 *   as a 32-bit int, so the filter compares only the low 32 bits of arg1 (masked compare):
 *   0x100005412 is TIOCSTI to the kernel and must be caught too. -> EPERM.
 * - io_uring (THREATS.md 3, 5): it performs network and file operations without passing
 *   through syscalls that seccomp could see, and is a frequent source of kernel bugs.
 *   -> ENOSYS, so liburing users and runtimes (e.g. Tokio, libuv) fall back to epoll.
 * - Kernel attack surface and host-global state (THREATS.md 5): bpf, userfaultfd (used to
 *   win kernel races), perf_event_open, the keyring calls (add_key, request_key, keyctl: keys
 *   are shared per uid across the sandbox boundary), kexec_load, kexec_file_load,
 *   init_module, finit_module, delete_module, acct, swapon, swapoff, reboot, syslog (dmesg
 *   leaks kernel addresses), uselib, lookup_dcookie, settimeofday, clock_settime, adjtimex,
 *   clock_adjtime, quotactl, quotactl_fd, name_to_handle_at and open_by_handle_at (file
 *   handles bypass the path walk that the mount layout and Landlock rely on), vhangup, and
 *   personality() with any persona but the harmless ones docker allows (0, PER_LINUX32,
 *   UNAME26, PER_LINUX32|UNAME26 and the 0xffffffff query): other personas such as
 *   READ_IMPLIES_EXEC or ADDR_NO_RANDOMIZE weaken exploit mitigations. Most of these need a
 *   capability in the initial user namespace anyway; the filter shrinks the reachable code.
 *   -> EPERM.
 * - The mount family and namespace changes (THREATS.md 2, 6): mount, umount2, pivot_root,
 *   chroot, move_mount, open_tree, fsopen, fsconfig, fsmount, fspick, mount_setattr, setns.
 *   The sandbox's mount tree is its filesystem policy; nothing inside may rearrange it.
 *   chroot is allowed with --root, which keeps CAP_SYS_CHROOT as podman does. -> EPERM.
 * - Nested user namespaces (THREATS.md 5): unshare() and clone() with CLONE_NEWUSER would
 *   hand the command a full capability set in a child namespace and with it the large
 *   unprivileged-userns attack surface. The flags are tested with a masked compare of arg0
 *   (the clone flags on x86_64 and aarch64). clone3() passes its flags in memory, which a
 *   filter cannot read, so it fails with ENOSYS and glibc (>= 2.34) falls back to clone().
 *   -> EPERM.
 * - Socket families (THREATS.md 3): socket() and socketpair() with a domain other than
 *   AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK with protocol NETLINK_ROUTE (the sandbox's own
 *   interfaces, read-only without CAP_NET_ADMIN) fail with EAFNOSUPPORT, as if the family were not compiled
 *   in: netlink, packet, vsock, bluetooth, AF_ALG, can, xdp, ... The whole 64-bit argument is
 *   compared, so a domain with high bits set is refused as well.
 * - Foreign architectures: the filter is built for the native architecture only. A syscall
 *   made through another ABI (i386 via int 0x80, x32 via __X32_SYSCALL_BIT on x86_64) kills
 *   the process (SCMP_FLTATR_ACT_BADARCH = KILL_PROCESS, set explicitly: libseccomp's own
 *   default kills only the thread). Those ABIs would otherwise reach every syscall above under
 *   a different number. 32-bit binaries therefore do not run in the sandbox.
 *
 * Syscalls this libseccomp does not know are skipped: a kernel without them cannot be asked
 * for them either. Rules naming syscalls that do not exist on this architecture (umount, stime)
 * are silently dropped by libseccomp.
 *
 * The caller has set PR_SET_NO_NEW_PRIVS, so the filter does not set it again
 * (SCMP_FLTATR_CTL_NNP = 0); the kernel refuses an unprivileged filter without it.
 *
 * #syscalls: ioctl io_uring_setup io_uring_enter io_uring_register bpf userfaultfd
 * #syscalls: perf_event_open add_key request_key keyctl kexec_load kexec_file_load init_module
 * #syscalls: finit_module delete_module acct swapon swapoff reboot syslog uselib lookup_dcookie
 * #syscalls: settimeofday stime clock_settime adjtimex clock_adjtime quotactl quotactl_fd
 * #syscalls: name_to_handle_at open_by_handle_at vhangup personality mount umount umount2
 * #syscalls: pivot_root chroot move_mount open_tree fsopen fsconfig fsmount fspick mount_setattr
 * #syscalls: setns unshare clone clone3 socket socketpair
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/macro.h"
#include "sandbox/seccomp.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(scmp_filter_ctx, seccomp_release);

#define SCMP_MASK_32 UINT64_C(0xffffffff)

/* Syscalls denied whatever their arguments, with the errno the caller sees */
static const struct {
	const char *name;
	int err;
} deny_always[] = {
	/* fall back to epoll and plain read/write */
	{ "io_uring_setup", ENOSYS },
	{ "io_uring_enter", ENOSYS },
	{ "io_uring_register", ENOSYS },
	/* flags live in memory the filter cannot inspect: make glibc fall back to clone() */
	{ "clone3", ENOSYS },
	/* kernel attack surface, host-global state */
	{ "bpf", EPERM },
	{ "userfaultfd", EPERM },
	{ "perf_event_open", EPERM },
	{ "add_key", EPERM },
	{ "request_key", EPERM },
	{ "keyctl", EPERM },
	{ "kexec_load", EPERM },
	{ "kexec_file_load", EPERM },
	{ "init_module", EPERM },
	{ "finit_module", EPERM },
	{ "delete_module", EPERM },
	{ "acct", EPERM },
	{ "swapon", EPERM },
	{ "swapoff", EPERM },
	{ "reboot", EPERM },
	{ "syslog", EPERM },
	{ "uselib", EPERM },
	{ "lookup_dcookie", EPERM },
	{ "settimeofday", EPERM },
	{ "stime", EPERM },
	{ "clock_settime", EPERM },
	{ "adjtimex", EPERM },
	{ "clock_adjtime", EPERM },
	{ "quotactl", EPERM },
	{ "quotactl_fd", EPERM },
	{ "name_to_handle_at", EPERM },
	{ "open_by_handle_at", EPERM },
	{ "vhangup", EPERM },
	/* the mount tree is the filesystem policy */
	{ "mount", EPERM },
	{ "umount", EPERM },
	{ "umount2", EPERM },
	{ "pivot_root", EPERM },
	{ "move_mount", EPERM },
	{ "open_tree", EPERM },
	{ "fsopen", EPERM },
	{ "fsconfig", EPERM },
	{ "fsmount", EPERM },
	{ "fspick", EPERM },
	{ "mount_setattr", EPERM },
	{ "setns", EPERM },
};

/* personality() values that docker's default profile allows (sorted) */
static const uint64_t personality_allowed[] = {
	0x0,        /* PER_LINUX */
	0x8,        /* PER_LINUX32 */
	0x20000,    /* UNAME26 */
	0x20008,    /* UNAME26 | PER_LINUX32 */
	0xffffffff, /* query the current persona */
};

/* socket() and socketpair() domains that stay available (sorted) */
static const uint64_t socket_domains_allowed[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK };

/*
 * seccomp_deny() - add one ERRNO rule; a syscall this libseccomp cannot name is skipped.
 * All comparisons in @cmp must match (AND) for the rule to apply.
 */
static int seccomp_deny(scmp_filter_ctx ctx, const char *name, int err, unsigned int n_cmp,
			const struct scmp_arg_cmp *cmp)
{
	int nr;

	nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0;
	return seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(err), nr, n_cmp, cmp);
}

/*
 * seccomp_deny_arg0_range() - deny @name with @err when arg0 lies in [@lo, @hi]
 *
 * libseccomp (2.5) refuses two comparisons of the same argument in one rule, so a range
 * becomes one LE or GE rule when it touches either end, and otherwise the aligned blocks that
 * cover it, each a masked compare of the full 64 bits (as a CIDR range becomes prefixes).
 */
static int seccomp_deny_arg0_range(scmp_filter_ctx ctx, const char *name, int err, uint64_t lo,
				   uint64_t hi)
{
	struct scmp_arg_cmp cmp;

	if (lo == 0 || hi == UINT64_MAX) {
		if (lo == 0)
			cmp = (struct scmp_arg_cmp)SCMP_A0(SCMP_CMP_LE, hi);
		else
			cmp = (struct scmp_arg_cmp)SCMP_A0(SCMP_CMP_GE, lo);
		return seccomp_deny(ctx, name, err, 1, &cmp);
	}

	for (;;) {
		unsigned int k = (unsigned int)__builtin_ctzll(lo); /* lo != 0 here */
		uint64_t size;
		int r;

		/* the largest block aligned at lo that ends at or before hi */
		while (k > 0 && hi - lo < (UINT64_C(1) << k) - 1)
			k--;
		size = UINT64_C(1) << k;

		cmp = (struct scmp_arg_cmp)SCMP_A0(SCMP_CMP_MASKED_EQ, ~(size - 1), lo);
		r = seccomp_deny(ctx, name, err, 1, &cmp);
		if (r < 0)
			return r;
		if (hi - lo == size - 1)
			return 0;
		lo += size;
	}
}

/*
 * seccomp_deny_arg0_outside() - deny @name with @err unless arg0 is one of @allowed (sorted,
 * ascending), by denying each gap between the allowed values
 */
static int seccomp_deny_arg0_outside(scmp_filter_ctx ctx, const char *name, int err,
				     const uint64_t *allowed, size_t n_allowed)
{
	uint64_t lo = 0;
	int r;

	for (size_t i = 0; i < n_allowed; i++) {
		if (i > 0 && allowed[i] <= allowed[i - 1])
			return -EINVAL; /* not sorted */
		if (allowed[i] > lo) {
			r = seccomp_deny_arg0_range(ctx, name, err, lo, allowed[i] - 1);
			if (r < 0)
				return r;
		}
		if (allowed[i] == UINT64_MAX)
			return 0;
		lo = allowed[i] + 1;
	}
	return seccomp_deny_arg0_range(ctx, name, err, lo, UINT64_MAX);
}

static int seccomp_add_rules(scmp_filter_ctx ctx, const struct seccomp_opts *opts)
{
	int r;

	for (size_t i = 0; i < ELEMENTSOF(deny_always); i++) {
		r = seccomp_deny(ctx, deny_always[i].name, deny_always[i].err, 0, NULL);
		if (r < 0)
			return r;
	}

	/* --root keeps CAP_SYS_CHROOT (podman's default set); otherwise chroot is useless */
	if (!opts->root) {
		r = seccomp_deny(ctx, "chroot", EPERM, 0, NULL);
		if (r < 0)
			return r;
	}

	/* the kernel truncates the ioctl command to 32 bits: so does the comparison */
	static const unsigned long tty_ioctls[] = { TIOCSTI, TIOCLINUX };
	for (size_t i = 0; i < ELEMENTSOF(tty_ioctls); i++) {
		struct scmp_arg_cmp cmp = SCMP_A1(SCMP_CMP_MASKED_EQ, SCMP_MASK_32, tty_ioctls[i]);

		r = seccomp_deny(ctx, "ioctl", EPERM, 1, &cmp);
		if (r < 0)
			return r;
	}

	/* clone(2) and unshare(2) take their flags in arg0 (x86_64, aarch64) */
	static const char *const ns_calls[] = { "clone", "unshare" };
	for (size_t i = 0; i < ELEMENTSOF(ns_calls); i++) {
		struct scmp_arg_cmp cmp = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);

		r = seccomp_deny(ctx, ns_calls[i], EPERM, 1, &cmp);
		if (r < 0)
			return r;
	}

	r = seccomp_deny_arg0_outside(ctx, "personality", EPERM, personality_allowed,
				      ELEMENTSOF(personality_allowed));
	if (r < 0)
		return r;

	static const char *const socket_calls[] = { "socket", "socketpair" };
	for (size_t i = 0; i < ELEMENTSOF(socket_calls); i++) {
		r = seccomp_deny_arg0_outside(ctx, socket_calls[i], EAFNOSUPPORT,
					      socket_domains_allowed,
					      ELEMENTSOF(socket_domains_allowed));
		if (r < 0)
			return r;
	}

	/*
	 * AF_NETLINK only for NETLINK_ROUTE: getifaddrs() (Node's os.networkInterfaces(), vite
	 * --host, ip addr) reads the sandbox's own interfaces through it; changing them needs
	 * CAP_NET_ADMIN, which the command never has. Every other netlink protocol (netfilter,
	 * audit, kobject_uevent, ...) fails as if netlink were absent.
	 */
	{
		struct scmp_arg_cmp nl[2] = {
			SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
			SCMP_A2(SCMP_CMP_NE, 0 /* NETLINK_ROUTE */),
		};

		r = seccomp_deny(ctx, "socket", EAFNOSUPPORT, 2, nl);
		if (r < 0)
			return r;
		r = seccomp_deny(ctx, "socketpair", EAFNOSUPPORT, 1, nl);
		if (r < 0)
			return r;
	}

	return 0;
}

/**
 * seccomp_install_sandbox() - load the sandbox filter into the calling process
 * @opts:	filter options (--root)
 *
 * Builds the filter described in the Theory of Operation and loads it. The caller must have
 * set PR_SET_NO_NEW_PRIVS and must be single-threaded (no TSYNC). Does not log.
 *
 * Return: 0 on success, -errno on failure (libseccomp's errors, reported raw)
 */
/* seccomp_build() - the sandbox's filter as a libseccomp context, not loaded */
static int seccomp_build(const struct seccomp_opts *opts, scmp_filter_ctx *ret)
{
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
	int r;

	if (!opts)
		return -EINVAL;

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;

	r = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	if (r < 0)
		return r;
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		return r;
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		return r;

	r = seccomp_add_rules(ctx, opts);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(ctx);
	return 0;
}

int seccomp_install_sandbox(const struct seccomp_opts *opts)
{
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
	int r;

	r = seccomp_build(opts, &ctx);
	if (r < 0)
		return r;
	return seccomp_load(ctx);
}

int seccomp_export_sandbox(const struct seccomp_opts *opts, int *ret_fd)
{
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
	_cleanup_close_ int fd = -EBADF;
	int r;

	r = seccomp_build(opts, &ctx);
	if (r < 0)
		return r;
	fd = memfd_create("paddock-seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return r;
	/* the receiver may trust its size: nobody can change it any more */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int seccomp_load_bpf(const void *bpf, size_t len)
{
	struct sock_fprog prog = {
		.len = (unsigned short)(len / sizeof(struct sock_filter)),
		.filter = (struct sock_filter *)bpf,
	};

	if (len == 0 || len % sizeof(struct sock_filter) != 0 ||
	    len / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return -EINVAL;
	return RET_NERRNO((int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog));
}

/* ---- exec audit (docs/design/exec-audit.md) ------------------------------------------------ */

/*
 * seccomp_install_exec_notify() - the exec audit's filter: execve and execveat wait for the
 * listener (SECCOMP_RET_USER_NOTIF); another architecture's ABI (i386, x32) kills the process,
 * so no exec escapes the audit through it; everything else is allowed.
 *
 * Written by hand rather than with libseccomp: it is eight instructions, and libseccomp 2.5
 * keeps the listener in a global of its own. No allocation, no logging.
 *
 * #syscalls: seccomp execve execveat
 */
int seccomp_install_exec_notify(void)
{
	uint32_t arch = seccomp_arch_native();
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef __X32_SYSCALL_BIT
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
#endif
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execveat, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	};
	struct sock_fprog prog = { .len = (unsigned short)ELEMENTSOF(insns), .filter = insns };
	long fd;

	if (arch == 0)
		return -EOPNOTSUPP;
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (fd < 0)
		return -errno;
	return (int)fd; /* the kernel makes it O_CLOEXEC */
}
