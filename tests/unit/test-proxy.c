/* SPDX-License-Identifier: MIT */
/*
 * test-proxy.c - the proxy engine end to end on 127.0.0.1: real sockets, a real event loop
 *
 * The proxy and the test's clients share one thread and one event loop: a client writes
 * (small writes on loopback never block), then the test pumps the loop until the answer is
 * there. The upstream servers (TCP echo on 127.0.0.1 and 127.0.0.2, a small HTTP server, a
 * TLS server with a certificate made here) run in their own threads with blocking I/O.
 *
 * An injected original_dst maps each client's local port to the destination the test chose:
 * a fake address of "allowed.test" or "denied.test" from the test's fake-IP table, or a
 * literal. The policy is public mode with --add-host allowed.test:127.0.0.1, a deny rule for
 * denied.test and an allow rule for 127.0.0.2.
 *
 * The relay tests run twice: with splice(2), and with the bufferevent relay that is the
 * fallback (proxy->no_splice, through proxy-internal.h, as is the shorter idle timeout).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <event2/event.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/macro.h"
#include "proxy/dns.h"
#include "proxy/fakeip.h"
#include "proxy/policy.h"
#include "proxy/proxy-internal.h"
#include "proxy/proxy.h"
#include "store/config.h"
#include "tap.h"

/* --- upstream servers (threads, blocking I/O) -------------------------------------------- */

enum server_mode { SERVER_ECHO, SERVER_HTTP, SERVER_TLS, SERVER_HALF, SERVER_RESET };

struct server {
	enum server_mode mode;
	int fd;
	uint16_t port;
};

struct server_conn {
	const struct server *s;
	int fd;
};

static SSL_CTX *server_ctx;
static pthread_mutex_t http_lock = PTHREAD_MUTEX_INITIALIZER;
static char http_last_head[8192];
static char half_got[256]; /* what SERVER_HALF read after its FIN, under http_lock */

static void serve_echo(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			return;
	if (n == 0) /* the client's FIN arrived: this direction still works */
		(void)!write(fd, "bye\n", 4);
}

static void serve_http(int fd)
{
	static const char resp[] =
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
	char buf[8192];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)n;
		buf[len] = 0;
		if (strstr(buf, "\r\n\r\n"))
			break;
	}
	buf[len] = 0;
	pthread_mutex_lock(&http_lock);
	memcpy(http_last_head, buf, len + 1);
	pthread_mutex_unlock(&http_lock);
	(void)!write(fd, resp, STRLEN(resp));
}

/* Speak first, send FIN at once, then read what the client still sends until its FIN. */
static void serve_half(int fd)
{
	char buf[256];
	size_t len = 0;
	ssize_t n;

	if (write(fd, "hi\n", 3) != 3 || shutdown(fd, SHUT_WR) < 0)
		return;
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	pthread_mutex_lock(&http_lock);
	memcpy(half_got, buf, len + 1);
	pthread_mutex_unlock(&http_lock);
}

/* Read a line, then reset the connection (SO_LINGER 0). */
static void serve_reset(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };
	char buf[256];

	(void)!read(fd, buf, sizeof(buf));
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

static void serve_tls(int fd)
{
	SSL *ssl = SSL_new(server_ctx);
	char buf[256] = "tls:";
	int n;

	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) == 1 && (n = SSL_read(ssl, buf + 4, sizeof(buf) - 4)) > 0) {
		(void)SSL_write(ssl, buf, n + 4);
		(void)SSL_shutdown(ssl);
	}
	SSL_free(ssl);
}

static void *server_conn_main(void *arg)
{
	struct server_conn *sc = arg;

	switch (sc->s->mode) {
	case SERVER_ECHO:
		serve_echo(sc->fd);
		break;
	case SERVER_HTTP:
		serve_http(sc->fd);
		break;
	case SERVER_TLS:
		serve_tls(sc->fd);
		break;
	case SERVER_HALF:
		serve_half(sc->fd);
		break;
	case SERVER_RESET:
		serve_reset(sc->fd);
		break;
	}
	close(sc->fd);
	free(sc);
	return NULL;
}

static void *server_main(void *arg)
{
	struct server *s = arg;

	for (;;) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		struct server_conn *sc;
		pthread_t t;

		if (fd < 0)
			continue;
		sc = malloc(sizeof(*sc));
		sc->s = s;
		sc->fd = fd;
		if (pthread_create(&t, NULL, server_conn_main, sc) != 0)
			abort();
		(void)pthread_detach(t);
	}
	return NULL;
}

static int listen_on(const char *ip, int type, uint16_t *ret_port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	if (fd < 0 || inet_pton(AF_INET, ip, &sin.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) < 0) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		abort();
	*ret_port = ntohs(sin.sin_port);
	return fd;
}

static struct server *server_start(enum server_mode mode, const char *ip)
{
	struct server *s = calloc(1, sizeof(*s));
	pthread_t t;

	s->mode = mode;
	s->fd = listen_on(ip, SOCK_STREAM, &s->port);
	if (pthread_create(&t, NULL, server_main, s) != 0)
		abort();
	(void)pthread_detach(t);
	return s;
}

/* A self-signed P-256 certificate for allowed.test */
static SSL_CTX *tls_server_ctx(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!key || !x || !ctx)
		abort();
	(void)X509_set_version(x, 2);
	(void)ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	(void)X509_gmtime_adj(X509_getm_notBefore(x), 0);
	(void)X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	(void)X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	(void)X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
					 (const unsigned char *)"allowed.test", -1, -1, 0);
	(void)X509_set_issuer_name(x, n);
	if (X509_sign(x, key, EVP_sha256()) <= 0 || SSL_CTX_use_certificate(ctx, x) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1)
		abort();
	X509_free(x);
	EVP_PKEY_free(key);
	return ctx;
}

