/* SPDX-License-Identifier: MIT */
/*
 * run.c - the foreground supervisor of `paddock run`
 *
 * DOC: Theory of Operation
 * One libevent loop owns: the socket to init (setup errors, the pty master, the command's
 * exit), the signals paddock receives, and with a terminal, the relay between the user's
 * terminal and the sandbox's pty. The terminal is put in raw mode only once the sandbox is
 * running and restored on every way out (normal exit, error, signal, and atexit as a last
 * resort), together with the file status flags of stdin and stdout, which are shared with the
 * user's shell.
 *
 * Without a terminal, the command uses paddock's own stdin/stdout/stderr directly (stdin is
 * /dev/null unless -i), so pipes work in both directions at full speed and EOF propagates.
 *
 * Relay buffers are bounded: when the other side's output buffer holds more than RELAY_HIGH
 * bytes, reading stops until it drains (backpressure instead of memory growth).
 *
 * SIGINT, SIGTERM and SIGHUP are forwarded to every process of the sandbox; if the command has
 * not exited KILL_GRACE seconds later, or on a second such signal, init is killed, and with it
 * the whole PID namespace.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <limits.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "ipc/msg.h"
#include "run.h"
#include "supervisor-internal.h"
#include "session.h"
#include "proxy/fakeip.h"
#include "proxy/proxy.h"
#include "proxy/resolver.h"
#include "ports.h"
#include "sshagent.h"
#include "execaudit.h"
#include "sandbox/limits.h"
#include "sandbox/seccomp.h"
#include "sandbox/spawn.h"
#include "sandbox/steps.h"

/* connections through the proxy at once, per sandbox: two fds each in the supervisor */
#define SANDBOX_MAX_CONNS 16384

/* terminal state, global so that atexit() and fatal signal handlers can restore it */
static struct termios saved_tio;
static bool tio_saved;
static int saved_fl[2] = { -1, -1 };

static void terminal_restore(void)
{
	if (tio_saved) {
		(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tio);
		tio_saved = false;
	}
	for (int fd = 0; fd < 2; fd++)
		if (saved_fl[fd] >= 0) {
			(void)fcntl(fd, F_SETFL, saved_fl[fd]);
			saved_fl[fd] = -1;
		}
}

static void fatal_signal(int sig)
{
	terminal_restore();
	(void)signal(sig, SIG_DFL);
	(void)raise(sig);
}

static int terminal_raw(void)
{
	struct termios tio;

	if (tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return -errno;
	tio_saved = true;
	(void)atexit(terminal_restore);
	(void)signal(SIGSEGV, fatal_signal);
	(void)signal(SIGBUS, fatal_signal);
	(void)signal(SIGABRT, fatal_signal);
	tio = saved_tio;
	cfmakeraw(&tio);
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	return RET_NERRNO(tcsetattr(STDIN_FILENO, TCSADRAIN, &tio));
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return;
	if (fd < 2 && saved_fl[fd] < 0)
		saved_fl[fd] = fl;
	(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void run_finish(struct run *r)
{
	r->done = true;
	event_base_loopbreak(r->base);
}

static void winsize_forward(struct run *r)
{
	struct winsize ws;

	if (r->master < 0)
		return;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(r->master, TIOCSWINSZ, &ws);
}

/* relay: user's stdin -> pty */
static void in_read_cb(struct bufferevent *bev, void *arg)
{
	struct run *r = arg;

	if (!r->pty)
		return;
	(void)bufferevent_write_buffer(r->pty, bufferevent_get_input(bev));
	if (evbuffer_get_length(bufferevent_get_output(r->pty)) > RELAY_HIGH)
		(void)bufferevent_disable(bev, EV_READ);
}

static void in_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct run *r = arg;

	/* stdin closed: nothing more to type; the command keeps running */
	(void)bufferevent_disable(bev, EV_READ);
	(void)r;
	(void)what;
}

/* relay: pty -> user's stdout */
static void pty_read_cb(struct bufferevent *bev, void *arg)
{
	struct run *r = arg;

	if (r->sess) {
		struct timespec ts;

		(void)clock_gettime(CLOCK_MONOTONIC, &ts);
		r->last_output_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
		/* a session keeps reading: output goes to the ring and whoever is attached */
		session_output(r->sess, bufferevent_get_input(bev));
		return;
	}
	(void)bufferevent_write_buffer(r->out, bufferevent_get_input(bev));
	if (evbuffer_get_length(bufferevent_get_output(r->out)) > RELAY_HIGH)
		(void)bufferevent_disable(bev, EV_READ);
}

static void pty_write_cb(struct bufferevent *bev, void *arg)
{
	struct run *r = arg;

	/* pty output drained: read the user's input again */
	if (r->in)
		(void)bufferevent_enable(r->in, EV_READ);
	(void)bev;
}

static void pty_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct run *r = arg;

	/* EIO: every slave is closed (the sandbox is gone) */
	(void)what;
	(void)bufferevent_disable(bev, EV_READ);
	if (r->exited && !r->sess) /* a session finishes from its drain timer */
		run_finish(r);
}

static void out_write_cb(struct bufferevent *bev, void *arg)
{
	struct run *r = arg;

	if (r->pty)
		(void)bufferevent_enable(r->pty, EV_READ);
	(void)bev;
}

static void out_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	(void)arg;
}

