/* SPDX-License-Identifier: MIT */
/*
 * test-ports.c - port forwards: the spec parser, and the relay on 127.0.0.1 in one process
 *
 * "The sandbox" is the host's loopback: servers in their own threads (blocking I/O) listen on
 * 127.0.0.1, and the test's ops->connect connects to 127.0.0.1:INNER_PORT from the event
 * loop's thread, then answers with ports_connected() at once (OP_SYNC), from a zero-delay
 * timer (OP_DEFER), or never (OP_NEVER). Small clients run in the loop's thread: a write to
 * loopback never blocks, and the test pumps the loop until the answer is there. The large
 * transfer has a writer and a reader thread.
 */
#include <arpa/inet.h>
#include <event2/event.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/macro.h"
#include "supervisor/ports.h"
#include "tap.h"

/* --- parser ------------------------------------------------------------------------------ */

static void check_good(const char *in, const char *canonical)
{
	struct port_spec spec;
	char buf[PORT_SPEC_STRLEN], *err = NULL;
	int r = port_spec_parse(in, &spec, &err);

	if (r < 0)
		TAP_FAIL("'%s' refused: %s", in, err);
	ASSERT_NULL(err);
	ASSERT_STREQ(port_spec_format(&spec, buf), canonical);
}

static void check_bad(const char *in, const char *reason)
{
	struct port_spec spec = { .port = 4242 };
	char *err = NULL;

	ASSERT_ERR(port_spec_parse(in, &spec, &err), EINVAL);
	ASSERT_STREQ(err, reason);
	ASSERT_EQ(spec.port, 4242); /* untouched */
	free(err);
}

TEST(parse_good)
{
	check_good("8080", "127.0.0.1:8080:8080");
	check_good("1", "127.0.0.1:1:1");
	check_good("65535", "127.0.0.1:65535:65535");
	check_good("8080:3000", "127.0.0.1:8080:3000");
	check_good("0:3000", "127.0.0.1:0:3000");
	check_good("08080:3000", "127.0.0.1:8080:3000");
	check_good("127.0.0.1:8080", "127.0.0.1:8080:8080");
	check_good("127.0.0.2:8080:3000", "127.0.0.2:8080:3000");
	check_good("0.0.0.0:8080:3000", "0.0.0.0:8080:3000");
	check_good("192.168.1.5::3000", "192.168.1.5:0:3000");
	check_good("[::1]:8080:3000", "[::1]:8080:3000");
	check_good("[::1]:8080", "[::1]:8080:8080");
	check_good("[::]::22", "[::]:0:22");
	check_good("[::ffff:127.0.0.1]:80:81", "127.0.0.1:80:81");
	check_good("8080/tcp", "127.0.0.1:8080:8080");
	check_good("127.0.0.1:8080:3000/tcp", "127.0.0.1:8080:3000");
}

