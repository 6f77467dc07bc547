/* SPDX-License-Identifier: MIT */
/*
 * init.c - pid 1 of a sandbox
 *
 * DOC: Theory of Operation
 * init is a forked copy of the supervisor (clone() without CLONE_VM), so it reads the
 * sandbox_spec from its own memory and parses nothing. It is pid 1 of new user, mount, PID,
 * network, IPC, UTS and cgroup namespaces. Its life:
 *
 *  1. wait for MSG_GO: the supervisor has written uid_map and gid_map;
 *  2. set the hostname, bring up loopback, build the root filesystem (mount.c);
 *  3. with a terminal: open the pty master in the sandbox's own devpts (so the command's
 *     ttyname() is right inside) and hand it to the supervisor (MSG_PTY);
 *  4. with exec audit: load the execve/execveat user-notification filter on itself, so that
 *     every process of the sandbox inherits it, and hand its listener to the supervisor
 *     (MSG_NOTIFY_FD); init itself never execs (docs/design/exec-audit.md);
 *  5. fork the command once MSG_FILTER brought its seccomp program (compiled by the
 *     supervisor while we mounted): setsid, controlling terminal, chdir, no_new_privs,
 *     Landlock, capabilities, seccomp (last), execve. A failure in the child is written as
 *     {step, errno} to a CLOEXEC pipe, so "exec succeeded" is exactly "the pipe closed empty";
 *  6. drop its own copies of the user's stdio (the sandbox must not reach the user's terminal
 *     through pid 1), reap every process, and when the command exits, report its wait status
 *     (MSG_EXIT) and exit: the kernel then kills everything left in the PID namespace.
 *
 * init never logs: errors travel to the supervisor as MSG_SETUP_ERROR. It dies with the
 * supervisor (PR_SET_PDEATHSIG), and a signal sent from inside the sandbox cannot stop it:
 * pid 1 ignores signals it has no handler for, and it has none.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "caps.h"
#include "init.h"
#include "ipc/msg.h"
#include "landlock.h"
#include "limits.h"
#include "mount.h"
#include "netcap.h"
#include "seccomp.h"
#include "steps.h"

struct child_error {
	int32_t step;
	int32_t error;
};

/* the command's seccomp program, from MSG_FILTER */
struct ready {
	int sock;
	void *bpf;
	size_t bpf_len;
};

#define BPF_MAX_BYTES (4096 * 8) /* BPF_MAXINSNS instructions of 8 bytes */

/* wait_ready() - block until the supervisor's MSG_READY: the placeholders exist */
static int wait_ready(void *userdata)
{
	struct ready *rd = userdata;
	char dummy[1];
	int fd = -EBADF, r;

	r = msg_recv(rd->sock, dummy, sizeof(dummy), &fd);
	if (fd >= 0)
		(void)close(fd); /* msg_fd_range() allows none: cannot happen */
	if (r != MSG_READY)
		return r < 0 ? r : -EPROTO;
	return 0;
}

/*
 * wait_filter() - block until the supervisor's MSG_FILTER (sent after MSG_READY, compiled
 * while we mounted), and read the program from its sealed memfd
 */
static int wait_filter(struct ready *rd)
{
	struct stat st;
	char dummy[1];
	ssize_t k;
	int fd = -EBADF, r;

	r = msg_recv(rd->sock, dummy, sizeof(dummy), &fd);
	if (r != MSG_FILTER) {
		if (fd >= 0)
			(void)close(fd);
		return r < 0 ? r : -EPROTO;
	}
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > BPF_MAX_BYTES ||
	    st.st_size % 8 != 0) {
		(void)close(fd);
		return -EBADMSG;
	}
	rd->bpf = malloc((size_t)st.st_size);
	if (!rd->bpf) {
		(void)close(fd);
		return -ENOMEM;
	}
	k = pread(fd, rd->bpf, (size_t)st.st_size, 0);
	(void)close(fd);
	if (k != st.st_size)
		return -EIO;
	rd->bpf_len = (size_t)k;
	return 0;
}

static _noreturn_ void init_fail(int sock, int step, int r, const char *path)
{
	struct msg_error e = { .step = step, .error = r < 0 ? -r : r };

	(void)snprintf(e.path, sizeof(e.path), "%s", path ? path : "");
	(void)msg_send(sock, MSG_SETUP_ERROR, &e, sizeof(e), -1);
	_exit(1);
}

/* send_listener() - hand a socket made in our network namespace to the supervisor */
static void send_listener(int sock, int kind, int fd)
{
	struct msg_listener m = { .kind = kind };
	int r = msg_send(sock, MSG_LISTENER, &m, sizeof(m), fd);

	(void)close(fd);
	if (r < 0)
		_exit(1);
}

