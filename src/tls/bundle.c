/* SPDX-License-Identifier: MIT */
/*
 * bundle.c - the CA bundle that a sandbox trusts: the host's roots plus paddock's CA
 *
 * DOC: Theory of Operation
 * Inside the sandbox, clients must accept the leaves the proxy mints and, for the TLS that is
 * relayed untouched, the real servers' certificates. So the bundle is the host's own bundle
 * (copied as it is) followed by paddock's CA certificate with a comment naming it. It is
 * mounted at the system path (TLS_BUNDLE_SANDBOX_PATH) and the variables of tls_bundle_env
 * point there, for the clients that ship their own roots (node, python's certifi, deno...).
 *
 * It is written again at every sandbox start, atomically, so an update of the host's
 * ca-certificates reaches the next sandbox; one already running keeps the file (inode) it
 * mounted.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca.h"
#include "common/fd.h"
#include "common/path.h"
#include "common/xmalloc.h"
#include "tls-internal.h"

#define SYSTEM_BUNDLE_MAX (16 * 1024 * 1024)

const char *const tls_bundle_env[] = {
	"SSL_CERT_FILE",      "NODE_EXTRA_CA_CERTS",
	"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
	"GIT_SSL_CAINFO",     "PIP_CERT",
	"CARGO_HTTP_CAINFO",  "AWS_CA_BUNDLE",
	"DENO_CERT",          NULL,
};

const char *const tls_system_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem",
	"/etc/ssl/cert.pem",
	NULL,
};

int tls_bundle_write(const struct ca *ca, const char *system_bundle, const char *out_path,
		     const char **ret_system)
{
	_cleanup_free_ char *roots = NULL, *dir = NULL, *out = NULL;
	_cleanup_close_ int dirfd = -EBADF;
	const char *used = NULL;
	char fp[CA_FINGERPRINT_SIZE];
	size_t n = 0;
	int r;

	if (!out_path || out_path[0] != '/' || out_path[strlen(out_path) - 1] == '/')
		return -EINVAL;
	for (const char *const *p = system_bundle ? (const char *const[]){ system_bundle, NULL }
						  : tls_system_bundles;
	     *p; p++) {
		r = read_file_at(AT_FDCWD, *p, SYSTEM_BUNDLE_MAX, &roots, &n);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		used = *p;
		break;
	}

	ca_fingerprint(ca, fp);
	out = xasprintf("%s%s"
			"# paddock sandbox CA (%s)\n"
			"# SHA-256 %s\n"
			"%s",
			roots ? roots : "", roots && n && roots[n - 1] != '\n' ? "\n" : "",
			ca_cert_path(ca), fp, ca_cert_pem(ca));
	dir = path_dirname(out_path);
	if (!dir)
		return -EINVAL;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	r = tls_write_file_atomic(dirfd, strrchr(out_path, '/') + 1, out, strlen(out), 0644);
	if (r < 0)
		return r;
	if (ret_system)
		*ret_system = used;
	return used ? 0 : 1;
}