static struct server *echo_srv, *echo2_srv, *http_srv, *tls_srv, *half_srv, *reset_srv;

static void servers_start(void)
{
	if (echo_srv)
		return;
	server_ctx = tls_server_ctx();
	echo_srv = server_start(SERVER_ECHO, "127.0.0.1");
	echo2_srv = server_start(SERVER_ECHO, "127.0.0.2");
	http_srv = server_start(SERVER_HTTP, "127.0.0.1");
	tls_srv = server_start(SERVER_TLS, "127.0.0.1");
	half_srv = server_start(SERVER_HALF, "127.0.0.1");
	reset_srv = server_start(SERVER_RESET, "127.0.0.1");
}

/* --- the harness: proxy, loop, captured audit events ------------------------------------- */

#define MAP_MAX    64
#define EVENTS_MAX 256

struct harness {
	struct event_base *base;
	struct fakeip *fip;
	struct policy *pol;
	struct proxy *proxy;
	uint16_t tport, hport, dport;
	struct {
		uint16_t client_port;
		struct sockaddr_storage dst;
	} map[MAP_MAX];
	size_t n_map;
	struct {
		char type[8];
		struct json_object *o;
	} ev[EVENTS_MAX];
	size_t n_ev;
};

static void on_audit(void *userdata, const char *type, struct json_object *fields)
{
	struct harness *h = userdata;

	if (h->n_ev >= EVENTS_MAX) {
		json_object_put(fields);
		return;
	}
	(void)snprintf(h->ev[h->n_ev].type, sizeof(h->ev[0].type), "%s", type);
	h->ev[h->n_ev++].o = fields;
}

static int on_original_dst(int fd, struct sockaddr_storage *ret, void *userdata)
{
	struct harness *h = userdata;
	struct sockaddr_in peer = {};
	socklen_t len = sizeof(peer);

	if (getpeername(fd, (struct sockaddr *)&peer, &len) < 0)
		return -errno;
	for (size_t i = 0; i < h->n_map; i++)
		if (h->map[i].client_port == ntohs(peer.sin_port)) {
			*ret = h->map[i].dst;
			return 0;
		}
	return -ENOENT;
}

static struct harness *harness_new(unsigned max_conns)
{
	static char *const add_hosts[] = { "allowed.test:127.0.0.1", NULL };
	struct harness *h = calloc(1, sizeof(*h));
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	struct in_addr a;
	char *err = NULL;
	struct proxy_opts o = {
		.audit = on_audit,
		.audit_userdata = h,
		.original_dst = on_original_dst,
		.original_dst_userdata = h,
		.max_conns = max_conns,
	};

	servers_start();
	h->base = event_base_new();
	if (!h->base || fakeip_new(0, &h->fip) < 0 || fakeip_get(h->fip, "allowed.test", &a) < 0 ||
	    fakeip_get(h->fip, "denied.test", &a) < 0)
		abort();
	if (config_set_option(c, "--net", "public", &err) < 0 ||
	    config_set_option(c, "--deny", "denied.test", &err) < 0 ||
	    config_set_option(c, "--allow", "127.0.0.2", &err) < 0 ||
	    policy_new(c, add_hosts, NULL, &h->pol) < 0)
		abort();
	o.base = h->base;
	o.policy = h->pol;
	o.fakeip = h->fip;
	if (proxy_new(&o, &h->proxy) < 0 ||
	    proxy_add_transparent_listener(h->proxy,
					   listen_on("127.0.0.1", SOCK_STREAM, &h->tport)) < 0 ||
	    proxy_add_http_listener(h->proxy, listen_on("127.0.0.1", SOCK_STREAM, &h->hport)) < 0 ||
	    proxy_add_dns_socket(h->proxy, listen_on("127.0.0.1", SOCK_DGRAM, &h->dport)) < 0)
		abort();
	return h;
}

static void harness_free(struct harness *h)
{
	h->proxy = proxy_free(h->proxy);
	for (size_t i = 0; i < h->n_ev; i++)
		json_object_put(h->ev[i].o);
	policy_free(h->pol);
	fakeip_free(h->fip);
	event_base_free(h->base);
	free(h);
}

static void pump(struct harness *h, unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	(void)event_base_loopexit(h->base, &tv);
	(void)event_base_dispatch(h->base);
}

/* "allowed.test" -> its fake address as text */
static const char *fake(struct harness *h, const char *name)
{
	static char buf[INET_ADDRSTRLEN];
	struct in_addr a;

	if (fakeip_find(h->fip, name, &a) < 0 || !inet_ntop(AF_INET, &a, buf, sizeof(buf)))
		abort();
	return buf;
}

static int connect_to(uint16_t port, uint16_t *ret_local_port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		abort();
	if (ret_local_port)
		*ret_local_port = ntohs(sin.sin_port);
	return fd;
}

static void connect_finish(int fd, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				   .sin_port = htons(port) };

	/* loopback: the kernel completes it from the backlog, before the proxy accepts */
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		abort();
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		abort();
}

