/* SPDX-License-Identifier: MIT */
/*
 * features.c - probes of the kernel and host features the sandbox is built from
 *
 * DOC: Theory of Operation
 * `paddock doctor` and `paddock version` must say what this host offers before a sandbox
 * fails to start on it, so each probe does what the sandbox will do, on a small scale, rather
 * than guessing from kernel versions or config files: a forked child unshares a user namespace,
 * writes its uid_map, mounts a tmpfs and an overlay, talks to nf_tables, creates a tun device,
 * and installs a seccomp filter with a listener. Sysctls are read only to explain a failure
 * and to name the fix.
 *
 * Side effects: none outside the probing child. Its mounts and devices live in namespaces that
 * die with it, its temporary directories are inside a tmpfs mounted in its own mount
 * namespace, and it has PR_SET_PDEATHSIG so it does not outlive us. The parent waits for its
 * report on a CLOEXEC pipe with a timeout, then SIGKILLs and reaps it whatever it said, so a
 * probe never hangs `doctor`.
 *
 * The child neither allocates nor logs (STYLE.md: nothing between fork and _exit that a
 * forked copy of a process cannot safely do). It reports {step, errno, value}, where step is
 * a pointer to a string literal: the child is a copy of this process, so the pointer is just
 * as valid in the parent.
 *
 * Each struct feature says whether the default `paddock run` needs it (@required). A probe
 * is LIMITED when the sandbox will work with a fallback (rlimits instead of cgroup v2).
 */
#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/magic.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <seccomp.h>

#include "common/cleanup.h"
#include "common/fd.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/xmalloc.h"
#include "features.h"
#include "limits.h"
#include "store/config.h"

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif

#define PROBE_TIMEOUT_MS 1000

/* What the probing child sends back. @step points to a string literal (see the DOC block). */
struct child_report {
	const char *step; /* the step that failed, or the last one done */
	int err;          /* positive errno; 0 when every step succeeded */
	int value;        /* probe-specific */
	bool in_setup;    /* failed while entering the user namespace, before the probe proper */
};

/* A probe's work inside the child: set @rep->step before each step, return 0 or -errno. */
typedef int (*child_fn)(struct child_report *rep);

/* feature_set() - fill in @f's verdict; returns @state so a probe can `return feature_set(...)` */
_printf_(4, 5) static enum feature_state feature_set(struct feature *f, enum feature_state state,
						     const char *fix, const char *fmt, ...)
{
	va_list ap;

	f->state = state;
	va_start(ap, fmt);
	(void)vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	va_end(ap);
	(void)snprintf(f->fix, sizeof(f->fix), "%s", state == FEATURE_OK ? "" : strempty(fix));
	return state;
}

/* read_sysctl_long() - read a number from /proc/sys; -ENOENT when the sysctl does not exist */
static int read_sysctl_long(const char *path, long *ret)
{
	_cleanup_free_ char *s = NULL;
	char *end;
	long v;
	int r;

	r = read_file_at(AT_FDCWD, path, 64, &s, NULL);
	if (r < 0)
		return r;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* child_enter_userns() - unshare @flags (with CLONE_NEWUSER) and map our ids to themselves */
static int child_enter_userns(unsigned long flags, uid_t uid, gid_t gid, struct child_report *rep)
{
	char map[64];
	int r;

	rep->step = "unshare(CLONE_NEWUSER)";
	if (unshare((int)flags) < 0)
		return -errno;
	rep->step = "write /proc/self/setgroups";
	r = write_file_at(AT_FDCWD, "/proc/self/setgroups", "deny");
	if (r < 0 && r != -ENOENT) /* absent before 3.19 */
		return r;
	rep->step = "write /proc/self/uid_map";
	(void)snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	r = write_file_at(AT_FDCWD, "/proc/self/uid_map", map);
	if (r < 0)
		return r;
	rep->step = "write /proc/self/gid_map";
	(void)snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	return write_file_at(AT_FDCWD, "/proc/self/gid_map", map);
}

/*
 * probe_in_child() - run @fn in a forked child, after unsharing @flags when non-zero
 * Return: 0 with @ret filled (ret->err says whether the child's steps worked), or -errno when
 * the child could not be run, died without a report (-ECHILD) or timed out (-ETIMEDOUT).
 */
static int probe_in_child(unsigned long flags, child_fn fn, struct child_report *ret)
{
	_cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
	struct child_report rep = {};
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int pfd[2], r;
	ssize_t k;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	rfd = pfd[0];
	wfd = pfd[1];
	fflush(NULL); /* nothing buffered may be written twice */
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		rfd = safe_close(rfd);
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		rep.step = "start";
		r = 0;
		if (flags) {
			rep.in_setup = true;
			r = child_enter_userns(flags, uid, gid, &rep);
			if (r >= 0)
				rep.in_setup = false;
		}
		if (r >= 0 && fn)
			r = fn(&rep);
		rep.err = r < 0 ? -r : 0;
		(void)loop_write(wfd, &rep, sizeof(rep));
		_exit(0);
	}
	wfd = safe_close(wfd);

	struct pollfd p = { .fd = rfd, .events = POLLIN };
	do
		r = poll(&p, 1, PROBE_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		k = loop_read(rfd, &rep, sizeof(rep));
		r = k == (ssize_t)sizeof(rep) ? 0 : -ECHILD;
	} else
		r = r == 0 ? -ETIMEDOUT : -errno;
	/* whatever it said, it is done: kill it (a no-op on a zombie) and reap it */
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return r;
	*ret = rep;
	return 0;
}

