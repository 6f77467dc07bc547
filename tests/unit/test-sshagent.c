/* SPDX-License-Identifier: MIT */
/*
 * test-sshagent.c - the filtering ssh-agent against a real ssh-agent, ssh-add and ssh-keygen
 *
 * One upstream `ssh-agent -D` holds two ed25519 keys (k1, k2) whose private files are then
 * deleted, so ssh-keygen -Y sign can only sign through an agent. Each test starts a filter on
 * its own event loop in a thread, bound to a socket of its own, and runs the OpenSSH tools
 * with SSH_AUTH_SOCK pointing at it.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "common/cleanup.h"
#include "common/fd.h"
#include "common/path.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "supervisor/sshagent-proto.h"
#include "supervisor/sshagent.h"
#include "tap.h"

static char tmpl[] = "/tmp/test-sshagent-XXXXXX";
static char *dir, *up_sock, *f_sock;
static pid_t agent_pid;
static char fp1[SSHAGENT_FP_SIZE], fp2[SSHAGENT_FP_SIZE];
static bool setup_failed;

/* ---- helpers ---- */

static int sh(const char *fmt, ...) _printf_(1, 2);
static int sh(const char *fmt, ...)
{
	_cleanup_free_ char *cmd = NULL, *full = NULL;
	va_list ap;
	int st;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	full = xasprintf("cd '%s' && %s", dir, cmd);
	st = system(full);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static char *slurp(const char *name)
{
	_cleanup_free_ char *p = path_join(dir, name);
	char *buf = NULL;
	size_t n;

	if (read_file_at(AT_FDCWD, p, 1 << 20, &buf, &n) < 0)
		return xstrdup("");
	return buf;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The fingerprint of NAME.pub as ssh-keygen -l prints it */
static int keygen_fp(const char *name, char out[SSHAGENT_FP_SIZE])
{
	_cleanup_free_ char *o = NULL;

	if (sh("ssh-keygen -l -E sha256 -f %s.pub | cut -d' ' -f2 > fp.out", name) != 0)
		return -EIO;
	o = slurp("fp.out");
	if (strlen(o) != 51)
		return -EINVAL;
	memcpy(out, o, 50);
	out[50] = '\0';
	return 0;
}

static void setup(void)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char *argv[] = { (char *)"ssh-agent", (char *)"-D", (char *)"-a", NULL, NULL };
	int r;

	if (dir || setup_failed)
		return;
	setup_failed = true;
	dir = mkdtemp(tmpl);
	PADDOCK_ASSERT(dir);
	up_sock = path_join(dir, "up.sock");
	f_sock = path_join(dir, "filter.sock");
	argv[3] = up_sock;
	(void)posix_spawnattr_init(&attr);
	(void)posix_spawnattr_setpgroup(&attr, 0);
	(void)posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	(void)posix_spawn_file_actions_init(&fa);
	(void)posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	r = posix_spawnp(&agent_pid, "ssh-agent", &fa, &attr, argv, environ);
	(void)posix_spawn_file_actions_destroy(&fa);
	(void)posix_spawnattr_destroy(&attr);
	if (r != 0)
		return;
	for (int i = 0; i < 100 && access(up_sock, F_OK) < 0; i++)
		(void)usleep(20000);
	if (sh("ssh-keygen -q -t ed25519 -N '' -C k1 -f k1 && ssh-keygen -q -t ed25519 -N '' -C "
	       "k2 -f k2 && ssh-keygen -q -t ed25519 -N '' -C k3 -f k3") != 0)
		return;
	if (sh("SSH_AUTH_SOCK=up.sock ssh-add -q k1 k2 </dev/null 2>/dev/null") != 0)
		return;
	if (keygen_fp("k1", fp1) < 0 || keygen_fp("k2", fp2) < 0)
		return;
	/* without the private files, signing needs the agent */
	if (sh("rm k1 k2") != 0)
		return;
	(void)sh("printf 'data to sign\\n' > data");
	setup_failed = false;
}

#define NEED_SETUP()                                                                               \
	do {                                                                                       \
		setup();                                                                           \
		if (setup_failed)                                                                  \
			TEST_SKIP("no working ssh-agent, ssh-add and ssh-keygen");                 \
	} while (0)

/* ---- the filter in a thread ---- */

static pthread_mutex_t audit_lock = PTHREAD_MUTEX_INITIALIZER;
static char **audit_events; /* "FP DECISION REASON|PURPOSE" */

static void audit_cb(void *userdata, const char *type, struct json_object *o)
{
	struct json_object *fp, *d, *r, *p;

	PADDOCK_ASSERT(streq(type, "ssh_sign"));
	PADDOCK_ASSERT(json_object_object_get_ex(o, "fingerprint", &fp) &&
		       json_object_object_get_ex(o, "decision", &d) &&
		       json_object_object_get_ex(o, "reason", &r) &&
		       json_object_object_get_ex(o, "purpose", &p));
	(void)pthread_mutex_lock(&audit_lock);
	strv_push(&audit_events,
		  xasprintf("%s %s %s|%s", json_object_get_string(fp), json_object_get_string(d),
			    json_object_get_string(r), json_object_get_string(p)));
	(void)pthread_mutex_unlock(&audit_lock);
	json_object_put(o);
}

static bool audit_has(const char *needle)
{
	bool found = false;

	(void)pthread_mutex_lock(&audit_lock);
	STRV_FOREACH (e, audit_events)
		if (strstr(*e, needle))
			found = true;
	(void)pthread_mutex_unlock(&audit_lock);
	return found;
}

struct filter {
	struct event_base *base;
	struct sshagent *agent;
	struct event *stop_ev;
	int stop[2];
	pthread_t thread;
};

static void stop_cb(evutil_socket_t fd, short what, void *userdata)
{
	event_base_loopbreak(userdata);
}

static void *loop_thread(void *userdata)
{
	struct filter *f = userdata;

	(void)event_base_dispatch(f->base);
	return NULL;
}

static int filter_start(struct filter *f, const struct sshagent_opts *o)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	(void)pthread_mutex_lock(&audit_lock);
	audit_events = strv_free(audit_events);
	(void)pthread_mutex_unlock(&audit_lock);
	*f = (struct filter){};
	f->base = event_base_new();
	if (!f->base)
		return -ENOMEM;
	r = sshagent_new(f->base, up_sock, o, &f->agent);
	if (r < 0)
		return r;
	(void)unlink(f_sock);
	strcpy(sa.sun_path, f_sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0)
		return -errno;
	r = sshagent_add_listener(f->agent, fd);
	if (r < 0)
		return r;
	if (pipe2(f->stop, O_CLOEXEC) < 0)
		return -errno;
	f->stop_ev = event_new(f->base, f->stop[0], EV_READ, stop_cb, f->base);
	if (!f->stop_ev || event_add(f->stop_ev, NULL) < 0)
		return -ENOMEM;
	return -pthread_create(&f->thread, NULL, loop_thread, f);
}