/*
 * agent_listen() - the socket of --ssh-agent, in the sandbox's own /run: the supervisor
 * serves it (a filter in front of the user's agent); 0600, for the command's uid
 */
static int agent_listen(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = SANDBOX_SSH_AGENT_PATH };
	int fd, r;

	if (mkdir(SANDBOX_SSH_AGENT_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(SANDBOX_SSH_AGENT_PATH, 0600) < 0 || listen(fd, 16) < 0) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	return fd;
}

static int loopback_up(void)
{
	struct ifreq ifr = { 0 };
	int fd, r = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		r = -errno;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (r >= 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		r = -errno;
	(void)close(fd);
	return r;
}

static _noreturn_ void child_fail(int pipe_fd, int step, int r)
{
	struct child_error e = { .step = step, .error = r < 0 ? -r : r };

	(void)!write(pipe_fd, &e, sizeof(e));
	_exit(127);
}

/*
 * exec_command() - execvp(), but the PATH search is done with access() first: glibc's execvp
 * tries execve() in each directory, and with exec audit each failed try would be an "exec"
 * event (exec-audit.md). Whatever the single execve() does not run (a script without #!, a
 * file we may not execute) goes through execvp() as before. No allocation.
 */
static void exec_command(char **argv)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (!strchr(argv[0], '/') && path && *path) {
		for (const char *p = path; p; p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL) {
			size_t n = strcspn(p, ":");
			int k = snprintf(buf, sizeof(buf), "%.*s%s%s", (int)n, p, n ? "/" : "",
					 argv[0]);

			if (k <= 0 || (size_t)k >= sizeof(buf) || access(buf, X_OK) < 0)
				continue;
			execv(buf, argv);
			break;
		}
	}
	execvp(argv[0], argv);
}

/*
 * run_command() - the forked command child: from here to execve() nothing may allocate except
 * libseccomp's filter build, and nothing logs.
 */
static _noreturn_ void run_command(const struct sandbox_spec *spec, char **argv, const char *slave,
				   const int *stdio, const struct ready *rd, int pipe_fd)
{
	struct landlock_rule rules[64];
	size_t n_rules = 0;
	sigset_t all;
	int r;

	sigfillset(&all);
	for (int sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	(void)sigprocmask(SIG_UNBLOCK, &all, NULL);

	if (setsid() < 0)
		child_fail(pipe_fd, STEP_SETSID, -errno);
	if (slave) {
		int fd = open(slave, O_RDWR | O_CLOEXEC);

		if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0)
			child_fail(pipe_fd, STEP_TTY, -errno);
		if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			child_fail(pipe_fd, STEP_STDIO, -errno);
		(void)close(fd);
	} else if (stdio) {
		/* an exec without a terminal: the client's own descriptors */
		for (int i = 0; i < 3; i++)
			if (dup2(stdio[i], i) < 0)
				child_fail(pipe_fd, STEP_STDIO, -errno);
	} else if (!spec->interactive) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd < 0 || dup2(fd, 0) < 0)
			child_fail(pipe_fd, STEP_STDIO, -errno);
		(void)close(fd);
	}

	if (chdir(spec->workspace) < 0)
		child_fail(pipe_fd, STEP_CHDIR, -errno);

	/*
	 * Without a cgroup: RLIMIT_NPROC (since Linux 5.14 it counts this uid's processes in this
	 * user namespace only, so it is per sandbox; the kernel does not apply it to the host's
	 * root) and RLIMIT_DATA per process (limits.c says why not RLIMIT_AS).
	 */
	r = limits_apply_rlimits(&spec->limits);
	if (r < 0)
		child_fail(pipe_fd, STEP_RLIMIT, r);

	if (spec->nofile_soft) {
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
			rl.rlim_cur = MIN((rlim_t)spec->nofile_soft, rl.rlim_max);
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
	}

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(pipe_fd, STEP_NO_NEW_PRIVS, -errno);

	rules[n_rules++] = (struct landlock_rule){ "/", LANDLOCK_LEVEL_RO };
	rules[n_rules++] = (struct landlock_rule){ "/dev", LANDLOCK_LEVEL_DEV };
	rules[n_rules++] = (struct landlock_rule){ "/proc", LANDLOCK_LEVEL_WRITE_FILE };
	for (char **p = spec->rw_paths; p && *p && n_rules < ELEMENTSOF(rules); p++)
		rules[n_rules++] = (struct landlock_rule){ *p, LANDLOCK_LEVEL_RW };
	r = landlock_restrict_self(rules, n_rules, NULL);
	if (r < 0)
		child_fail(pipe_fd, STEP_LANDLOCK, r);

	r = caps_drop_for_exec(spec->root);
	if (r < 0)
		child_fail(pipe_fd, STEP_CAPS, r);

	/*
	 * exec audit: we inherited init's "not dumpable", and our mm still belongs to the host's
	 * user namespace, so the supervisor could not read the argv of our own execve below.
	 * Dumpable again, after Landlock: a Landlock domain cannot ptrace outside itself, and
	 * this one is new, so no other process of the sandbox can attach before execve resets it.
	 */
	if (spec->exec_audit && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		child_fail(pipe_fd, STEP_EXEC_AUDIT, -errno);

	/* compiled by the supervisor while we built the sandbox; loading is all that is left */
	r = seccomp_load_bpf(rd->bpf, rd->bpf_len);
	if (r < 0)
		child_fail(pipe_fd, STEP_SECCOMP, r);

	environ = spec->envp;
	exec_command(argv);
	child_fail(pipe_fd, STEP_EXEC, -errno);
}

