/* SPDX-License-Identifier: MIT */
/*
 * tlsio.c - one side of a terminated connection: a socket, its SSL, an input and an output
 * evbuffer, driven by libevent
 *
 * DOC: Theory of Operation
 * intercept.c used to drive each side with libevent's bufferevent_openssl. Profiles of
 * bench/tls showed the proxy thread spending far more per byte than a TLS client and a TLS
 * server together (the least it can do, since it is both): bufferevent_openssl reads one
 * record per SSL_read() without read-ahead (two read(2) calls per record), writes one record
 * per evbuffer chain (small records where chains are small), clears the OpenSSL error queue
 * around every call and defers every callback through the loop. Read-ahead cannot be turned
 * on under it: it waits for the socket to become readable while OpenSSL already holds the
 * bytes, and stalls.
 *
 * This is the small part of it that the proxy needs, done directly:
 *
 * - Reading: with read-ahead and a 64 KiB read buffer, one read(2) brings several records;
 *   SSL_read_ex() fills 64 KiB of the input evbuffer's space at a time, so the engine is fed
 *   large contiguous pieces. Reading goes on until OpenSSL wants the socket (it is drained),
 *   the input holds @high_read bytes, or a budget per wake-up is spent; when OpenSSL still
 *   holds bytes the side wakes itself (the kick event) instead of waiting for the socket.
 * - Writing: whatever the output holds is written in full records (16 KiB pulled up), as
 *   soon as the loop runs after bytes were added (an evbuffer callback activates the kick
 *   event: no system call), and on EPOLLOUT only while the socket is full. A write that
 *   OpenSSL could not finish is retried with the same length, as SSL_write requires.
 * - Callbacks: each run does its I/O first and calls at most one callback, as its last
 *   action, so that the callback may free the side. What else is owed (EOF after data, the
 *   write callback after a read) is reported by the next run, through the kick event.
 *
 * The socket is borrowed (the connection closes it); the SSL is owned.
 */
#include <errno.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/xmalloc.h"
#include "proxy/tlsio.h"

#define TLSIO_RECORD       16384u               /* plaintext bytes per record written */
#define TLSIO_READ_CHUNK   (64u * 1024u)        /* input space filled at once */
#define TLSIO_READ_BUDGET  (256u * 1024u)       /* bytes read per wake-up before yielding */
#define TLSIO_READ_BUFFER  (64u * 1024u + 512u) /* OpenSSL's read-ahead buffer */
#define TLSIO_WRITE_BUFFER (64u * 1024u)        /* records gathered per write(2) */

struct tlsio {
	SSL *ssl;
	BIO *wbuf; /* a buffer BIO in front of the socket for writing (owned by @ssl) */
	struct event *rev, *wev, *kick;
	struct evbuffer *in, *out;
	struct tlsio_cbs cbs;
	size_t high_read, low_write;
	bool handshake_done;
	bool reading, write_off;
	bool rev_on, wev_on;
	bool read_wants_write, write_wants_read;
	bool write_blocked;
	size_t retry_len; /* a blocked SSL_write_ex() is retried with this length */
	bool done;        /* EOF or an error was reported: no more I/O */
	short pending;    /* an event to report on the next run */
	bool pending_write;
	unsigned long err;
};

static void set_event(struct event *ev, bool *on, bool want)
{
	if (want == *on)
		return;
	if (want)
		(void)event_add(ev, NULL);
	else
		(void)event_del(ev);
	*on = want;
}

static void kick(struct tlsio *t)
{
	event_active(t->kick, EV_TIMEOUT, 0);
}

/* Which socket events the side waits for now */
static void update_events(struct tlsio *t)
{
	bool want_r, want_w;

	if (t->done) {
		want_r = want_w = false;
	} else if (!t->handshake_done) {
		int e = SSL_want(t->ssl);

		want_w = e == SSL_WRITING;
		want_r = !want_w;
	} else {
		/* after the end (pending) the socket stays readable: never wait for it */
		want_r = ((t->reading && evbuffer_get_length(t->in) < t->high_read) ||
			  t->write_wants_read) &&
			 !t->pending;
		want_w = (!t->write_off && t->write_blocked) || t->read_wants_write;
	}
	set_event(t->rev, &t->rev_on, want_r);
	set_event(t->wev, &t->wev_on, want_w);
}

/* The error that ended the side, for tlsio_error(); clears the queue */
static void take_error(struct tlsio *t)
{
	unsigned long e = ERR_get_error();

	if (!t->err)
		t->err = e;
	ERR_clear_error();
}

