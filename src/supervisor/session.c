/* SPDX-License-Identifier: MIT */
/*
 * session.c - a session supervisor's control socket, its clients and the output ring
 *
 * DOC: Theory of Operation
 * `paddock start` leaves a supervisor in the background that owns the command's pty master.
 * Everything the command prints is read at once (the command never blocks on a missing
 * reader) into a ring of the last RING_MAX bytes and sent to every attached client. Clients
 * connect to the control socket, are checked (SO_PEERCRED: the same uid), and ask for one
 * thing each: INFO, ATTACH, EXEC, STOP, SUSPEND, RESUME, PORT_*.
 *
 * An attached client gets the ring first (so it sees the recent screen), then the live
 * output; what it sends is typed into the pty. The window size follows the client that
 * attached or resized last; on attach the size is nudged so that full-screen programs
 * redraw. Detaching is the client closing its socket: the command never notices.
 *
 * Clients never slow the command down: each has its own output queue (an evbuffer of whole
 * packets), and a client whose queue passes CLIENT_QUEUE_MAX (it stopped reading) is
 * disconnected rather than buffered without bound.
 *
 * `exec` is a client too: init forks the new command with the same isolation; without a
 * terminal it gets the client's own stdin/stdout/stderr (passed with SCM_RIGHTS through us),
 * with one it gets a new pty whose master we relay like an attach. The client gets the exit
 * status; a client that goes away takes its command's process group with it (SIGHUP).
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "ipc/ctl.h"
#include "ipc/msg.h"
#include "ports.h"
#include "proxy/proxy.h"
#include "status.h"
#include "proxy/addr.h"
#include "sandbox/steps.h"
#include "session.h"
#include "store/sandbox.h"
#include "supervisor-internal.h"

#define RING_MAX         (128 * 1024)
#define CLIENT_QUEUE_MAX (8 * 1024 * 1024)
#define CLIENTS_MAX      64

enum client_mode {
	CLIENT_NEW,
	CLIENT_ATTACHED,
	CLIENT_EXEC,
};

struct client {
	struct session *s;
	struct client *next;
	int fd;
	struct event *rev, *wev;
	struct evbuffer *out;
	enum client_mode mode;
	bool closing; /* close once the queue is flushed */

	/* exec */
	uint32_t exec_id;
	bool exec_tty, exec_running, exec_exited, exec_pty_eof;
	int exec_status;
	struct bufferevent *exec_pty;
	struct event *exec_drain;
	char exec_name[64]; /* argv[0], for messages */
};

struct session {
	struct run *r;
	struct supervisor_session *opts;
	struct event *listen_ev;
	struct evbuffer *ring;
	struct client *clients;
	size_t n_clients;
	uint32_t next_exec_id;
	time_t started;
	uint64_t started_ms; /* CLOCK_MONOTONIC */
	bool main_exited;
	int main_status;
	bool attached_once;
};

static void client_free(struct client *c);

static void client_queue(struct client *c, uint16_t type, const void *body, size_t len)
{
	struct msg_hdr hdr = { .type = type,
			       .version = PADDOCK_PROTO_VERSION,
			       .len = (uint32_t)len };

	if (c->fd < 0)
		return;
	(void)evbuffer_add(c->out, &hdr, sizeof(hdr));
	if (len)
		(void)evbuffer_add(c->out, body, len);
	event_add(c->wev, NULL);
}

static void client_queue_data(struct client *c, const unsigned char *p, size_t n)
{
	while (n > 0) {
		size_t k = n < CTL_DATA_MAX ? n : CTL_DATA_MAX;

		client_queue(c, CTL_DATA, p, k);
		p += k;
		n -= k;
	}
}

static void client_error(struct client *c, int code, const char *fmt, ...) _printf_(3, 4);
static void client_error(struct client *c, int code, const char *fmt, ...)
{
	char buf[1024];
	struct ctl_error e = { .code = code };
	va_list ap;
	int n;

	memcpy(buf, &e, sizeof(e));
	va_start(ap, fmt);
	/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is above */
	n = vsnprintf(buf + sizeof(e), sizeof(buf) - sizeof(e), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(buf) - sizeof(e))
		n = (int)(sizeof(buf) - sizeof(e) - 1);
	client_queue(c, CTL_ERROR, buf, sizeof(e) + (size_t)n);
	c->closing = true;
}

