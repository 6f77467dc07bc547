/* SPDX-License-Identifier: MIT */
/*
 * execaudit.c - the exec audit: the supervisor's side of the seccomp listener
 *
 * DOC: Theory of Operation
 * init loads a filter that makes execve and execveat wait for a listener
 * (seccomp_install_exec_notify()) before it forks anything, so every process of the sandbox
 * is under it, and hands the listener to the supervisor (MSG_NOTIFY_FD). One listener serves
 * the whole sandbox: the first command, its children and every `paddock exec`. For each
 * notification, on the supervisor's loop:
 *
 *  1. SECCOMP_IOCTL_NOTIF_RECV: the caller's host pid and the syscall's arguments. The
 *     kernel reports the pid in the pid namespace of the reader, the host's.
 *  2. Read what was asked: the file name and the argv strings, from the caller's memory with
 *     process_vm_readv() (/proc/PID/cmdline is still the old program's), page by page and
 *     bounded (EXECAUDIT_ARGC_MAX strings, EXECAUDIT_ARGS_MAX bytes: "argv_truncated");
 *     the working directory (readlink /proc/PID/cwd: the supervisor is outside the sandbox's
 *     mount namespace, and the kernel prints a path of another namespace from that
 *     namespace's root, i.e. as the sandbox sees it); the parent and both pids (NSpid of
 *     /proc/PID/status); for execveat, the directory fd's path (/proc/PID/fd/N).
 *  3. SECCOMP_IOCTL_NOTIF_ID_VALID: the caller is still the one waiting in that execve, so
 *     what was read is its memory and not a recycled pid's.
 *  4. The event goes to the audit sink (written before the call goes on: a supervisor that
 *     dies here leaves no exec unrecorded), then SECCOMP_USER_NOTIF_FLAG_CONTINUE.
 *
 * This is an audit, not a policy: between step 2 and the kernel's own read of the same memory
 * another thread of the caller may change it (TOCTOU); the log says what the caller asked, and
 * a failed exec (a PATH search trying each directory) is logged like one that succeeds.
 *
 * Fail closed. The memory is readable whenever the kernel lets us trace the caller: we have
 * CAP_SYS_PTRACE in the sandbox's user namespace (we created it) and are an ancestor of every
 * process in it. When it is not readable anyway (EPERM), the exec is refused with EPERM and
 * logged as such, rather than run unaudited. If the listener fails, ops->fail() kills the
 * sandbox; if the supervisor dies, the listener closes, a waiting execve fails with ENOSYS, and
 * init dies (PDEATHSIG) taking the sandbox with it.
 *
 * Bounded work: one notification per wake-up (a level-triggered event: the loop serves other
 * events between two), a fixed buffer, a few syscalls. process_vm_readv() never waits for the
 * caller (it is stopped in the syscall), only for page faults in its memory.
 *
 * #syscalls: ioctl process_vm_readv readlink openat read close poll
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/utf8.h"
#include "common/xmalloc.h"
#include "execaudit.h"

#define PAGE_CHUNK 4096u

struct execaudit {
	struct event_base *base;
	struct event *ev;
	int fd;
	struct execaudit_ops ops;
	void *userdata;
	struct seccomp_notif *req; /* sized for the running kernel */
	size_t req_size;
	struct seccomp_notif_resp *resp;
	size_t resp_size;
	struct execaudit_args args; /* one event at a time: no allocation per event */
	uint64_t count;
	bool failed;
};

/* mem_read() - up to @len bytes at @addr of @pid, never across a page boundary: 0 or -errno */
static int mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	/* an address in the other process, never dereferenced here */
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, /* NOLINT */
				.iov_len = len };
	ssize_t k;

	if (len == 0)
		return 0;
	k = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (k < 0)
		return -errno;
	return (size_t)k == len ? 0 : -EFAULT;
}

/* to_page_end() - how many bytes from @addr to the end of its page, at most @max */
static size_t to_page_end(uint64_t addr, size_t max)
{
	size_t n = PAGE_CHUNK - (size_t)(addr % PAGE_CHUNK);

	return MIN(n, max);
}

ssize_t execaudit_read_string(pid_t pid, uint64_t addr, char *buf, size_t size)
{
	size_t got = 0;

	if (size == 0)
		return -EINVAL;
	if (addr == 0)
		return -EFAULT;
	while (got < size - 1) {
		size_t n = to_page_end(addr + got, size - 1 - got);
		char *nul;
		int r;

		r = mem_read(pid, addr + got, buf + got, n);
		if (r < 0) {
			buf[got] = '\0';
			return r;
		}
		nul = memchr(buf + got, '\0', n);
		if (nul)
			return nul - buf;
		got += n;
	}
	buf[size - 1] = '\0';
	return -ENAMETOOLONG;
}

