/* SPDX-License-Identifier: MIT */
/*
 * tlsbench.c - HTTPS through paddock's interception vs a direct TLS connection vs mitmproxy
 *
 * Built by meson (it links paddock's proxy); run by bench/tls, which starts mitmdump first.
 *
 *   paddock-tlsbench DIR MITM_PORT [-n RUNS] [-s BYTES] [-r REQUESTS] [-c CONNECTS]
 *
 * In one process: a TLS upstream on 127.0.0.1 (certificate for api.test, *.bench.test and
 * 127.0.0.1 from a test CA written to DIR/ca.pem), paddock's proxy in its own thread (its
 * explicit CONNECT listener, a data dir DIR/paddock for its CA, the test CA as
 * tls.upstream_ca, the secret API_KEY bound to api.test and *.bench.test), and the client.
 * The same client talks, round by round (direct, paddock, mitmproxy, ...):
 *
 *   direct    straight to the upstream, sending the real value itself
 *   paddock   CONNECT api.test:PORT to paddock, TLS with paddock's leaf, the placeholder in
 *             Authorization, swapped by the proxy
 *   mitm      CONNECT 127.0.0.1:PORT to mitmdump (regular mode, DIR/mitm.py swapping the same
 *             header), TLS with mitmproxy's leaf
 *
 * The upstream answers 401 to a request whose Authorization is not the real value, so every
 * number below is for requests that were really injected. Measures (medians of RUNS):
 *   throughput  one connection, one GET of BYTES: MB/s
 *   requests/s  REQUESTS small GETs on one kept-alive connection
 *   connect     CONNECTS new connections one after the other (CONNECT, handshake, one GET),
 *               to api.test (leaf cached) and to a new name each time (cN.bench.test: a leaf
 *               is minted): median ms
 * Prints a table, and one line of JSON per measure to stdout after "json:".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proxy/fakeip.h"
#include "proxy/inject.h"
#include "proxy/policy.h"
#include "proxy/proxy.h"
#include "store/config.h"
#include "store/hostrule.h"
#include "tls/ca.h"
#include "tls/mint.h"
#include "tls/tls.h"

#define REAL      "sk-bench-real-value-0123456789abcdef"
#define MITM_PH   "pdk_api_key_00000000000000000000000000000000"
#define NAMES_MAX 4096

static void die(const char *what)
{
	fprintf(stderr, "tlsbench: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

/* CPU seconds this whole process (every thread) has used */
static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- the upstream ------------------------------------------------------------------------- */

static SSL_CTX *up_srv_ctx;
static uint16_t up_port;
static char body_buf[64 * 1024];

static int listen_any(uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 512) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		die("cannot listen");
	*port = ntohs(sin.sin_port);
	return fd;
}

static void *up_conn(void *arg)
{
	int fd = (int)(intptr_t)arg, one = 1;
	SSL *ssl = SSL_new(up_srv_ctx);
	char buf[16384];
	size_t len = 0;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1)
		goto out;
	for (;;) {
		char *end, *p, hdr[256];
		unsigned long long n = 2;
		int r, hl;
		bool ok;

		while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
			if (len == sizeof(buf) ||
			    (r = SSL_read(ssl, buf + len, (int)(sizeof(buf) - len))) <= 0)
				goto out;
			len += (size_t)r;
		}
		*end = 0;
		ok = strstr(buf, "\r\nAuthorization: Bearer " REAL) ||
		     strstr(buf, "\r\nauthorization: Bearer " REAL);
		if ((p = strstr(buf, "GET /big?n=")))
			n = strtoull(p + 11, NULL, 10);
		if (!ok)
			n = 0;
		hl = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %s\r\nContent-Length: %llu\r\n\r\n",
			      ok ? "200 OK" : "401 Unauthorized", n);
		if (SSL_write(ssl, hdr, hl) != hl)
			goto out;
		while (n > 0) {
			int k = (int)(n < sizeof(body_buf) ? n : sizeof(body_buf));

			if (SSL_write(ssl, body_buf, k) != k)
				goto out;
			n -= (unsigned long long)k;
		}
		len -= (size_t)(end + 4 - buf);
		memmove(buf, end + 4, len);
	}