static void client_ok_json(struct client *c, struct json_object *o)
{
	const char *t = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "";

	client_queue(c, CTL_OK, t, strlen(t));
	json_object_put(o);
}

/* client_flush() - send whole packets until the socket is full; -errno when it failed */
static int client_flush(struct client *c, int flags)
{
	while (evbuffer_get_length(c->out) >= sizeof(struct msg_hdr)) {
		struct msg_hdr hdr;
		size_t total;
		unsigned char *p;
		ssize_t k;

		(void)evbuffer_copyout(c->out, &hdr, sizeof(hdr));
		total = sizeof(hdr) + hdr.len;
		p = evbuffer_pullup(c->out, (ssize_t)total);
		if (!p)
			return -EIO;
		k = send(c->fd, p, total, flags | MSG_NOSIGNAL);
		if (k < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		(void)evbuffer_drain(c->out, total);
	}
	return 0;
}

static void client_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	(void)fd;
	(void)what;
	if (client_flush(c, MSG_DONTWAIT) < 0) {
		client_free(c);
		return;
	}
	if (evbuffer_get_length(c->out) > 0) {
		event_add(c->wev, NULL);
		return;
	}
	if (c->closing)
		client_free(c);
}

static void set_winsize(int master, uint16_t rows, uint16_t cols, bool nudge)
{
	struct winsize ws = { .ws_row = rows, .ws_col = cols };

	if (master < 0 || rows == 0 || cols == 0)
		return;
	if (nudge) {
		/* a different size first: full-screen programs get SIGWINCH and redraw */
		struct winsize w2 = ws;

		w2.ws_col = cols > 1 ? cols - 1 : cols + 1;
		(void)ioctl(master, TIOCSWINSZ, &w2);
	}
	(void)ioctl(master, TIOCSWINSZ, &ws);
}

/* ports_json() - the forwards as "HOSTIP:HOSTPORT->PORT" strings */
static struct json_object *ports_json(struct run *r)
{
	struct json_object *a = json_object_new_array();
	_cleanup_free_ struct port_info *l = NULL;
	size_t n = ports_list(r->ports, &l);

	for (size_t i = 0; i < n; i++) {
		char buf[PORT_SPEC_STRLEN + 32];

		(void)addr_to_string(&l[i].spec.host, buf);
		(void)snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ":%u->%u",
			       (unsigned)l[i].spec.host_port, (unsigned)l[i].spec.port);
		json_object_array_add(a, json_object_new_string(buf));
	}
	return a;
}

/* agent_json() - what the agent does now (SPEC.md section 7) */
static struct json_object *agent_json(struct session *s)
{
	struct run *r = s->r;
	struct json_object *o = json_object_new_object();
	enum agent_state st;

	if (s->main_exited || r->exited) {
		st = AGENT_EXITED;
		json_object_object_add(o, "code",
				       json_object_new_int(WIFEXITED(s->main_status)
								   ? WEXITSTATUS(s->main_status)
							   : WIFSIGNALED(s->main_status)
								   ? 128 + WTERMSIG(s->main_status)
								   : 125));
	} else if (r->suspended || r->master < 0)
		st = AGENT_IDLE;
	else {
		struct agent_probe p = {};
		struct timespec ts;
		uint64_t now;
		int n = 0;

		(void)clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
		p.agent = tcgetsid(r->master);
		p.fg = tcgetpgrp(r->master);
		if (ioctl(r->master, TIOCGPTN, &n) == 0)
			p.tty_rdev = makedev(136 + ((unsigned)n >> 8), (unsigned)n & 0xff);
		p.silent_ms = now - (r->last_output_ms ? r->last_output_ms : s->started_ms);
		p.thinking = r->proxy && proxy_llm_busy(r->proxy);
		st = p.agent > 0 ? agent_state_compute(&p) : AGENT_IDLE;
	}
	json_object_object_add(o, "state", json_object_new_string(agent_state_to_string(st)));
	json_object_object_add(o, "symbol", json_object_new_string(agent_state_symbol(st)));
	return o;
}

