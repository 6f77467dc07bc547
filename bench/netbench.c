/* SPDX-License-Identifier: MIT */
/*
 * netbench: the upstream and the clients of bench/proxy (relayed vs direct TCP on loopback).
 *
 *   netbench server PORTFILE               serve on 127.0.0.1:0, write the port to PORTFILE
 *   netbench stream HOST PORT BYTES        one download of BYTES: prints "<bytes> <usec>"
 *   netbench rr HOST PORT COUNT WARMUP     1-byte round trips on one connection: prints the
 *                                          nanoseconds of each of COUNT timed ones, a line each
 *   netbench conn HOST PORT COUNT WARMUP   COUNT new connections, each connect + 1 byte echoed:
 *                                          prints the nanoseconds of each, a line each
 *   netbench idle HOST PORT N DIR          hold up to N connections open (see below)
 *
 * The server is one epoll loop. The first byte a client sends picks what it gets: 0x01 is echo
 * (that byte and everything after it come back), 0x02 followed by 8 bytes (big-endian) is a
 * download of that many bytes, then close. Both first bytes are neither a TLS record nor the
 * start of an HTTP method, so paddock's proxy classifies the connection as "other" at once
 * instead of waiting 300 ms for a server-speaks-first protocol.
 *
 * Timing is CLOCK_MONOTONIC in the client, from just before connect() to the last byte (EOF
 * for a download), so a sandbox's start is never part of it.
 *
 * idle: raise the soft RLIMIT_NOFILE to the hard limit, write DIR/idle.ready with
 * "<nofile>", wait for DIR/idle.go, then open connections one after the other, each checked
 * by one byte echoed within 3 s, until N are open or one fails; write DIR/idle.status with
 * "<opened> <wanted> <nofile> <why> [<detail>]" where why is all, reset (the connection was
 * accepted and reset: a refusal), eof, timeout (no echo), nofile (this process's own limit)
 * or connect (with its errno text); then hold them until DIR/idle.release exists (120 s at
 * most). Files are written to a temporary name and renamed, so a reader never sees half.
 *
 * Built on the fly by bench/proxy with `cc -O2`; nothing else of paddock uses it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE     (1u << 20)
#define MODE_ECHO    0x01
#define MODE_STREAM  0x02
#define IDLE_ECHO_MS 3000
#define IDLE_HOLD_S  120

static char buf[BUF_SIZE];

static void die(const char *what)
{
	fprintf(stderr, "netbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static unsigned long long num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end) {
		fprintf(stderr, "netbench: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

static rlim_t raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur;
}

static void nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char tmp[4096], path[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(tmp, "w");
	if (!f)
		die(tmp);
	fputs(text, f);
	if (fclose(f) != 0)
		die(tmp);
	if (rename(tmp, path) < 0)
		die(path);
}

static int exists(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

/* --- server ---------------------------------------------------------------------------- */

struct sconn {
	unsigned char mode; /* 0 until the first byte */
	unsigned char hlen;
	unsigned char hdr[9];
	unsigned long long left;
};

static struct sconn *sconns;
static size_t n_sconns;

static void sclose(int ep, int fd)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	memset(&sconns[fd], 0, sizeof(sconns[fd]));
}

static void stream_out(int ep, int fd)
{
	struct sconn *c = &sconns[fd];

	while (c->left > 0) {
		size_t n = c->left < BUF_SIZE ? (size_t)c->left : BUF_SIZE;
		ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EAGAIN)
				return;
			sclose(ep, fd);
			return;
		}
		c->left -= (unsigned long long)w;
	}
	shutdown(fd, SHUT_WR);
	sclose(ep, fd);
}

static void echo_all(int ep, int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EAGAIN) {
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };

				(void)poll(&pfd, 1, 1000);
				continue;
			}
			sclose(ep, fd);
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void serve_read(int ep, int fd)
{
	struct sconn *c = &sconns[fd];
	ssize_t r = recv(fd, buf, BUF_SIZE, 0);
	size_t off = 0;

	if (r <= 0) {
		if (r < 0 && errno == EAGAIN)
			return;
		sclose(ep, fd);
		return;
	}
	if (c->mode == 0)
		c->mode = (unsigned char)buf[0];
	if (c->mode == MODE_ECHO) {
		echo_all(ep, fd, buf, (size_t)r);
		return;
	}
	if (c->mode != MODE_STREAM) {
		sclose(ep, fd);
		return;
	}
	while (c->hlen < sizeof(c->hdr) && off < (size_t)r)
		c->hdr[c->hlen++] = (unsigned char)buf[off++];
	if (c->hlen < sizeof(c->hdr) || c->left > 0)
		return;
	for (int i = 1; i < 9; i++)
		c->left = c->left << 8 | c->hdr[i];
	struct epoll_event ev = { .events = EPOLLOUT, .data.fd = fd };
	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
	stream_out(ep, fd);
}