/* probe_child_failed() - describe a child that could not report */
static enum feature_state probe_child_failed(struct feature *f, int r, const char *fix)
{
	return feature_set(f, FEATURE_MISSING, fix, "the probing child %s",
			   r == -ETIMEDOUT ? "timed out"
			   : r == -ECHILD
				   ? "died before reporting (killed by a seccomp filter or an LSM?)"
				   : strerror(-r));
}

/*
 * probe_child_verdict() - when the child failed, set MISSING naming its failing step and return
 * true. A failure to enter the user namespace is explained (and its fix given) by the userns line.
 */
static bool probe_child_verdict(struct feature *f, const struct child_report *rep, const char *fix,
				const char *what)
{
	if (!rep->err)
		return false;
	if (rep->in_setup && f->id != FEATURE_USERNS)
		(void)feature_set(f, FEATURE_MISSING, "see the user namespaces line", "%s: %s",
				  rep->step, strerror(rep->err));
	else
		(void)feature_set(f, FEATURE_MISSING, fix, "%s: %s%s", rep->step,
				  strerror(rep->err), strempty(what));
	return true;
}

static int child_nop(struct child_report *rep)
{
	(void)rep;
	return 0;
}

static enum feature_state probe_userns(struct feature *f)
{
	struct child_report rep;
	long max = -1, clone_ok = -1, aa = -1;
	const char *fix;
	int r;

	(void)read_sysctl_long("/proc/sys/user/max_user_namespaces", &max);
	(void)read_sysctl_long("/proc/sys/kernel/unprivileged_userns_clone", &clone_ok);
	(void)read_sysctl_long("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", &aa);

	if (clone_ok == 0 && geteuid() != 0)
		fix = "sysctl -w kernel.unprivileged_userns_clone=1 (and persist it in "
		      "/etc/sysctl.d/)";
	else if (max == 0)
		fix = "sysctl -w user.max_user_namespaces=15000 (and persist it in /etc/sysctl.d/)";
	else if (aa == 1 && geteuid() != 0)
		fix = "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor "
		      "profile granting paddock 'userns,'";
	else
		fix = "allow unshare(CLONE_NEWUSER): inside a container, run with a seccomp "
		      "profile "
		      "that permits it (docker: --security-opt seccomp=unconfined)";

	r = probe_in_child(CLONE_NEWUSER, child_nop, &rep);
	if (r < 0)
		return probe_child_failed(f, r, fix);
	if (rep.err == ENOSPC)
		return feature_set(f, FEATURE_MISSING,
				   "sysctl -w user.max_user_namespaces=15000 (and persist it in "
				   "/etc/sysctl.d/)",
				   "%s: %s (%s, user.max_user_namespaces=%ld)", rep.step,
				   strerror(rep.err), max == 0 ? "disabled" : "limit reached", max);
	if (rep.err)
		return feature_set(f, FEATURE_MISSING, fix, "%s: %s", rep.step, strerror(rep.err));
	return feature_set(f, FEATURE_OK, NULL,
			   "unshare(CLONE_NEWUSER) and uid_map work (user.max_user_namespaces=%ld)",
			   max);
}

static enum feature_state probe_apparmor_userns(struct feature *f)
{
	long v;
	int r;