static struct json_object *session_info(struct session *s)
{
	struct run *r = s->r;
	struct json_object *o = json_object_new_object(), *argv = json_object_new_array();
	size_t attached = 0;

	for (struct client *c = s->clients; c; c = c->next)
		if (c->mode == CLIENT_ATTACHED)
			attached++;
	for (char **a = r->spec->argv; a && *a; a++)
		json_object_array_add(argv, json_object_new_string(*a));
	json_object_object_add(o, "name", json_object_new_string(s->opts->name));
	json_object_object_add(o, "state",
			       json_object_new_string(r->suspended ? "suspended" : "running"));
	json_object_object_add(
		o, "suspend_method",
		json_object_new_string(r->spec->limits.freeze ? "cgroup.freeze" : "SIGSTOP"));
	json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(o, "started", json_object_new_int64((int64_t)s->started));
	json_object_object_add(o, "attached", json_object_new_int((int)attached));
	json_object_object_add(o, "workspace", json_object_new_string(r->spec->workspace));
	json_object_object_add(o, "command", argv);
	json_object_object_add(o, "ports", ports_json(r));
	json_object_object_add(o, "agent", agent_json(s));
	return o;
}

static void exec_send_exit(struct client *c)
{
	int32_t st = c->exec_status;

	client_queue(c, CTL_EXIT, &st, sizeof(st));
	c->closing = true;
}

static void exec_pty_read_cb(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n = evbuffer_get_length(in);

	client_queue_data(c, evbuffer_pullup(in, -1), n);
	(void)evbuffer_drain(in, n);
	if (evbuffer_get_length(c->out) > CLIENT_QUEUE_MAX)
		(void)bufferevent_disable(bev, EV_READ); /* the client reads slowly: so do we */
}

static void exec_pty_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;

	(void)what;
	(void)bufferevent_disable(bev, EV_READ);
	c->exec_pty_eof = true;
	if (c->exec_exited && !c->closing)
		exec_send_exit(c);
}

static void exec_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	(void)fd;
	(void)what;
	if (!c->closing)
		exec_send_exit(c);
}

static void handle_exec(struct client *c, const unsigned char *body, size_t len, int *fds,
			size_t n_fds)
{
	struct session *s = c->s;
	_cleanup_free_ struct msg_exec *m = NULL;
	struct ctl_exec ce;
	size_t args_len;
	int q;

	if (len < sizeof(ce)) {
		client_error(c, 125, "malformed exec request");
		return;
	}
	memcpy(&ce, body, sizeof(ce));
	args_len = len - sizeof(ce);
	if (args_len == 0 || args_len > MSG_EXEC_ARGS_MAX || body[len - 1] != '\0' ||
	    ce.argc == 0 || ce.argc > MSG_EXEC_ARGC_MAX || (ce.tty ? n_fds != 0 : n_fds != 3)) {
		client_error(c, 125, "malformed exec request");
		return;
	}
	if (s->main_exited) {
		client_error(c, 125, "the sandbox is stopping");
		return;
	}
	if (s->r->suspended) {
		client_error(c, 125, "the sandbox is suspended; 'paddock resume %s' first",
			     s->opts->name);
		return;
	}
	m = xcalloc(1, sizeof(*m));
	m->id = ++s->next_exec_id;
	m->tty = ce.tty ? 1 : 0;
	m->interactive = ce.interactive ? 1 : 0;
	m->ws_row = ce.rows;
	m->ws_col = ce.cols;
	m->argc = ce.argc;
	m->args_len = (uint32_t)args_len;
	memcpy(m->args, body + sizeof(ce), args_len);
	c->mode = CLIENT_EXEC;
	c->exec_id = m->id;
	(void)snprintf(c->exec_name, sizeof(c->exec_name), "%.63s", m->args);
	c->exec_tty = ce.tty;
	q = run_send(s->r, MSG_EXEC, m, sizeof(*m), fds, n_fds);
	if (q < 0)
		client_error(c, 125, "the sandbox did not take the command: %s", strerror(-q));
}

