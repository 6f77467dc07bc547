/* SPDX-License-Identifier: MIT */
/*
 * status.c - what a sandbox's agent is doing, for any agent, with no plugin
 *
 * DOC: Theory of Operation
 * Every signal comes from outside the agent: the proxy knows whether a request to one of the
 * agent's model APIs (llm_hosts) is open (thinking); /proc knows whether the agent's child
 * processes use the CPU (running) and whether the process in the terminal's foreground sleeps
 * waiting for terminal input (waiting, once the terminal has been silent for 2 s). A shell or
 * a Python prompt sleeps in read(2) on the terminal; a Node agent sleeps in epoll_wait with
 * the terminal among the descriptors of its epoll set, which /proc/PID/fdinfo lists ("tfd:").
 * Nothing here blocks: a look reads a few small /proc files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fd.h"
#include "common/macro.h"
#include "status.h"

static const char *const names[_AGENT_STATE_MAX] = {
	[AGENT_IDLE] = "idle",         [AGENT_WAITING] = "waiting", [AGENT_RUNNING] = "running",
	[AGENT_THINKING] = "thinking", [AGENT_EXITED] = "exited",
};

static const char *const symbols[_AGENT_STATE_MAX] = {
	[AGENT_IDLE] = "·",     [AGENT_WAITING] = "?", [AGENT_RUNNING] = "▶",
	[AGENT_THINKING] = "…", [AGENT_EXITED] = "■",
};

const char *agent_state_to_string(enum agent_state s)
{
	return s < _AGENT_STATE_MAX ? names[s] : "unknown";
}

const char *agent_state_symbol(enum agent_state s)
{
	return s < _AGENT_STATE_MAX ? symbols[s] : "?";
}

/* proc_stat() - state and utime+stime of @pid; false when it is gone */
static bool proc_stat(pid_t pid, char *ret_state, uint64_t *ret_ticks)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	const char *p;
	char *end = NULL;
	unsigned long long ut = 0, st = 0;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file_at(AT_FDCWD, path, 4096, &buf, NULL) < 0)
		return false;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return false;
	*ret_state = p[2];
	/* after the state (field 3): utime and stime are fields 14 and 15 */
	for (int field = 3; field < 14 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return false;
	ut = strtoull(p + 1, &end, 10);
	if (*end != ' ')
		return false;
	st = strtoull(end + 1, NULL, 10);
	*ret_ticks = ut + st;
	return true;
}

/* listening_inodes() - the inodes of the TCP sockets in LISTEN state in @pid's netns */
static size_t listening_inodes(pid_t pid, unsigned long *ret, size_t max)
{
	static const char *const files[] = { "tcp", "tcp6" };
	size_t n = 0;

	for (size_t f = 0; f < ELEMENTSOF(files); f++) {
		_cleanup_free_ char *buf = NULL;
		char path[64], *save = NULL;

		(void)snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid, files[f]);
		if (read_file_at(AT_FDCWD, path, 1 << 20, &buf, NULL) < 0)
			continue;
		for (char *l = strtok_r(buf, "\n", &save); l && n < max;
		     l = strtok_r(NULL, "\n", &save)) {
			const char *fld = l;
			unsigned long st, ino;

			/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
			for (int k = 0; k < 3 && fld; k++)
				fld = strchr(fld + strspn(fld, " "), ' ');
			if (!fld)
				continue;
			st = strtoul(fld, NULL, 16);
			for (int k = 0; k < 6 && fld; k++)
				fld = strchr(fld + strspn(fld, " "), ' ');
			if (!fld)
				continue;
			ino = strtoul(fld, NULL, 10);
			if (st == 0x0A && ino)
				ret[n++] = ino;
		}
	}
	return n;
}

/* is_server() - @pid holds one of the listening sockets: a dev server, not work in progress */
static bool is_server(pid_t pid, const unsigned long *listen, size_t n_listen)
{
	char path[64], link[64];
	DIR *d;
	bool found = false;

	if (n_listen == 0)
		return false;
	(void)snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return false;
	for (struct dirent *de; !found && (de = readdir(d));) {
		unsigned long ino;
		ssize_t k;

		if (dot_or_dot_dot(de->d_name))
			continue;
		k = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (k <= 0)
			continue;
		link[k] = '\0';
		if (strncmp(link, "socket:[", 8) != 0)
			continue;
		ino = strtoul(link + 8, NULL, 10);
		for (size_t i = 0; i < n_listen; i++)
			if (listen[i] == ino)
				found = true;
	}
	(void)closedir(d);
	return found;
}