/* session_relay_start() - a session's pty: read always, written by attached clients */
static void session_relay_start(struct run *r)
{
	set_nonblock(r->master);
	r->pty = bufferevent_socket_new(r->base, r->master, 0);
	if (!r->pty) {
		log_error("Failed to set up the terminal relay");
		return;
	}
	bufferevent_setcb(r->pty, pty_read_cb, NULL, pty_event_cb, r);
	(void)bufferevent_enable(r->pty, EV_READ | EV_WRITE);
}

static void relay_start(struct run *r)
{
	set_nonblock(r->master);
	set_nonblock(STDIN_FILENO);
	set_nonblock(STDOUT_FILENO);
	r->pty = bufferevent_socket_new(r->base, r->master, 0);
	r->in = bufferevent_socket_new(r->base, STDIN_FILENO, 0);
	r->out = bufferevent_socket_new(r->base, STDOUT_FILENO, 0);
	if (!r->pty || !r->in || !r->out) {
		log_error("Failed to set up the terminal relay");
		return;
	}
	bufferevent_setcb(r->pty, pty_read_cb, pty_write_cb, pty_event_cb, r);
	bufferevent_setcb(r->in, in_read_cb, NULL, in_event_cb, r);
	bufferevent_setcb(r->out, NULL, out_write_cb, out_event_cb, r);
	(void)bufferevent_enable(r->pty, EV_READ | EV_WRITE);
	(void)bufferevent_enable(r->in, EV_READ);
	(void)bufferevent_enable(r->out, EV_WRITE);
	winsize_forward(r);
}

static int exit_code_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 125;
}

static void report_setup_error(struct run *r, const struct msg_error *e)
{
	char path[MSG_PATH_MAX + 1];

	memcpy(path, e->path, MSG_PATH_MAX);
	path[MSG_PATH_MAX] = '\0';
	if (e->step == STEP_EXEC) {
		if (e->error == ENOENT) {
			log_error("'%s': command not found in the sandbox", path);
			r->result = 127;
		} else {
			log_error_errno(e->error, "'%s': cannot execute: %m", path);
			r->result = 126;
		}
		return;
	}
	if (e->step == STEP_LANDLOCK && (e->error == ENOSYS || e->error == EOPNOTSUPP))
		log_error("Landlock is not available on this kernel, and paddock does not start "
			  "without it; run 'paddock doctor'");
	else if (*path)
		log_error_errno(e->error, "sandbox setup failed: could not %s '%s': %m",
				init_step_to_string(e->step), path);
	else
		log_error_errno(e->error, "sandbox setup failed: could not %s: %m",
				init_step_to_string(e->step));
	r->result = -(e->error ? e->error : EIO);
}