int execaudit_read_args(pid_t pid, uint64_t argv_addr, struct execaudit_args *a)
{
	uint64_t ptrs[PAGE_CHUNK / sizeof(uint64_t)] = {};
	size_t n_ptrs = 0, next = 0, used = 0;
	uint64_t at = argv_addr;

	a->argc = 0;
	a->truncated = false;
	a->error = 0;
	if (argv_addr == 0)
		return 0; /* the kernel runs it with an empty argv */
	if (argv_addr % sizeof(uint64_t) != 0)
		return -EFAULT;

	for (;;) {
		uint64_t p;
		ssize_t k;
		int r;

		if (next == n_ptrs) {
			/* the next pointers, up to the end of their page */
			size_t n = to_page_end(at, sizeof(ptrs));

			r = mem_read(pid, at, ptrs, n);
			if (r < 0) {
				if (a->argc == 0)
					return r;
				a->error = r;
				return 0;
			}
			n_ptrs = n / sizeof(uint64_t);
			next = 0;
			at += n;
		}
		p = ptrs[next++];
		if (p == 0)
			return 0;
		if (a->argc == EXECAUDIT_ARGC_MAX || used == sizeof(a->buf)) {
			a->truncated = true;
			return 0;
		}
		k = execaudit_read_string(pid, p, a->buf + used, sizeof(a->buf) - used);
		if (k == -ENAMETOOLONG) {
			k = (ssize_t)(sizeof(a->buf) - used - 1);
			a->truncated = true;
		} else if (k < 0) {
			if (a->argc == 0)
				return (int)k;
			a->error = (int)k;
			return 0;
		}
		a->off[a->argc] = used;
		a->len[a->argc] = (size_t)k;
		a->argc++;
		used += (size_t)k + 1;
		if (a->truncated)
			return 0;
	}
}

/* ---- the event ----------------------------------------------------------------------------- */

/* proc_status_fields() - PPid and the innermost NSpid of /proc/@pid/status; 0 or -errno */
static int proc_status_fields(pid_t pid, pid_t *ret_ppid, pid_t *ret_nspid)
{
	char path[64], buf[4096], *p;
	ssize_t k;

	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	k = read(fd, buf, sizeof(buf) - 1);
	if (k < 0)
		return -errno;
	buf[k] = '\0';
	if (ret_ppid) {
		p = strstr(buf, "\nPPid:");
		if (!p)
			return -EBADMSG;
		*ret_ppid = (pid_t)strtol(p + 6, NULL, 10);
	}
	p = strstr(buf, "\nNSpid:");
	if (!p)
		return -EBADMSG;
	p += 7;
	{
		char *eol = strchr(p, '\n');
		long v = 0;

		if (eol)
			*eol = '\0';
		/* host pid first, the sandbox's last */
		for (char *tok = strtok(p, " \t"); tok; tok = strtok(NULL, " \t"))
			v = strtol(tok, NULL, 10);
		*ret_nspid = (pid_t)v;
	}
	return 0;
}

/* proc_link() - readlink /proc/@pid/@what into @buf; length or -errno */
static ssize_t proc_link(pid_t pid, const char *what, char *buf, size_t size)
{
	char path[64];
	ssize_t k;

	(void)snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	k = readlink(path, buf, size - 1);
	if (k < 0)
		return -errno;
	buf[k] = '\0';
	return k;
}

/* json_str() - a string member, with "KEY_hex" as well when it is not valid UTF-8 */
static void json_str(struct json_object *o, const char *key, const char *s, size_t n)
{
	json_object_object_add(o, key, json_object_new_string_len(s, (int)n));
	if (!utf8_is_valid(s, n)) {
		_cleanup_free_ char *hex = xmalloc(2 * n + 1);
		char k[32];

		for (size_t i = 0; i < n; i++)
			(void)snprintf(hex + 2 * i, 3, "%02x", (unsigned char)s[i]);
		(void)snprintf(k, sizeof(k), "%s_hex", key);
		json_object_object_add(o, k, json_object_new_string_len(hex, (int)(2 * n)));
	}
}

/*
 * args_json() - "argv", and when an element is not valid UTF-8 (the log replaces such bytes
 * with U+FFFD) "argv_hex": the same array with each such element as hex, the others null
 */
