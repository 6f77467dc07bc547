/* SPDX-License-Identifier: MIT */
/*
 * sshagent.c - a filtering ssh-agent proxy on the supervisor's event loop
 *
 * DOC: Theory of Operation
 * A sandbox started with --ssh-agent sees SSH_AUTH_SOCK pointing at a socket whose listening
 * fd the supervisor holds. Each client connection is a bufferevent; it sends length-prefixed
 * agent messages (uint32 big-endian length, at most SSHAGENT_MSG_MAX bytes: a longer or empty
 * one closes the connection) and the filter answers them strictly in order, one at a time:
 * while a request is with the confirmation command or the upstream agent, the client's
 * reading is disabled, so neither the input nor the output buffer grows past one message.
 *
 * Only three requests pass, everything else (adding, removing, locking, other extensions) is
 * answered with SSH_AGENT_FAILURE without reaching the user's agent:
 * - REQUEST_IDENTITIES (11) is forwarded; with an allowlist, the answer keeps only the listed
 *   keys (sshagent_filter_identities()).
 * - SIGN_REQUEST (13) is parsed; the key's SHA256 fingerprint must be on the allowlist (when
 *   there is one). With a confirmation command, that command runs (posix_spawnp, its own
 *   process group, watched through a pidfd on the loop, never waited for synchronously) and
 *   only exit status 0 before the timeout lets the request through; at the timeout its process
 *   group is killed. Then the request is forwarded verbatim and the answer relayed. Each
 *   request ends in one `ssh_sign` audit event: fingerprint, key type, purpose, decision and
 *   reason; never key material or the signed data.
 * - EXTENSION (27) "session-bind@openssh.com" is forwarded, so that the user's agent sees the
 *   host binding that ssh proves and can enforce keys added with destination constraints
 *   (ssh-add -h); ssh works either way (it only logs a failed bind at debug level).
 *
 * Each client has its own upstream connection, opened at its first forwarded request, so a
 * session binding made by one client never applies to another. The upstream answer must be of
 * the expected type (12, 14 or 5, 6 and 5) and at most SSHAGENT_MSG_MAX bytes; anything else
 * becomes SSH_AGENT_FAILURE and the upstream connection is dropped.
 *
 * A confirmation outlives a client that disconnects meanwhile: its command is killed and the
 * struct stays on the filter's list until the pidfd says it exited and it is reaped.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "sshagent-proto.h"
#include "sshagent.h"

struct client;

/*
 * struct confirm - one running confirmation command
 * @client: the client waiting for it, or NULL once that client is gone
 * @pid: the command (and its process group)
 * @pidfd: readable when it exited
 * @decided: the client already got its answer (timeout, or the client is gone)
 */
struct confirm {
	struct sshagent *agent;
	struct client *client;
	pid_t pid;
	int pidfd;
	struct event *ev_exit;
	struct event *ev_timeout;
	bool decided;
	struct confirm *next;
};

enum client_state {
	CLIENT_IDLE,
	CLIENT_CONFIRMING,
	CLIENT_UPSTREAM,
};

/*
 * struct client - one connection from the sandbox
 * @bev: the client's connection
 * @up: its upstream connection, or NULL until needed
 * @req: the request being handled (complete message with its length prefix)
 * @req_type: its type
 * @fp, @key_type, @purpose: of the pending sign request, for the audit event
 * @resume: activated when a request is answered, to take the next one from the loop (never
 *          from the answering call's stack)
 */
struct client {
	struct sshagent *agent;
	struct bufferevent *bev;
	struct bufferevent *up;
	enum client_state state;
	uint8_t *req;
	size_t req_len;
	uint8_t req_type;
	struct confirm *confirm;
	char fp[SSHAGENT_FP_SIZE];
	char key_type[SSHAGENT_TEXT_SIZE];
	char purpose[SSHAGENT_PURPOSE_SIZE];
	const char *allow_reason;
	struct event *resume;
	struct client *prev, *next;
};