static void filter_stop(struct filter *f)
{
	(void)write(f->stop[1], "x", 1);
	(void)pthread_join(f->thread, NULL);
	f->agent = sshagent_free(f->agent);
	event_free(f->stop_ev);
	event_base_free(f->base);
	(void)close(f->stop[0]);
	(void)close(f->stop[1]);
}

#define FILTER(f, ...)                                                                             \
	do {                                                                                       \
		const struct sshagent_opts _o = { .audit = audit_cb, __VA_ARGS__ };                \
		ASSERT_OK(filter_start((f), &_o));                                                 \
	} while (0)

/* ssh-keygen -Y sign with KEY.pub through the filter, then verify; 0 when both worked */
static int sign_and_verify(const char *key)
{
	(void)sh("rm -f data.sig");
	if (sh("SSH_AUTH_SOCK=filter.sock ssh-keygen -q -Y sign -f %s.pub -n file data "
	       "</dev/null >sign.out 2>&1",
	       key) != 0)
		return -EPERM;
	return sh("printf 'test@example %%s\\n' \"$(cat %s.pub)\" > allowed && "
		  "ssh-keygen -Y verify -f allowed -I test@example -n file -s data.sig < data "
		  ">/dev/null 2>&1",
		  key) == 0
		       ? 0
		       : -EBADMSG;
}

