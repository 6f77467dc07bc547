/* SPDX-License-Identifier: MIT */
/*
 * fuzz-sshagent.c - libFuzzer target for the ssh-agent message parsers (sshagent-proto.c)
 *
 * The input is a message after its length prefix: a type byte and the body. Every parser runs
 * on the body whatever the type, on a heap copy of exactly that size so ASan sees any read
 * past it. Invariants checked:
 * - a parsed sign request points inside the body, its key and data do not overlap, and the
 *   three fields cover the body exactly (4 + key + 4 + data + 4 bytes);
 * - a fingerprint is always "SHA256:" and 43 base64 characters;
 * - key types, purposes and extension names are printable ASCII and NUL-terminated in size;
 * - a filtered identities answer keeps every other key (the predicate alternates), is a
 *   complete message of type 12 whose length prefix is right, is never longer than the input
 *   plus its prefix, and filtering it again with "allow all" returns it unchanged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "supervisor/sshagent-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool alternate(const char *fp, void *userdata)
{
	unsigned *n = userdata;

	PADDOCK_ASSERT(sshagent_fingerprint_is_valid(fp));
	return (*n)++ % 2 == 0;
}

static bool all(const char *fp, void *userdata)
{
	return true;
}

static void check_text(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	PADDOCK_ASSERT(n < size);
	for (size_t i = 0; i < n; i++)
		PADDOCK_ASSERT(s[i] >= 0x20 && s[i] < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sshagent_sign_request sr;
	char fp[SSHAGENT_FP_SIZE], text[SSHAGENT_TEXT_SIZE], purpose[SSHAGENT_PURPOSE_SIZE];
	uint8_t *body, *out = NULL, *again = NULL;
	size_t len, out_len = 0, again_len = 0;
	unsigned n = 0;

	if (size < 1 || size > SSHAGENT_MSG_MAX)
		return 0;
	len = size - 1;
	body = malloc(len ? len : 1);
	PADDOCK_ASSERT(body);
	memcpy(body, data + 1, len);

	if (sshagent_parse_sign_request(body, len, &sr) == 0) {
		PADDOCK_ASSERT(sr.key >= body + 4 && sr.key + sr.key_len <= body + len);
		PADDOCK_ASSERT(sr.data >= sr.key + sr.key_len + 4 &&
			       sr.data + sr.data_len <= body + len);
		PADDOCK_ASSERT(12 + sr.key_len + sr.data_len == len);
		PADDOCK_ASSERT(sshagent_key_fingerprint(sr.key, sr.key_len, fp) == 0);
		PADDOCK_ASSERT(sshagent_fingerprint_is_valid(fp));
		sshagent_key_type(sr.key, sr.key_len, text);
		check_text(text, sizeof(text));
		sshagent_describe_data(sr.data, sr.data_len, purpose);
		check_text(purpose, sizeof(purpose));
	}
	sshagent_describe_data(body, len, purpose);
	check_text(purpose, sizeof(purpose));
	sshagent_key_type(body, len, text);
	check_text(text, sizeof(text));
	if (sshagent_extension_name(body, len, text) == 0)
		check_text(text, sizeof(text));

	if (sshagent_filter_identities(body, len, alternate, &n, &out, &out_len) == 0) {
		PADDOCK_ASSERT(out_len >= 9 && out_len <= len + 5);
		PADDOCK_ASSERT(out[4] == SSH_AGENT_IDENTITIES_ANSWER);
		PADDOCK_ASSERT(((size_t)out[0] << 24 | (size_t)out[1] << 16 | (size_t)out[2] << 8 |
				out[3]) == out_len - 4);
		PADDOCK_ASSERT(sshagent_filter_identities(out + 5, out_len - 5, all, NULL, &again,
							  &again_len) == 0);
		PADDOCK_ASSERT(again_len == out_len && memcmp(again, out, out_len) == 0);
		free(again);
		free(out);
	}
	free(body);
	return 0;
}