TEST(parse_bad)
{
	check_bad("", "empty port forward: give [IP:]HOSTPORT[:PORT]");
	check_bad("0", "invalid port '0': give a number 1-65535");
	check_bad("70000", "invalid port '70000': give a number 1-65535");
	check_bad("8080:0", "invalid port '0': give a number 1-65535");
	check_bad("8080:", "invalid port '': give a number 1-65535");
	check_bad("-1", "invalid port '-1': give a number 1-65535");
	check_bad("80x", "invalid port '80x': give a number 1-65535");
	check_bad(" 80", "invalid port ' 80': give a number 1-65535");
	check_bad("65536:80", "invalid host port '65536': give a number 1-65535, or 0 for any "
			      "free port");
	check_bad("123456:80", "invalid host port '123456': give a number 1-65535, or 0 for any "
			       "free port");
	check_bad(":80", "missing IP address before ':' in ':80'");
	check_bad("localhost:8080", "'localhost' is not an IP address: give a literal such as "
				    "127.0.0.1 or [::1] (names are not resolved)");
	check_bad("localhost:8080:3000", "'localhost' is not an IP address: give a literal such "
					 "as 127.0.0.1 or [::1] (names are not resolved)");
	check_bad("127.0.0.1:", "missing HOSTPORT after '127.0.0.1:' in '127.0.0.1:'");
	check_bad("127.0.0.1:99999:80", "invalid host port '99999': give a number 1-65535, or 0 "
					"for any free port");
	check_bad("127.0.0.1:8080:x", "invalid port 'x': give a number 1-65535");
	check_bad("1.2.3.4:5:6:7", "too many ':' in '1.2.3.4:5:6:7': write an IPv6 address in "
				   "brackets, as [::1]:8080:3000");
	check_bad("::1:8080:3000", "too many ':' in '::1:8080:3000': write an IPv6 address in "
				   "brackets, as [::1]:8080:3000");
	check_bad("1:2:3", "'1' is not an IP address: give a literal such as 127.0.0.1 or [::1] "
			   "(names are not resolved)");
	check_bad("[::1", "missing ']' after the IPv6 address in '[::1'");
	check_bad("[::1]", "missing ':HOSTPORT' after '[::1]' in '[::1]'");
	check_bad("[::1]8080", "missing ':HOSTPORT' after '[::1]' in '[::1]8080'");
	check_bad("[::1]:", "missing ':HOSTPORT' after '[::1]' in '[::1]:'");
	check_bad("[127.0.0.1]:80:80",
		  "'127.0.0.1' is not an IPv6 address: give a literal such as [::1]");
	check_bad("[fe80::1%eth0]:80:80",
		  "'fe80::1%eth0' is not an IPv6 address: give a literal such as [::1]");
	check_bad("[]:80", "'' is not an IP address: give a literal such as 127.0.0.1 or [::1] "
			   "(names are not resolved)");
	check_bad("[::1]:1:2:3", "too many ':' in '1:2:3': give [IP:]HOSTPORT[:PORT], an IPv6 "
				 "address in brackets ([::1]:8080:3000)");
	check_bad("[::1]:x:80", "invalid host port 'x': give a number 1-65535, or 0 for any "
				"free port");
	check_bad("53/udp", "'53/udp': only TCP ports are forwarded");
	check_bad("8080/http", "unknown protocol '/http' in '8080/http': only /tcp is forwarded");
	check_bad("1.2.3:80:80", "'1.2.3' is not an IP address: give a literal such as 127.0.0.1 "
				 "or [::1] (names are not resolved)");
	check_bad("8080:3000:", "'8080' is not an IP address: give a literal such as 127.0.0.1 "
				"or [::1] (names are not resolved)");

	char long_spec[PORT_SPEC_INPUT_MAX + 2];

	memset(long_spec, '1', sizeof(long_spec) - 1);
	long_spec[sizeof(long_spec) - 1] = '\0';
	check_bad(long_spec, "port forward too long (129 bytes, at most 128)");
}

TEST(parse_exposed)
{
	static const struct {
		const char *spec;
		bool exposed;
	} cases[] = {
		{ "8080", false },           { "127.0.0.5:80:80", false },
		{ "[::1]:80:80", false },    { "0.0.0.0:80:80", true },
		{ "[::]:80:80", true },      { "192.168.1.5:80:80", true },
		{ "[fd00::1]:80:80", true },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct port_spec spec;
		char *err = NULL;

		ASSERT_OK(port_spec_parse(cases[i].spec, &spec, &err));
		if (port_spec_is_exposed(&spec) != cases[i].exposed)
			TAP_FAIL("'%s': exposed should be %d", cases[i].spec, cases[i].exposed);
	}
}

/* --- the sandbox's servers (threads, blocking I/O) ---------------------------------------- */

enum server_mode { SERVER_ECHO, SERVER_GREET };

struct server {
	enum server_mode mode;
	int fd;
	uint16_t port;
};

static pthread_mutex_t greet_lock = PTHREAD_MUTEX_INITIALIZER;
static char greet_got[256]; /* what SERVER_GREET read after its own FIN, under greet_lock */

struct server_conn {
	enum server_mode mode;
	int fd;
};

static ssize_t write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	size_t done = 0;

	while (done < n) {
		ssize_t w = send(fd, p + done, n - done, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		done += (size_t)w;
	}
	return (ssize_t)done;
}

static void *server_conn_thread(void *arg)
{
	struct server_conn *sc = arg;
	char buf[65536];
	size_t got = 0;
	ssize_t n;

	if (sc->mode == SERVER_GREET) {
		(void)write_all(sc->fd, "greeting", 8);
		(void)shutdown(sc->fd, SHUT_WR);
	}
	while ((n = recv(sc->fd, buf, sizeof(buf), 0)) > 0 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		if (sc->mode == SERVER_ECHO) {
			if (write_all(sc->fd, buf, (size_t)n) < 0)
				break;
		} else {
			pthread_mutex_lock(&greet_lock);
			size_t k = MIN((size_t)n, sizeof(greet_got) - 1 - got);

			memcpy(greet_got + got, buf, k);
			got += k;
			greet_got[got] = '\0';
			pthread_mutex_unlock(&greet_lock);
		}
	}
	if (sc->mode == SERVER_ECHO)
		(void)shutdown(sc->fd, SHUT_WR);
	close(sc->fd);
	free(sc);
	return NULL;
}