/* Returns 1 when bytes were written, 0 when none, -1 on an error */
static int write_some(struct tlsio *t)
{
	int wrote = 0;

	t->write_wants_read = false;
	for (;;) {
		size_t len = evbuffer_get_length(t->out), n, w = 0;
		unsigned char *p;
		int r;

		if (len == 0 || t->write_off) {
			/* the records gathered in the buffer BIO go out now */
			if (!t->write_off && BIO_wpending(t->wbuf) > 0) {
				if (BIO_flush(t->wbuf) <= 0) {
					if (!BIO_should_retry(t->wbuf))
						return -1;
					t->write_blocked = true;
					return wrote;
				}
				wrote = 1; /* a flush that finishes counts: the write callback is owed */
			}
			t->write_blocked = false;
			return wrote;
		}
		n = t->retry_len ? t->retry_len : MIN(len, (size_t)TLSIO_RECORD);
		p = evbuffer_pullup(t->out, (ssize_t)n);
		if (!p)
			return -1;
		ERR_clear_error();
		r = SSL_write_ex(t->ssl, p, n, &w);
		if (r == 1) {
			(void)evbuffer_drain(t->out, w);
			t->retry_len = 0;
			wrote = 1;
			continue;
		}
		switch (SSL_get_error(t->ssl, r)) {
		case SSL_ERROR_WANT_WRITE:
			t->retry_len = n;
			t->write_blocked = true;
			return wrote;
		case SSL_ERROR_WANT_READ:
			t->retry_len = n;
			t->write_wants_read = true;
			return wrote;
		default:
			take_error(t);
			return -1;
		}
	}
}

/*
 * Read into the input. Returns the bytes read; sets *@what to TLSIO_EOF or TLSIO_ERROR when
 * the side ended.
 */
static size_t read_some(struct tlsio *t, short *what)
{
	size_t got = 0;

	t->read_wants_write = false;
	while (t->reading && evbuffer_get_length(t->in) < t->high_read && got < TLSIO_READ_BUDGET) {
		struct evbuffer_iovec v;
		size_t filled = 0;
		int r = 1, e = SSL_ERROR_NONE;

		if (evbuffer_reserve_space(t->in, TLSIO_READ_CHUNK, &v, 1) < 1) {
			*what = TLSIO_ERROR;
			return got;
		}
		while (filled < v.iov_len) {
			size_t n = 0;

			ERR_clear_error();
			r = SSL_read_ex(t->ssl, (char *)v.iov_base + filled, v.iov_len - filled,
					&n);
			if (r != 1) {
				e = SSL_get_error(t->ssl, r);
				break;
			}
			filled += n;
		}
		v.iov_len = filled;
		(void)evbuffer_commit_space(t->in, &v, 1);
		got += filled;
		if (r == 1)
			continue;
		switch (e) {
		case SSL_ERROR_WANT_READ:
			return got;
		case SSL_ERROR_WANT_WRITE:
			t->read_wants_write = true;
			return got;
		case SSL_ERROR_ZERO_RETURN:
			*what = TLSIO_EOF; /* close_notify */
			return got;
		case SSL_ERROR_SYSCALL:
			if (ERR_peek_error() == 0 && (errno == 0 || errno == EAGAIN)) {
				*what = TLSIO_EOF; /* FIN without close_notify: allowed */
				return got;
			}
			take_error(t);
			*what = TLSIO_ERROR;
			return got;
		default:
			take_error(t);
			*what = TLSIO_ERROR;
			return got;
		}
	}
	return got;
}

/* Report @what as the last action of a run: the callback may free @t */
static void report(struct tlsio *t, short what)
{
	if (what & (TLSIO_EOF | TLSIO_ERROR)) {
		t->done = true;
		update_events(t);
	}
	if (t->cbs.event)
		t->cbs.event(t, what, t->cbs.arg);
}

static void run(struct tlsio *t)
{
	short ended = 0;
	size_t got;
	int wrote;
	bool drained;

	if (t->done)
		return;
	/* the end is reported once the input it came after was consumed (in_cb kicks) */
	if (t->pending && !(t->pending == TLSIO_EOF && evbuffer_get_length(t->in) > 0)) {
		short what = t->pending;

		t->pending = 0;
		report(t, what);
		return;
	}
	if (!t->handshake_done) {
		int r;

		ERR_clear_error();
		r = SSL_do_handshake(t->ssl);
		if (r == 1) {
			t->handshake_done = true;
			update_events(t);
			kick(t); /* write what is waiting, read what came with the handshake */
			report(t, TLSIO_CONNECTED);
			return;
		}
		r = SSL_get_error(t->ssl, r);
		if (r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE) {
			update_events(t);
			return;
		}
		take_error(t);
		report(t, TLSIO_ERROR);
		return;
	}
	if (t->pending_write) {
		t->pending_write = false;
		if (t->cbs.write && evbuffer_get_length(t->out) <= t->low_write) {
			kick(t); /* go on with the I/O after the callback */
			t->cbs.write(t, t->cbs.arg);
			return;
		}
	}

	wrote = write_some(t);
	if (wrote < 0) {
		report(t, TLSIO_ERROR);
		return;
	}
	got = t->pending ? 0 : read_some(t, &ended);
	drained = wrote > 0 && evbuffer_get_length(t->out) <= t->low_write &&
		  (evbuffer_get_length(t->out) > 0 || BIO_wpending(t->wbuf) == 0);
	update_events(t);
	if (got > 0) {
		if (ended) {
			t->pending = ended;
			update_events(t);
		}
		t->pending_write = drained;
		/* more to do without the socket: OpenSSL holds bytes, or something is owed */
		if (ended || drained ||
		    (t->reading && evbuffer_get_length(t->in) < t->high_read &&
		     SSL_has_pending(t->ssl)))
			kick(t);
		if (t->cbs.read)
			t->cbs.read(t, t->cbs.arg);
		return;
	}
	if (ended == TLSIO_EOF && evbuffer_get_length(t->in) > 0) {
		t->pending = ended; /* reported when the input is consumed */
		update_events(t);
	} else if (ended) {
		report(t, ended);
		return;
	}
	if (drained && t->cbs.write)
		t->cbs.write(t, t->cbs.arg);
}