static void handle_attach(struct client *c, const unsigned char *body, size_t len)
{
	struct session *s = c->s;
	struct ctl_winsize ws;
	struct evbuffer_ptr pos;
	struct evbuffer_iovec v[8];
	int n;

	if (len != sizeof(ws)) {
		client_error(c, 125, "malformed attach request");
		return;
	}
	memcpy(&ws, body, sizeof(ws));
	c->mode = CLIENT_ATTACHED;
	s->attached_once = true;
	/* replay the recent output, then go live */
	(void)evbuffer_ptr_set(s->ring, &pos, 0, EVBUFFER_PTR_SET);
	for (;;) {
		n = evbuffer_peek(s->ring, -1, &pos, v, (int)ELEMENTSOF(v));
		if (n <= 0)
			break;
		for (int i = 0; i < n && i < (int)ELEMENTSOF(v); i++)
			client_queue_data(c, v[i].iov_base, v[i].iov_len);
		break;
	}
	if (s->main_exited) {
		int32_t st = s->main_status;

		client_queue(c, CTL_EXIT, &st, sizeof(st));
		c->closing = true;
		return;
	}
	set_winsize(s->r->master, ws.rows, ws.cols, true);
}

static void handle_data(struct client *c, const unsigned char *body, size_t len)
{
	struct bufferevent *to = c->mode == CLIENT_ATTACHED ? c->s->r->pty
				 : c->mode == CLIENT_EXEC   ? c->exec_pty
							    : NULL;

	if (!to || len == 0)
		return;
	/* typing into a terminal that does not read: drop rather than grow without bound */
	if (evbuffer_get_length(bufferevent_get_output(to)) > RELAY_HIGH)
		return;
	(void)bufferevent_write(to, body, len);
}

static void handle_resize(struct client *c, const unsigned char *body, size_t len)
{
	struct ctl_winsize ws;

	if (len != sizeof(ws))
		return;
	memcpy(&ws, body, sizeof(ws));
	if (c->mode == CLIENT_ATTACHED)
		set_winsize(c->s->r->master, ws.rows, ws.cols, false);
	else if (c->mode == CLIENT_EXEC && c->exec_pty)
		set_winsize(bufferevent_getfd(c->exec_pty), ws.rows, ws.cols, false);
}

static void handle_suspend(struct client *c, bool on)
{
	struct session *s = c->s;
	struct json_object *o;
	int q;

	if (s->r->suspended == on) {
		client_ok_json(c, NULL);
		return;
	}
	q = run_suspend(s->r, on);
	if (q < 0) {
		client_error(c, 125, "could not %s the sandbox: %s", on ? "suspend" : "resume",
			     strerror(-q));
		return;
	}
	if (s->opts->state_dir) {
		o = json_object_new_object();
		json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
		json_object_object_add(o, "started", json_object_new_int64((int64_t)s->started));
		(void)sandbox_state_set(s->opts->state_dir, on ? "suspended" : "running", o);
	}
	o = json_object_new_object();
	json_object_object_add(
		o, "method",
		json_object_new_string(s->r->spec->limits.freeze ? "cgroup.freeze" : "SIGSTOP"));
	client_ok_json(c, o);
}