static void *server_thread(void *arg)
{
	struct server *s = arg;

	for (;;) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		struct server_conn *sc;
		pthread_t t;

		if (fd < 0)
			continue;
		sc = malloc(sizeof(*sc));
		if (!sc)
			abort();
		*sc = (struct server_conn){ .mode = s->mode, .fd = fd };
		if (pthread_create(&t, NULL, server_conn_thread, sc) != 0)
			abort();
		pthread_detach(t);
	}
	return NULL;
}

static int listen_loopback(uint16_t *ret_port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		abort();
	*ret_port = ntohs(sin.sin_port);
	return fd;
}

/* The port of a server of @mode, started on first use */
static uint16_t server_port(enum server_mode mode)
{
	static struct server servers[2];
	struct server *s = &servers[mode];
	pthread_t t;

	if (s->port)
		return s->port;
	s->mode = mode;
	s->fd = listen_loopback(&s->port);
	if (pthread_create(&t, NULL, server_thread, s) != 0)
		abort();
	pthread_detach(t);
	return s->port;
}

/* A port nobody listens on (bound, then closed: the kernel does not hand it out at once) */
static uint16_t dead_port(void)
{
	uint16_t port;
	int fd = listen_loopback(&port);

	close(fd);
	return port;
}

/* --- the loop, the ops, the audit ---------------------------------------------------------- */

enum op_mode { OP_SYNC, OP_DEFER, OP_NEVER };

static struct event_base *base;
static struct event *tick;
static struct ports *ports;
static enum op_mode op_mode;
static unsigned op_calls;
static uint64_t op_last_req;

#define AUDIT_MAX 512
static struct json_object *audit_events[AUDIT_MAX];
static size_t n_audit;

static void audit_cb(void *userdata, const char *type, struct json_object *fields)
{
	if (!streq(type, "port") || n_audit >= AUDIT_MAX)
		abort();
	audit_events[n_audit++] = fields;
}

static void audit_reset(void)
{
	for (size_t i = 0; i < n_audit; i++)
		json_object_put(audit_events[i]);
	n_audit = 0;
}

static const char *field_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static int64_t field_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : -1;
}

/* The last event with @action, or NULL */
static struct json_object *audit_find(const char *action)
{
	for (size_t i = n_audit; i > 0; i--)
		if (streq_ptr(field_str(audit_events[i - 1], "action"), action))
			return audit_events[i - 1];
	return NULL;
}

static unsigned audit_count(const char *action)
{
	unsigned n = 0;

	for (size_t i = 0; i < n_audit; i++)
		n += streq_ptr(field_str(audit_events[i], "action"), action);
	return n;
}

/* What init does, on the host's loopback: connect to 127.0.0.1:@port and answer */
static void answer(uint16_t port, uint64_t req_id)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				   .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		abort();
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		int e = errno;

		close(fd);
		(void)ports_connected(ports, req_id, -1, e);
		return;
	}
	(void)ports_connected(ports, req_id, fd, 0);
}

struct deferred {
	uint16_t port;
	uint64_t req_id;
};

static void deferred_cb(evutil_socket_t fd, short what, void *arg)
{
	struct deferred *d = arg;

	answer(d->port, d->req_id);
	free(d);
}

static void op_connect(void *userdata, uint16_t inner_port, uint64_t req_id)
{
	struct timeval zero = { 0, 0 };
	struct deferred *d;

	op_calls++;
	op_last_req = req_id;
	switch (op_mode) {
	case OP_SYNC:
		answer(inner_port, req_id);
		break;
	case OP_DEFER:
		d = malloc(sizeof(*d));
		if (!d)
			abort();
		*d = (struct deferred){ .port = inner_port, .req_id = req_id };
		if (event_base_once(base, -1, EV_TIMEOUT, deferred_cb, d, &zero) < 0)
			abort();
		break;
	case OP_NEVER:
	default:
		break;
	}
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
}

static void setup(enum op_mode mode)
{
	static const struct ports_ops ops = { .connect = op_connect, .audit = audit_cb };
	struct timeval tv = { 0, 2000 };

	(void)signal(SIGPIPE, SIG_IGN);
	if (!base) {
		base = event_base_new();
		tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
		if (!base || !tick || event_add(tick, &tv) < 0)
			abort();
	}
	audit_reset();
	op_mode = mode;
	op_calls = 0;
	ports = ports_new(base, &ops, NULL);
	if (!ports)
		abort();
}