out:
	SSL_free(ssl);
	close(fd);
	return NULL;
}

static void *up_main(void *arg)
{
	int lfd = (int)(intptr_t)arg;

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		pthread_t t;

		if (fd < 0)
			continue;
		if (pthread_create(&t, NULL, up_conn, (void *)(intptr_t)fd) != 0)
			die("pthread_create");
		pthread_detach(t);
	}
	return NULL;
}

static X509 *cert_make(EVP_PKEY *key, const char *cn, const char *san, X509 *issuer, EVP_PKEY *ikey,
		       bool ca)
{
	X509 *x = X509_new();
	X509V3_CTX v3;
	X509_EXTENSION *e;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(random() % 1000000) + 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x));
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
				ca ? "critical,CA:TRUE" : "CA:FALSE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_key_identifier, "hash");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (ca) {
		e = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	} else {
		e = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, "serverAuth");
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	if (san) {
		e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	if (X509_sign(x, ikey ? ikey : key, EVP_sha256()) <= 0)
		die("X509_sign");
	return x;
}

/* --- paddock's proxy in a thread ------------------------------------------------------ */

static struct event_base *pbase;
static clockid_t proxy_clock; /* the proxy thread's CPU time */
static uint16_t pd_port;

static void *proxy_main(void *arg)
{
	(void)event_base_dispatch(pbase);
	return NULL;
}

static char *ph;