static void io_cb(evutil_socket_t fd, short what, void *arg)
{
	run(arg);
}

/* The input was drained below the mark where reading stopped: read again */
static void in_cb(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct tlsio *t = arg;

	if (info->n_deleted == 0 || !t->handshake_done || t->done)
		return;
	if (t->pending ? evbuffer_get_length(b) == 0
		       : t->reading && !t->rev_on && info->orig_size >= t->high_read &&
				 evbuffer_get_length(b) < t->high_read)
		kick(t);
}

/* Bytes were added to the output: write them when the loop comes back here */
static void out_cb(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct tlsio *t = arg;

	if (info->n_added > 0 && t->handshake_done && !t->write_off && !t->done)
		kick(t);
}

int tlsio_new(struct event_base *base, int fd, SSL *ssl, bool accept, const struct tlsio_cbs *cbs,
	      size_t high_read, size_t low_write, struct tlsio **ret)
{
	struct tlsio *t = xcalloc(1, sizeof(*t));

	t->ssl = ssl;
	t->cbs = *cbs;
	t->high_read = high_read;
	t->low_write = low_write;
	t->reading = true;
	t->rev = event_new(base, fd, EV_READ | EV_PERSIST, io_cb, t);
	t->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, io_cb, t);
	t->kick = event_new(base, -1, 0, io_cb, t);
	t->in = evbuffer_new();
	t->out = evbuffer_new();
	if (!t->rev || !t->wev || !t->kick || !t->in || !t->out ||
	    !evbuffer_add_cb(t->out, out_cb, t) || !evbuffer_add_cb(t->in, in_cb, t)) {
		t->ssl = NULL; /* the caller still owns it */
		tlsio_free(t);
		return -ENOMEM;
	}
	/* records are gathered and written 64 KiB at a time (write_some() flushes) */
	t->wbuf = BIO_new(BIO_f_buffer());
	if (!t->wbuf || BIO_set_write_buffer_size(t->wbuf, TLSIO_WRITE_BUFFER) != 1 ||
	    !BIO_up_ref(SSL_get_wbio(ssl))) {
		BIO_free(t->wbuf);
		t->ssl = NULL;
		tlsio_free(t);
		return -ENOMEM;
	}
	(void)BIO_push(t->wbuf, SSL_get_wbio(ssl));
	SSL_set0_wbio(ssl, t->wbuf); /* drops the reference taken above; the chain keeps one */
	SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* a FIN without close_notify is an end, not an error (as many servers close) */
	SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_set_read_ahead(ssl, 1);
	SSL_set_default_read_buffer_len(ssl, TLSIO_READ_BUFFER);
	if (accept)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	kick(t); /* the handshake starts with the loop */
	*ret = t;
	return 0;
}

struct tlsio *tlsio_free(struct tlsio *t)
{
	if (!t)
		return NULL;
	if (t->rev)
		event_free(t->rev);
	if (t->wev)
		event_free(t->wev);
	if (t->kick)
		event_free(t->kick);
	if (t->in)
		evbuffer_free(t->in);
	if (t->out)
		evbuffer_free(t->out);
	SSL_free(t->ssl);
	free(t);
	return NULL;
}

struct evbuffer *tlsio_input(struct tlsio *t)
{
	return t->in;
}

struct evbuffer *tlsio_output(struct tlsio *t)
{
	return t->out;
}

SSL *tlsio_ssl(struct tlsio *t)
{
	return t->ssl;
}

void tlsio_read(struct tlsio *t, bool on)
{
	if (t->reading == on)
		return;
	t->reading = on;
	if (!t->handshake_done || t->done)
		return;
	update_events(t);
	if (on && SSL_has_pending(t->ssl))
		kick(t); /* OpenSSL holds bytes: the socket will not say so */
}

void tlsio_write_off(struct tlsio *t)
{
	t->write_off = true;
	if (t->handshake_done && !t->done)
		update_events(t);
}

size_t tlsio_unsent(const struct tlsio *t)
{
	return evbuffer_get_length(t->out) + (size_t)BIO_wpending(t->wbuf);
}

void tlsio_shutdown(struct tlsio *t)
{
	(void)SSL_shutdown(t->ssl);
	(void)BIO_flush(t->wbuf); /* the close_notify; lost if the socket is full: a FIN follows */
}

unsigned long tlsio_error(const struct tlsio *t)
{
	return t->err;
}