static void teardown(void)
{
	ports = ports_free(ports);
	audit_reset();
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Run the loop a little (one tick or event) */
static void pump(void)
{
	(void)event_base_loop(base, EVLOOP_ONCE);
}

static void pump_ms(unsigned ms)
{
	uint64_t end = now_ms() + ms;

	while (now_ms() < end)
		pump();
}

/* A forward of @spec_text with inner port @inner; its bound host port */
static uint16_t forward(const char *host, uint16_t inner)
{
	struct port_spec spec, bound;
	char text[64], *err = NULL;
	int r;

	(void)snprintf(text, sizeof(text), "%s:0:%u", host, inner);
	if (port_spec_parse(text, &spec, &err) < 0)
		abort();
	r = ports_add(ports, &spec, &bound, &err);
	if (r < 0) {
		printf("# ports_add '%s': %s\n", text, err);
		free(err);
		return 0;
	}
	return bound.host_port;
}

static int client_connect_family(int family, uint16_t port)
{
	struct sockaddr_storage ss = {};
	socklen_t len;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return -errno;
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		s6->sin6_port = htons(port);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s4->sin_port = htons(port);
		len = sizeof(*s4);
	}
	/* loopback: the handshake completes in the kernel, without the loop's accept() */
	r = connect(fd, (struct sockaddr *)&ss, len);
	if (r < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int client_connect(uint16_t port)
{
	return client_connect_family(AF_INET, port);
}

/* Read into @buf until EOF, pumping the loop. Returns the length, -errno, or -ETIMEDOUT. */
static ssize_t client_read_all(int fd, char *buf, size_t cap, unsigned ms)
{
	uint64_t end = now_ms() + ms;
	size_t len = 0;

	while (now_ms() < end) {
		ssize_t n = recv(fd, buf + len, cap - len, MSG_DONTWAIT);

		if (n == 0)
			return (ssize_t)len;
		if (n > 0) {
			len += (size_t)n;
			if (len == cap)
				return -ENOBUFS;
			continue;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		pump();
	}
	return -ETIMEDOUT;
}

/* Read exactly @n bytes, pumping the loop */
static int client_read_n(int fd, char *buf, size_t n, unsigned ms)
{
	uint64_t end = now_ms() + ms;
	size_t len = 0;

	while (len < n && now_ms() < end) {
		ssize_t r = recv(fd, buf + len, n - len, MSG_DONTWAIT);

		if (r == 0)
			return -EPIPE;
		if (r > 0) {
			len += (size_t)r;
			continue;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		pump();
	}
	return len == n ? 0 : -ETIMEDOUT;
}

/* Pump until the ports have no connection left */
static bool pump_until_idle(unsigned ms)
{
	uint64_t end = now_ms() + ms;

	while (ports_conn_count(ports) > 0 && now_ms() < end)
		pump();
	return ports_conn_count(ports) == 0;
}

/* --- relaying ------------------------------------------------------------------------------ */

/* Connect, send, half-close, read the echo: the FIN reached the server and came back */
static void echo_round_trip(int family, uint16_t host_port)
{
	_cleanup_close_ int fd = client_connect_family(family, host_port);
	char buf[256];
	ssize_t n;

	ASSERT_OK(fd);
	ASSERT_EQ(write_all(fd, "hello, sandbox", 14), 14);
	ASSERT_OK(shutdown(fd, SHUT_WR));
	n = client_read_all(fd, buf, sizeof(buf), 5000);
	ASSERT_EQ(n, 14);
	ASSERT_TRUE(memcmp(buf, "hello, sandbox", 14) == 0);
	ASSERT_TRUE(pump_until_idle(5000));
}

static void check_echo_events(uint16_t host_port, uint16_t inner, const char *host_ip)
{
	struct json_object *o;

	o = audit_find("listen");
	ASSERT_NOT_NULL(o);
	ASSERT_STREQ(field_str(o, "host_ip"), host_ip);
	ASSERT_EQ(field_int(o, "host_port"), host_port);
	ASSERT_EQ(field_int(o, "port"), inner);
	o = audit_find("open");
	ASSERT_NOT_NULL(o);
	ASSERT_NOT_NULL(field_str(o, "client"));
	o = audit_find("close");
	ASSERT_NOT_NULL(o);
	ASSERT_EQ(field_int(o, "host_port"), host_port);
	ASSERT_EQ(field_int(o, "port"), inner);
	ASSERT_EQ(field_int(o, "bytes_up"), 14);
	ASSERT_EQ(field_int(o, "bytes_down"), 14);
	ASSERT_TRUE(field_int(o, "duration_ms") >= 0);
	ASSERT_NULL(field_str(o, "error"));
	ASSERT_EQ(audit_count("refused"), 0);
}

TEST(relay_echo_sync)
{
	uint16_t inner = server_port(SERVER_ECHO), hp;

	setup(OP_SYNC);
	hp = forward("127.0.0.1", inner);
	ASSERT_NE(hp, 0);
	ASSERT_NE(hp, inner);
	echo_round_trip(AF_INET, hp);
	ASSERT_EQ(op_calls, 1);
	check_echo_events(hp, inner, "127.0.0.1");
	/* and again on the same forward */
	echo_round_trip(AF_INET, hp);
	ASSERT_EQ(audit_count("close"), 2);
	teardown();
}

TEST(relay_echo_deferred)
{
	uint16_t inner = server_port(SERVER_ECHO), hp;

	setup(OP_DEFER);
	hp = forward("127.0.0.1", inner);
	ASSERT_NE(hp, 0);
	echo_round_trip(AF_INET, hp);
	ASSERT_EQ(op_calls, 1);
	check_echo_events(hp, inner, "127.0.0.1");
	teardown();
}

TEST(relay_echo_ipv6)
{
	uint16_t inner = server_port(SERVER_ECHO), hp;
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };

	if (fd < 0 || bind(fd, (struct sockaddr *)&s6, sizeof(s6)) < 0) {
		if (fd >= 0)
			close(fd);
		TEST_SKIP("no IPv6 loopback");
	}
	close(fd);
	setup(OP_DEFER);
	hp = forward("[::1]", inner);
	ASSERT_NE(hp, 0);
	echo_round_trip(AF_INET6, hp);
	check_echo_events(hp, inner, "::1");
	ASSERT_EQ(client_connect_family(AF_INET, hp), -ECONNREFUSED); /* v6 only */
	teardown();
}

/* The sandbox sends and closes its side first; the client's bytes still reach it after */
TEST(relay_half_close)
{
	uint16_t inner = server_port(SERVER_GREET), hp;
	_cleanup_close_ int fd = -EBADF;
	char buf[sizeof(greet_got)];
	uint64_t end;

	setup(OP_SYNC);
	hp = forward("127.0.0.1", inner);
	ASSERT_NE(hp, 0);
	fd = client_connect(hp);
	ASSERT_OK(fd);
	ASSERT_OK(client_read_n(fd, buf, 8, 5000));
	ASSERT_TRUE(memcmp(buf, "greeting", 8) == 0);
	/* the server's FIN arrives: EOF, and yet the way up stays open */
	end = now_ms() + 5000;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == 0)
			break;
		ASSERT_TRUE(n < 0 && errno == EAGAIN);
		ASSERT_TRUE(now_ms() < end);
		pump();
	}
	ASSERT_EQ(ports_conn_count(ports), 1);
	ASSERT_EQ(write_all(fd, "after your FIN", 14), 14);
	ASSERT_OK(shutdown(fd, SHUT_WR));
	ASSERT_TRUE(pump_until_idle(5000));
	pump_ms(20);
	pthread_mutex_lock(&greet_lock);
	snprintf(buf, sizeof(buf), "%s", greet_got);
	pthread_mutex_unlock(&greet_lock);
	ASSERT_STREQ(buf, "after your FIN");
	ASSERT_EQ(field_int(audit_find("close"), "bytes_up"), 14);
	ASSERT_EQ(field_int(audit_find("close"), "bytes_down"), 8);
	teardown();
}

/* Nothing listens inside: the client is closed, with a `refused` event that says why */
TEST(relay_refused)
{
	uint16_t inner = dead_port(), hp;
	_cleanup_close_ int fd = -EBADF;
	struct json_object *o;
	char buf[64], want[128];

	for (int mode = OP_SYNC; mode <= OP_DEFER; mode++) {
		setup(mode);
		hp = forward("127.0.0.1", inner);
		ASSERT_NE(hp, 0);
		fd = client_connect(hp);
		ASSERT_OK(fd);
		(void)write_all(fd, "GET / HTTP/1.1\r\n\r\n", 18);
		ASSERT_TRUE(client_read_all(fd, buf, sizeof(buf), 5000) <= 0);
		ASSERT_EQ(ports_conn_count(ports), 0);
		o = audit_find("refused");
		ASSERT_NOT_NULL(o);
		snprintf(want, sizeof(want), "cannot connect to port %u in the sandbox: %s", inner,
			 strerror(ECONNREFUSED));
		ASSERT_STREQ(field_str(o, "error"), want);
		ASSERT_EQ(field_int(o, "port"), inner);
		ASSERT_NOT_NULL(field_str(o, "client"));
		ASSERT_NULL(audit_find("open"));
		fd = safe_close(fd);
		teardown();
	}
}

/* No answer in time: refused; the late answer is refused too, and its fd closed */
TEST(relay_connect_timeout)
{
	uint16_t inner = server_port(SERVER_ECHO), hp;
	_cleanup_close_ int fd = -EBADF;
	char buf[64];
	uint64_t t0;
	int late[2];

	setup(OP_NEVER);
	ports_set_connect_timeout(ports, 200);
	hp = forward("127.0.0.1", inner);
	fd = client_connect(hp);
	ASSERT_OK(fd);
	t0 = now_ms();
	ASSERT_TRUE(client_read_all(fd, buf, sizeof(buf), 5000) <= 0);
	ASSERT_TRUE(now_ms() - t0 >= 150);
	ASSERT_EQ(op_calls, 1);
	ASSERT_STREQ(field_str(audit_find("refused"), "error"),
		     "the sandbox did not answer within 200 ms");
	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, late));
	ASSERT_ERR(ports_connected(ports, op_last_req, late[0], 0), ENOENT);
	/* late[0] was closed by ports_connected(): the peer sees EOF */
	ASSERT_EQ(recv(late[1], buf, sizeof(buf), MSG_DONTWAIT), 0);
	close(late[1]);
	ASSERT_ERR(ports_connected(ports, 9999, -1, ECONNREFUSED), ENOENT);
	teardown();
}