/*
 * start_command() - fork the command child and wait until it has exec'd: the pipe closes empty
 * on success, or carries the step and errno that failed
 */
static int start_command(const struct sandbox_spec *spec, char **argv, const char *slave,
			 const int *stdio, const struct ready *rd, int sock, pid_t *ret_pid,
			 int *ret_step)
{
	struct child_error ce;
	int pipefd[2];
	ssize_t k;
	pid_t pid;

	*ret_step = STEP_FORK;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		(void)close(pipefd[0]);
		(void)close(pipefd[1]);
		return -errno;
	}
	if (pid == 0) {
		(void)close(pipefd[0]);
		(void)close(sock);
		run_command(spec, argv, slave, stdio, rd, pipefd[1]);
	}
	(void)close(pipefd[1]);
	do
		k = read(pipefd[0], &ce, sizeof(ce));
	while (k < 0 && errno == EINTR);
	(void)close(pipefd[0]);
	if (k == (ssize_t)sizeof(ce)) {
		(void)waitpid(pid, NULL, 0);
		*ret_step = ce.step;
		return -(ce.error ? ce.error : EIO);
	}
	*ret_pid = pid;
	return 0;
}

/* open_pty() - a new pty master in the sandbox's devpts, with its slave's path */
static int open_pty(char *slave, size_t size, uint16_t rows, uint16_t cols)
{
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (master < 0)
		return -errno;
	if (unlockpt(master) < 0 || ptsname_r(master, slave, size) != 0) {
		int r = -errno;

		(void)close(master);
		return r;
	}
	if (rows && cols) {
		struct winsize ws = { .ws_row = rows, .ws_col = cols };

		(void)ioctl(master, TIOCSWINSZ, &ws);
	}
	return master;
}

/* the commands started by `paddock exec`, by the supervisor's id */
#define EXEC_MAX 256
static struct {
	pid_t pid;
	uint32_t id;
} execs[EXEC_MAX];

/*
 * exec_start() - MSG_EXEC: another command in the sandbox, with exactly the isolation of the
 * first (it is forked by the same code); answered with MSG_EXEC_STARTED
 */
static void exec_start(const struct sandbox_spec *spec, const struct ready *rd, int sock,
		       struct msg_exec *m, const int *fds, size_t n_fds)
{
	static char *argv[MSG_EXEC_ARGC_MAX + 1];
	struct msg_exec_state st = { .id = m->id };
	char slave[64];
	size_t argc = 0, slot = EXEC_MAX;
	int step = STEP_EXEC, r;
	pid_t pid = 0;

	if (m->args_len == 0 || m->args_len > sizeof(m->args) || m->argc == 0 ||
	    m->argc > MSG_EXEC_ARGC_MAX || m->args[m->args_len - 1] != '\0' ||
	    (m->tty ? n_fds != 0 : n_fds != 3)) {
		r = -EBADMSG;
		goto fail;
	}
	for (size_t off = 0; off < m->args_len && argc < MSG_EXEC_ARGC_MAX; argc++) {
		argv[argc] = m->args + off;
		off += strlen(m->args + off) + 1;
	}
	argv[argc] = NULL;
	if (argc != m->argc) {
		r = -EBADMSG;
		goto fail;
	}
	for (size_t i = 0; i < EXEC_MAX; i++)
		if (execs[i].pid == 0) {
			slot = i;
			break;
		}
	if (slot == EXEC_MAX) {
		r = -EAGAIN;
		step = STEP_FORK;
		goto fail;
	}
	if (m->tty) {
		struct msg_exec_state ps = { .id = m->id };
		int master = open_pty(slave, sizeof(slave), m->ws_row, m->ws_col);

		if (master < 0) {
			r = master;
			step = STEP_PTY;
			goto fail;
		}
		r = msg_send(sock, MSG_EXEC_PTY, &ps, sizeof(ps), master);
		(void)close(master);
		if (r < 0)
			_exit(1);
	}
	r = start_command(spec, argv, m->tty ? slave : NULL, m->tty ? NULL : fds, rd, sock, &pid,
			  &step);
	if (r < 0)
		goto fail;
	execs[slot].pid = pid;
	execs[slot].id = m->id;
	st.pid = pid;
	(void)msg_send(sock, MSG_EXEC_STARTED, &st, sizeof(st), -1);
	return;
fail:
	st.step = step;
	st.error = -r;
	(void)msg_send(sock, MSG_EXEC_STARTED, &st, sizeof(st), -1);
}