	r = read_sysctl_long("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", &v);
	if (r == -ENOENT)
		return feature_set(f, FEATURE_OK, NULL,
				   "kernel.apparmor_restrict_unprivileged_userns is absent: "
				   "no restriction");
	if (r < 0)
		return feature_set(f, FEATURE_MISSING, NULL,
				   "cannot read kernel.apparmor_restrict_unprivileged_userns: %s",
				   strerror(-r));
	if (v == 0)
		return feature_set(f, FEATURE_OK, NULL,
				   "kernel.apparmor_restrict_unprivileged_userns=0");
	if (geteuid() == 0)
		return feature_set(
			f, FEATURE_OK, NULL,
			"kernel.apparmor_restrict_unprivileged_userns=%ld, which does not "
			"restrict root",
			v);
	return feature_set(
		f, FEATURE_MISSING,
		"sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (persist it in "
		"/etc/sysctl.d/), or an AppArmor profile granting paddock 'userns,'",
		"kernel.apparmor_restrict_unprivileged_userns=%ld: user namespaces get no "
		"capabilities",
		v);
}

/* child_mount_tmpfs() - private mounts, a tmpfs on /tmp, a read-only bind mount inside it */
static int child_mount_tmpfs(struct child_report *rep)
{
	rep->step = "make / private";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	rep->step = "mount tmpfs on /tmp";
	if (mount("paddock-probe", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=256k,mode=0700") <
	    0)
		return -errno;
	rep->step = "mkdir in the tmpfs";
	if (mkdir("/tmp/ro", 0700) < 0)
		return -errno;
	rep->step = "bind mount";
	if (mount("/tmp/ro", "/tmp/ro", NULL, MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	rep->step = "remount read-only";
	if (mount(NULL, "/tmp/ro", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
		  NULL) < 0)
		return -errno;
	return 0;
}

static enum feature_state probe_mount_tmpfs(struct feature *f)
{
	static const char fix[] = "mounts in a user namespace need a kernel >= 3.8 with "
				  "CONFIG_USER_NS; see the user namespaces line";
	struct child_report rep;
	int r;

	r = probe_in_child(CLONE_NEWUSER | CLONE_NEWNS, child_mount_tmpfs, &rep);
	if (r < 0)
		return probe_child_failed(f, r, fix);
	if (probe_child_verdict(f, &rep, fix, NULL))
		return f->state;
	return feature_set(f, FEATURE_OK, NULL,
			   "tmpfs, bind and read-only remount in a mount namespace");
}

static int child_overlay(struct child_report *rep)
{
	int fd, r;

	r = child_mount_tmpfs(rep);
	if (r < 0)
		return r;
	rep->step = "mkdir the layers";
	if (mkdir("/tmp/l", 0700) < 0 || mkdir("/tmp/u", 0700) < 0 || mkdir("/tmp/w", 0700) < 0 ||
	    mkdir("/tmp/m", 0700) < 0)
		return -errno;
	rep->step = "create a file in the lower layer";
	fd = open("/tmp/l/f", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	(void)close(fd);
	rep->step = "mount overlay";
	if (mount("overlay", "/tmp/m", "overlay", 0,
		  "lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w") < 0) {
		/* without trusted.* xattrs (as in a user namespace) some kernels need userxattr */
		rep->step = "mount overlay (userxattr)";
		if (mount("overlay", "/tmp/m", "overlay", 0,
			  "lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w,userxattr") < 0)
			return -errno;
		rep->value = 1;
	}
	rep->step = "copy up a lower file";
	fd = open("/tmp/m/f", O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	(void)close(fd);
	rep->step = "stat the copied-up file";
	if (access("/tmp/u/f", F_OK) < 0)
		return -errno;
	return 0;
}

static enum feature_state probe_overlayfs(struct feature *f)
{
	static const char fix[] = "overlayfs in a user namespace needs a kernel >= 5.11 "
				  "(CONFIG_OVERLAY_FS); else apt install fuse-overlayfs";
	struct child_report rep = {};
	int r;

	r = probe_in_child(CLONE_NEWUSER | CLONE_NEWNS, child_overlay, &rep);
	if (r < 0)
		return probe_child_failed(f, r, fix);
	if (probe_child_verdict(f, &rep, fix, " (golden images cannot be used)"))
		return f->state;
	return feature_set(f, FEATURE_OK, NULL, "overlay mount and copy-up in a user namespace%s",
			   rep.value ? " (with userxattr)" : "");
}

/* nft_recv_ack() - read netlink messages until DONE or an error/ack for @seq */
static int nft_recv_ack(int fd, unsigned seq)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));

	for (;;) {
		ssize_t k = recv(fd, buf, sizeof(buf), 0);

		if (k < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (k == 0)
			return -EIO;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)k);
		     nh = NLMSG_NEXT(nh, k)) {
			if (nh->nlmsg_seq != seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				return e->error; /* 0 for an ack */
			}
		}
	}
}