/* The answer must be a TCP socket: a pipe (or a unix socket) from the sandbox is refused */
TEST(relay_answer_not_tcp)
{
	uint16_t inner = server_port(SERVER_ECHO), hp;
	_cleanup_close_ int fd = -EBADF;
	char buf[16];
	int pipefd[2];

	setup(OP_NEVER);
	hp = forward("127.0.0.1", inner);
	fd = client_connect(hp);
	ASSERT_OK(fd);
	while (op_calls == 0)
		pump();
	ASSERT_OK(pipe2(pipefd, O_CLOEXEC));
	ASSERT_OK(ports_connected(ports, op_last_req, pipefd[1], 0));
	ASSERT_EQ(ports_conn_count(ports), 0);
	ASSERT_STREQ(field_str(audit_find("refused"), "error"),
		     "the sandbox answered with something that is not a TCP socket");
	ASSERT_EQ(read(pipefd[0], buf, sizeof(buf)), 0); /* the write end was closed */
	close(pipefd[0]);
	ASSERT_TRUE(client_read_all(fd, buf, sizeof(buf), 5000) <= 0);
	teardown();
}

TEST(add_privileged_port)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");
	struct port_spec spec;
	char text[32], want[200], *err = NULL;
	unsigned start = 0;

	if (geteuid() == 0)
		TEST_SKIP("root may bind any port");
	if (!f || fscanf(f, "%u", &start) != 1 || start < 2)
		TEST_SKIP("every port is unprivileged here");
	setup(OP_SYNC);
	snprintf(text, sizeof(text), "%u:80", start - 1);
	ASSERT_OK(port_spec_parse(text, &spec, &err));
	ASSERT_ERR(ports_add(ports, &spec, NULL, &err), EACCES);
	snprintf(want, sizeof(want),
		 "host port %u needs privileges (it is below "
		 "net.ipv4.ip_unprivileged_port_start); choose one above 1023 with -p "
		 "HOSTPORT:PORT",
		 start - 1);
	ASSERT_STREQ(err, want);
	free(err);
	teardown();
}