struct sshagent {
	struct event_base *base;
	struct sockaddr_un upstream;
	char **confirm_argv;
	unsigned confirm_timeout_ms;
	char **allowed;
	char *sandbox;
	sshagent_audit_fn audit;
	void *audit_userdata;
	unsigned max_clients;
	struct evconnlistener *listeners[SSHAGENT_LISTENERS_MAX];
	unsigned n_listeners;
	struct client *clients;
	unsigned n_clients;
	struct confirm *confirms;
};

static const uint8_t msg_failure[5] = { 0, 0, 0, 1, SSH_AGENT_FAILURE };

static void client_process(struct client *c);

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static bool key_allowed(const char *fp, void *userdata)
{
	const struct sshagent *a = userdata;

	return !a->allowed || strv_contains(a->allowed, fp);
}

static void audit_sign(struct client *c, const char *decision, const char *reason)
{
	struct sshagent *a = c->agent;
	struct json_object *o;

	log_debug("ssh-agent: %s signature with %s (%s) for %s: %s", decision, c->fp, c->key_type,
		  c->purpose, reason);
	if (!a->audit)
		return;
	o = json_object_new_object();
	(void)json_object_object_add(o, "fingerprint", json_object_new_string(c->fp));
	(void)json_object_object_add(o, "key_type", json_object_new_string(c->key_type));
	(void)json_object_object_add(o, "purpose", json_object_new_string(c->purpose));
	(void)json_object_object_add(o, "decision", json_object_new_string(decision));
	(void)json_object_object_add(o, "reason", json_object_new_string(reason));
	a->audit(a->audit_userdata, "ssh_sign", o);
}

/* ---- clients ----------------------------------------------------------------------------- */

static void confirm_abandon(struct confirm *f)
{
	f->client = NULL;
	if (!f->decided) {
		f->decided = true;
		(void)kill(-f->pid, SIGKILL);
	}
}

static void client_free(struct client *c)
{
	struct sshagent *a = c->agent;

	if (c->confirm)
		confirm_abandon(c->confirm);
	if (c->state == CLIENT_UPSTREAM && c->req_type == SSH_AGENTC_SIGN_REQUEST)
		audit_sign(c, "deny", "client disconnected");
	if (c->up)
		bufferevent_free(c->up);
	bufferevent_free(c->bev);
	event_free(c->resume);
	free(c->req);
	if (c->prev)
		c->prev->next = c->next;
	else
		a->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	a->n_clients--;
	free(c);
}

/* The request is answered: take the next one. */
static void client_done(struct client *c)
{
	free(c->req);
	c->req = NULL;
	c->req_len = 0;
	c->state = CLIENT_IDLE;
	c->confirm = NULL;
	(void)bufferevent_enable(c->bev, EV_READ);
	event_active(c->resume, EV_READ, 0);
}

static void client_reply(struct client *c, const void *msg, size_t len)
{
	(void)bufferevent_write(c->bev, msg, len);
}

static void client_fail(struct client *c)
{
	client_reply(c, msg_failure, sizeof(msg_failure));
}

static void upstream_drop(struct client *c)
{
	if (c->up) {
		bufferevent_free(c->up);
		c->up = NULL;
	}
}

/* The upstream failed the pending request: answer FAILURE, drop the connection. */
static void upstream_failed(struct client *c, const char *why)
{
	log_debug("ssh-agent: upstream agent: %s", why);
	upstream_drop(c);
	if (c->state != CLIENT_UPSTREAM)
		return;
	if (c->req_type == SSH_AGENTC_SIGN_REQUEST)
		audit_sign(c, "deny", why);
	client_fail(c);
	client_done(c);
}

