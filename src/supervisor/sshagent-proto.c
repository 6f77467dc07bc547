/* SPDX-License-Identifier: MIT */
/*
 * sshagent-proto.c - parsing the ssh-agent messages the filter looks into
 *
 * DOC: Theory of Operation
 * The filter (sshagent.c) reads only three kinds of messages from a sandbox: a request for the
 * identities (no body), a sign request, and an extension request whose name it checks. From
 * the upstream agent it rewrites only the identities answer. Everything is bounds-checked
 * against the message length: a reader (struct rd) takes a uint32 or a length-prefixed string
 * and fails once past the end, and each parser insists on consuming the message exactly. Text
 * taken from messages (key types, user names, namespaces) is copied as printable ASCII only,
 * since it ends up in a confirmation prompt and in the audit log. No key material is ever
 * copied out: the filter works with SHA256 fingerprints.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/macro.h"
#include "common/xmalloc.h"
#include "sshagent-proto.h"

struct rd {
	const uint8_t *p;
	size_t left;
};

static bool rd_u32(struct rd *r, uint32_t *ret)
{
	if (r->left < 4)
		return false;
	*ret = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 |
	       (uint32_t)r->p[3];
	r->p += 4;
	r->left -= 4;
	return true;
}

static bool rd_u8(struct rd *r, uint8_t *ret)
{
	if (r->left < 1)
		return false;
	*ret = r->p[0];
	r->p++;
	r->left--;
	return true;
}

static bool rd_string(struct rd *r, const uint8_t **ret, size_t *ret_len)
{
	uint32_t n;

	if (!rd_u32(r, &n) || n > r->left)
		return false;
	*ret = r->p;
	*ret_len = n;
	r->p += n;
	r->left -= n;
	return true;
}

/* @s as printable ASCII, other bytes as '?', at most @size - 1 bytes */
static void printable(const uint8_t *s, size_t n, char *out, size_t size)
{
	size_t i;

	for (i = 0; i < n && i + 1 < size; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\'' ? (char)s[i] : '?';
	out[i] = '\0';
}

int sshagent_parse_sign_request(const uint8_t *body, size_t len, struct sshagent_sign_request *ret)
{
	struct rd r = { body, len }, k;
	const uint8_t *type;
	size_t type_len;

	if (!rd_string(&r, &ret->key, &ret->key_len) ||
	    !rd_string(&r, &ret->data, &ret->data_len) || !rd_u32(&r, &ret->flags) || r.left != 0)
		return -EBADMSG;
	k = (struct rd){ ret->key, ret->key_len };
	if (!rd_string(&k, &type, &type_len) || type_len == 0)
		return -EBADMSG;
	return 0;
}

int sshagent_key_fingerprint(const uint8_t *blob, size_t len, char out[SSHAGENT_FP_SIZE])
{
	unsigned char md[32], b64[48];
	unsigned int mdlen = 0;
	int n;

	if (EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != sizeof(md))
		return -EIO;
	n = EVP_EncodeBlock(b64, md, (int)sizeof(md)); /* 44 characters, the last one '=' */
	if (n != 44)
		return -EIO;
	memcpy(out, "SHA256:", 7);
	memcpy(out + 7, b64, 43);
	out[50] = '\0';
	return 0;
}

bool sshagent_fingerprint_is_valid(const char *fp)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	if (!fp || strncmp(fp, "SHA256:", 7) != 0 || strlen(fp) != 50)
		return false;
	for (size_t i = 7; i < 50; i++)
		if (!strchr(b64, fp[i]))
			return false;
	return true;
}

void sshagent_key_type(const uint8_t *blob, size_t len, char out[SSHAGENT_TEXT_SIZE])
{
	struct rd r = { blob, len };
	const uint8_t *t;
	size_t n;

	if (!rd_string(&r, &t, &n) || n == 0) {
		strcpy(out, "unknown");
		return;
	}
	printable(t, n, out, SSHAGENT_TEXT_SIZE);
}

#define SSH2_MSG_USERAUTH_REQUEST 50

void sshagent_describe_data(const uint8_t *data, size_t len, char out[SSHAGENT_PURPOSE_SIZE])
{
	struct rd r = { data, len };
	const uint8_t *s, *user, *service, *method;
	size_t n, user_len, service_len, method_len;
	char a[SSHAGENT_TEXT_SIZE];
	uint8_t type;

	if (len >= 6 && memcmp(data, "SSHSIG", 6) == 0) {
		r.p += 6;
		r.left -= 6;
		if (rd_string(&r, &s, &n)) {
			printable(s, n, a, sizeof(a));
			(void)snprintf(out, SSHAGENT_PURPOSE_SIZE, "signature, namespace '%s'", a);
			return;
		}
	} else if (rd_string(&r, &s, &n) && rd_u8(&r, &type) && type == SSH2_MSG_USERAUTH_REQUEST &&
		   rd_string(&r, &user, &user_len) && rd_string(&r, &service, &service_len) &&
		   rd_string(&r, &method, &method_len) && method_len >= 9 &&
		   memcmp(method, "publickey", 9) == 0) {
		printable(user, user_len, a, sizeof(a));
		(void)snprintf(out, SSHAGENT_PURPOSE_SIZE, "ssh login as '%s'", a);
		return;
	}
	strcpy(out, "unknown data");
}

int sshagent_extension_name(const uint8_t *body, size_t len, char out[SSHAGENT_TEXT_SIZE])
{
	struct rd r = { body, len };
	const uint8_t *s;
	size_t n;

	if (!rd_string(&r, &s, &n) || n == 0)
		return -EBADMSG;
	printable(s, n, out, SSHAGENT_TEXT_SIZE);
	/* a name with a NUL or cut short must not compare equal to a known one */
	if (n >= SSHAGENT_TEXT_SIZE || memchr(s, '\0', n))
		out[0] = '?';
	return 0;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int sshagent_filter_identities(const uint8_t *body, size_t len, sshagent_key_allowed_fn allowed,
			       void *userdata, uint8_t **ret, size_t *ret_len)
{
	struct rd r = { body, len };
	uint32_t nkeys, kept = 0;
	uint8_t *out;
	size_t w = 9; /* length, type, nkeys */

	if (!rd_u32(&r, &nkeys) || nkeys > SSHAGENT_IDENTITIES_MAX)
		return -EBADMSG;
	/* the answer is never longer than the input: a buffer of that size is enough */
	out = xmalloc(len + 5);
	for (uint32_t i = 0; i < nkeys; i++) {
		const uint8_t *key, *comment, *start = r.p;
		size_t key_len, comment_len;
		char fp[SSHAGENT_FP_SIZE];

		if (!rd_string(&r, &key, &key_len) || !rd_string(&r, &comment, &comment_len) ||
		    sshagent_key_fingerprint(key, key_len, fp) < 0) {
			free(out);
			return -EBADMSG;
		}
		if (!allowed(fp, userdata))
			continue;
		memcpy(out + w, start, (size_t)(r.p - start));
		w += (size_t)(r.p - start);
		kept++;
	}
	if (r.left != 0) {
		free(out);
		return -EBADMSG;
	}
	put_u32(out, (uint32_t)(w - 4));
	out[4] = SSH_AGENT_IDENTITIES_ANSWER;
	put_u32(out + 5, kept);
	*ret = out;
	*ret_len = w;
	return 0;
}