TEST(add_port_in_use)
{
	_cleanup_close_ int busy = -EBADF;
	struct port_spec spec, bound;
	char text[64], want[128], *err = NULL;
	uint16_t port;

	setup(OP_SYNC);
	busy = listen_loopback(&port);
	snprintf(text, sizeof(text), "%u:80", port);
	ASSERT_OK(port_spec_parse(text, &spec, &err));
	ASSERT_ERR(ports_add(ports, &spec, &bound, &err), EADDRINUSE);
	snprintf(want, sizeof(want),
		 "host port %u is already in use; choose another with -p HOSTPORT:PORT", port);
	ASSERT_STREQ(err, want);
	free(err);
	err = NULL;
	ASSERT_NULL(audit_find("listen"));

	/* the same port twice in one sandbox, and over 0.0.0.0 */
	busy = safe_close(busy);
	ASSERT_OK(ports_add(ports, &spec, &bound, &err));
	ASSERT_EQ(bound.host_port, port);
	snprintf(text, sizeof(text), "0.0.0.0:%u:81", port);
	ASSERT_OK(port_spec_parse(text, &spec, &err));
	ASSERT_ERR(ports_add(ports, &spec, NULL, &err), EEXIST);
	snprintf(want, sizeof(want),
		 "host port %u is already forwarded to port 80 of this sandbox (127.0.0.1:%u:80)",
		 port, port);
	ASSERT_STREQ(err, want);
	free(err);
	teardown();
}