/* ---- exec audit (docs/design/exec-audit.md) ---- */

static void exec_audit_event(void *userdata, const char *type, struct json_object *fields)
{
	struct run *r = userdata;

	if (r->hooks && r->hooks->audit)
		r->hooks->audit(r->hooks->audit_userdata, type, fields);
	else
		json_object_put(fields);
}

/* exec_audit_fail() - the listener failed: the sandbox must not go on unaudited */
static void exec_audit_fail(void *userdata, int error)
{
	struct run *r = userdata;

	if (r->init_pid > 0)
		(void)kill(r->init_pid, SIGKILL);
	if (!r->exited && r->result == INT_MIN)
		r->result = error < 0 ? error : -EIO;
}

/* exec_audit_start() - MSG_NOTIFY_FD: serve init's listener (@fd taken) */
static void exec_audit_start(struct run *r, int fd)
{
	static const struct execaudit_ops ops = {
		.audit = exec_audit_event,
		.fail = exec_audit_fail,
	};
	int q;

	if (!r->spec->exec_audit || r->execaudit || fd < 0) {
		safe_close(fd);
		log_error("unexpected exec audit listener from the sandbox's init");
		return;
	}
	q = execaudit_new(r->base, fd, &ops, r, &r->execaudit);
	if (q < 0) {
		exec_audit_fail(r, q);
		run_finish(r);
	}
}

static void sock_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	union {
		struct msg_error err;
		struct msg_exit exit;
		struct msg_started started;
		struct msg_listener listener;
		struct msg_exec_state exec;
		struct msg_connect conn;
	} body;
	int mfd = -EBADF, t;

	(void)what;
	t = msg_recv(fd, &body, sizeof(body), &mfd);
	if (t <= 0) {
		if (t < 0)
			log_error_errno(t, "bad message from the sandbox's init: %m");
		event_del(r->sock_ev);
		if (!r->exited && r->result == INT_MIN)
			r->result = -ECHILD; /* reported when init is reaped */
		if (r->sess && r->exited)
			return; /* a session finishes from its drain timer */
		if (r->master < 0 || r->exited)
			run_finish(r);
		return;
	}
	switch (t) {
	case MSG_SETUP_ERROR:
		report_setup_error(r, &body.err);
		run_finish(r);
		break;
	case MSG_PTY:
		if (r->master >= 0 || !r->spec->tty) {
			(void)close(mfd);
			break;
		}
		r->master = mfd;
		break;
	case MSG_LISTENER:
		if (!r->proxy && !(body.listener.kind == LISTENER_SSH_AGENT && r->agent)) {
			(void)close(mfd);
			log_error("unexpected network listener from the sandbox's init");
			break;
		}
		{
			int q = body.listener.kind == LISTENER_TRANSPARENT
					? proxy_add_transparent_listener(r->proxy, mfd)
				: body.listener.kind == LISTENER_HTTP_PROXY
					? proxy_add_http_listener(r->proxy, mfd)
				: body.listener.kind == LISTENER_DNS
					? proxy_add_dns_socket(r->proxy, mfd)
				: body.listener.kind == LISTENER_SSH_AGENT && r->agent
					? sshagent_add_listener(r->agent, mfd)
					: (close(mfd), -EBADMSG);

			if (q < 0) {
				/* without its listeners the capture would blackhole everything */
				log_error_errno(q, "Failed to serve the sandbox's network: %m");
				(void)kill(r->init_pid, SIGKILL);
				r->result = q;
				run_finish(r);
			}
		}
		break;
	case MSG_EXEC_PTY:
	case MSG_EXEC_STARTED:
	case MSG_EXEC_EXIT:
		if (r->sess)
			session_exec_event(r->sess, t, &body.exec, mfd);
		else if (mfd >= 0)
			(void)close(mfd);
		break;
	case MSG_CONNECTED:
		if (r->ports)
			(void)ports_connected(r->ports, body.conn.id, mfd, body.conn.error);
		else if (mfd >= 0)
			(void)close(mfd);
		break;
	case MSG_NOTIFY_FD:
		exec_audit_start(r, mfd);
		break;
	case MSG_STARTED:
		if (r->spec->exec_audit && !r->execaudit) {
			/* cannot happen (init sends the listener first): never run unaudited */
			log_error("no exec audit listener from the sandbox: stopping it");
			exec_audit_fail(r, -EPROTO);
			break;
		}
		r->started = true;
		log_debug("command started as pid %d in the sandbox", body.started.pid);
		if (r->sess) {
			if (r->master >= 0)
				session_relay_start(r);
			session_started(r->sess);
			break;
		}
		if (r->spec->tty && r->master >= 0) {
			if (isatty(STDIN_FILENO) && terminal_raw() < 0)
				log_warning_errno(errno, "Failed to set the terminal to raw mode, "
							 "ignoring: %m");
			relay_start(r);
		}
		break;
	case MSG_EXIT:
		r->status = body.exit.status;
		r->exited = true;
		r->result = exit_code_of(r->status);
		if (r->sess)
			session_main_exit(r->sess, r->status);
		if (r->pty || r->sess) {
			/* let the last output through, then stop */
			struct timeval tv = { 0, DRAIN_MSECS * 1000 };

			event_add(r->drain_timer, &tv);
		} else
			run_finish(r);
		break;
	default:
		if (mfd >= 0)
			(void)close(mfd);
		log_error("unexpected message %d from the sandbox's init", t);
		break;
	}
}