/* A client whose connection the "sandbox" made to @ip:@port, captured by the proxy */
static int client_transparent(struct harness *h, const char *ip, uint16_t port)
{
	uint16_t local;
	int fd = connect_to(h->tport, &local);
	struct sockaddr_in *dst;

	if (h->n_map >= MAP_MAX)
		abort();
	dst = (struct sockaddr_in *)&h->map[h->n_map].dst;
	h->map[h->n_map].client_port = local;
	dst->sin_family = AF_INET;
	dst->sin_port = htons(port);
	if (inet_pton(AF_INET, ip, &dst->sin_addr) != 1)
		abort();
	h->n_map++;
	connect_finish(fd, h->tport);
	return fd;
}

static int client_http_proxy(struct harness *h)
{
	int fd = connect_to(h->hport, NULL);

	connect_finish(fd, h->hport);
	return fd;
}

static void send_str(int fd, const char *s)
{
	if (send(fd, s, strlen(s), MSG_NOSIGNAL) != (ssize_t)strlen(s))
		abort();
}

/*
 * Read into @buf until @needle appears (NULL: until EOF), EOF, an error or @ms pass.
 * Returns the bytes read (NUL-terminated), or -errno of a failed read with nothing read.
 */
static ssize_t recv_until(struct harness *h, int fd, char *buf, size_t cap, const char *needle,
			  unsigned ms)
{
	size_t len = 0;

	buf[0] = 0;
	for (unsigned waited = 0; waited < ms; waited += 5) {
		ssize_t n = recv(fd, buf + len, cap - 1 - len, MSG_DONTWAIT);

		if (n == 0)
			return (ssize_t)len;
		if (n < 0 && errno != EAGAIN)
			return len > 0 ? (ssize_t)len : -errno;
		if (n > 0) {
			len += (size_t)n;
			buf[len] = 0;
			if (needle && strstr(buf, needle))
				return (ssize_t)len;
		}
		pump(h, 5);
	}
	return (ssize_t)len;
}

static size_t count_events(const struct harness *h, const char *type)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n_ev; i++)
		n += streq(h->ev[i].type, type);
	return n;
}

