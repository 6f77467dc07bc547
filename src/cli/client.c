/* SPDX-License-Identifier: MIT */
/*
 * client.c - the CLI's side of a supervisor's control socket
 *
 * DOC: Theory of Operation
 * A request is one packet and its answer one packet (CTL_OK or CTL_ERROR). Attach and exec
 * with a terminal are a loop over poll(): the user's keystrokes go out as CTL_DATA (the
 * terminal in raw mode, so ctrl-c is a byte for the sandbox, not a signal for us), the
 * sandbox's output comes back as CTL_DATA, window size changes (SIGWINCH, through a signalfd)
 * as CTL_RESIZE. The detach keys are matched here, across reads: a partial match is held
 * back and sent on if the next key does not complete it.
 *
 * An exec without a terminal passes our own stdin (or /dev/null), stdout and stderr to the
 * sandbox, so pipes work at full speed with nothing in between; we wait for the exit status
 * and forward SIGINT, SIGTERM and SIGHUP to the command.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "client.h"
#include "common/cleanup.h"
#include "common/fd.h"
#include "common/log.h"
#include "common/macro.h"
#include "ipc/ctl.h"
#include "ipc/msg.h"
#include "store/sandbox.h"

int exit_code_of_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 125;
}

int ctl_connect(const char *name)
{
	_cleanup_free_ char *path = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -EBADF;
	int r;

	r = sandbox_ctl_path(name, &path);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return errno == ENOENT || errno == ECONNREFUSED ? -ESRCH : -errno;
	return TAKE_FD(fd);
}

static int recv_one(int fd, void *body, size_t cap, size_t *ret_len)
{
	int fds[IPC_MAX_FDS];
	size_t n = 0;
	int t = ipc_recv(fd, 0, body, cap, ret_len, fds, ELEMENTSOF(fds), &n);

	for (size_t i = 0; i < n; i++)
		(void)close(fds[i]);
	return t;
}

static int report_error(const char *name, const unsigned char *body, size_t len, int *ret_code)
{
	struct ctl_error e = { .code = 125 };

	if (len >= sizeof(e))
		memcpy(&e, body, sizeof(e));
	log_error("sandbox '%s': %.*s", name, len > sizeof(e) ? (int)(len - sizeof(e)) : 0,
		  (const char *)body + sizeof(e));
	if (ret_code)
		*ret_code = e.code >= 1 && e.code <= 255 ? e.code : 125;
	return -EREMOTEIO;
}

static int proto_error(const char *name, int t)
{
	if (t == -EPROTO)
		return log_error_errno(EPROTO,
				       "sandbox '%s': its supervisor speaks another protocol "
				       "version (paddock was upgraded while it ran); stop it with "
				       "an older paddock, or kill it, and start it again",
				       name);
	if (t == 0)
		return log_error_errno(ECONNRESET,
				       "sandbox '%s': its supervisor closed the "
				       "connection",
				       name);
	return log_error_errno(t, "sandbox '%s': bad answer from its supervisor: %m", name);
}

int ctl_request(int fd, const char *name, uint16_t type, const void *body, size_t len,
		struct json_object **ret_json, int *ret_code)
{
	static unsigned char buf[CTL_BODY_MAX + 1];
	size_t n = 0;
	int t;

	if (ret_json)
		*ret_json = NULL;
	t = msg_sendv(fd, type, body, (uint32_t)len, NULL, 0);
	if (t < 0)
		return log_error_errno(t, "sandbox '%s': cannot talk to its supervisor: %m", name);
	t = recv_one(fd, buf, CTL_BODY_MAX, &n);
	if (t == CTL_ERROR)
		return report_error(name, buf, n, ret_code);
	if (t != CTL_OK)
		return proto_error(name, t < 0 ? t : t == 0 ? 0 : -EBADMSG);
	if (ret_json && n > 0) {
		buf[n] = '\0';
		*ret_json = json_tokener_parse((const char *)buf);
	}
	return 0;
}

int detach_keys_parse(const char *s, unsigned char *ret, size_t *ret_n)
{
	size_t n = 0;
	const char *p = s;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (n >= 8)
			return -EINVAL;
		if (len == 1)
			ret[n++] = (unsigned char)p[0];
		else if (len == 6 && strncmp(p, "ctrl-", 5) == 0) {
			char c = p[5];

			if (c >= 'a' && c <= 'z')
				ret[n++] = (unsigned char)(c - 'a' + 1);
			else if (c >= 'A' && c <= 'Z')
				ret[n++] = (unsigned char)(c - 'A' + 1);
			else if (c == '@')
				ret[n++] = 0;
			else if (c >= '[' && c <= '_')
				ret[n++] = (unsigned char)(c - '[' + 27);
			else
				return -EINVAL;
		} else
			return -EINVAL;
		if (!end)
			break;
		p = end + 1;
		if (!*p)
			return -EINVAL;
	}
	if (n == 0)
		return -EINVAL;
	*ret_n = n;
	return 0;
}

/* the terminal, restored on every way out */
static struct termios saved_tio;
static bool tio_saved;