/* nft_put_msg() - append a netlink + nfgenmsg header at @p; returns its total length */
static size_t nft_put_msg(char *p, uint16_t type, uint16_t flags, unsigned seq, uint8_t family,
			  uint16_t res_id, const char *table)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)p;
	struct nfgenmsg *g = NLMSG_DATA(nh);
	size_t len = NLMSG_LENGTH(sizeof(*g));

	memset(p, 0, NLMSG_SPACE(sizeof(*g)));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htobe16(res_id);
	if (table) {
		struct nlattr *a = (struct nlattr *)(p + NLMSG_ALIGN(len));
		size_t n = strlen(table) + 1;

		a->nla_type = NFTA_TABLE_NAME;
		a->nla_len = (uint16_t)(NLA_HDRLEN + n);
		memset((char *)a + NLA_HDRLEN, 0, NLA_ALIGN(n));
		memcpy((char *)a + NLA_HDRLEN, table, n);
		len = NLMSG_ALIGN(len) + NLA_ALIGN(a->nla_len);
	}
	nh->nlmsg_len = (uint32_t)len;
	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST | flags;
	nh->nlmsg_seq = seq;
	return NLMSG_ALIGN(len);
}

/* child_nftables() - dump the tables, then create one in a batch, as the sandbox's setup will */
static int child_nftables(struct child_report *rep)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 500 * 1000 };
	char buf[512] __attribute__((aligned(NLMSG_ALIGNTO)));
	size_t n;
	int fd, r;

	rep->step = "socket(NETLINK_NETFILTER)";
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	rep->step = "NFT_MSG_GETTABLE dump";
	n = nft_put_msg(buf, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETTABLE, NLM_F_DUMP, 1, AF_UNSPEC,
			0, NULL);
	if (sendto(fd, buf, n, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	r = nft_recv_ack(fd, 1);
	if (r < 0)
		return r;

	rep->step = "NFT_MSG_NEWTABLE batch";
	n = nft_put_msg(buf, NFNL_MSG_BATCH_BEGIN, 0, 2, AF_UNSPEC, NFNL_SUBSYS_NFTABLES, NULL);
	n += nft_put_msg(buf + n, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWTABLE,
			 NLM_F_CREATE | NLM_F_ACK, 3, NFPROTO_INET, 0, "paddock_probe");
	n += nft_put_msg(buf + n, NFNL_MSG_BATCH_END, 0, 4, AF_UNSPEC, NFNL_SUBSYS_NFTABLES, NULL);
	if (sendto(fd, buf, n, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	return nft_recv_ack(fd, 3);
}

static enum feature_state probe_nftables(struct feature *f)
{
	static const char fix[] = "a kernel with CONFIG_NF_TABLES and CONFIG_NF_TABLES_INET "
				  "(modprobe nf_tables); the network capture needs it";
	struct child_report rep;
	int r;

	r = probe_in_child(CLONE_NEWUSER | CLONE_NEWNET, child_nftables, &rep);
	if (r < 0)
		return probe_child_failed(f, r, fix);
	if (probe_child_verdict(f, &rep, fix, NULL))
		return f->state;
	return feature_set(f, FEATURE_OK, NULL,
			   "nf_tables answers in a user+net namespace (dump, inet table created)");
}

static int child_tun(struct child_report *rep)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	int fd;

	rep->step = "open /dev/net/tun";
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	(void)snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "pdprobe0");
	rep->step = "ioctl(TUNSETIFF)";
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -errno;
	return 0; /* not persistent: the device goes with the fd and the namespace */
}

static enum feature_state probe_tun(struct feature *f)
{
	struct child_report rep;
	const char *fix;
	int r;

	r = probe_in_child(CLONE_NEWUSER | CLONE_NEWNET, child_tun, &rep);
	if (r < 0)
		return probe_child_failed(f, r, "modprobe tun (CONFIG_TUN)");
	if (!rep.err)
		return feature_set(f, FEATURE_OK, NULL,
				   "/dev/net/tun and TUNSETIFF work in a user+net namespace");
	if (rep.in_setup && probe_child_verdict(f, &rep, NULL, NULL))
		return f->state;
	if (rep.err == ENOENT || rep.err == ENODEV || rep.err == ENXIO)
		fix = "modprobe tun (CONFIG_TUN), and mknod /dev/net/tun c 10 200 if it is absent";
	else if (rep.err == EACCES)
		fix = "chmod 0666 /dev/net/tun (its usual mode)";
	else
		fix = "a kernel that allows TUNSETIFF in a user namespace (CONFIG_TUN, >= 4.x)";
	return feature_set(f, FEATURE_MISSING, fix, "%s: %s", rep.step, strerror(rep.err));
}

void landlock_abi_describe(int abi, char *buf, size_t n)
{
	static const char *const adds[] = {
		NULL, "fs", "refer", "truncate", "net", "ioctl_dev", "scoping", "logging",
	};
	size_t len = 0;

	if (n == 0)
		return;
	buf[0] = '\0';
	for (int i = 1; i <= abi && i < (int)ELEMENTSOF(adds) && len < n; i++) {
		int k = snprintf(buf + len, n - len, "%s%s", i > 1 ? ", " : "", adds[i]);

		if (k < 0)
			break;
		len += (size_t)k;
	}
	if (abi >= (int)ELEMENTSOF(adds) && len < n)
		(void)snprintf(buf + len, n - len, ", and newer");
}

static enum feature_state probe_landlock(struct feature *f)
{
	char what[128];
	long abi;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0 && errno == EOPNOTSUPP)
		return feature_set(f, FEATURE_MISSING,
				   "add landlock to the lsm= kernel parameter (e.g. "
				   "lsm=landlock,lockdown,yama,integrity,apparmor,bpf) and reboot",
				   "Landlock is built in but disabled at boot");
	if (abi < 0)
		return feature_set(f, FEATURE_MISSING,
				   "a kernel >= 5.13 with CONFIG_SECURITY_LANDLOCK=y, and landlock "
				   "in lsm=",
				   "landlock_create_ruleset: %s", strerror(errno));
	f->value = (int)abi;
	landlock_abi_describe((int)abi, what, sizeof(what));
	return feature_set(f, FEATURE_OK, NULL, "ABI %ld: %s", abi, what);
}