/* Pump until there are @n events of @type; returns the last one, or NULL. */
static struct json_object *wait_event(struct harness *h, const char *type, size_t n)
{
	for (unsigned waited = 0; waited < 3000 && count_events(h, type) < n; waited += 5)
		pump(h, 5);
	for (size_t i = h->n_ev; i > 0; i--)
		if (streq(h->ev[i - 1].type, type))
			return count_events(h, type) >= n ? h->ev[i - 1].o : NULL;
	return NULL;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

static int64_t jint(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return -1;
	return json_object_get_int64(v);
}

/* --- TLS client -------------------------------------------------------------------------- */

/* Handshake over @fd with @sni, send "ping", return what came back (or "" on failure). */
static const char *tls_ping(struct harness *h, int fd, const char *sni)
{
	static char out[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);
	int r = -1;

	out[0] = 0;
	SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	(void)SSL_set_tlsext_host_name(ssl, sni);
	SSL_set_fd(ssl, fd);
	for (unsigned waited = 0; waited < 3000; waited += 5) {
		r = SSL_connect(ssl);
		if (r == 1)
			break;
		r = SSL_get_error(ssl, r);
		if (r != SSL_ERROR_WANT_READ && r != SSL_ERROR_WANT_WRITE)
			break;
		pump(h, 5);
	}
	if (r == 1 && SSL_write(ssl, "ping", 4) == 4)
		for (unsigned waited = 0; waited < 3000; waited += 5) {
			int n = SSL_read(ssl, out, sizeof(out) - 1);

			if (n > 0) {
				out[n] = 0;
				break;
			}
			if (SSL_get_error(ssl, n) != SSL_ERROR_WANT_READ)
				break;
			pump(h, 5);
		}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return out;
}

/* --- tests ------------------------------------------------------------------------------- */

TEST(tcp_relay_and_half_close)
{
	struct harness *h = harness_new(0);
	int fd = client_transparent(h, fake(h, "allowed.test"), echo_srv->port);
	char buf[256];
	struct json_object *e;

	send_str(fd, "hello\n");
	ASSERT_EQ(recv_until(h, fd, buf, sizeof(buf), "hello\n", 3000), 6);
	/* our FIN reaches the server, which still answers */
	ASSERT_OK(shutdown(fd, SHUT_WR));
	ASSERT_EQ(recv_until(h, fd, buf, sizeof(buf), NULL, 3000), 4);
	ASSERT_STREQ(buf, "bye\n");
	close(fd);

	e = wait_event(h, "net", 1);
	ASSERT_NOT_NULL(e);
	ASSERT_STREQ(jstr(e, "host"), "allowed.test");
	ASSERT_STREQ(jstr(e, "ip"), "127.0.0.1");
	ASSERT_EQ(jint(e, "port"), echo_srv->port);
	ASSERT_STREQ(jstr(e, "proto"), "tcp");
	ASSERT_STREQ(jstr(e, "decision"), "allow");
	ASSERT_NOT_NULL(jstr(e, "rule"));
	ASSERT_EQ(jint(e, "bytes_up"), 6);
	ASSERT_EQ(jint(e, "bytes_down"), 10);
	ASSERT_TRUE(jint(e, "duration_ms") >= 0);
	ASSERT_NULL(jstr(e, "error"));
	ASSERT_EQ(count_events(h, "deny"), 0);
	ASSERT_EQ(proxy_conn_count(h->proxy), 0);
	harness_free(h);
}

TEST(server_speaks_first_counts_as_tcp)
{
	struct harness *h = harness_new(0);
	int fd = client_transparent(h, fake(h, "allowed.test"), echo_srv->port);
	char buf[64];
	struct json_object *e;

	/* nothing sent for 300 ms: relayed as raw TCP; then it works as any relay */
	pump(h, 400);
	ASSERT_EQ(proxy_conn_count(h->proxy), 1);
	send_str(fd, "late\n");
	ASSERT_EQ(recv_until(h, fd, buf, sizeof(buf), "late\n", 3000), 5);
	close(fd);
	e = wait_event(h, "net", 1);
	ASSERT_STREQ(jstr(e, "proto"), "tcp");
	harness_free(h);
}

TEST(denied_name_is_reset)
{
	struct harness *h = harness_new(0);
	int fd = client_transparent(h, fake(h, "denied.test"), echo_srv->port);
	char buf[64];
	struct json_object *e;

	send_str(fd, "hello\n");
	ASSERT_EQ(recv_until(h, fd, buf, sizeof(buf), NULL, 3000), -ECONNRESET);
	close(fd);
	e = wait_event(h, "deny", 1);
	ASSERT_NOT_NULL(e);
	ASSERT_STREQ(jstr(e, "host"), "denied.test");
	ASSERT_STREQ(jstr(e, "proto"), "tcp");
	ASSERT_STREQ(jstr(e, "reason"), "host not allowed");
	ASSERT_NOT_NULL(jstr(e, "rule"));
	ASSERT_EQ(count_events(h, "net"), 0);
	harness_free(h);
}

TEST(unknown_fake_address_is_reset)
{
	struct harness *h = harness_new(0);
	int fd = client_transparent(h, "198.18.200.1", 443);
	char buf[64];

	ASSERT_EQ(recv_until(h, fd, buf, sizeof(buf), NULL, 3000), -ECONNRESET);
	close(fd);
	ASSERT_STREQ(jstr(wait_event(h, "deny", 1), "reason"), "unknown fake address");
	harness_free(h);
}

TEST(loopback_literal_is_denied)
{
	struct harness *h = harness_new(0);
	int fd = client_transparent(h, "127.0.0.1", echo_srv->port);
	char buf[64];
	struct json_object *e;

	send_str(fd, "hello\n");
	ASSERT_EQ(recv_until(h, fd, buf, sizeof(buf), NULL, 3000), -ECONNRESET);
	close(fd);
	e = wait_event(h, "deny", 1);
	ASSERT_STREQ(jstr(e, "host"), "127.0.0.1");
	ASSERT_STREQ(jstr(e, "ip"), "127.0.0.1");
	ASSERT_STREQ(jstr(e, "reason"), "address not allowed");
	harness_free(h);
}

TEST(private_address_needs_a_rule)
{
	struct harness *h = harness_new(0);
	int fd = client_transparent(h, "127.0.0.2", echo2_srv->port);
	char buf[64];
	struct json_object *e;

	/* 127.0.0.2 has an explicit allow rule */
	send_str(fd, "hello\n");
	ASSERT_EQ(recv_until(h, fd, buf, sizeof(buf), "hello\n", 3000), 6);
	close(fd);
	e = wait_event(h, "net", 1);
	ASSERT_STREQ(jstr(e, "ip"), "127.0.0.2");
	ASSERT_STREQ(jstr(e, "decision"), "allow");

	/* 127.0.0.3 has none */
	fd = client_transparent(h, "127.0.0.3", echo2_srv->port);
	send_str(fd, "hello\n");
	ASSERT_EQ(recv_until(h, fd, buf, sizeof(buf), NULL, 3000), -ECONNRESET);
	close(fd);
	ASSERT_STREQ(jstr(wait_event(h, "deny", 1), "ip"), "127.0.0.3");
	harness_free(h);
}

TEST(tls_with_matching_sni)
{
	struct harness *h = harness_new(0);
	int fd = client_transparent(h, fake(h, "allowed.test"), tls_srv->port);
	struct json_object *e;

	ASSERT_STREQ(tls_ping(h, fd, "allowed.test"), "tls:ping");
	close(fd);
	e = wait_event(h, "net", 1);
	ASSERT_STREQ(jstr(e, "proto"), "tls");
	ASSERT_STREQ(jstr(e, "sni"), "allowed.test");
	ASSERT_STREQ(jstr(e, "host"), "allowed.test");
	ASSERT_TRUE(jint(e, "bytes_up") > 100);
	ASSERT_TRUE(jint(e, "bytes_down") > 100);
	harness_free(h);
}

TEST(tls_sni_mismatch_is_denied)
{
	struct harness *h = harness_new(0);
	int fd = client_transparent(h, fake(h, "allowed.test"), tls_srv->port);
	struct json_object *e;

	ASSERT_STREQ(tls_ping(h, fd, "evil.test"), "");
	close(fd);
	e = wait_event(h, "deny", 1);
	ASSERT_STREQ(jstr(e, "proto"), "tls");
	ASSERT_STREQ(jstr(e, "sni"), "evil.test");
	ASSERT_STREQ(jstr(e, "host"), "allowed.test");
	ASSERT_STREQ(jstr(e, "reason"), "SNI/Host differs from the connection's target");
	ASSERT_EQ(count_events(h, "net"), 0);
	harness_free(h);
}

TEST(http_transparent_host_checked_and_head_rewritten)
{
	struct harness *h = harness_new(0);
	int fd = client_transparent(h, fake(h, "allowed.test"), http_srv->port);
	char buf[1024], req[512];
	struct json_object *e;

	(void)snprintf(
		req, sizeof(req),
		"GET /x HTTP/1.1\r\nHost: allowed.test:%u\r\nConnection: keep-alive, X-Hop\r\n"
		"X-Hop: 1\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\nAccept: */*\r\n\r\n",
		http_srv->port);
	send_str(fd, req);
	ASSERT_TRUE(recv_until(h, fd, buf, sizeof(buf), NULL, 3000) > 0);
	ASSERT_TRUE(strncmp(buf, "HTTP/1.1 200 OK", 15) == 0);
	close(fd);
	pthread_mutex_lock(&http_lock);
	ASSERT_TRUE(strncmp(http_last_head, "GET /x HTTP/1.1\r\n", 17) == 0);
	ASSERT_NULL(strstr(http_last_head, "Proxy-"));
	ASSERT_NULL(strstr(http_last_head, "X-Hop"));
	ASSERT_NULL(strstr(http_last_head, "keep-alive"));
	ASSERT_NOT_NULL(strstr(http_last_head, "\r\nAccept: */*\r\n"));
	ASSERT_NOT_NULL(strstr(http_last_head, "\r\nConnection: close\r\n\r\n"));
	pthread_mutex_unlock(&http_lock);
	e = wait_event(h, "net", 1);
	ASSERT_STREQ(jstr(e, "proto"), "http");
	harness_free(h);
}

TEST(http_host_mismatch_is_403)
{
	struct harness *h = harness_new(0);
	int fd = client_transparent(h, fake(h, "allowed.test"), http_srv->port);
	char buf[1024];
	struct json_object *e;

	send_str(fd, "GET / HTTP/1.1\r\nHost: evil.test\r\n\r\n");
	ASSERT_TRUE(recv_until(h, fd, buf, sizeof(buf), NULL, 3000) > 0);
	ASSERT_TRUE(strncmp(buf, "HTTP/1.1 403 Forbidden\r\n", 24) == 0);
	ASSERT_NOT_NULL(strstr(buf, "Connection: close\r\n"));
	ASSERT_NOT_NULL(strstr(buf, "SNI/Host differs from the connection's target"));
	close(fd);
	e = wait_event(h, "deny", 1);
	ASSERT_STREQ(jstr(e, "proto"), "http");
	ASSERT_STREQ(jstr(e, "host"), "allowed.test");
	harness_free(h);
}

TEST(connect_allowed)
{
	struct harness *h = harness_new(0);
	int fd = client_http_proxy(h);
	char buf[256], req[256];
	struct json_object *e;

	(void)snprintf(req, sizeof(req),
		       "CONNECT allowed.test:%u HTTP/1.1\r\nHost: allowed.test:%u\r\n"
		       "Proxy-Authorization: Basic Zm9vOmJhcg==\r\n\r\n",
		       echo_srv->port, echo_srv->port);
	send_str(fd, req);
	ASSERT_TRUE(recv_until(h, fd, buf, sizeof(buf), "\r\n\r\n", 3000) > 0);
	ASSERT_STREQ(buf, "HTTP/1.1 200 Connection established\r\n\r\n");
	send_str(fd, "hello\n");
	ASSERT_EQ(recv_until(h, fd, buf, sizeof(buf), "hello\n", 3000), 6);
	close(fd);
	e = wait_event(h, "net", 1);
	ASSERT_STREQ(jstr(e, "via"), "connect");
	ASSERT_STREQ(jstr(e, "host"), "allowed.test");
	ASSERT_STREQ(jstr(e, "ip"), "127.0.0.1");
	ASSERT_EQ(jint(e, "bytes_up"), 6);
	harness_free(h);
}

TEST(connect_tunnel_sni_checked)
{
	struct harness *h = harness_new(0);
	int fd = client_http_proxy(h);
	char buf[256], req[256];

	(void)snprintf(req, sizeof(req),
		       "CONNECT allowed.test:%u HTTP/1.1\r\nHost: allowed.test:%u\r\n\r\n",
		       tls_srv->port, tls_srv->port);
	send_str(fd, req);
	ASSERT_TRUE(recv_until(h, fd, buf, sizeof(buf), "\r\n\r\n", 3000) > 0);
	ASSERT_TRUE(strncmp(buf, "HTTP/1.1 200", 12) == 0);
	ASSERT_STREQ(tls_ping(h, fd, "evil.test"), "");
	close(fd);
	ASSERT_STREQ(jstr(wait_event(h, "deny", 1), "sni"), "evil.test");
	harness_free(h);
}

TEST(connect_denied)
{
	struct harness *h = harness_new(0);
	char buf[1024], req[256];
	int fd = client_http_proxy(h);

	send_str(fd, "CONNECT denied.test:443 HTTP/1.1\r\nHost: denied.test:443\r\n\r\n");
	ASSERT_TRUE(recv_until(h, fd, buf, sizeof(buf), NULL, 3000) > 0);
	ASSERT_TRUE(strncmp(buf, "HTTP/1.1 403 Forbidden\r\n", 24) == 0);
	ASSERT_NOT_NULL(strstr(buf, "host not allowed"));
	close(fd);
	ASSERT_STREQ(jstr(wait_event(h, "deny", 1), "host"), "denied.test");

	/* an IP literal in the authority obeys the address rules */
	fd = client_http_proxy(h);
	(void)snprintf(req, sizeof(req),
		       "CONNECT 127.0.0.1:%u HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n",
		       echo_srv->port, echo_srv->port);
	send_str(fd, req);
	ASSERT_TRUE(recv_until(h, fd, buf, sizeof(buf), NULL, 3000) > 0);

	ASSERT_TRUE(strncmp(buf, "HTTP/1.1 403", 12) == 0);
	close(fd);
	ASSERT_STREQ(jstr(wait_event(h, "deny", 2), "ip"), "127.0.0.1");
	ASSERT_EQ(count_events(h, "net"), 0);
	harness_free(h);
}

TEST(absolute_form_rewritten)
{
	struct harness *h = harness_new(0);
	int fd = client_http_proxy(h);
	char buf[1024], req[512];
	struct json_object *e;

	(void)snprintf(req, sizeof(req),
		       "GET http://allowed.test:%u/path?q=1 HTTP/1.1\r\nHost: allowed.test:%u\r\n"
		       "Proxy-Authorization: Basic Zm9vOmJhcg==\r\nProxy-Connection: keep-alive\r\n"
		       "User-Agent: t\r\n\r\n",
		       http_srv->port, http_srv->port);
	send_str(fd, req);
	ASSERT_TRUE(recv_until(h, fd, buf, sizeof(buf), NULL, 3000) > 0);
	ASSERT_TRUE(strncmp(buf, "HTTP/1.1 200 OK", 15) == 0);
	ASSERT_NOT_NULL(strstr(buf, "\r\n\r\nok"));
	close(fd);
	pthread_mutex_lock(&http_lock);
	ASSERT_TRUE(strncmp(http_last_head, "GET /path?q=1 HTTP/1.1\r\n", 24) == 0);
	ASSERT_NULL(strstr(http_last_head, "Proxy-"));
	ASSERT_NOT_NULL(strstr(http_last_head, "\r\nUser-Agent: t\r\n"));
	ASSERT_NOT_NULL(strstr(http_last_head, "\r\nConnection: close\r\n\r\n"));
	pthread_mutex_unlock(&http_lock);
	e = wait_event(h, "net", 1);
	ASSERT_STREQ(jstr(e, "via"), "proxy");
	ASSERT_STREQ(jstr(e, "proto"), "http");
	harness_free(h);
}

TEST(garbage_is_400)
{
	struct harness *h = harness_new(0);
	char buf[1024];
	int fd = client_http_proxy(h);

	send_str(fd, "HELLO\r\n\r\n");
	ASSERT_TRUE(recv_until(h, fd, buf, sizeof(buf), NULL, 3000) > 0);
	ASSERT_TRUE(strncmp(buf, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
	close(fd);

	/* origin-form is no proxy request */
	fd = client_http_proxy(h);
	send_str(fd, "GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n");
	ASSERT_TRUE(recv_until(h, fd, buf, sizeof(buf), NULL, 3000) > 0);
	ASSERT_TRUE(strncmp(buf, "HTTP/1.1 400", 12) == 0);
	close(fd);
	ASSERT_STREQ(jstr(wait_event(h, "deny", 2), "rule"), "request");
	harness_free(h);
}

/* A DNS query for @name of type A, answered on @h's DNS socket into @resp */
static ssize_t dns_ask(struct harness *h, const char *name, uint8_t *resp, size_t cap)
{
	uint8_t q[512] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
	size_t len = DNS_HEADER_SIZE;
	uint16_t port;
	int fd = listen_on("127.0.0.1", SOCK_DGRAM, &port);
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons(h->dport) };
	ssize_t n = -1;

	for (const char *l = name; *l;) {
		size_t ll = strcspn(l, ".");

		q[len++] = (uint8_t)ll;
		memcpy(q + len, l, ll);
		len += ll;
		l += ll + (l[ll] == '.');
	}
	q[len++] = 0;
	q[len++] = 0;
	q[len++] = DNS_TYPE_A;
	q[len++] = 0;
	q[len++] = DNS_CLASS_IN;
	if (sendto(fd, q, len, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)len)
		abort();
	for (unsigned waited = 0; waited < 3000 && n < 0; waited += 5) {
		pump(h, 5);
		n = recv(fd, resp, cap, MSG_DONTWAIT);
	}
	close(fd);
	return n;
}

TEST(dns_answers_by_policy)
{
	struct harness *h = harness_new(0);
	uint8_t resp[DNS_RESPONSE_MAX];
	struct in_addr want;
	ssize_t n;
	struct json_object *e;

	ASSERT_OK(fakeip_find(h->fip, "allowed.test", &want));
	n = dns_ask(h, "Allowed.Test", resp, sizeof(resp));
	ASSERT_TRUE(n > 16);
	ASSERT_EQ(resp[3] & 0x0f, DNS_RCODE_NOERROR);
	ASSERT_EQ(resp[7], 1); /* ANCOUNT */
	ASSERT_EQ(memcmp(resp + n - 4, &want, 4), 0);
	e = wait_event(h, "dns", 1);
	ASSERT_STREQ(jstr(e, "name"), "allowed.test");
	ASSERT_STREQ(jstr(e, "qtype"), "A");
	ASSERT_STREQ(jstr(e, "decision"), "allow");
	ASSERT_STREQ(jstr(e, "answer"), fake(h, "allowed.test"));

	n = dns_ask(h, "denied.test", resp, sizeof(resp));
	ASSERT_TRUE(n >= DNS_HEADER_SIZE);
	ASSERT_EQ(resp[3] & 0x0f, DNS_RCODE_NXDOMAIN);
	e = wait_event(h, "dns", 2);
	ASSERT_STREQ(jstr(e, "name"), "denied.test");
	ASSERT_STREQ(jstr(e, "decision"), "deny");
	ASSERT_STREQ(jstr(e, "answer"), "NXDOMAIN");
	ASSERT_NOT_NULL(jstr(e, "rule"));
	harness_free(h);
}

TEST(too_many_connections)
{
	struct harness *h = harness_new(1);
	int a = client_transparent(h, fake(h, "allowed.test"), echo_srv->port);
	int b;
	char buf[64];
	struct json_object *e;

	send_str(a, "first\n");
	ASSERT_EQ(recv_until(h, a, buf, sizeof(buf), "first\n", 3000), 6);
	ASSERT_EQ(proxy_conn_count(h->proxy), 1);

	b = client_transparent(h, fake(h, "allowed.test"), echo_srv->port);
	send_str(b, "second\n");
	ASSERT_EQ(recv_until(h, b, buf, sizeof(buf), NULL, 3000), -ECONNRESET);
	close(b);
	e = wait_event(h, "deny", 1);
	ASSERT_STREQ(jstr(e, "reason"), "too many connections");
	ASSERT_STREQ(jstr(e, "rule"), "limit");

	/* the first one is untouched */
	send_str(a, "again\n");
	ASSERT_EQ(recv_until(h, a, buf, sizeof(buf), "again\n", 3000), 6);
	close(a);
	ASSERT_NOT_NULL(wait_event(h, "net", 1));
	harness_free(h);
}

TEST(free_with_open_connections)
{
	struct harness *h = harness_new(0);
	int fd = client_transparent(h, fake(h, "allowed.test"), echo_srv->port);
	char buf[64];

	send_str(fd, "hello\n");
	ASSERT_EQ(recv_until(h, fd, buf, sizeof(buf), "hello\n", 3000), 6);
	h->proxy = proxy_free(h->proxy);
	ASSERT_EQ(count_events(h, "net"), 1);
	ASSERT_STREQ(jstr(wait_event(h, "net", 1), "error"), "proxy shut down");
	close(fd);
	harness_free(h);
}

/* --- the relay: splice and the bufferevent fallback --------------------------------------- */

#define BIG_SIZE (20u * 1024u * 1024u)

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* 20 MiB of pseudo-random bytes each way at once through the echo server, checksummed */
static void check_large_transfer(bool no_splice)
{
	struct harness *h = harness_new(0);
	int fd = client_transparent(h, fake(h, "allowed.test"), echo_srv->port);
	static uint8_t out[BIG_SIZE];
	uint8_t in[65536];
	uint64_t sum_out = 0xcbf29ce484222325ull, sum_in = 0xcbf29ce484222325ull,
		 x = 88172645463325252ull;
	size_t sent = 0, got = 0;
	char tail[8] = "";
	struct json_object *e;

	h->proxy->no_splice = no_splice;
	for (size_t i = 0; i < BIG_SIZE; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		out[i] = (uint8_t)x;
	}
	/* a first byte that is no protocol: relayed as raw TCP at once */
	out[0] = 0x01;
	sum_out = fnv1a(sum_out, out, BIG_SIZE);
	for (unsigned spins = 0; got < BIG_SIZE + 4 && spins < 2000000; spins++) {
		ssize_t n;

		if (sent < BIG_SIZE) {
			n = send(fd, out + sent, MIN((size_t)65536, BIG_SIZE - sent),
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				sent += (size_t)n;
			if (sent == BIG_SIZE)
				ASSERT_OK(shutdown(fd, SHUT_WR));
		}
		n = recv(fd, in, sizeof(in), MSG_DONTWAIT);
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++, got++)
			if (got < BIG_SIZE)
				sum_in = fnv1a(sum_in, &in[i], 1);
			else if (got - BIG_SIZE < sizeof(tail) - 1)
				tail[got - BIG_SIZE] = (char)in[i];
		(void)event_base_loop(h->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		if (n < 0 && sent == BIG_SIZE)
			pump(h, 1);
	}
	ASSERT_EQ(sent, BIG_SIZE);
	ASSERT_EQ(got, BIG_SIZE + 4);
	ASSERT_TRUE(sum_in == sum_out);
	ASSERT_STREQ(tail, "bye\n");
	close(fd);
	e = wait_event(h, "net", 1);
	ASSERT_NOT_NULL(e);
	ASSERT_NULL(jstr(e, "error"));
	ASSERT_EQ(jint(e, "bytes_up"), BIG_SIZE);
	ASSERT_EQ(jint(e, "bytes_down"), BIG_SIZE + 4);
	ASSERT_EQ(proxy_conn_count(h->proxy), 0);
	harness_free(h);
}

TEST(relay_large_transfer_splice)
{
	check_large_transfer(false);
}

TEST(relay_large_transfer_bufferevent)
{
	check_large_transfer(true);
}

/* The server's FIN reaches the client while the client's direction keeps flowing. */
static void check_half_close_from_server(bool no_splice)
{
	struct harness *h = harness_new(0);
	int fd = client_transparent(h, fake(h, "allowed.test"), half_srv->port);
	char buf[64];
	struct json_object *e;

	h->proxy->no_splice = no_splice;
	pthread_mutex_lock(&http_lock);
	half_got[0] = 0;
	pthread_mutex_unlock(&http_lock);
	/* the server speaks first: its line, then EOF, with our side still open */
	ASSERT_EQ(recv_until(h, fd, buf, sizeof(buf), NULL, 3000), 3);
	ASSERT_STREQ(buf, "hi\n");
	send_str(fd, "after\n");
	ASSERT_OK(shutdown(fd, SHUT_WR));
	e = wait_event(h, "net", 1);
	ASSERT_NOT_NULL(e);
	ASSERT_NULL(jstr(e, "error"));
	ASSERT_EQ(jint(e, "bytes_up"), 6);
	ASSERT_EQ(jint(e, "bytes_down"), 3);
	pthread_mutex_lock(&http_lock);
	{
		bool same = strcmp(half_got, "after\n") == 0;

		pthread_mutex_unlock(&http_lock);
		ASSERT_TRUE(same);
	}
	ASSERT_EQ(proxy_conn_count(h->proxy), 0);
	close(fd);
	harness_free(h);
}

/* The client's FIN reaches the server, which answers after it (the echo server's "bye"). */
static void check_half_close_from_client(bool no_splice)
{
	struct harness *h = harness_new(0);
	int fd = client_transparent(h, fake(h, "allowed.test"), echo_srv->port);
	char buf[64];
	struct json_object *e;

	h->proxy->no_splice = no_splice;
	send_str(fd, "\x01one\n");
	ASSERT_EQ(recv_until(h, fd, buf, sizeof(buf), "one\n", 3000), 5);
	ASSERT_OK(shutdown(fd, SHUT_WR));
	ASSERT_EQ(recv_until(h, fd, buf, sizeof(buf), NULL, 3000), 4);
	ASSERT_STREQ(buf, "bye\n");
	e = wait_event(h, "net", 1);
	ASSERT_NULL(jstr(e, "error"));
	ASSERT_EQ(jint(e, "bytes_up"), 5);
	ASSERT_EQ(jint(e, "bytes_down"), 9);
	close(fd);
	harness_free(h);
}

TEST(relay_half_close_both_ways)
{
	check_half_close_from_server(false);
	check_half_close_from_server(true);
	check_half_close_from_client(false);
	check_half_close_from_client(true);
}

static void check_upstream_reset(bool no_splice)
{
	struct harness *h = harness_new(0);
	int fd = client_transparent(h, fake(h, "allowed.test"), reset_srv->port);
	char buf[64];
	struct json_object *e;

	h->proxy->no_splice = no_splice;
	send_str(fd, "\x01hello\n");
	e = wait_event(h, "net", 1);
	ASSERT_NOT_NULL(e);
	ASSERT_STREQ(jstr(e, "error"), "upstream reset the connection");
	ASSERT_EQ(jint(e, "bytes_up"), 7);
	ASSERT_EQ(proxy_conn_count(h->proxy), 0);
	ASSERT_TRUE(recv_until(h, fd, buf, sizeof(buf), NULL, 3000) <= 0);
	close(fd);
	harness_free(h);
}

static void check_client_reset(bool no_splice)
{
	struct harness *h = harness_new(0);
	int fd = client_transparent(h, fake(h, "allowed.test"), echo_srv->port);
	struct linger l = { .l_onoff = 1, .l_linger = 0 };
	char buf[64];
	struct json_object *e;

	h->proxy->no_splice = no_splice;
	send_str(fd, "\x01hello\n");
	ASSERT_EQ(recv_until(h, fd, buf, sizeof(buf), "hello\n", 3000), 7);
	ASSERT_OK(setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)));
	close(fd);
	e = wait_event(h, "net", 1);
	ASSERT_NOT_NULL(e);
	ASSERT_STREQ(jstr(e, "error"), "client connection failed");
	ASSERT_EQ(jint(e, "bytes_up"), 7);
	ASSERT_EQ(jint(e, "bytes_down"), 7);
	ASSERT_EQ(proxy_conn_count(h->proxy), 0);
	harness_free(h);
}

TEST(relay_peer_reset_mid_stream)
{
	check_upstream_reset(false);
	check_upstream_reset(true);
	check_client_reset(false);
	check_client_reset(true);
}

/* No byte either way for idle_usec closes the connection; traffic keeps it open. */
static void check_idle_timeout(bool no_splice)
{
	struct harness *h = harness_new(0);
	int fd = client_transparent(h, fake(h, "allowed.test"), echo_srv->port);
	char buf[64];
	struct json_object *e;

	h->proxy->no_splice = no_splice;
	h->proxy->idle_usec = 300 * 1000;
	for (int i = 0; i < 4; i++) {
		send_str(fd, "\x01ping\n");
		ASSERT_EQ(recv_until(h, fd, buf, sizeof(buf), "ping\n", 3000), 6);
		pump(h, 150);
	}
	ASSERT_EQ(count_events(h, "net"), 0);
	ASSERT_EQ(proxy_conn_count(h->proxy), 1);
	e = wait_event(h, "net", 1);
	ASSERT_NOT_NULL(e);
	ASSERT_STREQ(jstr(e, "error"), "idle timeout");
	ASSERT_EQ(jint(e, "bytes_up"), 24);
	ASSERT_EQ(jint(e, "bytes_down"), 24);
	ASSERT_EQ(recv_until(h, fd, buf, sizeof(buf), NULL, 3000), 0);
	close(fd);
	harness_free(h);
}

TEST(relay_idle_timeout)
{
	check_idle_timeout(false);
	check_idle_timeout(true);
}

int main(void)
{
	(void)signal(SIGPIPE, SIG_IGN);
	return tap_run();
}