static void upstream_read_cb(struct bufferevent *bev, void *userdata)
{
	struct client *c = userdata;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t hdr[4], *m, type;
	size_t len;

	if (c->state != CLIENT_UPSTREAM) {
		upstream_failed(c, "sent a message nobody asked for");
		return;
	}
	if (evbuffer_copyout(in, hdr, 4) < 4)
		return;
	len = get_u32(hdr);
	if (len == 0 || len > SSHAGENT_MSG_MAX) {
		upstream_failed(c, "answer of invalid length");
		return;
	}
	if (evbuffer_get_length(in) < 4 + len)
		return;
	if (evbuffer_get_length(in) > 4 + len) {
		upstream_failed(c, "sent more than one answer");
		return;
	}
	m = evbuffer_pullup(in, (ssize_t)(4 + len));
	if (!m) {
		upstream_failed(c, "out of memory");
		return;
	}
	type = m[4];
	switch (c->req_type) {
	case SSH_AGENTC_REQUEST_IDENTITIES: {
		_cleanup_free_ uint8_t *out = NULL;
		size_t out_len = 0;

		if (type != SSH_AGENT_IDENTITIES_ANSWER ||
		    sshagent_filter_identities(m + 5, len - 1, key_allowed, c->agent, &out,
					       &out_len) < 0) {
			(void)evbuffer_drain(in, 4 + len);
			upstream_failed(c, "invalid identities answer");
			return;
		}
		client_reply(c, out, out_len);
		break;
	}
	case SSH_AGENTC_SIGN_REQUEST:
		if (type != SSH_AGENT_SIGN_RESPONSE && type != SSH_AGENT_FAILURE) {
			(void)evbuffer_drain(in, 4 + len);
			upstream_failed(c, "invalid sign answer");
			return;
		}
		audit_sign(c, type == SSH_AGENT_SIGN_RESPONSE ? "allow" : "deny",
			   type == SSH_AGENT_SIGN_RESPONSE ? c->allow_reason
							   : "the upstream agent refused");
		client_reply(c, m, 4 + len);
		break;
	default: /* session-bind */
		if (type != SSH_AGENT_SUCCESS && type != SSH_AGENT_FAILURE) {
			(void)evbuffer_drain(in, 4 + len);
			upstream_failed(c, "invalid extension answer");
			return;
		}
		client_reply(c, m, 4 + len);
		break;
	}
	(void)evbuffer_drain(in, 4 + len);
	client_done(c);
}

static void upstream_event_cb(struct bufferevent *bev, short what, void *userdata)
{
	struct client *c = userdata;

	if (what & BEV_EVENT_CONNECTED)
		return;
	upstream_failed(c, what & BEV_EVENT_TIMEOUT ? "timed out"
			   : what & BEV_EVENT_EOF   ? "closed the connection"
						    : "connection failed");
}

/* Send the pending request to the upstream agent, connecting first if needed. */
static void client_forward(struct client *c)
{
	struct sshagent *a = c->agent;

	c->state = CLIENT_UPSTREAM;
	if (!c->up) {
		struct timeval tv = { SSHAGENT_UPSTREAM_TIMEOUT_MS / 1000, 0 };

		c->up = bufferevent_socket_new(a->base, -1, BEV_OPT_CLOSE_ON_FREE);
		if (!c->up) {
			upstream_failed(c, "out of memory");
			return;
		}
		bufferevent_setcb(c->up, upstream_read_cb, NULL, upstream_event_cb, c);
		bufferevent_set_timeouts(c->up, &tv, &tv);
		(void)bufferevent_setwatermark(c->up, EV_READ, 0, 4 + SSHAGENT_MSG_MAX + 1);
		if (bufferevent_socket_connect(c->up, (struct sockaddr *)&a->upstream,
					       sizeof(a->upstream)) < 0) {
			upstream_failed(c, "cannot connect");
			return;
		}
		(void)bufferevent_enable(c->up, EV_READ | EV_WRITE);
	}
	if (bufferevent_write(c->up, c->req, c->req_len) < 0)
		upstream_failed(c, "out of memory");
}

/* ---- confirmation ------------------------------------------------------------------------ */

static void confirm_free(struct confirm *f)
{
	struct sshagent *a = f->agent;

	for (struct confirm **p = &a->confirms; *p; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			break;
		}
	if (f->ev_exit)
		event_free(f->ev_exit);
	if (f->ev_timeout)
		event_free(f->ev_timeout);
	if (f->pidfd >= 0)
		(void)close(f->pidfd);
	free(f);
}

/* The decision for the waiting client, if any. */
static void confirm_decide(struct confirm *f, bool allow, const char *reason)
{
	struct client *c = f->client;

	if (f->decided)
		return;
	f->decided = true;
	f->client = NULL;
	if (!c)
		return;
	c->confirm = NULL;
	if (allow) {
		c->allow_reason = reason;
		client_forward(c);
		return;
	}
	audit_sign(c, "deny", reason);
	client_fail(c);
	client_done(c);
}