static int child_seccomp_listener(struct child_report *rep)
{
	struct sock_filter insn[] = {
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ELEMENTSOF(insn), .filter = insn };
	long fd;

	rep->step = "prctl(PR_SET_NO_NEW_PRIVS)";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	rep->step = "seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER)";
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (fd < 0)
		return -errno;
	return 0;
}

static enum feature_state probe_seccomp_notify(struct feature *f)
{
	static const char fix[] = "a kernel >= 5.0 with CONFIG_SECCOMP_FILTER, and libseccomp >= "
				  "2.5 (apt install libseccomp2)";
	struct seccomp_notif_sizes sizes;
	uint32_t action = SECCOMP_RET_USER_NOTIF;
	struct child_report rep = {};
	unsigned api;
	int r;

	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0)
		return feature_set(f, FEATURE_MISSING, fix, "seccomp is not built in: %s",
				   strerror(errno));
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		return feature_set(f, FEATURE_MISSING, fix, "SECCOMP_GET_NOTIF_SIZES: %s",
				   strerror(errno));
	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0)
		return feature_set(f, FEATURE_MISSING, fix,
				   "SECCOMP_RET_USER_NOTIF is not available: %s", strerror(errno));
	r = probe_in_child(0, child_seccomp_listener, &rep);
	if (r < 0)
		return probe_child_failed(f, r, fix);
	if (rep.err)
		return feature_set(f, FEATURE_MISSING, fix, "%s: %s", rep.step, strerror(rep.err));
	api = seccomp_api_get();
	f->value = (int)api;
	if (api < 5)
		return feature_set(f, FEATURE_MISSING, fix,
				   "the kernel has user notification but libseccomp's API level %u "
				   "does not (needs 5)",
				   api);
	return feature_set(f, FEATURE_OK, NULL,
			   "user notification with a listener fd (libseccomp API %u)", api);
}

int cgroup_parse_self(const char *contents, char **ret_path)
{
	const char *p = contents;

	while (p && *p) {
		const char *eol = strchrnul(p, '\n');

		if (strncmp(p, "0::", 3) == 0) {
			if (p[3] != '/')
				return -EINVAL;
			*ret_path = xstrndup(p + 3, (size_t)(eol - p - 3));
			return 0;
		}
		p = *eol ? eol + 1 : NULL;
	}
	return -ENOENT;
}