TEST(add_not_local_address)
{
	struct port_spec spec;
	char *err = NULL;

	setup(OP_SYNC);
	ASSERT_OK(port_spec_parse("192.0.2.1:0:80", &spec, &err));
	ASSERT_ERR(ports_add(ports, &spec, NULL, &err), EADDRNOTAVAIL);
	ASSERT_STREQ(err, "192.0.2.1 is not an address of this host; give one of its addresses, "
			  "or 127.0.0.1");
	free(err);
	teardown();
}

TEST(remove_stops_listening)
{
	uint16_t inner = server_port(SERVER_ECHO), hp;
	_cleanup_close_ int old = -EBADF;
	char buf[16], *err = NULL;
	struct json_object *o;

	setup(OP_SYNC);
	hp = forward("127.0.0.1", inner);
	ASSERT_NE(hp, 0);
	old = client_connect(hp);
	ASSERT_OK(old);
	ASSERT_EQ(write_all(old, "one", 3), 3);
	ASSERT_OK(client_read_n(old, buf, 3, 5000)); /* relayed, before the remove */

	ASSERT_ERR(ports_remove(ports, hp, inner == 1 ? 2 : 1, &err), ENOENT);
	free(err);
	err = NULL;
	ASSERT_EQ(ports_remove(ports, hp, 0, &err), 1);
	o = audit_find("remove");
	ASSERT_NOT_NULL(o);
	ASSERT_EQ(field_int(o, "host_port"), hp);
	ASSERT_EQ(client_connect(hp), -ECONNREFUSED);

	/* the connection made before goes on */
	ASSERT_EQ(write_all(old, "two", 3), 3);
	ASSERT_OK(client_read_n(old, buf, 3, 5000));
	ASSERT_TRUE(memcmp(buf, "two", 3) == 0);
	ASSERT_OK(shutdown(old, SHUT_WR));
	ASSERT_EQ(client_read_all(old, buf, sizeof(buf), 5000), 0);
	ASSERT_TRUE(pump_until_idle(5000));
	ASSERT_EQ(field_int(audit_find("close"), "bytes_up"), 6);

	ASSERT_ERR(ports_remove(ports, hp, 0, &err), ENOENT);
	{
		char want[64];

		snprintf(want, sizeof(want), "no forward from host port %u", hp);
		ASSERT_STREQ(err, want);
	}
	free(err);
	teardown();
}

TEST(conn_limit)
{
	uint16_t inner = server_port(SERVER_ECHO), hp;
	int fds[3];
	char buf[16];

	setup(OP_NEVER);
	ports_set_max_conns(ports, 2);
	hp = forward("127.0.0.1", inner);
	for (int i = 0; i < 3; i++) {
		fds[i] = client_connect(hp);
		ASSERT_OK(fds[i]);
		while (op_calls + audit_count("refused") < (unsigned)i + 1)
			pump();
	}
	ASSERT_EQ(op_calls, 2);
	ASSERT_EQ(ports_conn_count(ports), 2);
	ASSERT_STREQ(field_str(audit_find("refused"), "error"),
		     "too many forwarded connections (2 at once)");
	ASSERT_TRUE(client_read_all(fds[2], buf, sizeof(buf), 5000) <= 0);

	/* ports_free() ends the pending ones, each with its event */
	ports = ports_free(ports);
	ASSERT_EQ(audit_count("refused"), 3);
	ASSERT_STREQ(field_str(audit_find("refused"), "error"), "sandbox stopped");
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	teardown();
}