static void handle_port(struct client *c, bool add, const unsigned char *body, size_t len)
{
	struct run *r = c->s->r;
	_cleanup_free_ char *err = NULL;
	char text[PORT_SPEC_INPUT_MAX + 1];
	struct port_spec spec, bound;
	int q;

	if (len == 0 || len > PORT_SPEC_INPUT_MAX || memchr(body, '\0', len)) {
		client_error(c, 125, "malformed port request");
		return;
	}
	memcpy(text, body, len);
	text[len] = '\0';
	q = port_spec_parse(text, &spec, &err);
	if (q < 0) {
		client_error(c, 125, "%s", err ? err : "invalid port");
		return;
	}
	if (add) {
		struct json_object *o = json_object_new_object();
		char buf[PORT_SPEC_STRLEN];

		q = ports_add(r->ports, &spec, &bound, &err);
		if (q < 0) {
			json_object_put(o);
			client_error(c, 125, "%s", err ? err : strerror(-q));
			return;
		}
		json_object_object_add(o, "bound",
				       json_object_new_string(port_spec_format(&bound, buf)));
		json_object_object_add(o, "exposed",
				       json_object_new_boolean(port_spec_is_exposed(&bound)));
		client_ok_json(c, o);
		return;
	}
	/* rm: "HOSTPORT" or "HOSTPORT:PORT" as the user wrote it */
	q = ports_remove(r->ports, spec.host_port, strchr(text, ':') ? spec.port : 0, &err);
	if (q < 0) {
		client_error(c, 125, "%s", err ? err : strerror(-q));
		return;
	}
	client_ok_json(c, NULL);
}

static void client_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	static unsigned char body[CTL_BODY_MAX];
	int fds[IPC_MAX_FDS];
	size_t len = 0, n_fds = 0;
	int t;

	(void)what;
	t = ipc_recv(fd, MSG_DONTWAIT, body, sizeof(body), &len, fds, ELEMENTSOF(fds), &n_fds);
	if (t == -EAGAIN)
		return;
	if (t == -EPROTO) {
		client_error(c, 125, "protocol version mismatch");
		return;
	}
	if (t <= 0) {
		client_free(c);
		return;
	}
	if (t != CTL_EXEC)
		for (size_t i = 0; i < n_fds; i++)
			(void)close(fds[i]);
	if (c->closing)
		return;
	switch (t) {
	case CTL_INFO:
		client_ok_json(c, session_info(c->s));
		c->closing = true;
		break;
	case CTL_ATTACH:
		if (c->mode == CLIENT_NEW)
			handle_attach(c, body, len);
		break;
	case CTL_EXEC:
		if (c->mode == CLIENT_NEW)
			handle_exec(c, body, len, fds, n_fds);
		for (size_t i = 0; i < n_fds; i++)
			(void)close(fds[i]);
		break;
	case CTL_DATA:
		handle_data(c, body, len);
		break;
	case CTL_RESIZE:
		handle_resize(c, body, len);
		break;
	case CTL_SIGNAL:
		if (c->mode == CLIENT_EXEC && len == sizeof(int32_t)) {
			struct msg_exec_signal m = { .id = c->exec_id };

			memcpy(&m.signo, body, sizeof(int32_t));
			if (m.signo > 0 && m.signo < NSIG)
				(void)run_send(c->s->r, MSG_EXEC_SIGNAL, &m, sizeof(m), NULL, 0);
		}
		break;
	case CTL_STOP: {
		int32_t timeout = KILL_GRACE;

		if (len == sizeof(timeout))
			memcpy(&timeout, body, sizeof(timeout));
		log_debug("stop requested (%d s before SIGKILL)", (int)timeout);
		run_stop(c->s->r, timeout < 0 ? 0 : timeout);
		client_ok_json(c, NULL);
		break;
	}
	case CTL_SUSPEND:
	case CTL_RESUME:
		handle_suspend(c, t == CTL_SUSPEND);
		c->closing = true;
		break;
	case CTL_PORT_ADD:
	case CTL_PORT_RM:
		handle_port(c, t == CTL_PORT_ADD, body, len);
		c->closing = true;
		break;
	default:
		client_error(c, 125, "unknown request %d", t);
		break;
	}
	if (c->closing && evbuffer_get_length(c->out) == 0)
		client_free(c);
}