static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	(void)fd;
	(void)what;
	/* a session waits (10 s at most) for the client that started it, and for slow readers */
	if (r->sess && session_holding(r->sess) && r->hold_ticks++ < 100) {
		struct timeval tv = { 0, 100 * 1000 };

		event_add(r->drain_timer, &tv);
		return;
	}
	run_finish(r);
}

static void kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	(void)fd;
	(void)what;
	log_debug("grace period over, killing the sandbox");
	(void)kill(r->init_pid, SIGKILL);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct run *r = arg;
	struct msg_signal m = { .signo = (int)sig };
	struct timeval tv = { KILL_GRACE, 0 };

	(void)what;
	if (sig == SIGWINCH) {
		winsize_forward(r);
		return;
	}
	if (sig == SIGCHLD) {
		int status;

		if (waitpid(r->init_pid, &status, WNOHANG) == r->init_pid) {
			r->init_pid = 0;
			if (!r->exited && r->result == INT_MIN) {
				if (WIFSIGNALED(status))
					log_error("the sandbox's init was killed by signal %d",
						  WTERMSIG(status));
				else
					log_error("the sandbox's init exited unexpectedly");
				r->result = -ECHILD;
			}
			if (!r->pty || !r->exited)
				run_finish(r);
		}
		return;
	}
	if (r->sess && sig == SIGHUP)
		return; /* a session has no terminal of its own to lose */
	if (!r->started) {
		/* nothing runs yet that could want to clean up: stop the start now */
		log_debug("signal %d before the command started, stopping", (int)sig);
		(void)kill(r->init_pid, SIGKILL);
		if (r->result == INT_MIN)
			r->result = 128 + (int)sig;
		run_finish(r);
		return;
	}
	if (++r->signals_seen > 1) {
		(void)kill(r->init_pid, SIGKILL);
		return;
	}
	if (r->sess) {
		/* a session's supervisor told to go: stop the sandbox as `paddock stop` does */
		run_stop(r, KILL_GRACE);
		return;
	}
	log_debug("forwarding signal %d to the sandbox", (int)sig);
	(void)msg_send(r->sock, MSG_SIGNAL, &m, sizeof(m), -1);
	event_add(r->kill_timer, &tv);
}