static void exec_reaped(int sock, pid_t pid, int status)
{
	for (size_t i = 0; i < EXEC_MAX; i++)
		if (execs[i].pid == pid) {
			struct msg_exec_state st = { .id = execs[i].id,
						     .pid = pid,
						     .status = status };

			execs[i].pid = 0;
			(void)msg_send(sock, MSG_EXEC_EXIT, &st, sizeof(st), -1);
			return;
		}
}

static void exec_signal(const struct msg_exec_signal *m)
{
	if (m->signo <= 0 || m->signo >= NSIG)
		return;
	for (size_t i = 0; i < EXEC_MAX; i++)
		if (execs[i].pid > 0 && execs[i].id == m->id) {
			/* its own session and process group since setsid() */
			(void)kill(-execs[i].pid, m->signo);
			return;
		}
}

static int connect_to(int family, uint16_t port)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, err = 0;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if ((family == AF_INET ? connect(fd, (struct sockaddr *)&a4, sizeof(a4))
			       : connect(fd, (struct sockaddr *)&a6, sizeof(a6))) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		err = errno;
		(void)close(fd);
		return -err;
	}
	/* loopback answers at once, unless the listener's backlog is full: wait a little */
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&pfd, 1, 2000) <= 0) {
		(void)close(fd);
		return -ETIMEDOUT;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		(void)close(fd);
		return -err;
	}
	return fd;
}

/*
 * connect_inside() - MSG_CONNECT: the socket factory for port forwards: a connection to
 * 127.0.0.1:PORT, else [::1]:PORT, in the sandbox's network namespace
 */
static void connect_inside(int sock, const struct msg_connect *m)
{
	struct msg_connect a = { .id = m->id, .port = m->port };
	int fd = -EINVAL;

	if (m->port > 0) {
		fd = connect_to(AF_INET, m->port);
		if (fd == -ECONNREFUSED) {
			int fd6 = connect_to(AF_INET6, m->port);

			/* keep the IPv4 error when there is no IPv6 listener either */
			if (fd6 != -EAFNOSUPPORT && fd6 != -ECONNREFUSED && fd6 != -EADDRNOTAVAIL)
				fd = fd6;
		}
	}
	if (fd < 0)
		a.error = -fd;
	(void)msg_send(sock, MSG_CONNECTED, &a, sizeof(a), fd);
	if (fd >= 0)
		(void)close(fd);
}

static void drop_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		(void)dup2(fd, i);
	if (fd > 2)
		(void)close(fd);
}