static void args_json(struct json_object *o, const struct execaudit_args *a)
{
	struct json_object *av = json_object_new_array_ext((int)a->argc), *hx = NULL;

	for (size_t i = 0; i < a->argc; i++) {
		const char *s = a->buf + a->off[i];

		json_object_array_add(av, json_object_new_string_len(s, (int)a->len[i]));
		if (!hx && !utf8_is_valid(s, a->len[i])) {
			hx = json_object_new_array_ext((int)a->argc);
			for (size_t j = 0; j < i; j++)
				json_object_array_add(hx, NULL);
		}
		if (hx) {
			if (utf8_is_valid(s, a->len[i])) {
				json_object_array_add(hx, NULL);
			} else {
				_cleanup_free_ char *h = xmalloc(2 * a->len[i] + 1);

				for (size_t j = 0; j < a->len[i]; j++)
					(void)snprintf(h + 2 * j, 3, "%02x", (unsigned char)s[j]);
				json_object_array_add(
					hx, json_object_new_string_len(h, (int)(2 * a->len[i])));
			}
		}
	}
	json_object_object_add(o, "argv", av);
	if (hx)
		json_object_object_add(o, "argv_hex", hx);
	if (a->truncated)
		json_object_object_add(o, "argv_truncated", json_object_new_boolean(true));
}

/*
 * exec_path() - the executable as asked for: @name made absolute against the cwd or, for
 * execveat, against the directory fd (AT_EMPTY_PATH with "": the fd itself, fexecve)
 */
static void exec_path(pid_t pid, bool at, int dirfd, int flags, const char *name, const char *cwd,
		      char *out, size_t size)
{
	char dir[EXECAUDIT_PATH_MAX];

	if (name[0] == '/') {
		(void)snprintf(out, size, "%s", name);
		return;
	}
	while (name[0] == '.' && name[1] == '/')
		name += 2; /* "./configure" is CWD/configure */
	if (!at || dirfd == AT_FDCWD) {
		if (!cwd)
			(void)snprintf(out, size, "%s", name);
		else
			(void)snprintf(out, size, "%s%s%s", cwd, streq(cwd, "/") ? "" : "/", name);
		return;
	}
	{
		char what[32];

		(void)snprintf(what, sizeof(what), "fd/%d", dirfd);
		if (proc_link(pid, what, dir, sizeof(dir)) < 0)
			(void)snprintf(dir, sizeof(dir), "fd:%d", dirfd);
	}
	if (name[0] == '\0' && (flags & AT_EMPTY_PATH))
		(void)snprintf(out, size, "%s", dir);
	else
		(void)snprintf(out, size, "%s%s%s", dir, streq(dir, "/") ? "" : "/", name);
}

/*
 * execaudit_event() - the "exec" event of notification @req; @ret_deny is set when the
 * caller's memory cannot be read at all (the exec must not run unaudited)
 */
static struct json_object *execaudit_event(struct execaudit *ea, const struct seccomp_notif *req,
					   bool *ret_deny)
{
	pid_t hpid = (pid_t)req->pid, hppid = 0, pid = 0, ppid = 0;
	bool at = req->data.nr == __NR_execveat;
	uint64_t name_addr = at ? req->data.args[1] : req->data.args[0];
	uint64_t argv_addr = at ? req->data.args[2] : req->data.args[1];
	char name[EXECAUDIT_PATH_MAX], cwd[EXECAUDIT_PATH_MAX], path[2 * EXECAUDIT_PATH_MAX];
	struct json_object *o = json_object_new_object();
	ssize_t nk, ck;
	int r, rn;

	*ret_deny = false;
	r = proc_status_fields(hpid, &hppid, &pid);
	if (r >= 0 && hppid > 0 && proc_status_fields(hppid, NULL, &ppid) < 0)
		ppid = 0;
	json_object_object_add(o, "pid", json_object_new_int(pid));
	json_object_object_add(o, "ppid", json_object_new_int(ppid));

	r = execaudit_read_args(hpid, argv_addr, &ea->args);
	nk = execaudit_read_string(hpid, name_addr, name, sizeof(name));
	rn = nk < 0 && nk != -ENAMETOOLONG ? (int)nk : 0; /* a cut name is still logged */
	if (r == -EPERM || rn == -EPERM) {
		*ret_deny = true;
		json_object_object_add(o, "error", json_object_new_string(strerror(EPERM)));
	}
	if (r >= 0)
		args_json(o, &ea->args);
	else
		json_object_object_add(o, "argv_error", json_object_new_string(strerror(-r)));
	if (r >= 0 && ea->args.error < 0)
		json_object_object_add(o, "argv_error",
				       json_object_new_string(strerror(-ea->args.error)));

	ck = proc_link(hpid, "cwd", cwd, sizeof(cwd));
	if (ck >= 0)
		json_str(o, "cwd", cwd, (size_t)ck);
	if (rn >= 0) {
		exec_path(hpid, at, (int)req->data.args[0], (int)req->data.args[4], name,
			  ck >= 0 ? cwd : NULL, path, sizeof(path));
		json_str(o, "path", path, strlen(path));
	} else
		json_object_object_add(o, "path_error", json_object_new_string(strerror(-rn)));

	json_object_object_add(o, "host_pid", json_object_new_int(hpid));
	json_object_object_add(o, "host_ppid", json_object_new_int(hppid));
	if (at) {
		json_object_object_add(o, "syscall", json_object_new_string("execveat"));
		json_object_object_add(o, "flags", json_object_new_int((int)req->data.args[4]));
	}
	return o;
}