static void confirm_exit_cb(evutil_socket_t fd, short what, void *userdata)
{
	struct confirm *f = userdata;
	int status = 0;
	pid_t r;

	siginfo_t si = {};

	/* exited? (WNOWAIT: the zombie keeps holding the group's id) */
	if (waitid(P_PID, (id_t)f->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == 0)
		return; /* not yet (spurious) */
	/* the rest of the group (a helper the command started) goes too */
	(void)kill(-f->pid, SIGKILL);
	r = waitpid(f->pid, &status, WNOHANG);
	if (r == 0)
		return;
	if (r < 0)
		confirm_decide(f, false, "confirmation command: cannot wait for it");
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		confirm_decide(f, true, "confirmed");
	else
		confirm_decide(f, false, "not confirmed");
	confirm_free(f);
}

static void confirm_timeout_cb(evutil_socket_t fd, short what, void *userdata)
{
	struct confirm *f = userdata;

	(void)kill(-f->pid, SIGKILL);
	confirm_decide(f, false, "confirmation timed out");
}

static char **confirm_env(const struct sshagent *a, const struct client *c)
{
	char **env = NULL;

	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, "PADDOCK_SSH_", 12) != 0 &&
		    strncmp(*e, "PADDOCK_SANDBOX=", 16) != 0)
			strv_extend(&env, *e);
	strv_push(&env, xasprintf("PADDOCK_SSH_FINGERPRINT=%s", c->fp));
	strv_push(&env, xasprintf("PADDOCK_SSH_KEY_TYPE=%s", c->key_type));
	strv_push(&env, xasprintf("PADDOCK_SSH_PURPOSE=%s", c->purpose));
	strv_push(&env, xasprintf("PADDOCK_SANDBOX=%s", a->sandbox ? a->sandbox : ""));
	strv_push(&env, xasprintf("PADDOCK_SSH_PROMPT=paddock%s%s: allow a signature with %s key "
				  "%s for %s?",
				  a->sandbox ? " " : "", a->sandbox ? a->sandbox : "", c->key_type,
				  c->fp, c->purpose));
	return env;
}

static void client_confirm(struct client *c)
{
	struct sshagent *a = c->agent;
	_cleanup_strv_free_ char **env = confirm_env(a, c);
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct timeval tv = { a->confirm_timeout_ms / 1000, (a->confirm_timeout_ms % 1000) * 1000 };
	struct confirm *f;
	sigset_t none, dfl;
	pid_t pid;
	int r;

	(void)posix_spawn_file_actions_init(&fa);
	(void)posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	(void)posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	(void)posix_spawnattr_init(&attr);
	(void)sigemptyset(&none);
	(void)sigfillset(&dfl);
	(void)posix_spawnattr_setsigmask(&attr, &none);
	(void)posix_spawnattr_setsigdefault(&attr, &dfl);
	(void)posix_spawnattr_setpgroup(&attr, 0);
	(void)posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
						      POSIX_SPAWN_SETSIGDEF);
	r = posix_spawnp(&pid, a->confirm_argv[0], &fa, &attr, a->confirm_argv, env);
	(void)posix_spawn_file_actions_destroy(&fa);
	(void)posix_spawnattr_destroy(&attr);
	if (r != 0) {
		log_warning("ssh-agent: cannot run the confirmation command '%s': %s",
			    a->confirm_argv[0], strerror(r));
		audit_sign(c, "deny", "confirmation command could not run");
		client_fail(c);
		client_done(c);
		return;
	}
	f = xcalloc(1, sizeof(*f));
	*f = (struct confirm){ .agent = a, .client = c, .pid = pid, .next = a->confirms };
	a->confirms = f;
	f->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (f->pidfd >= 0) {
		f->ev_exit = event_new(a->base, f->pidfd, EV_READ | EV_PERSIST, confirm_exit_cb, f);
		f->ev_timeout = evtimer_new(a->base, confirm_timeout_cb, f);
	}
	if (f->pidfd < 0 || !f->ev_exit || !f->ev_timeout || event_add(f->ev_exit, NULL) < 0 ||
	    evtimer_add(f->ev_timeout, &tv) < 0) {
		/* cannot watch it without blocking: refuse, and reap it now */
		log_warning("ssh-agent: cannot watch the confirmation command: %m");
		(void)kill(-pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		f->client = NULL;
		f->decided = true;
		confirm_free(f);
		audit_sign(c, "deny", "confirmation command could not be watched");
		client_fail(c);
		client_done(c);
		return;
	}
	c->confirm = f;
	c->state = CLIENT_CONFIRMING;
}