/* port_connect() - a forwarded connection arrived: ask init for one to the port inside */
static void port_connect(void *userdata, uint16_t port, uint64_t id)
{
	struct run *r = userdata;
	struct msg_connect m = { .id = id, .port = port };

	if (!r->started || r->exited || r->suspended ||
	    msg_send(r->sock, MSG_CONNECT, &m, sizeof(m), -1) < 0)
		(void)ports_connected(r->ports, id, -1, r->suspended ? EAGAIN : ECONNREFUSED);
}

/* port_audit() - the forwards' events, to the caller's audit sink */
static void port_audit(void *userdata, const char *type, struct json_object *fields)
{
	struct run *r = userdata;

	if (r->hooks && r->hooks->audit)
		r->hooks->audit(r->hooks->audit_userdata, type, fields);
	else
		json_object_put(fields);
}

/* ports_setup() - listen on the host for each -p forward before the sandbox starts */
static int ports_setup(struct run *r, const struct supervisor_hooks *hooks)
{
	struct ports_ops ops = {
		.connect = port_connect,
		.audit = port_audit,
	};

	r->ports = ports_new(r->base, &ops, r);
	if (!r->ports)
		return log_error_errno(ENOMEM, "Failed to set up port forwarding");
	for (char **p = hooks ? hooks->publish : NULL; p && *p; p++) {
		_cleanup_free_ char *err = NULL;
		struct port_spec spec, bound;
		int q;

		q = port_spec_parse(*p, &spec, &err);
		if (q >= 0)
			q = ports_add(r->ports, &spec, &bound, &err);
		if (q < 0)
			return log_error_errno(q, "-p %s: %s", *p, err ? err : "invalid");
		if (port_spec_is_exposed(&bound)) {
			char buf[PORT_SPEC_STRLEN];

			log_warning("-p %s: port %u is reachable from the network (%s), not only "
				    "from this machine",
				    *p, (unsigned)bound.host_port, port_spec_format(&bound, buf));
		}
	}
	return 0;
}

int run_send(struct run *r, uint16_t type, const void *body, uint32_t len, const int *fds,
	     size_t n_fds)
{
	if (r->sock < 0 || r->exited)
		return -ESRCH;
	return msg_sendv(r->sock, type, body, len, fds, n_fds);
}

void run_stop(struct run *r, int timeout)
{
	struct msg_signal m = { .signo = SIGTERM };
	struct timeval tv = { timeout, 0 };

	r->stopping = true;
	if (r->init_pid <= 0 || r->exited)
		return;
	if (timeout <= 0 || !r->started) {
		if (r->spec->limits.kill && r->spec->cgroup_fd >= 0)
			(void)limits_cgroup_kill(r->spec->cgroup_fd);
		(void)kill(r->init_pid, SIGKILL);
		return;
	}
	if (r->suspended)
		(void)run_suspend(r, false); /* a stopped process cannot act on SIGTERM */
	(void)msg_send(r->sock, MSG_SIGNAL, &m, sizeof(m), -1);
	event_add(r->kill_timer, &tv);
}

int run_suspend(struct run *r, bool on)
{
	struct msg_signal m = { .signo = on ? SIGSTOP : SIGCONT };
	int q;

	if (!r->started || r->exited)
		return -ESRCH;
	if (r->spec->limits.freeze && r->spec->cgroup_fd >= 0) {
		q = limits_cgroup_freeze(r->spec->cgroup_fd, on, on ? 2000 : 0);
		if (q >= 0 || q == -ETIMEDOUT) {
			r->suspended = on;
			return 0;
		}
	}
	/*
	 * No cgroup freezer here: init stops every other process of its PID namespace with
	 * kill(-1, SIGSTOP), which the kernel applies to all of them under one lock, so no
	 * process forked meanwhile escapes it.
	 */
	q = msg_send(r->sock, MSG_SIGNAL, &m, sizeof(m), -1);
	if (q < 0)
		return q;
	r->suspended = on;
	return 0;
}