static void tio_restore(void)
{
	if (tio_saved) {
		(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tio);
		tio_saved = false;
	}
}

static void tio_raw(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return;
	tio_saved = true;
	(void)atexit(tio_restore);
	t = saved_tio;
	cfmakeraw(&t);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &t);
}

static void winsize_of_terminal(struct ctl_winsize *ws)
{
	struct winsize w;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &w) == 0 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0) {
		ws->rows = w.ws_row;
		ws->cols = w.ws_col;
	}
}

/*
 * relay_loop() - the terminal loop shared by attach and exec -t: until CTL_EXIT (its status
 * in @ret_code), the supervisor going away, or the detach keys
 */
static int relay_loop(int fd, const char *name, bool input, const unsigned char *detach,
		      size_t n_detach, bool *ret_detached, int *ret_code)
{
	static unsigned char body[CTL_BODY_MAX];
	unsigned char held[8];
	size_t n_held = 0;
	sigset_t mask;
	_cleanup_close_ int sfd = -EBADF;
	bool stdin_open = input;
	int r = 0;

	if (ret_detached)
		*ret_detached = false;
	sigemptyset(&mask);
	sigaddset(&mask, SIGWINCH);
	(void)sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	tio_raw();

	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};

		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (pfd[2].revents & POLLIN) {
			struct signalfd_siginfo si;
			struct ctl_winsize ws = {};

			while (read(sfd, &si, sizeof(si)) > 0)
				;
			winsize_of_terminal(&ws);
			(void)msg_sendv(fd, CTL_RESIZE, &ws, sizeof(ws), NULL, 0);
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			unsigned char in[4096], out[4096 + 8];
			size_t n_out = 0;
			ssize_t k = read(STDIN_FILENO, in, sizeof(in));

			if (k <= 0) {
				if (k < 0 && (errno == EINTR || errno == EAGAIN))
					continue;
				stdin_open = false; /* nothing more to type; keep watching */
				continue;
			}
			for (ssize_t i = 0; i < k; i++) {
				if (n_detach > 0 && in[i] == detach[n_held]) {
					held[n_held++] = in[i];
					if (n_held == n_detach) {
						if (n_out)
							(void)msg_sendv(fd, CTL_DATA, out,
									(uint32_t)n_out, NULL, 0);
						tio_restore();
						*ret_detached = true;
						*ret_code = 0;
						return 0;
					}
					continue;
				}
				memcpy(out + n_out, held, n_held);
				n_out += n_held;
				n_held = 0;
				if (n_detach > 0 && in[i] == detach[0]) {
					held[n_held++] = in[i];
					continue;
				}
				out[n_out++] = in[i];
				if (n_out >= 4096) {
					(void)msg_sendv(fd, CTL_DATA, out, (uint32_t)n_out, NULL,
							0);
					n_out = 0;
				}
			}
			if (n_out)
				(void)msg_sendv(fd, CTL_DATA, out, (uint32_t)n_out, NULL, 0);
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			size_t n = 0;
			int t = recv_one(fd, body, sizeof(body), &n);

			if (t == CTL_DATA) {
				(void)loop_write(STDOUT_FILENO, body, n);
				continue;
			}
			tio_restore();
			if (t == CTL_EXIT && n == sizeof(int32_t)) {
				int32_t st;

				memcpy(&st, body, sizeof(st));
				*ret_code = exit_code_of_status(st);
				return 0;
			}
			if (t == CTL_ERROR)
				return report_error(name, body, n, ret_code);
			if (t == 0) {
				log_error("sandbox '%s': its supervisor went away", name);
				*ret_code = 125;
				return -ECONNRESET;
			}
			return proto_error(name, t < 0 ? t : -EBADMSG);
		}
	}
	tio_restore();
	return r;
}