bool cgroup_controllers_has(const char *list, const char *controller)
{
	size_t n = strlen(controller);

	for (const char *p = list; p && *p;) {
		p += strspn(p, " \t\n");
		size_t k = strcspn(p, " \t\n");

		if (k == n && strncmp(p, controller, n) == 0)
			return true;
		p += k;
	}
	return false;
}

static enum feature_state probe_cgroup2(struct feature *f)
{
	static const char fix_mount[] = "boot with systemd.unified_cgroup_hierarchy=1 so that "
					"memory and pids are on cgroup v2";
	static const char fix_deleg[] =
		"run paddock from a systemd user session (user@UID.service "
		"delegates memory and pids), or: systemd-run --user --scope "
		"-p Delegate=yes paddock ...";
	_cleanup_free_ char *self = NULL, *cg = NULL, *dir = NULL, *path = NULL, *ctl = NULL,
			    *sub = NULL;
	const char *mnt = "/sys/fs/cgroup", *kind = "unified";
	struct statfs sfs;
	int r;

	if (statfs(mnt, &sfs) < 0)
		return feature_set(f, FEATURE_LIMITED, fix_mount,
				   "/sys/fs/cgroup: %s; rlimits will be used", strerror(errno));
	if (sfs.f_type != CGROUP2_SUPER_MAGIC) {
		mnt = "/sys/fs/cgroup/unified";
		kind = "hybrid";
		if (statfs(mnt, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
			return feature_set(f, FEATURE_LIMITED, fix_mount,
					   "cgroup v1 only; rlimits will be used");
	}
	r = read_file_at(AT_FDCWD, "/proc/self/cgroup", 64 * 1024, &self, NULL);
	if (r >= 0)
		r = cgroup_parse_self(self, &cg);
	if (r < 0)
		return feature_set(
			f, FEATURE_LIMITED, fix_mount,
			"no cgroup v2 entry in /proc/self/cgroup (%s); rlimits will be used",
			strerror(-r));
	dir = xasprintf("%s%s", mnt, streq(cg, "/") ? "" : cg);

	path = xasprintf("%s/cgroup.controllers", dir);
	r = read_file_at(AT_FDCWD, path, 4096, &ctl, NULL);
	if (r < 0)
		return feature_set(f, FEATURE_LIMITED, fix_deleg, "%s: %s; rlimits will be used",
				   path, strerror(-r));
	ctl[strcspn(ctl, "\n")] = '\0';
	if (!cgroup_controllers_has(ctl, "memory") || !cgroup_controllers_has(ctl, "pids"))
		return feature_set(f, FEATURE_LIMITED,
				   streq(kind, "hybrid") ? fix_mount : fix_deleg,
				   "cgroup v2 (%s, %s) at %s offers '%s', not memory and pids; "
				   "rlimits will be used",
				   kind, mnt, cg, ctl);

	free(path);
	path = xasprintf("%s/cgroup.subtree_control", dir);
	if (access(dir, W_OK) < 0 || access(path, W_OK) < 0)
		return feature_set(
			f, FEATURE_LIMITED, fix_deleg,
			"cgroup v2 %s is not delegated to uid %u (not writable); rlimits "
			"will be used",
			cg, (unsigned)geteuid());
	(void)read_file_at(AT_FDCWD, path, 4096, &sub, NULL);
	if (sub)
		sub[strcspn(sub, "\n")] = '\0';
	f->value = 1;
	return feature_set(f, FEATURE_OK, NULL,
			   "cgroup v2 %s delegated (controllers: %s; enabled: %s)", cg, ctl,
			   sub && *sub ? sub : "none yet");
}

/*
 * probe_limits() - what enforces the default limits (--memory 8G, --pids 4096) and whether
 * --cpus can be honoured: sandbox/limits.c decides it the same way for `run`
 */
static enum feature_state probe_limits(struct feature *f)
{
	static const unsigned all =
		(1U << LIMITS_CTRL_MEMORY) | (1U << LIMITS_CTRL_PIDS) | (1U << LIMITS_CTRL_CPU);
	struct limits_host h;
	struct limits_plan p;
	const char *fix = NULL;
	char missing[32] = "";
	int r;

	(void)limits_probe(&h);
	/* 1 CPU is only a probe: does a CPU limit fail closed here? */
	r = limits_plan(&h, CONFIG_DEFAULT_MEMORY, CONFIG_DEFAULT_PIDS, 1000, &p, NULL);
	if (r < 0)
		(void)limits_plan(&h, CONFIG_DEFAULT_MEMORY, CONFIG_DEFAULT_PIDS, 0, &p, NULL);
	if (h.can_create && (h.usable & all) == all) {
		f->value = 1;
		limits_host_done(&h);
		return feature_set(f, FEATURE_OK, NULL,
				   "cgroup v2 delegated: memory/pids/cpu enforced by cgroup; "
				   "suspend by cgroup.freeze, stop by cgroup.kill");
	}
	for (int i = 0; i < _LIMITS_CTRL_MAX; i++)
		if (!(h.usable & (1U << i))) {
			if (!fix)
				fix = h.why_ctrl[i]; /* names h.why_cgroup when that is the cause */
			(void)snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
				       "%s%s", missing[0] ? "/" : "", limits_ctrl_to_string(i));
		}
	feature_set(f, FEATURE_LIMITED, fix, "%s: pids by %s, memory %s, --cpus %s%s",
		    h.can_create ? (h.usable ? "cgroup v2 delegated without some controllers"
					     : "cgroup v2 without controllers")
				 : "not delegated",
		    p.pids_mech == LIMITS_MECH_CGROUP ? "cgroup"
		    : p.pids_exempt                   ? "RLIMIT_NPROC (not enforced for host root)"
						      : "RLIMIT_NPROC",
		    p.memory_mech == LIMITS_MECH_CGROUP
			    ? "by cgroup"
			    : "per process by RLIMIT_DATA when --memory is given",
		    r < 0 ? "refused" : "by cgroup", h.can_create ? "; freeze/kill by cgroup" : "");
	if (h.can_create && h.usable)
		(void)snprintf(f->detail + strlen(f->detail), sizeof(f->detail) - strlen(f->detail),
			       " (no %s controller)", missing);
	limits_host_done(&h);
	return f->state;
}

static enum feature_state probe_pty(struct feature *f)
{
	static const char fix[] = "mount devpts on /dev/pts (mount -t devpts devpts /dev/pts -o "
				  "newinstance,ptmxmode=0666) and link /dev/ptmx to pts/ptmx";
	_cleanup_close_ int master = -EBADF, slave = -EBADF;
	char name[64];
	int r;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return feature_set(f, FEATURE_MISSING, fix, "open /dev/ptmx: %s", strerror(errno));
	if (unlockpt(master) < 0)
		return feature_set(f, FEATURE_MISSING, fix, "unlockpt: %s", strerror(errno));
	r = ptsname_r(master, name, sizeof(name));
	if (r != 0)
		return feature_set(f, FEATURE_MISSING, fix, "ptsname: %s", strerror(r));
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return feature_set(f, FEATURE_MISSING, fix, "open %s: %s", name, strerror(errno));
	return feature_set(f, FEATURE_OK, NULL, "/dev/ptmx and %s open", name);
}

int subid_parse(const char *contents, const char *user, uid_t uid, unsigned long *ret_start,
		unsigned long *ret_count)
{
	char uidstr[32];

	(void)snprintf(uidstr, sizeof(uidstr), "%u", (unsigned)uid);
	for (const char *p = contents; p && *p;) {
		const char *eol = strchrnul(p, '\n'), *colon = memchr(p, ':', (size_t)(eol - p));
		size_t n = colon ? (size_t)(colon - p) : 0;

		if (colon && *p != '#' &&
		    ((user && n == strlen(user) && strncmp(p, user, n) == 0) ||
		     (n == strlen(uidstr) && strncmp(p, uidstr, n) == 0))) {
			unsigned long start, count;
			char *end;

			errno = 0;
			start = strtoul(colon + 1, &end, 10);
			if (errno || end == colon + 1 || *end != ':')
				return -EINVAL;
			const char *c = end + 1;
			count = strtoul(c, &end, 10);
			if (errno || end == c || (end != eol && *end != '\n') || count == 0)
				return -EINVAL;
			*ret_start = start;
			*ret_count = count;
			return 0;
		}
		p = *eol ? eol + 1 : NULL;
	}
	return -ENOENT;
}

/* helper_usable() - @path exists and is setuid root or carries file capabilities */
static bool helper_usable(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	if ((st.st_mode & S_ISUID) && st.st_uid == 0)
		return true;
	return getxattr(path, "security.capability", NULL, 0) > 0;
}

static enum feature_state probe_subid(struct feature *f)
{
	static const char *const dirs[] = { "/usr/bin", "/bin", "/usr/sbin", "/sbin" };
	_cleanup_free_ char *u = NULL, *g = NULL;
	unsigned long us = 0, uc = 0, gs = 0, gc = 0;
	struct passwd *pw;
	bool have_u = false, have_g = false;
	char fix[256];
	uid_t uid = geteuid();