/* A raw request to the filter: the reply's type, 0 when the connection was closed */
static int raw_request(const uint8_t *msg, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint8_t reply[5];
	ssize_t n;

	strcpy(sa.sun_path, f_sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	if (loop_write(fd, msg, len) < 0)
		return -EIO;
	n = loop_read(fd, reply, sizeof(reply));
	if (n == 0)
		return 0;
	if (n < 5)
		return -EIO;
	return reply[4];
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A SIGN_REQUEST for the key in NAME.pub over @data; returns its length */
static size_t make_sign_request(const char *name, uint8_t *out, size_t cap)
{
	_cleanup_free_ char *pub = NULL, *p = NULL;
	char *b64, *sp;
	uint8_t blob[512];
	int n;
	size_t w = 5;

	p = xasprintf("%s.pub", name);
	pub = slurp(p);
	b64 = strchr(pub, ' ');
	PADDOCK_ASSERT(b64);
	b64++;
	sp = strchr(b64, ' ');
	PADDOCK_ASSERT(sp);
	*sp = '\0';
	n = EVP_DecodeBlock(blob, (const unsigned char *)b64, (int)strlen(b64));
	PADDOCK_ASSERT(n > 0);
	n -= (int)(strlen(b64) - strcspn(b64, "=")); /* '=' padding decodes as zero bytes */
	PADDOCK_ASSERT((size_t)n + 64 < cap);
	put_u32(out + w, (uint32_t)n);
	memcpy(out + w + 4, blob, (size_t)n);
	w += 4 + (size_t)n;
	put_u32(out + w, 5);
	memcpy(out + w + 4, "hello", 5);
	w += 9;
	put_u32(out + w, 0);
	w += 4;
	put_u32(out, (uint32_t)(w - 4));
	out[4] = SSH_AGENTC_SIGN_REQUEST;
	return w;
}

/* ---- tests ---- */

TEST(proto_fingerprint_matches_ssh_keygen)
{
	uint8_t m[1024];
	size_t n;
	struct sshagent_sign_request sr;
	char fp[SSHAGENT_FP_SIZE], t[SSHAGENT_TEXT_SIZE];

	NEED_SETUP();
	n = make_sign_request("k1", m, sizeof(m));
	ASSERT_OK(sshagent_parse_sign_request(m + 5, n - 5, &sr));
	ASSERT_OK(sshagent_key_fingerprint(sr.key, sr.key_len, fp));
	ASSERT_STREQ(fp, fp1);
	ASSERT_TRUE(sshagent_fingerprint_is_valid(fp));
	sshagent_key_type(sr.key, sr.key_len, t);
	ASSERT_STREQ(t, "ssh-ed25519");
	ASSERT_EQ(sr.data_len, 5);
	/* one byte more or less is malformed */
	ASSERT_ERR(sshagent_parse_sign_request(m + 5, n - 6, &sr), EBADMSG);
	ASSERT_ERR(sshagent_parse_sign_request(m + 5, n - 4, &sr), EBADMSG);
	ASSERT_FALSE(sshagent_fingerprint_is_valid("SHA256:short"));
	ASSERT_FALSE(sshagent_fingerprint_is_valid("MD5:aa"));
}

TEST(proto_describe)
{
	/* string session id, byte 50, string user, string service, string method, ... */
	static const uint8_t ua[] = { 0,   0,   0,   2,   'i', 'd', 50,  0,   0,   0,   3,   'g',
				      'i', 't', 0,   0,   0,   14,  's', 's', 'h', '-', 'c', 'o',
				      'n', 'n', 'e', 'c', 't', 'i', 'o', 'n', 0,   0,   0,   9,
				      'p', 'u', 'b', 'l', 'i', 'c', 'k', 'e', 'y', 1 };
	static const uint8_t sig[] = { 'S', 'S', 'H', 'S', 'I', 'G', 0, 0, 0, 3, 'g', '\x1b', 't' };
	static const uint8_t ext[] = { 0, 0, 0, 4, 'a', 'b', 0, 'c' };
	char out[SSHAGENT_PURPOSE_SIZE], t[SSHAGENT_TEXT_SIZE];

	sshagent_describe_data(ua, sizeof(ua), out);
	ASSERT_STREQ(out, "ssh login as 'git'");
	sshagent_describe_data(sig, sizeof(sig), out);
	ASSERT_STREQ(out, "signature, namespace 'g?t'"); /* the escape byte is not copied */
	sshagent_describe_data(ua, 10, out);
	ASSERT_STREQ(out, "unknown data");
	ASSERT_OK(sshagent_extension_name(ext, sizeof(ext), t));
	ASSERT_EQ(t[0], '?'); /* a NUL inside never compares equal to a known name */
	ASSERT_ERR(sshagent_extension_name(ext, 3, t), EBADMSG);
}

TEST(list_and_sign)
{
	struct filter f;
	_cleanup_free_ char *out = NULL;

	NEED_SETUP();
	FILTER(&f);
	ASSERT_EQ(sh("SSH_AUTH_SOCK=filter.sock ssh-add -l > list.out 2>&1"), 0);
	out = slurp("list.out");
	ASSERT_TRUE(strstr(out, fp1));
	ASSERT_TRUE(strstr(out, fp2));
	ASSERT_OK(sign_and_verify("k1"));
	ASSERT_OK(sign_and_verify("k2"));
	filter_stop(&f);
	ASSERT_TRUE(audit_has(fp1));
	ASSERT_TRUE(audit_has(" allow allowed|signature, namespace 'file'"));
}

TEST(add_remove_lock_refused)
{
	struct filter f;
	_cleanup_free_ char *out = NULL;
	uint8_t lock[] = { 0, 0, 0, 6, 22, 0, 0, 0, 1, 'x' };
	uint8_t ext[64];
	uint8_t remove_all[] = { 0, 0, 0, 1, 19 };

	NEED_SETUP();
	FILTER(&f);
	ASSERT_NE(sh("SSH_AUTH_SOCK=filter.sock ssh-add k3 </dev/null >/dev/null 2>&1"), 0);
	ASSERT_NE(sh("SSH_AUTH_SOCK=filter.sock ssh-add -D </dev/null >/dev/null 2>&1"), 0);
	ASSERT_NE(sh("SSH_AUTH_SOCK=filter.sock ssh-add -d k1.pub </dev/null >/dev/null 2>&1"), 0);
	ASSERT_EQ(raw_request(lock, sizeof(lock)), SSH_AGENT_FAILURE);
	ASSERT_EQ(raw_request(remove_all, sizeof(remove_all)), SSH_AGENT_FAILURE);
	/* an extension other than session-bind */
	put_u32(ext, 1 + 4 + 5);
	ext[4] = SSH_AGENTC_EXTENSION;
	put_u32(ext + 5, 5);
	memcpy(ext + 9, "query", 5);
	ASSERT_EQ(raw_request(ext, 14), SSH_AGENT_FAILURE);
	filter_stop(&f);
	/* the user's agent still has exactly its two keys, and not k3 */
	ASSERT_EQ(sh("SSH_AUTH_SOCK=up.sock ssh-add -l > up.out 2>&1"), 0);
	out = slurp("up.out");
	ASSERT_TRUE(strstr(out, fp1));
	ASSERT_TRUE(strstr(out, fp2));
	ASSERT_FALSE(strstr(out, " k3 "));
	ASSERT_EQ(sh("SSH_AUTH_SOCK=up.sock ssh-add -l | wc -l | grep -qx 2"), 0);
}

TEST(allowlist)
{
	struct filter f;
	_cleanup_free_ char *out = NULL;
	char *allowed[] = { fp1, NULL };
	uint8_t m[1024];
	size_t n;

	NEED_SETUP();
	FILTER(&f, .allowed_keys = allowed);
	ASSERT_EQ(sh("SSH_AUTH_SOCK=filter.sock ssh-add -l > list.out 2>&1"), 0);
	out = slurp("list.out");
	ASSERT_TRUE(strstr(out, fp1));
	ASSERT_FALSE(strstr(out, fp2));
	ASSERT_OK(sign_and_verify("k1"));
	ASSERT_ERR(sign_and_verify("k2"), EPERM);
	/* asked directly, the filter refuses to sign with k2 */
	n = make_sign_request("k2", m, sizeof(m));
	ASSERT_EQ(raw_request(m, n), SSH_AGENT_FAILURE);
	n = make_sign_request("k1", m, sizeof(m));
	ASSERT_EQ(raw_request(m, n), SSH_AGENT_SIGN_RESPONSE);
	filter_stop(&f);
	{
		_cleanup_free_ char *want = xasprintf("%s deny key not in the allowed list", fp2);

		ASSERT_TRUE(audit_has(want));
	}
	ASSERT_TRUE(audit_has(" allow key in the allowed list"));
}

TEST(allowlist_invalid)
{
	struct event_base *b = event_base_new();
	struct sshagent *a = NULL;
	char *bad[] = { (char *)"SHA256:nope", NULL };
	char *empty_argv[] = { NULL };
	const struct sshagent_opts o1 = { .allowed_keys = bad },
				   o2 = { .confirm_argv = empty_argv };

	ASSERT_ERR(sshagent_new(b, "/x.sock", &o1, &a), EINVAL);
	ASSERT_ERR(sshagent_new(b, "/x.sock", &o2, &a), EINVAL);
	ASSERT_ERR(sshagent_new(b, "rel.sock", NULL, &a), EINVAL);
	ASSERT_NULL(a);
	event_base_free(b);
}

TEST(confirm_true_signs)
{
	struct filter f;
	char *argv[] = { (char *)"/bin/true", NULL };

	NEED_SETUP();
	FILTER(&f, .confirm_argv = argv);
	ASSERT_OK(sign_and_verify("k1"));
	filter_stop(&f);
	ASSERT_TRUE(audit_has(" allow confirmed"));
}

TEST(confirm_false_refuses)
{
	struct filter f;
	char *argv[] = { (char *)"/bin/false", NULL };

	NEED_SETUP();
	FILTER(&f, .confirm_argv = argv);
	ASSERT_ERR(sign_and_verify("k1"), EPERM);
	filter_stop(&f);
	ASSERT_TRUE(audit_has(" deny not confirmed"));
	ASSERT_FALSE(audit_has(" allow "));
}

TEST(confirm_timeout_refuses_in_time)
{
	struct filter f;
	char *argv[] = { (char *)"sleep", (char *)"60", NULL };
	int64_t t0;

	NEED_SETUP();
	FILTER(&f, .confirm_argv = argv, .confirm_timeout_ms = 1000);
	t0 = now_ms();
	ASSERT_ERR(sign_and_verify("k1"), EPERM);
	ASSERT_TRUE(now_ms() - t0 < 5000);
	ASSERT_TRUE(now_ms() - t0 >= 900);
	filter_stop(&f);
	ASSERT_TRUE(audit_has(" deny confirmation timed out"));
}

TEST(confirm_gets_fingerprint_and_purpose)
{
	struct filter f;
	_cleanup_free_ char *cmd = NULL, *out = NULL, *want = NULL;
	char *argv[] = { (char *)"/bin/sh", (char *)"-c", NULL, NULL };

	NEED_SETUP();
	cmd = xasprintf("printf '%%s\\n' \"$PADDOCK_SSH_FINGERPRINT\" \"$PADDOCK_SSH_PURPOSE\" "
			"\"$PADDOCK_SSH_PROMPT\" > '%s/confirm.out'",
			dir);
	argv[2] = cmd;
	FILTER(&f, .confirm_argv = argv, .sandbox = "box");
	ASSERT_OK(sign_and_verify("k1"));
	filter_stop(&f);
	out = slurp("confirm.out");
	want = xasprintf("%s\nsignature, namespace 'file'\npaddock box: allow a signature with "
			 "ssh-ed25519 key %s for signature, namespace 'file'?\n",
			 fp1, fp1);
	ASSERT_STREQ(out, want);
}

TEST(malformed_messages)
{
	struct filter f;
	uint8_t too_long[] = { 0, 4, 0, 1, 11 }, empty[] = { 0, 0, 0, 0 };
	uint8_t bad_sign[] = { 0, 0, 0, 5, 13, 0, 0, 0, 9 };
	uint8_t m[1024];
	size_t n;

	NEED_SETUP();
	FILTER(&f);
	ASSERT_EQ(raw_request(too_long, sizeof(too_long)), 0); /* closed */
	ASSERT_EQ(raw_request(empty, sizeof(empty)), 0);
	ASSERT_EQ(raw_request(bad_sign, sizeof(bad_sign)), SSH_AGENT_FAILURE);
	/* a sign request with a trailing byte */
	n = make_sign_request("k1", m, sizeof(m));
	m[n] = 0;
	put_u32(m, (uint32_t)n - 3);
	ASSERT_EQ(raw_request(m, n + 1), SSH_AGENT_FAILURE);
	filter_stop(&f);
	ASSERT_TRUE(audit_has(" deny malformed sign request"));
}

TEST(upstream_gone)
{
	struct filter f;
	_cleanup_free_ char *saved = xstrdup(up_sock ? up_sock : "");
	uint8_t req[] = { 0, 0, 0, 1, 11 };

	NEED_SETUP();
	free(up_sock);
	up_sock = path_join(dir, "missing.sock");
	FILTER(&f);
	ASSERT_EQ(raw_request(req, sizeof(req)), SSH_AGENT_FAILURE);
	filter_stop(&f);
	free(up_sock);
	up_sock = TAKE_PTR(saved);
}

int main(void)
{
	int r;

	(void)signal(SIGPIPE, SIG_IGN);
	r = tap_run();
	if (agent_pid > 0) {
		(void)kill(agent_pid, SIGTERM);
		(void)waitpid(agent_pid, NULL, 0);
	}
	if (dir) {
		_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);

		(void)system(cmd);
	}
	audit_events = strv_free(audit_events);
	return r;
}