/*
 * walk() - the descendants of @pid that are at work: any but the long-lived servers (a
 * process listening on a TCP port) and their own children
 */
static unsigned walk(pid_t pid, int depth, /* NOLINT(misc-no-recursion): depth <= 32 */
		     const unsigned long *listen, size_t n_listen)
{
	char path[320];
	unsigned n = 0;
	DIR *d;

	if (depth > 32)
		return 0;
	(void)snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	for (struct dirent *de; (de = readdir(d));) {
		_cleanup_free_ char *kids = NULL;
		char *save = NULL;

		if (dot_or_dot_dot(de->d_name))
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%d/task/%s/children", (int)pid,
			       de->d_name);
		if (read_file_at(AT_FDCWD, path, 65536, &kids, NULL) < 0)
			continue;
		for (char *t = strtok_r(kids, " \n", &save); t && n < 256;
		     t = strtok_r(NULL, " \n", &save)) {
			pid_t c = (pid_t)strtol(t, NULL, 10);
			uint64_t k = 0;
			char state = 0;

			if (c <= 0 || !proc_stat(c, &state, &k) || state == 'Z')
				continue;
			if (is_server(c, listen, n_listen))
				continue;
			n += 1 + walk(c, depth + 1, listen, n_listen);
		}
	}
	(void)closedir(d);
	return n;
}

/* fd_is_tty() - /proc/PID/fd/FD is the terminal @tty_rdev */
static bool fd_is_tty(pid_t pid, long fd, dev_t tty_rdev)
{
	char path[64];
	struct stat st;

	(void)snprintf(path, sizeof(path), "/proc/%d/fd/%ld", (int)pid, fd);
	return stat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == tty_rdev;
}

/* epoll_has_tty() - the epoll instance @epfd of @pid watches the terminal */
static bool epoll_has_tty(pid_t pid, long epfd, dev_t tty_rdev)
{
	_cleanup_free_ char *info = NULL;
	char path[64];
	char *save = NULL;

	(void)snprintf(path, sizeof(path), "/proc/%d/fdinfo/%ld", (int)pid, epfd);
	if (read_file_at(AT_FDCWD, path, 1 << 20, &info, NULL) < 0)
		return false;
	for (char *l = strtok_r(info, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		const char *t = strstr(l, "tfd:");
		long fd;

		if (!t)
			continue;
		fd = strtol(t + 4, NULL, 10);
		if (fd >= 0 && fd_is_tty(pid, fd, tty_rdev))
			return true;
	}
	return false;
}

bool agent_blocked_on_tty(pid_t pid, dev_t tty_rdev)
{
	_cleanup_free_ char *sc = NULL;
	char path[64], *end = NULL;
	long nr, a0;
	char state = 0;
	uint64_t ticks;

	if (pid <= 0 || !proc_stat(pid, &state, &ticks) || state != 'S')
		return false;
	(void)snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	/* needs ptrace access (same uid, dumpable): a process we cannot read is not waiting */
	if (read_file_at(AT_FDCWD, path, 512, &sc, NULL) < 0)
		return false;
	nr = strtol(sc, &end, 10);
	if (end == sc || strncmp(end, " 0x", 3) != 0)
		return false;
	a0 = (long)strtoul(end + 3, NULL, 16);
	switch (nr) {
	case SYS_read:
	case SYS_readv:
		return fd_is_tty(pid, a0, tty_rdev);
	case SYS_epoll_wait:
	case SYS_epoll_pwait:
#ifdef SYS_epoll_pwait2
	case SYS_epoll_pwait2:
#endif
		return epoll_has_tty(pid, a0, tty_rdev);
	case SYS_poll:
	case SYS_ppoll:
	case SYS_select:
	case SYS_pselect6:
		/* the set is in the process's memory: a terminal on stdin is what it waits on */
		return fd_is_tty(pid, 0, tty_rdev);
	default:
		return false;
	}
}

enum agent_state agent_state_compute(struct agent_probe *p)
{
	unsigned long listen[256];
	size_t n_listen;

	if (p->thinking)
		return AGENT_THINKING;
	n_listen = listening_inodes(p->agent, listen, ELEMENTSOF(listen));
	if (walk(p->agent, 0, listen, n_listen) > 0)
		return AGENT_RUNNING;
	if (p->silent_ms >= AGENT_WAIT_MS &&
	    (agent_blocked_on_tty(p->fg > 0 ? p->fg : p->agent, p->tty_rdev) ||
	     (p->fg != p->agent && agent_blocked_on_tty(p->agent, p->tty_rdev))))
		return AGENT_WAITING;
	return AGENT_IDLE;
}
