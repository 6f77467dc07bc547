/* SPDX-License-Identifier: MIT */
/*
 * tlsio.h - one side of a terminated connection: a socket, its SSL, an input and an output
 * evbuffer, driven by libevent
 *
 * See tlsio.c and docs/design/interception.md ("Data path").
 */
#pragma once

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

/* What tlsio_event_cb reports */
#define TLSIO_CONNECTED 0x01 /* the handshake is done */
#define TLSIO_EOF       0x02 /* the peer closed (close_notify, or FIN without it) */
#define TLSIO_ERROR     0x04 /* a socket or TLS error; tlsio_error() says which */

struct tlsio;

typedef void (*tlsio_data_cb)(struct tlsio *t, void *arg);
typedef void (*tlsio_event_cb)(struct tlsio *t, short what, void *arg);

/*
 * struct tlsio_cbs - what a side reports; each callback is the last thing the side does
 * before returning to the loop, so a callback may free it
 * @read: bytes were added to the input
 * @write: the output drained to @low_write bytes or fewer after a write
 * @event: TLSIO_CONNECTED, TLSIO_EOF or TLSIO_ERROR
 */
struct tlsio_cbs {
	tlsio_data_cb read;
	tlsio_data_cb write;
	tlsio_event_cb event;
	void *arg;
};

/**
 * tlsio_new() - drive @ssl over the socket @fd (non-blocking; borrowed, not closed)
 * @base: the event loop
 * @fd: the socket, already set as @ssl's BIOs
 * @ssl: taken (freed by tlsio_free()); its handshake starts at once, as a server when
 *       @accept, else as a client
 * @cbs: the callbacks (copied)
 * @high_read: reading stops while the input holds this many bytes
 * @low_write: the write callback runs when the output drains to this many
 * @ret: the side
 *
 * Reading is on once the handshake is done; the output is written whenever it holds bytes.
 * Return: 0, or -ENOMEM.
 */
int tlsio_new(struct event_base *base, int fd, SSL *ssl, bool accept, const struct tlsio_cbs *cbs,
	      size_t high_read, size_t low_write, struct tlsio **ret);

/* tlsio_free() - stop, free the SSL and the buffers (not the socket); accepts NULL */
struct tlsio *tlsio_free(struct tlsio *t);

struct evbuffer *tlsio_input(struct tlsio *t);
struct evbuffer *tlsio_output(struct tlsio *t);
SSL *tlsio_ssl(struct tlsio *t);

/* tlsio_read() - read (when the handshake is done) or stop reading */
void tlsio_read(struct tlsio *t, bool on);

/* tlsio_write_off() - write nothing more; what the output holds stays there */
void tlsio_write_off(struct tlsio *t);

/* tlsio_unsent() - bytes not yet handed to the kernel: the output and the gathered records */
size_t tlsio_unsent(const struct tlsio *t);

/* tlsio_shutdown() - send close_notify (best effort) */
void tlsio_shutdown(struct tlsio *t);

/* tlsio_error() - the OpenSSL error that ended the side (ERR_get_error() style), or 0 */
unsigned long tlsio_error(const struct tlsio *t);