/* ---- requests ---------------------------------------------------------------------------- */

static void client_sign(struct client *c)
{
	struct sshagent *a = c->agent;
	struct sshagent_sign_request sr;

	strcpy(c->fp, "unknown");
	strcpy(c->key_type, "unknown");
	strcpy(c->purpose, "unknown data");
	if (sshagent_parse_sign_request(c->req + 5, c->req_len - 5, &sr) < 0) {
		audit_sign(c, "deny", "malformed sign request");
		client_fail(c);
		return;
	}
	if (sshagent_key_fingerprint(sr.key, sr.key_len, c->fp) < 0) {
		client_fail(c);
		return;
	}
	sshagent_key_type(sr.key, sr.key_len, c->key_type);
	sshagent_describe_data(sr.data, sr.data_len, c->purpose);
	if (!key_allowed(c->fp, a)) {
		audit_sign(c, "deny", "key not in the allowed list");
		client_fail(c);
		return;
	}
	if (a->confirm_argv) {
		client_confirm(c);
		return;
	}
	c->allow_reason = a->allowed ? "key in the allowed list" : "allowed";
	client_forward(c);
}

/* One complete message in c->req: answer it, or start answering it. */
static void client_handle(struct client *c)
{
	char ext[SSHAGENT_TEXT_SIZE];

	c->req_type = c->req[4];
	switch (c->req_type) {
	case SSH_AGENTC_REQUEST_IDENTITIES:
		if (c->req_len != 5) {
			client_fail(c);
			return;
		}
		client_forward(c);
		return;
	case SSH_AGENTC_SIGN_REQUEST:
		client_sign(c);
		return;
	case SSH_AGENTC_EXTENSION:
		if (sshagent_extension_name(c->req + 5, c->req_len - 5, ext) == 0 &&
		    streq(ext, "session-bind@openssh.com")) {
			client_forward(c);
			return;
		}
		log_debug("ssh-agent: refused extension '%s'", ext);
		client_fail(c);
		return;
	default:
		log_debug("ssh-agent: refused request of type %u", c->req_type);
		client_fail(c);
		return;
	}
}

/* Take complete messages from the client while nothing is pending. */
static void client_process(struct client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (c->state == CLIENT_IDLE) {
		uint8_t hdr[4];
		size_t len;

		/* a client that does not read its answers gets no more */
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) > SSHAGENT_MSG_MAX)
			break;
		if (evbuffer_copyout(in, hdr, 4) < 4)
			break;
		len = get_u32(hdr);
		if (len == 0 || len > SSHAGENT_MSG_MAX) {
			log_debug("ssh-agent: client message of %zu bytes, closing", len);
			client_free(c);
			return;
		}
		if (evbuffer_get_length(in) < 4 + len)
			break;
		c->req = xmalloc(4 + len);
		c->req_len = 4 + len;
		(void)evbuffer_remove(in, c->req, 4 + len);
		(void)bufferevent_disable(c->bev, EV_READ);
		client_handle(c);
		if (c->state == CLIENT_IDLE) {
			free(c->req);
			c->req = NULL;
			(void)bufferevent_enable(c->bev, EV_READ);
		}
	}
}

static void client_read_cb(struct bufferevent *bev, void *userdata)
{
	client_process(userdata);
}

static void client_resume_cb(evutil_socket_t fd, short what, void *userdata)
{
	client_process(userdata);
}

static void client_write_cb(struct bufferevent *bev, void *userdata)
{
	struct client *c = userdata;

	/* the output drained: if we paused for it, go on */
	if (c->state == CLIENT_IDLE)
		client_process(c);
}