/*
 * send_ready() - while init builds the sandbox: run the caller's preparation (placeholders)
 * and say so (MSG_READY: init mounts over them next); then compile the command's seccomp
 * filter and send it (MSG_FILTER), which init needs only when it forks the command, so the
 * compilation overlaps with init's last mounts instead of holding them up
 */
static int send_ready(struct run *r, const struct supervisor_hooks *hooks)
{
	struct seccomp_opts sopts = { .root = r->spec->root };
	_cleanup_close_ int bpf = -EBADF;
	int q;

	if (hooks && hooks->prepare) {
		q = hooks->prepare(hooks->userdata);
		if (q < 0)
			return q;
	}
	q = msg_send(r->sock, MSG_READY, NULL, 0, -1);
	if (q == -EPIPE || q == -ECONNRESET)
		return 0; /* init already failed: its MSG_SETUP_ERROR is waiting on the socket */
	if (q < 0)
		return log_error_errno(q, "Failed to talk to the sandbox's init: %m");
	q = seccomp_export_sandbox(&sopts, &bpf);
	if (q < 0)
		return log_error_errno(q, "Failed to build the seccomp filter: %m; paddock does "
					  "not start without it");
	q = msg_send(r->sock, MSG_FILTER, NULL, 0, bpf);
	if (q < 0 && q != -EPIPE && q != -ECONNRESET)
		return log_error_errno(q, "Failed to talk to the sandbox's init: %m");
	/* EPIPE: init already failed; its MSG_SETUP_ERROR is waiting on the socket */
	return 0;
}