	if (uid == 0)
		return feature_set(f, FEATURE_OK, NULL,
				   "root writes any uid_map itself; newuidmap is not needed");
	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		_cleanup_free_ char *a = xasprintf("%s/newuidmap", dirs[i]);
		_cleanup_free_ char *b = xasprintf("%s/newgidmap", dirs[i]);

		have_u = have_u || helper_usable(a);
		have_g = have_g || helper_usable(b);
	}
	if (!have_u || !have_g)
		return feature_set(f, FEATURE_MISSING, "apt install uidmap",
				   "newuidmap/newgidmap not found (or not setuid root)");
	pw = getpwuid(uid);
	(void)snprintf(fix, sizeof(fix),
		       "usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s",
		       pw ? pw->pw_name : "USER");
	if (read_file_at(AT_FDCWD, "/etc/subuid", 1024 * 1024, &u, NULL) < 0 ||
	    subid_parse(u, pw ? pw->pw_name : NULL, uid, &us, &uc) < 0)
		return feature_set(f, FEATURE_MISSING, fix, "no /etc/subuid range for uid %u",
				   (unsigned)uid);
	if (read_file_at(AT_FDCWD, "/etc/subgid", 1024 * 1024, &g, NULL) < 0 ||
	    subid_parse(g, pw ? pw->pw_name : NULL, uid, &gs, &gc) < 0)
		return feature_set(f, FEATURE_MISSING, fix, "no /etc/subgid range for uid %u",
				   (unsigned)uid);
	return feature_set(f, uc >= 65536 && gc >= 65536 ? FEATURE_OK : FEATURE_LIMITED, fix,
			   "newuidmap, newgidmap; subuid %lu+%lu, subgid %lu+%lu%s", us, uc, gs, gc,
			   uc >= 65536 && gc >= 65536 ? "" : " (fewer than 65536 ids)");
}