static void client_free(struct client *c)
{
	struct session *s = c->s;

	for (struct client **p = &s->clients; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	s->n_clients--;
	if (c->mode == CLIENT_EXEC && c->exec_running && !c->exec_exited) {
		/* its client is gone: hang up on the command, as a closed terminal would */
		struct msg_exec_signal m = { .id = c->exec_id, .signo = SIGHUP };

		(void)run_send(s->r, MSG_EXEC_SIGNAL, &m, sizeof(m), NULL, 0);
	}
	if (c->exec_pty)
		bufferevent_free(c->exec_pty);
	if (c->exec_drain)
		event_free(c->exec_drain);
	if (c->rev)
		event_free(c->rev);
	if (c->wev)
		event_free(c->wev);
	if (c->out)
		evbuffer_free(c->out);
	safe_close(c->fd);
	free(c);
}

static void listen_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct session *s = arg;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	int fd;

	(void)what;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != getuid()) {
		log_debug("control socket: refusing a client of another user");
		(void)close(fd);
		return;
	}
	if (s->n_clients >= CLIENTS_MAX) {
		(void)close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->s = s;
	c->fd = fd;
	c->out = evbuffer_new();
	c->rev = event_new(s->r->base, fd, EV_READ | EV_PERSIST, client_read_cb, c);
	c->wev = event_new(s->r->base, fd, EV_WRITE, client_write_cb, c);
	if (!c->out || !c->rev || !c->wev) {
		client_free(c);
		return;
	}
	c->next = s->clients;
	s->clients = c;
	s->n_clients++;
	event_add(c->rev, NULL);
}

void session_output(struct session *s, struct evbuffer *data)
{
	size_t n = evbuffer_get_length(data), ring;
	const unsigned char *p;

	if (n == 0)
		return;
	p = evbuffer_pullup(data, (ssize_t)n);
	for (struct client *c = s->clients, *next; c; c = next) {
		next = c->next;
		if (c->mode != CLIENT_ATTACHED || c->closing)
			continue;
		client_queue_data(c, p, n);
		if (evbuffer_get_length(c->out) > CLIENT_QUEUE_MAX) {
			log_debug("control socket: a client stopped reading, disconnecting it");
			client_free(c);
		}
	}
	(void)evbuffer_remove_buffer(data, s->ring, n);
	ring = evbuffer_get_length(s->ring);
	if (ring > RING_MAX)
		(void)evbuffer_drain(s->ring, ring - RING_MAX);
}

void session_started(struct session *s)
{
	struct json_object *o = json_object_new_object();

	if (s->opts->state_dir) {
		json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
		json_object_object_add(o, "started", json_object_new_int64((int64_t)s->started));
		if (sandbox_state_set(s->opts->state_dir, "running", o) < 0)
			log_warning("Failed to record the state of sandbox '%s'", s->opts->name);
	} else
		json_object_put(o);
	if (s->opts->ready_fd >= 0) {
		(void)!write(s->opts->ready_fd, "1", 1);
		s->opts->ready_fd = safe_close(s->opts->ready_fd);
	}
	/* let go of the terminal of the CLI that started us: from now on, we log to a file */
	if (s->opts->log_fd >= 0) {
		(void)dup2(s->opts->log_fd, STDOUT_FILENO);
		(void)dup2(s->opts->log_fd, STDERR_FILENO);
	}
}

void session_main_exit(struct session *s, int status)
{
	int32_t st = status;

	s->main_exited = true;
	s->main_status = status;
	/* recorded before any client hears of it: `ls` right after `attach` returns is exact */
	if (s->opts->state_dir) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "status",
				       json_object_new_int(WIFEXITED(status) ? WEXITSTATUS(status)
							   : WIFSIGNALED(status)
								   ? 128 + WTERMSIG(status)
								   : 125));
		(void)sandbox_state_set(s->opts->state_dir, s->r->stopping ? "stopped" : "exited",
					o);
	}
	for (struct client *c = s->clients; c; c = c->next)
		if (c->mode == CLIENT_ATTACHED && !c->closing) {
			client_queue(c, CTL_EXIT, &st, sizeof(st));
			c->closing = true;
		}
}