int supervisor_run(const struct sandbox_spec *spec, const struct supervisor_hooks *hooks)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGCHLD };
	struct run r = {
		.spec = spec, .sock = -EBADF, .master = -EBADF, .status = -1, .result = INT_MIN
	};
	struct msg_go go = {};
	const char *what = NULL;
	int q;

	if (spec->tty) {
		struct winsize ws;

		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 ||
		    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
			go.ws_row = ws.ws_row;
			go.ws_col = ws.ws_col;
			go.ws_xpixel = ws.ws_xpixel;
			go.ws_ypixel = ws.ws_ypixel;
		}
	}
	(void)signal(SIGPIPE, SIG_IGN);

	r.base = event_base_new();
	if (!r.base)
		return log_error_errno(ENOMEM, "Failed to create the event loop");
	/* signal events before the child exists, so none is missed */
	for (size_t i = 0; i < ELEMENTSOF(sigs); i++) {
		r.sig_ev[i] = evsignal_new(r.base, sigs[i], signal_cb, &r);
		event_add(r.sig_ev[i], NULL);
	}

	if (spec->net != NET_NONE) {
		struct proxy_opts po = {
			.max_conns = SANDBOX_MAX_CONNS,
			.base = r.base,
			.policy = hooks ? hooks->policy : NULL,
			.audit = hooks ? hooks->audit : NULL,
			.audit_userdata = hooks ? hooks->audit_userdata : NULL,
			.tls = hooks ? hooks->tls : NULL,
		};

		q = fakeip_new(0, &r.fakeip);
		if (q >= 0)
			q = resolver_new(r.base, NULL, &r.resolver);
		if (q < 0) {
			log_error_errno(q, "Failed to set up the host-side resolver: %m");
			goto out;
		}
		po.fakeip = r.fakeip;
		po.resolver = r.resolver;
		q = proxy_new(&po, &r.proxy);
		if (q < 0) {
			log_error_errno(q, "Failed to set up the network proxy: %m");
			goto out;
		}
		if (hooks)
			proxy_set_llm_hosts(r.proxy, hooks->llm_hosts, hooks->n_llm_hosts);
	}

	r.hooks = hooks;
	if (hooks && hooks->ssh_agent) {
		q = sshagent_new(r.base, hooks->ssh_agent_upstream, hooks->ssh_agent, &r.agent);
		if (q < 0) {
			log_error_errno(q, "Failed to set up the ssh-agent filter for '%s': %m",
					hooks->ssh_agent_upstream);
			goto out;
		}
	}
	if (ports_setup(&r, hooks) < 0) {
		q = -EADDRINUSE;
		goto out;
	}
	q = sandbox_spawn(spec, &go, &r.init_pid, &r.sock, &what);
	if (q < 0) {
		if (streq(what, "clone") && (q == -EPERM || q == -ENOSPC || q == -EINVAL))
			log_error_errno(q,
					"Failed to create the sandbox's namespaces: %m; user "
					"namespaces may be disabled or restricted here (AppArmor, "
					"user.max_user_namespaces); run 'paddock doctor'");
		else
			log_error_errno(q,
					"Failed to start the sandbox (%s): %m; run 'paddock "
					"doctor'",
					what);
		goto out;
	}

	/* under memory pressure, the kernel kills the sandbox before us or the host */
	if (limits_oom_protect_child(r.init_pid) < 0)
		log_debug("could not raise the sandbox's oom_score_adj");
	q = send_ready(&r, hooks);
	if (q < 0) {
		(void)kill(r.init_pid, SIGKILL);
		(void)waitpid(r.init_pid, NULL, 0);
		r.init_pid = 0;
		goto out;
	}

	if (hooks && hooks->session) {
		q = session_new(&r, hooks->session, &r.sess);
		if (q < 0) {
			(void)kill(r.init_pid, SIGKILL);
			(void)waitpid(r.init_pid, NULL, 0);
			r.init_pid = 0;
			goto out;
		}
	}
	r.sock_ev = event_new(r.base, r.sock, EV_READ | EV_PERSIST, sock_cb, &r);
	r.kill_timer = evtimer_new(r.base, kill_cb, &r);
	r.drain_timer = evtimer_new(r.base, drain_cb, &r);
	event_add(r.sock_ev, NULL);

	while (!r.done)
		if (event_base_loop(r.base, EVLOOP_ONCE) < 0)
			break;

	/* flush what the command printed last */
	if (r.out) {
		struct evbuffer *b = bufferevent_get_output(r.out);

		if (r.pty)
			(void)evbuffer_add_buffer(b, bufferevent_get_input(r.pty));
		(void)fcntl(STDOUT_FILENO, F_SETFL, fcntl(STDOUT_FILENO, F_GETFL) & ~O_NONBLOCK);
		while (evbuffer_get_length(b) > 0)
			if (evbuffer_write(b, STDOUT_FILENO) <= 0)
				break;
	}
	terminal_restore();

	if (r.init_pid > 0) {
		if (!r.exited)
			(void)kill(r.init_pid, SIGKILL);
		(void)waitpid(r.init_pid, NULL, 0);
	}
	q = r.result == INT_MIN ? -EIO : r.result;
out:
	if (r.pty)
		bufferevent_free(r.pty);
	if (r.in)
		bufferevent_free(r.in);
	if (r.out)
		bufferevent_free(r.out);
	for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
		if (r.sig_ev[i])
			event_free(r.sig_ev[i]);
	if (r.sock_ev)
		event_free(r.sock_ev);
	if (r.kill_timer)
		event_free(r.kill_timer);
	if (r.drain_timer)
		event_free(r.drain_timer);
	if (r.sess) {
		hooks->session->stopped = r.stopping;
		session_free(r.sess);
	}
	r.ports = ports_free(r.ports);
	r.execaudit = execaudit_free(r.execaudit);
	if (r.agent)
		sshagent_free(r.agent);
	safe_close(r.sock);
	safe_close(r.master);
	proxy_free(r.proxy);
	if (r.resolver) {
		resolver_free(r.resolver);
		/* the resolver's cancellations are delivered on the loop: let them through */
		for (int i = 0; i < 4; i++)
			(void)event_base_loop(r.base, EVLOOP_NONBLOCK);
	}
	fakeip_free(r.fakeip);
	event_base_free(r.base);
	terminal_restore();
	return q;
}