static void client_event_cb(struct bufferevent *bev, short what, void *userdata)
{
	client_free(userdata);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *userdata)
{
	struct sshagent *a = userdata;
	struct client *c;

	if (a->n_clients >= a->max_clients) {
		log_warning("ssh-agent: %u clients already, refusing another", a->n_clients);
		(void)close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->agent = a;
	c->bev = bufferevent_socket_new(a->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->resume = event_new(a->base, -1, 0, client_resume_cb, c);
	if (!c->bev || !c->resume) {
		if (c->bev)
			bufferevent_free(c->bev);
		else
			(void)close(fd);
		if (c->resume)
			event_free(c->resume);
		free(c);
		return;
	}
	bufferevent_setcb(c->bev, client_read_cb, client_write_cb, client_event_cb, c);
	(void)bufferevent_setwatermark(c->bev, EV_READ, 0, 4 + SSHAGENT_MSG_MAX);
	(void)bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = a->clients;
	if (a->clients)
		a->clients->prev = c;
	a->clients = c;
	a->n_clients++;
}

/* ---- the filter -------------------------------------------------------------------------- */

int sshagent_new(struct event_base *base, const char *upstream, const struct sshagent_opts *o,
		 struct sshagent **ret)
{
	struct sshagent *a;

	if (!base || !upstream || upstream[0] != '/' ||
	    strlen(upstream) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
		return -EINVAL;
	if (o && o->confirm_argv && !o->confirm_argv[0])
		return -EINVAL;
	for (char *const *k = o ? o->allowed_keys : NULL; k && *k; k++)
		if (!sshagent_fingerprint_is_valid(*k))
			return -EINVAL;
	a = xcalloc(1, sizeof(*a));
	a->base = base;
	a->upstream.sun_family = AF_UNIX;
	strcpy(a->upstream.sun_path, upstream);
	a->confirm_timeout_ms = SSHAGENT_CONFIRM_TIMEOUT_MS_DEFAULT;
	a->max_clients = SSHAGENT_CLIENTS_DEFAULT;
	if (o) {
		if (o->confirm_argv)
			a->confirm_argv = strv_copy(o->confirm_argv);
		if (o->confirm_timeout_ms)
			a->confirm_timeout_ms = o->confirm_timeout_ms;
		if (o->allowed_keys && o->allowed_keys[0])
			a->allowed = strv_copy(o->allowed_keys);
		if (o->sandbox)
			a->sandbox = xstrdup(o->sandbox);
		a->audit = o->audit;
		a->audit_userdata = o->audit_userdata;
		if (o->max_clients)
			a->max_clients = o->max_clients;
	}
	*ret = a;
	return 0;
}

int sshagent_add_listener(struct sshagent *a, int fd)
{
	struct evconnlistener *l;
	int flags;

	if (fd < 0)
		return -EINVAL;
	if (a->n_listeners >= SSHAGENT_LISTENERS_MAX) {
		(void)close(fd);
		return -EMFILE;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		(void)close(fd);
		return -EINVAL;
	}
	/* backlog 0: the socket is already listening */
	l = evconnlistener_new(a->base, accept_cb, a, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
			       0, fd);
	if (!l) {
		(void)close(fd);
		return -ENOMEM;
	}
	a->listeners[a->n_listeners++] = l;
	return 0;
}

unsigned sshagent_client_count(const struct sshagent *a)
{
	return a->n_clients;
}

struct sshagent *sshagent_free(struct sshagent *a)
{
	if (!a)
		return NULL;
	for (unsigned i = 0; i < a->n_listeners; i++)
		evconnlistener_free(a->listeners[i]);
	while (a->clients)
		client_free(a->clients);
	while (a->confirms) {
		struct confirm *f = a->confirms;

		(void)kill(-f->pid, SIGKILL);
		while (waitpid(f->pid, NULL, 0) < 0 && errno == EINTR)
			;
		confirm_free(f);
	}
	strv_free(a->confirm_argv);
	strv_free(a->allowed);
	free(a->sandbox);
	free(a);
	return NULL;
}