static const struct {
	const char *key;
	const char *name;
	bool required;
	enum feature_state (*probe)(struct feature *f);
} probes[_FEATURE_ID_MAX] = {
	[FEATURE_USERNS] = { "userns", "user namespaces", true, probe_userns },
	[FEATURE_APPARMOR_USERNS] = { "apparmor_userns", "apparmor userns", true,
				      probe_apparmor_userns },
	[FEATURE_MOUNT_TMPFS] = { "mount", "mount namespace", true, probe_mount_tmpfs },
	[FEATURE_OVERLAYFS] = { "overlayfs", "overlayfs", false, probe_overlayfs },
	[FEATURE_NFTABLES] = { "nftables", "nftables", true, probe_nftables },
	[FEATURE_TUN] = { "tun", "tun", false, probe_tun },
	[FEATURE_LANDLOCK] = { "landlock", "landlock", true, probe_landlock },
	[FEATURE_SECCOMP_NOTIFY] = { "seccomp_notify", "seccomp notify", true,
				     probe_seccomp_notify },
	[FEATURE_CGROUP2] = { "cgroup2", "cgroup v2", false, probe_cgroup2 },
	[FEATURE_LIMITS] = { "limits", "resource limits", false, probe_limits },
	[FEATURE_PTY] = { "pty", "pty", true, probe_pty },
	[FEATURE_SUBID] = { "subid", "subordinate ids", false, probe_subid },
};

void feature_probe(enum feature_id id, struct feature *ret)
{
	PADDOCK_ASSERT(id >= 0 && id < _FEATURE_ID_MAX);
	*ret = (struct feature){
		.id = id,
		.key = probes[id].key,
		.name = probes[id].name,
		.required = probes[id].required,
	};
	(void)probes[id].probe(ret);
	log_debug("feature %s: %s: %s", ret->key, feature_state_to_string(ret->state), ret->detail);
}

void features_probe_all(struct feature ret[static _FEATURE_ID_MAX])
{
	for (int i = 0; i < _FEATURE_ID_MAX; i++)
		feature_probe((enum feature_id)i, &ret[i]);
}

bool features_default_run_ok(const struct feature *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].required && f[i].state == FEATURE_MISSING)
			return false;
	return true;
}

const char *feature_state_to_string(enum feature_state s)
{
	static const char *const names[_FEATURE_STATE_MAX] = {
		[FEATURE_OK] = "ok",
		[FEATURE_LIMITED] = "limited",
		[FEATURE_MISSING] = "missing",
	};

	if (s < 0 || s >= _FEATURE_STATE_MAX)
		return NULL;
	return names[s];
}