static int cmd_server(const char *portfile)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int one = 1, lfd, ep;
	char text[32];

	n_sconns = raise_nofile() + 16;
	sconns = calloc(n_sconns, sizeof(*sconns));
	if (!sconns)
		die("calloc");
	memset(buf, 'x', sizeof(buf));
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4096) < 0)
		die("bind/listen");
	if (getsockname(lfd, (struct sockaddr *)&sa, &len) < 0)
		die("getsockname");
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	struct epoll_event lev = { .events = EPOLLIN, .data.fd = lfd };
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
	snprintf(text, sizeof(text), "%u\n", ntohs(sa.sin_port));
	{
		char *dir = strdup(portfile), *slash = strrchr(dir, '/');

		if (slash) {
			*slash = '\0';
			write_file(dir, slash + 1, text);
		} else {
			write_file(".", portfile, text);
		}
		free(dir);
	}
	for (;;) {
		struct epoll_event evs[256];
		int n = epoll_wait(ep, evs, 256, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == lfd) {
				for (;;) {
					int cfd = accept4(lfd, NULL, NULL,
							  SOCK_NONBLOCK | SOCK_CLOEXEC);

					if (cfd < 0) {
						if (errno != EAGAIN && errno != EINTR &&
						    errno != ECONNABORTED)
							fprintf(stderr, "netbench: accept: %s\n",
								strerror(errno));
						break;
					}
					if ((size_t)cfd >= n_sconns) {
						close(cfd);
						continue;
					}
					nodelay(cfd);
					struct epoll_event ev = { .events = EPOLLIN,
								  .data.fd = cfd };
					epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
				}
			} else if (evs[i].events & EPOLLOUT) {
				stream_out(ep, fd);
			} else {
				serve_read(ep, fd);
			}
		}
	}
	return 0;
}

/* --- clients --------------------------------------------------------------------------- */

static struct sockaddr_storage target;
static socklen_t target_len;

static void resolve(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	int r = getaddrinfo(host, port, &hints, &ai);

	if (r != 0) {
		fprintf(stderr, "netbench: %s: %s\n", host, gai_strerror(r));
		exit(1);
	}
	memcpy(&target, ai->ai_addr, ai->ai_addrlen);
	target_len = ai->ai_addrlen;
	freeaddrinfo(ai);
}

/* A connected socket, or -errno. */
static int dial(void)
{
	int fd = socket(target.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&target, target_len) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	nodelay(fd);
	return fd;
}

static int dial_or_die(void)
{
	int fd = dial();

	if (fd < 0) {
		errno = -fd;
		die("connect");
	}
	return fd;
}

/* One byte out, one byte back. 0, or -errno, or -EPIPE for EOF, -ETIMEDOUT after ms. */
static int ping(int fd, int ms)
{
	char b = MODE_ECHO;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t r;

	if (send(fd, &b, 1, MSG_NOSIGNAL) != 1)
		return errno == EPIPE ? -ECONNRESET : -errno;
	if (ms >= 0) {
		int p = poll(&pfd, 1, ms);

		if (p < 0)
			return -errno;
		if (p == 0)
			return -ETIMEDOUT;
	}
	r = recv(fd, &b, 1, 0);
	if (r < 0)
		return -errno;
	return r == 0 ? -EPIPE : 0;
}