TEST(list_and_json)
{
	uint16_t inner = server_port(SERVER_ECHO), hp;
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ struct port_info *l = NULL;
	struct json_object *j, *e;
	char buf[4];

	setup(OP_SYNC);
	ASSERT_EQ(ports_list(ports, &l), 0);
	ASSERT_NULL(l);
	hp = forward("127.0.0.1", inner);
	ASSERT_NE(forward("127.0.0.1", 7), 0);
	fd = client_connect(hp);
	ASSERT_OK(fd);
	ASSERT_EQ(write_all(fd, "x", 1), 1);
	ASSERT_OK(client_read_n(fd, buf, 1, 5000));

	ASSERT_EQ(ports_list(ports, &l), 2);
	ASSERT_EQ(l[0].spec.host_port, hp);
	ASSERT_EQ(l[0].spec.port, inner);
	ASSERT_EQ(l[0].conns, 1);
	ASSERT_EQ(l[0].total, 1);
	ASSERT_EQ(l[1].spec.port, 7);
	ASSERT_EQ(l[1].conns, 0);

	j = ports_to_json(ports);
	ASSERT_EQ(json_object_array_length(j), 2);
	e = json_object_array_get_idx(j, 0);
	ASSERT_STREQ(field_str(e, "host_ip"), "127.0.0.1");
	ASSERT_EQ(field_int(e, "host_port"), hp);
	ASSERT_EQ(field_int(e, "port"), inner);
	ASSERT_EQ(field_int(e, "conns"), 1);
	ASSERT_STREQ(field_str(e, "exposed"), "false");
	json_object_put(j);

	/* stopping with a relayed connection open: its close event, and the client sees EOF */
	ports = ports_free(ports);
	ASSERT_STREQ(field_str(audit_find("close"), "error"), "sandbox stopped");
	ASSERT_EQ(recv(fd, buf, sizeof(buf), 0), 0);
	teardown();
}

/* --- a large transfer ---------------------------------------------------------------------- */

#define BIG_SIZE  (64ull * 1024 * 1024)
#define BIG_CHUNK (64u * 1024)

struct big {
	int fd;
	uint64_t sum;
	uint64_t bytes;
	atomic_bool done;
};

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void *big_writer(void *arg)
{
	struct big *b = arg;
	uint8_t *buf = malloc(BIG_CHUNK);
	uint64_t x = 0x9e3779b97f4a7c15ull;

	if (!buf)
		abort();
	b->sum = 0xcbf29ce484222325ull;
	for (uint64_t off = 0; off < BIG_SIZE; off += BIG_CHUNK) {
		for (size_t i = 0; i < BIG_CHUNK; i += 8) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			memcpy(buf + i, &x, 8);
		}
		b->sum = fnv1a(b->sum, buf, BIG_CHUNK);
		if (write_all(b->fd, buf, BIG_CHUNK) < 0)
			break;
		b->bytes += BIG_CHUNK;
	}
	(void)shutdown(b->fd, SHUT_WR);
	free(buf);
	atomic_store(&b->done, true);
	return NULL;
}

static void *big_reader(void *arg)
{
	struct big *b = arg;
	uint8_t *buf = malloc(BIG_CHUNK);
	ssize_t n;

	if (!buf)
		abort();
	b->sum = 0xcbf29ce484222325ull;
	while ((n = recv(b->fd, buf, BIG_CHUNK, 0)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0) {
			b->sum = fnv1a(b->sum, buf, (size_t)n);
			b->bytes += (uint64_t)n;
		}
	free(buf);
	atomic_store(&b->done, true);
	return NULL;
}

TEST(relay_large_transfer)
{
	uint16_t inner = server_port(SERVER_ECHO), hp;
	_cleanup_close_ int fd = -EBADF;
	struct big w = {}, r = {};
	pthread_t tw, tr;
	uint64_t end;

	setup(OP_DEFER);
	hp = forward("127.0.0.1", inner);
	fd = client_connect(hp);
	ASSERT_OK(fd);
	w.fd = r.fd = fd;
	ASSERT_EQ(pthread_create(&tw, NULL, big_writer, &w), 0);
	ASSERT_EQ(pthread_create(&tr, NULL, big_reader, &r), 0);
	end = now_ms() + 120000;
	while (!(atomic_load(&w.done) && atomic_load(&r.done)) && now_ms() < end)
		pump();
	if (!atomic_load(&r.done)) {
		(void)shutdown(fd, SHUT_RDWR);
		pthread_join(tw, NULL);
		pthread_join(tr, NULL);
		TAP_FAIL("transfer did not finish: %" PRIu64 " bytes sent, %" PRIu64 " received",
			 w.bytes, r.bytes);
	}
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	ASSERT_EQ(w.bytes, BIG_SIZE);
	ASSERT_EQ(r.bytes, BIG_SIZE);
	ASSERT_TRUE(w.sum == r.sum);
	ASSERT_TRUE(pump_until_idle(5000));
	ASSERT_EQ(field_int(audit_find("close"), "bytes_up"), (int64_t)BIG_SIZE);
	ASSERT_EQ(field_int(audit_find("close"), "bytes_down"), (int64_t)BIG_SIZE);
	ASSERT_NULL(field_str(audit_find("close"), "error"));
	teardown();
}

int main(void)
{
	return tap_run();
}