static void proxy_setup(const char *dir, const char *ca_pem, int n_names, struct ca **ret_ca)
{
	static char *files[2];
	static char *names[NAMES_MAX + 2];
	static char *hosts[] = { "api.test", "*.bench.test", NULL };
	static struct proxy_tls tls;
	struct paddock_config *c = config_new();
	struct inject_table *t = inject_table_new();
	struct fakeip *fip;
	struct policy *pol;
	struct proxy *p;
	struct mint *m;
	SSL_CTX *up;
	char *err = NULL, pddir[512];
	struct proxy_opts o = {};
	int fd;
	pthread_t th;

	snprintf(pddir, sizeof(pddir), "%s/paddock", dir);
	files[0] = (char *)ca_pem;
	if (ca_load_or_create(pddir, ret_ca, &err) < 0 || mint_new(*ret_ca, 0, &m) < 0)
		die(err ? err : "paddock CA");
	if (tls_upstream_ctx_new(files, &up, &err) < 0)
		die(err ? err : "upstream ctx");
	if (inject_placeholder_new("API_KEY", &ph) < 0 ||
	    inject_table_add(t, "API_KEY", ph, REAL, strlen(REAL), hosts, NULL, NULL) < 0)
		die("inject table");
	names[0] = "api.test:127.0.0.1";
	for (int i = 0; i < n_names && i < NAMES_MAX; i++) {
		names[i + 1] = malloc(64);
		snprintf(names[i + 1], 64, "c%d.bench.test:127.0.0.1", i);
	}
	if (config_set_option(c, "--net", "public", &err) < 0 ||
	    policy_new(c, names, NULL, &pol) < 0 || fakeip_new(0, &fip) < 0)
		die("policy");
	tls = (struct proxy_tls){ .mint = m, .upstream_ctx = up, .inject = t };
	pbase = event_base_new();
	o.base = pbase;
	o.policy = pol;
	o.fakeip = fip;
	o.tls = &tls;
	fd = listen_any(&pd_port);
	if (proxy_new(&o, &p) < 0 || proxy_add_http_listener(p, fd) < 0)
		die("proxy");
	if (pthread_create(&th, NULL, proxy_main, NULL) != 0 ||
	    pthread_getcpuclockid(th, &proxy_clock) != 0)
		die("pthread_create");
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- the client -------------------------------------------------------------------------- */

enum mode { DIRECT, PADDOCK, MITM, MODE_MAX };
static const char *const mode_names[] = { "direct TLS", "paddock", "mitmproxy" };
static SSL_CTX *cctx[MODE_MAX];
static uint16_t mitm_port;
static const char *auth[MODE_MAX];

struct cl {
	int fd;
	SSL *ssl;
	char buf[16384];
	size_t len;
};

static int tcp_connect(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				   .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int cl_open(struct cl *c, enum mode m, const char *host)
{
	char req[256], resp[1024];
	size_t len = 0;
	int n;

	memset(c, 0, sizeof(*c));
	c->fd = tcp_connect(m == DIRECT ? up_port : m == PADDOCK ? pd_port : mitm_port);
	if (c->fd < 0)
		return -1;
	if (m != DIRECT) {
		n = snprintf(req, sizeof(req), "CONNECT %s:%u HTTP/1.1\r\nHost: %s:%u\r\n\r\n",
			     m == PADDOCK ? host : "127.0.0.1", up_port,
			     m == PADDOCK ? host : "127.0.0.1", up_port);
		if (write(c->fd, req, (size_t)n) != n)
			return -1;
		while (!memmem(resp, len, "\r\n\r\n", 4)) {
			ssize_t r = read(c->fd, resp + len, sizeof(resp) - len);

			if (r <= 0)
				return -1;
			len += (size_t)r;
		}
		if (strncmp(resp + 9, "200", 3) != 0)
			return -1;
	}
	c->ssl = SSL_new(cctx[m]);
	SSL_set_tlsext_host_name(c->ssl, host);
	SSL_set1_host(c->ssl, host);
	SSL_set_alpn_protos(c->ssl, (const unsigned char *)"\x08http/1.1", 9);
	SSL_set_fd(c->ssl, c->fd);
	if (SSL_connect(c->ssl) != 1)
		return -1;
	return 0;
}

static void cl_close(struct cl *c)
{
	if (c->ssl)
		SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
}

/* One GET; returns the body bytes, -1 on failure or a non-200 */
static long long cl_get(struct cl *c, enum mode m, const char *host, unsigned long long n)
{
	char req[512], *end;
	int k, r;
	long long want, got;

	if (n)
		k = snprintf(
			req, sizeof(req),
			"GET /big?n=%llu HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n",
			n, host, auth[m]);
	else
		k = snprintf(req, sizeof(req),
			     "GET /small HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n",
			     host, auth[m]);
	if (SSL_write(c->ssl, req, k) != k)
		return -1;
	while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4))) {
		if ((r = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len))) <= 0)
			return -1;
		c->len += (size_t)r;
	}
	if (strncmp(c->buf + 9, "200", 3) != 0) {
		fprintf(stderr, "tlsbench: %s got %.12s\n", mode_names[m], c->buf);
		return -1;
	}
	{
		char *cl = strcasestr(c->buf, "content-length:");

		want = cl && cl < end ? strtoll(cl + 15, NULL, 10) : 0;
	}
	got = (long long)(c->len - (size_t)(end + 4 - c->buf));
	c->len = 0;
	while (got < want) {
		static char sink[65536];

		if ((r = SSL_read(c->ssl, sink, sizeof(sink))) <= 0)
			return -1;
		got += r;
	}
	if (got > want) /* the next response's start (never for this client) */
		return -1;
	return got;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	/* cppcheck-suppress uninitvar ; every caller fills v[0..n) first */
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	const char *dir;
	int runs = 5, reqs = 2000, conns = 200, opt;
	unsigned long long size = 256ull << 20;
	char path[512], mitm_ca[512];
	EVP_PKEY *cak, *k;
	X509 *ca, *leaf;
	struct ca *pca;
	FILE *f;
	int lfd;
	pthread_t th;
	static double tp[MODE_MAX][64], rps[MODE_MAX][64], cc[MODE_MAX][64], cu[MODE_MAX][64],
		cores[MODE_MAX][64], cpu_cl[MODE_MAX][64], cpu_px[MODE_MAX][64],
		cpu_up[MODE_MAX][64];
	bool have[MODE_MAX] = { true, true, true };

	signal(SIGPIPE, SIG_IGN);
	if (argc < 3)
		die("usage: paddock-tlsbench DIR MITM_PORT(0: none) [-n RUNS] [-s BYTES] [-r "
		    "REQUESTS] [-c CONNECTS]");
	dir = argv[1];
	mitm_port = (uint16_t)atoi(argv[2]);
	optind = 3;
	while ((opt = getopt(argc, argv, "n:s:r:c:")) != -1)
		switch (opt) {
		case 'n':
			runs = atoi(optarg);
			break;
		case 's':
			size = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			reqs = atoi(optarg);
			break;
		case 'c':
			conns = atoi(optarg);
			break;
		default:
			die("bad option");
		}
	if (runs < 1 || runs > 64 || conns * runs > NAMES_MAX)
		die("runs must be 1-64 and CONNECTS*RUNS at most 4096");
	have[MITM] = mitm_port != 0;

	/* the upstream: test CA, leaf, server */
	cak = EVP_EC_gen("P-256");
	k = EVP_EC_gen("P-256");
	ca = cert_make(cak, "tlsbench upstream CA", NULL, NULL, NULL, true);
	leaf = cert_make(k, "api.test", "DNS:api.test,DNS:*.bench.test,IP:127.0.0.1", ca, cak,
			 false);
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	if (!(f = fopen(path, "w")) || PEM_write_X509(f, ca) != 1 || fclose(f) != 0)
		die("cannot write ca.pem");
	up_srv_ctx = SSL_CTX_new(TLS_server_method());
	if (SSL_CTX_use_certificate(up_srv_ctx, leaf) != 1 ||
	    SSL_CTX_use_PrivateKey(up_srv_ctx, k) != 1 ||
	    SSL_CTX_add1_chain_cert(up_srv_ctx, ca) != 1)
		die("server ctx");
	memset(body_buf, 'x', sizeof(body_buf));
	lfd = listen_any(&up_port);
	pthread_create(&th, NULL, up_main, (void *)(intptr_t)lfd);

	proxy_setup(dir, path, conns * runs, &pca);

	for (int m = 0; m < MODE_MAX; m++) {
		cctx[m] = SSL_CTX_new(TLS_client_method());
		SSL_CTX_set_verify(cctx[m], SSL_VERIFY_PEER, NULL);
		/* no session resumption: every new connection pays a full handshake */
		SSL_CTX_set_session_cache_mode(cctx[m], SSL_SESS_CACHE_OFF);
		SSL_CTX_set_options(cctx[m], SSL_OP_NO_TICKET);
	}
	X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx[DIRECT]), ca);
	X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx[PADDOCK]), ca_cert(pca));
	snprintf(mitm_ca, sizeof(mitm_ca), "%s/mitm/mitmproxy-ca-cert.pem", dir);
	if (have[MITM] && SSL_CTX_load_verify_locations(cctx[MITM], mitm_ca, NULL) != 1)
		die("cannot load mitmproxy's CA");
	auth[DIRECT] = REAL;
	auth[PADDOCK] = ph;
	auth[MITM] = MITM_PH;

	/* warm-up and check: one request each */
	for (int m = 0; m < MODE_MAX; m++) {
		struct cl c;

		if (!have[m])
			continue;
		if (cl_open(&c, m, "api.test") < 0 || cl_get(&c, m, "api.test", 0) != 2) {
			fprintf(stderr, "tlsbench: %s does not work, skipped\n", mode_names[m]);
			have[m] = false;
		}
		cl_close(&c);
	}

	for (int r = 0; r < runs; r++)
		for (int m = 0; m < MODE_MAX; m++) {
			struct cl c;
			double t0, c0, cl0, px0;
			long long got;

			if (!have[m])
				continue;
			/* throughput */
			if (cl_open(&c, m, "api.test") < 0)
				die("connect");
			t0 = now_s();
			c0 = cpu_s();
			cl0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
			px0 = clock_s(proxy_clock);
			got = cl_get(&c, m, "api.test", size);
			tp[m][r] = got > 0 ? (double)got / (now_s() - t0) / 1e6 : 0;
			cores[m][r] = (cpu_s() - c0) / (now_s() - t0);
			/* CPU ms per MB: the client (this thread), the proxy, the rest (upstream) */
			cpu_cl[m][r] = (clock_s(CLOCK_THREAD_CPUTIME_ID) - cl0) * 1e3 /
				       ((double)got / 1e6);
			cpu_px[m][r] = (clock_s(proxy_clock) - px0) * 1e3 / ((double)got / 1e6);
			cpu_up[m][r] = (cpu_s() - c0) * 1e3 / ((double)got / 1e6) - cpu_cl[m][r] -
				       cpu_px[m][r];
			/* requests per second on the same kept-alive connection */
			t0 = now_s();
			for (int i = 0; i < reqs; i++)
				if (cl_get(&c, m, "api.test", 0) != 2)
					die("request failed");
			rps[m][r] = reqs / (now_s() - t0);
			cl_close(&c);
			/* new connections: cached leaf, then a new name each time */
			for (int pass = 0; pass < 2; pass++) {
				double v[NAMES_MAX];
				int base = r * conns;

				for (int i = 0; i < conns; i++) {
					char host[64];

					if (pass)
						snprintf(host, sizeof(host), "c%d.bench.test",
							 base + i);
					else
						snprintf(host, sizeof(host), "api.test");
					t0 = now_s();
					if (cl_open(&c, m, host) < 0 || cl_get(&c, m, host, 0) != 2)
						die("new connection failed");
					v[i] = (now_s() - t0) * 1e3;
					cl_close(&c);
				}
				(pass ? cu : cc)[m][r] = median(v, conns);
			}
		}

	printf("\n%-12s %16s %10s %14s %20s %22s\n", "", "throughput MB/s", "CPUs", "requests/s",
	       "connect ms (cached)", "connect ms (new leaf)");
	for (int m = 0; m < MODE_MAX; m++) {
		if (!have[m]) {
			printf("%-12s %s\n", mode_names[m], "not run");
			continue;
		}
		printf("%-12s %16.0f %10.2f %14.0f %20.2f %22.2f\n", mode_names[m],
		       median(tp[m], runs), median(cores[m], runs), median(rps[m], runs),
		       median(cc[m], runs), median(cu[m], runs));
	}
	printf("\nCPU ms per MB downloaded (medians): client, paddock's proxy thread, the rest "
	       "(upstream)\n");
	for (int m = 0; m < MODE_MAX; m++)
		if (have[m])
			printf("%-12s %8.3f %8.3f %8.3f\n", mode_names[m], median(cpu_cl[m], runs),
			       median(cpu_px[m], runs), median(cpu_up[m], runs));
	if (have[PADDOCK] && have[DIRECT])
		printf("\npaddock/direct: throughput %.0f%%, requests/s %.0f%%\n",
		       100 * median(tp[PADDOCK], runs) / median(tp[DIRECT], runs),
		       100 * median(rps[PADDOCK], runs) / median(rps[DIRECT], runs));
	if (have[PADDOCK] && have[MITM])
		printf("paddock/mitmproxy: throughput %.1fx, requests/s %.1fx\n",
		       median(tp[PADDOCK], runs) / median(tp[MITM], runs),
		       median(rps[PADDOCK], runs) / median(rps[MITM], runs));
	for (int m = 0; m < MODE_MAX; m++)
		if (have[m])
			printf("json: "
			       "{\"mode\":\"%s\",\"runs\":%d,\"bytes\":%llu,\"throughput_mbs\":%."
			       "1f,"
			       "\"requests_per_s\":%.0f,\"connect_cached_ms\":%.3f,"
			       "\"connect_new_leaf_ms\":%.3f}\n",
			       mode_names[m], runs, size, median(tp[m], runs), median(rps[m], runs),
			       median(cc[m], runs), median(cu[m], runs));
	return 0;
}