static void execaudit_fail(struct execaudit *ea, int error)
{
	if (ea->failed)
		return;
	ea->failed = true;
	event_del(ea->ev);
	if (ea->ops.fail)
		ea->ops.fail(ea->userdata, error);
}

static void execaudit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct execaudit *ea = arg;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct json_object *o;
	bool deny;

	(void)what;
	/* RECV would block on a listener whose processes are all gone (POLLHUP alone) */
	if (poll(&pfd, 1, 0) <= 0)
		return;
	if (!(pfd.revents & POLLIN)) {
		if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))
			event_del(ea->ev); /* nothing of the sandbox is left to exec */
		return;
	}

	memset(ea->req, 0, ea->req_size);
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, ea->req) < 0) {
		if (errno == EINTR || errno == ENOENT)
			return; /* the caller was killed meanwhile */
		log_error_errno(errno, "exec audit: Failed to receive a notification: %m");
		execaudit_fail(ea, -errno);
		return;
	}

	o = execaudit_event(ea, ea->req, &deny);
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &ea->req->id) < 0) {
		/* the caller is gone: its exec never happens, and what we read may be another's */
		json_object_put(o);
		return;
	}
	ea->count++;
	if (ea->ops.audit)
		ea->ops.audit(ea->userdata, "exec", o);
	else
		json_object_put(o);

	memset(ea->resp, 0, ea->resp_size);
	ea->resp->id = ea->req->id;
	if (deny) {
		ea->resp->error = -EPERM;
	} else {
		ea->resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	}
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, ea->resp) < 0) {
		if (errno == ENOENT)
			return; /* killed meanwhile */
		if (errno == EINVAL)
			log_error("exec audit: this kernel cannot let a notified call continue "
				  "(SECCOMP_USER_NOTIF_FLAG_CONTINUE, Linux 5.5); paddock does not "
				  "run "
				  "a sandbox unaudited");
		else
			log_error_errno(errno, "exec audit: Failed to answer a notification: %m");
		execaudit_fail(ea, -errno);
	}
}

int execaudit_new(struct event_base *base, int notify_fd, const struct execaudit_ops *ops,
		  void *userdata, struct execaudit **ret)
{
	_cleanup_close_ int fd = notify_fd;
	struct seccomp_notif_sizes sizes = {};
	struct execaudit *ea;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		return log_error_errno(errno, "exec audit: the kernel has no seccomp user "
					      "notification (SECCOMP_GET_NOTIF_SIZES): %m");
	ea = xmalloc(sizeof(*ea));
	*ea = (struct execaudit){ .base = base, .fd = TAKE_FD(fd), .userdata = userdata };
	if (ops)
		ea->ops = *ops;
	/* the kernel's structures may be larger than ours: it writes its own size */
	ea->req_size = MAX((size_t)sizes.seccomp_notif, sizeof(struct seccomp_notif));
	ea->resp_size = MAX((size_t)sizes.seccomp_notif_resp, sizeof(struct seccomp_notif_resp));
	ea->req = xmalloc(ea->req_size);
	ea->resp = xmalloc(ea->resp_size);
	ea->ev = event_new(base, ea->fd, EV_READ | EV_PERSIST, execaudit_cb, ea);
	if (!ea->ev || event_add(ea->ev, NULL) < 0) {
		execaudit_free(ea);
		return log_error_errno(ENOMEM, "exec audit: Failed to watch the listener");
	}
	*ret = ea;
	return 0;
}

uint64_t execaudit_count(const struct execaudit *ea)
{
	return ea ? ea->count : 0;
}

struct execaudit *execaudit_free(struct execaudit *ea)
{
	if (!ea)
		return NULL;
	if (ea->ev)
		event_free(ea->ev);
	safe_close(ea->fd);
	free(ea->req);
	free(ea->resp);
	free(ea);
	return NULL;
}