int ctl_attach(int fd, const char *name, const unsigned char *detach, size_t n_detach,
	       bool *ret_detached, int *ret_code)
{
	struct ctl_winsize ws = {};
	int r;

	winsize_of_terminal(&ws);
	r = msg_sendv(fd, CTL_ATTACH, &ws, sizeof(ws), NULL, 0);
	if (r < 0)
		return log_error_errno(r, "sandbox '%s': cannot talk to its supervisor: %m", name);
	return relay_loop(fd, name, true, detach, n_detach, ret_detached, ret_code);
}

int ctl_exec(int fd, const char *name, char **argv, bool tty, bool interactive, int *ret_code)
{
	static unsigned char body[CTL_BODY_MAX];
	struct ctl_exec ce = { .tty = tty, .interactive = interactive };
	struct ctl_winsize ws = {};
	size_t len = sizeof(ce);
	int fds[3], r;
	_cleanup_close_ int devnull = -EBADF, sfd = -EBADF;
	sigset_t mask;

	for (char **a = argv; *a; a++) {
		size_t n = strlen(*a) + 1;

		if (len + n > sizeof(ce) + MSG_EXEC_ARGS_MAX || ce.argc >= MSG_EXEC_ARGC_MAX)
			return log_error_errno(E2BIG,
					       "exec: the command line is too long "
					       "(at most %d bytes)",
					       MSG_EXEC_ARGS_MAX);
		memcpy(body + len, *a, n);
		len += n;
		ce.argc++;
	}
	if (tty) {
		winsize_of_terminal(&ws);
		ce.rows = ws.rows;
		ce.cols = ws.cols;
	}
	memcpy(body, &ce, sizeof(ce));
	if (tty)
		r = msg_sendv(fd, CTL_EXEC, body, (uint32_t)len, NULL, 0);
	else {
		if (!interactive) {
			devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (devnull < 0)
				return log_error_errno(errno, "exec: /dev/null: %m");
		}
		fds[0] = interactive ? STDIN_FILENO : devnull;
		fds[1] = STDOUT_FILENO;
		fds[2] = STDERR_FILENO;
		r = msg_sendv(fd, CTL_EXEC, body, (uint32_t)len, fds, 3);
	}
	if (r < 0)
		return log_error_errno(r, "sandbox '%s': cannot talk to its supervisor: %m", name);
	if (tty)
		return relay_loop(fd, name, interactive, NULL, 0, NULL, ret_code);

	/* no terminal: forward the signals that would stop a local command, wait for the end */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	(void)sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	for (;;) {
		struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN },
					 { .fd = sfd, .events = POLLIN } };
		size_t n = 0;
		int t;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				int32_t sig = (int32_t)si.ssi_signo;

				(void)msg_sendv(fd, CTL_SIGNAL, &sig, sizeof(sig), NULL, 0);
			}
		}
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		t = recv_one(fd, body, sizeof(body), &n);
		if (t == CTL_EXIT && n == sizeof(int32_t)) {
			int32_t st;

			memcpy(&st, body, sizeof(st));
			*ret_code = exit_code_of_status(st);
			return 0;
		}
		if (t == CTL_ERROR)
			return report_error(name, body, n, ret_code);
		if (t == CTL_DATA || t == CTL_OK)
			continue;
		if (t == 0) {
			log_error("sandbox '%s': its supervisor went away", name);
			*ret_code = 125;
			return -ECONNRESET;
		}
		return proto_error(name, t < 0 ? t : -EBADMSG);
	}
}