static int cmd_stream(unsigned long long bytes)
{
	unsigned char hdr[9] = { MODE_STREAM };
	unsigned long long got = 0;
	long long t0, t1;
	int fd;

	for (int i = 0; i < 8; i++)
		hdr[1 + i] = (unsigned char)(bytes >> (56 - 8 * i));
	t0 = now_ns();
	fd = dial_or_die();
	if (send(fd, hdr, sizeof(hdr), MSG_NOSIGNAL) != sizeof(hdr))
		die("send");
	for (;;) {
		ssize_t r = recv(fd, buf, BUF_SIZE, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("recv");
		}
		if (r == 0)
			break;
		got += (unsigned long long)r;
	}
	t1 = now_ns();
	close(fd);
	if (got != bytes) {
		fprintf(stderr, "netbench: got %llu of %llu bytes\n", got, bytes);
		return 1;
	}
	printf("%llu %lld\n", got, (t1 - t0) / 1000);
	return 0;
}

static int cmd_rr(unsigned long long count, unsigned long long warmup)
{
	long long *ns = calloc(count ? count : 1, sizeof(*ns));
	int fd = dial_or_die();

	if (!ns)
		die("calloc");
	for (unsigned long long i = 0; i < warmup; i++)
		if (ping(fd, -1) < 0)
			die("round trip");
	for (unsigned long long i = 0; i < count; i++) {
		long long t0 = now_ns();
		int r = ping(fd, -1);

		if (r < 0) {
			errno = -r;
			die("round trip");
		}
		ns[i] = now_ns() - t0;
	}
	close(fd);
	for (unsigned long long i = 0; i < count; i++)
		printf("%lld\n", ns[i]);
	return 0;
}

static int cmd_conn(unsigned long long count, unsigned long long warmup)
{
	long long *ns = calloc(count ? count : 1, sizeof(*ns));

	if (!ns)
		die("calloc");
	for (unsigned long long i = 0; i < warmup + count; i++) {
		long long t0 = now_ns();
		int fd = dial_or_die(), r = ping(fd, -1);

		if (r < 0) {
			errno = -r;
			die("connect + echo");
		}
		if (i >= warmup)
			ns[i - warmup] = now_ns() - t0;
		close(fd);
	}
	for (unsigned long long i = 0; i < count; i++)
		printf("%lld\n", ns[i]);
	return 0;
}

static int cmd_idle(unsigned long long want, const char *dir)
{
	rlim_t nofile = raise_nofile();
	unsigned long long opened = 0;
	char text[512];
	const char *why = "all", *detail = "";

	snprintf(text, sizeof(text), "%llu\n", (unsigned long long)nofile);
	write_file(dir, "idle.ready", text);
	for (int i = 0; !exists(dir, "idle.go"); i++) {
		if (i > IDLE_HOLD_S * 100)
			return 1;
		usleep(10000);
	}
	while (opened < want) {
		int fd = dial(), r;

		if (fd < 0) {
			if (fd == -EMFILE || fd == -ENFILE) {
				why = "nofile";
			} else {
				why = "connect";
				detail = strerror(-fd);
			}
			break;
		}
		r = ping(fd, IDLE_ECHO_MS);
		if (r < 0) {
			why = r == -ECONNRESET  ? "reset"
			      : r == -EPIPE     ? "eof"
			      : r == -ETIMEDOUT ? "timeout"
						: "connect";
			if (r != -ECONNRESET && r != -EPIPE && r != -ETIMEDOUT)
				detail = strerror(-r);
			close(fd);
			break;
		}
		opened++; /* fd stays open */
	}
	snprintf(text, sizeof(text), "%llu %llu %llu %s %s\n", opened, want,
		 (unsigned long long)nofile, why, detail);
	write_file(dir, "idle.status", text);
	for (int i = 0; !exists(dir, "idle.release") && i < IDLE_HOLD_S * 50; i++)
		usleep(20000);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "server") && argc == 3)
		return cmd_server(argv[2]);
	if (argc >= 4)
		resolve(argv[2], argv[3]);
	if (!strcmp(cmd, "stream") && argc == 5)
		return cmd_stream(num(argv[4]));
	if (!strcmp(cmd, "rr") && argc == 6)
		return cmd_rr(num(argv[4]), num(argv[5]));
	if (!strcmp(cmd, "conn") && argc == 6)
		return cmd_conn(num(argv[4]), num(argv[5]));
	if (!strcmp(cmd, "idle") && argc == 6)
		return cmd_idle(num(argv[4]), argv[5]);
	fprintf(stderr, "usage: netbench server PORTFILE | stream HOST PORT BYTES |\n"
			"       rr HOST PORT COUNT WARMUP | conn HOST PORT COUNT WARMUP |\n"
			"       idle HOST PORT N DIR\n");
	return 2;
}