bool session_holding(struct session *s)
{
	if (s->opts->wait_attach && !s->attached_once)
		return true;
	for (struct client *c = s->clients; c; c = c->next)
		if (evbuffer_get_length(c->out) > 0)
			return true;
	return false;
}

static struct client *client_by_exec(struct session *s, uint32_t id)
{
	for (struct client *c = s->clients; c; c = c->next)
		if (c->mode == CLIENT_EXEC && c->exec_id == id)
			return c;
	return NULL;
}

void session_exec_event(struct session *s, int type, const struct msg_exec_state *st, int fd)
{
	struct client *c = client_by_exec(s, st->id);

	if (!c) {
		/* its client left; the command got SIGHUP (or will get it with its pty closed) */
		safe_close(fd);
		return;
	}
	switch (type) {
	case MSG_EXEC_PTY:
		if (c->exec_pty || fd < 0) {
			safe_close(fd);
			break;
		}
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		c->exec_pty = bufferevent_socket_new(s->r->base, fd, BEV_OPT_CLOSE_ON_FREE);
		if (!c->exec_pty) {
			(void)close(fd);
			client_error(c, 125, "out of memory");
			break;
		}
		bufferevent_setcb(c->exec_pty, exec_pty_read_cb, NULL, exec_pty_event_cb, c);
		(void)bufferevent_enable(c->exec_pty, EV_READ | EV_WRITE);
		break;
	case MSG_EXEC_STARTED:
		if (st->pid > 0) {
			c->exec_running = true;
			break;
		}
		if (st->step == STEP_EXEC && st->error == ENOENT)
			client_error(c, 127, "'%s': command not found in the sandbox",
				     c->exec_name);
		else if (st->step == STEP_EXEC)
			client_error(c, 126, "'%s': cannot execute: %s", c->exec_name,
				     strerror(st->error));
		else
			client_error(c, 125, "could not start the command (%s): %s",
				     init_step_to_string(st->step), strerror(st->error));
		break;
	case MSG_EXEC_EXIT:
		c->exec_exited = true;
		c->exec_status = st->status;
		if (!c->exec_tty || c->exec_pty_eof) {
			exec_send_exit(c);
			break;
		}
		/* let the last output through the pty first */
		c->exec_drain = evtimer_new(s->r->base, exec_drain_cb, c);
		if (c->exec_drain) {
			struct timeval tv = { 0, DRAIN_MSECS * 1000 };

			event_add(c->exec_drain, &tv);
		} else
			exec_send_exit(c);
		break;
	default:
		safe_close(fd);
		break;
	}
}

int session_new(struct run *r, struct supervisor_session *opts, struct session **ret)
{
	struct session *s = xcalloc(1, sizeof(*s));

	s->r = r;
	s->opts = opts;
	s->started = time(NULL);
	{
		struct timespec ts;

		(void)clock_gettime(CLOCK_MONOTONIC, &ts);
		s->started_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	}
	s->ring = evbuffer_new();
	s->listen_ev = event_new(r->base, opts->ctl_fd, EV_READ | EV_PERSIST, listen_cb, s);
	if (!s->ring || !s->listen_ev) {
		session_free(s);
		return log_error_errno(ENOMEM, "Failed to set up the control socket");
	}
	event_add(s->listen_ev, NULL);
	*ret = s;
	return 0;
}

void session_free(struct session *s)
{
	if (!s)
		return;
	/* what the clients are owed (the exit status): one last, bounded, try */
	for (struct client *c = s->clients; c; c = c->next) {
		struct timeval tv = { 0, 200 * 1000 };

		(void)fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);
		(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		(void)client_flush(c, 0);
	}
	for (struct client *c = s->clients, *next; c; c = next) {
		next = c->next;
		client_free(c);
	}
	if (s->listen_ev)
		event_free(s->listen_ev);
	if (s->ring)
		evbuffer_free(s->ring);
	if (s->opts->ready_fd >= 0)
		s->opts->ready_fd = safe_close(s->opts->ready_fd);
	free(s);
}