void init_main(const struct sandbox_spec *spec, int sock)
{
	struct ready rd = {};
	struct msg_go go;
	char slave_buf[64], *slave = NULL;
	const char *err_path = NULL;
	int step = STEP_NONE, sfd, fd, r;
	sigset_t mask;
	pid_t cmd;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	(void)prctl(PR_SET_NAME, "paddock-init");

	/*
	 * We are a copy of the supervisor: drop what it holds. Its signal handlers (libevent's)
	 * would make pid 1 accept signals from inside the sandbox and forward them into the
	 * supervisor's loop through the inherited signal socket; with every disposition back
	 * to default, pid 1 ignores whatever the sandbox sends it. Its descriptors (event loop,
	 * the user's terminal beyond stdio) must not reach the sandbox either.
	 */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)signal(sig, SIG_DFL);
	if (sock > 3 && dup3(sock, 3, O_CLOEXEC) == 3) {
		(void)close(sock);
		sock = 3;
	}
	(void)close_range(sock + 1, ~0U, 0);
	if (sock > 3)
		(void)close_range(3, sock - 1, 0);
	rd.sock = sock;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	(void)sigprocmask(SIG_BLOCK, &mask, NULL);

	r = msg_recv(sock, &go, sizeof(go), &fd);
	if (r != MSG_GO)
		_exit(1); /* the supervisor is gone or broken: nothing to report to */
	/*
	 * Only now: a non-dumpable process's /proc files belong to root, and the supervisor had
	 * to write our uid_map and gid_map there. From here on the sandbox cannot ptrace or read
	 * the memory of its init (which holds every capability of the namespace).
	 */
	(void)prctl(PR_SET_DUMPABLE, 0);

	if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
		init_fail(sock, STEP_HOSTNAME, -errno, spec->hostname);
	r = loopback_up();
	if (r < 0)
		init_fail(sock, STEP_LOOPBACK, r, "lo");
	if (spec->net != NET_NONE) {
		struct netcap_fds nf;
		const char *what = NULL;

		r = netcap_setup(&nf, &what);
		if (r < 0)
			init_fail(sock, STEP_NETWORK, r, what);
		send_listener(sock, LISTENER_TRANSPARENT, nf.transparent);
		send_listener(sock, LISTENER_HTTP_PROXY, nf.http_proxy);
		send_listener(sock, LISTENER_DNS, nf.dns);
	}
	r = mount_build_root(spec, wait_ready, &rd, &step, &err_path);
	if (r < 0)
		init_fail(sock, step, r, err_path);
	if (spec->exec_audit) {
		/* before the first fork: every process of the sandbox is under it (exec-audit.md) */
		r = seccomp_install_exec_notify();
		if (r < 0)
			init_fail(sock, STEP_EXEC_AUDIT, r, NULL);
		fd = r;
		r = msg_send(sock, MSG_NOTIFY_FD, NULL, 0, fd);
		(void)close(fd); /* the supervisor holds the only listener */
		if (r < 0)
			_exit(1);
	}
	if (spec->ssh_agent) {
		r = agent_listen();
		if (r < 0)
			init_fail(sock, STEP_SSH_AGENT, r, SANDBOX_SSH_AGENT_PATH);
		send_listener(sock, LISTENER_SSH_AGENT, r);
	}

	if (spec->tty) {
		int master = open_pty(slave_buf, sizeof(slave_buf), go.ws_row, go.ws_col);

		if (master < 0)
			init_fail(sock, STEP_PTY, master, "/dev/ptmx");
		r = msg_send(sock, MSG_PTY, NULL, 0, master);
		if (r < 0)
			_exit(1);
		(void)close(master);
		slave = slave_buf;
	}

	r = wait_filter(&rd);
	if (r < 0)
		init_fail(sock, STEP_GO, r, NULL);
	r = start_command(spec, spec->argv, slave, NULL, &rd, sock, &cmd, &step);
	if (r < 0)
		init_fail(sock, step, r, step == STEP_EXEC ? spec->argv[0] : NULL);
	{
		struct msg_started s = { .pid = cmd };

		(void)msg_send(sock, MSG_STARTED, &s, sizeof(s), -1);
	}
	drop_stdio();

	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		_exit(1);
	for (;;) {
		struct pollfd pfd[2] = { { .fd = sock, .events = POLLIN },
					 { .fd = sfd, .events = POLLIN } };

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			int status;
			pid_t p;

			while (read(sfd, &si, sizeof(si)) > 0)
				;
			while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
				if (p == cmd) {
					struct msg_exit e = { .status = status };

					(void)msg_send(sock, MSG_EXIT, &e, sizeof(e), -1);
					_exit(0);
				}
				exec_reaped(sock, p, status);
			}
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			static union {
				struct msg_signal sig;
				struct msg_exec exec;
				struct msg_exec_signal esig;
				struct msg_connect conn;
			} body;
			int fds[IPC_MAX_FDS];
			size_t n_fds = 0;

			r = msg_recvv(sock, &body, sizeof(body), fds, ELEMENTSOF(fds), &n_fds);
			if (r <= 0)
				_exit(1); /* supervisor gone or broken: everything dies */
			switch (r) {
			case MSG_SIGNAL:
				if (body.sig.signo > 0 && body.sig.signo < NSIG)
					(void)kill(-1, body.sig.signo);
				break;
			case MSG_EXEC:
				exec_start(spec, &rd, sock, &body.exec, fds, n_fds);
				break;
			case MSG_EXEC_SIGNAL:
				exec_signal(&body.esig);
				break;
			case MSG_CONNECT:
				connect_inside(sock, &body.conn);
				break;
			default:
				break;
			}
			for (size_t i = 0; i < n_fds; i++)
				(void)close(fds[i]);
		}
	}
}
