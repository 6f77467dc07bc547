/* SPDX-License-Identifier: MIT */
/*
 * fuzz-dns.c - libFuzzer target for the sandbox's DNS server (dns_server_handle())
 *
 * The input is one UDP payload from a sandbox. It is answered twice: into a buffer of
 * DNS_RESPONSE_MAX bytes and into one whose size the last input byte picks (so the builders'
 * bounds run at every capacity); both buffers are heap blocks of exactly that size, so ASan
 * sees any write past the capacity. Invariants checked on every response:
 * - at least a header, at most the capacity, at most 512 bytes unless the query had EDNS;
 * - QR set, the query's ID and opcode, RD and CD copied, TC never set;
 * - a question echoed only when the query had exactly one, byte for byte;
 * - an A answer only with NOERROR, for an address in 198.18.0.0/15 whose reverse lookup is
 *   the lowercased name the policy allowed; never an answer for a name the policy denied.
 * The fake-address table lives across inputs and is small, so that exhaustion is reached too.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "proxy/dns.h"
#include "proxy/fakeip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fakeip *fip;

struct policy_state {
	char last[DNS_NAME_MAX + 1];
	int last_verdict;
	int calls;
};

/* Allow names whose length is even, deny odd, fail for names starting with "err". */
static int policy(void *arg, const char *name)
{
	struct policy_state *st = arg;
	size_t n = strlen(name);

	PADDOCK_ASSERT(n > 0 && n <= DNS_NAME_MAX);
	for (size_t i = 0; i < n; i++)
		PADDOCK_ASSERT(!(name[i] >= 'A' && name[i] <= 'Z'));
	st->calls++;
	memcpy(st->last, name, n + 1);
	st->last_verdict = strncmp(name, "err", 3) == 0 ? -EIO : n % 2 == 0;
	return st->last_verdict;
}

static void check(const uint8_t *q, size_t qlen, const uint8_t *resp, size_t n, size_t cap,
		  const struct policy_state *st)
{
	struct dns_query parsed;
	bool parsed_ok = dns_parse_query(q, qlen, &parsed) == 0;
	uint16_t flags, qflags, an;

	if (n == 0)
		return;
	PADDOCK_ASSERT(n >= DNS_HEADER_SIZE && n <= cap);
	PADDOCK_ASSERT(n <= (parsed_ok && parsed.edns ? DNS_EDNS_UDP_SIZE : DNS_UDP_MAX));
	PADDOCK_ASSERT(qlen >= DNS_HEADER_SIZE);
	PADDOCK_ASSERT(resp[0] == q[0] && resp[1] == q[1]);
	flags = (uint16_t)(resp[2] << 8 | resp[3]);
	qflags = (uint16_t)(q[2] << 8 | q[3]);
	PADDOCK_ASSERT(flags & DNS_FLAG_QR);
	PADDOCK_ASSERT(!(qflags & DNS_FLAG_QR));
	PADDOCK_ASSERT(!(flags & DNS_FLAG_TC));
	PADDOCK_ASSERT((flags & (DNS_FLAG_OPCODE_MASK | DNS_FLAG_RD | DNS_FLAG_CD)) ==
		       (qflags & (DNS_FLAG_OPCODE_MASK | DNS_FLAG_RD | DNS_FLAG_CD)));
	PADDOCK_ASSERT(resp[4] == 0 && resp[5] <= 1);
	if (resp[5] == 1) {
		/* the question, byte for byte; a rejected packet's answer is header + question */
		PADDOCK_ASSERT(q[4] == 0 && q[5] == 1);
		if (parsed_ok)
			PADDOCK_ASSERT(memcmp(resp + DNS_HEADER_SIZE, q + DNS_HEADER_SIZE,
					      parsed.question_len) == 0);
		else
			PADDOCK_ASSERT(n <= qlen &&
				       memcmp(resp + DNS_HEADER_SIZE, q + DNS_HEADER_SIZE,
					      n - DNS_HEADER_SIZE) == 0);
	}
	an = (uint16_t)(resp[6] << 8 | resp[7]);
	PADDOCK_ASSERT(an <= 1);
	if (an == 1) {
		size_t off = DNS_HEADER_SIZE + parsed.question_len;
		struct in_addr a;
		const char *name;

		PADDOCK_ASSERT(parsed_ok && parsed.qtype == DNS_TYPE_A);
		PADDOCK_ASSERT((flags & DNS_FLAG_RCODE_MASK) == 0);
		PADDOCK_ASSERT(st->calls == 1 && st->last_verdict > 0);
		PADDOCK_ASSERT(off + 16 <= n);
		PADDOCK_ASSERT(memcmp(resp + DNS_HEADER_SIZE, q + DNS_HEADER_SIZE,
				      parsed.question_len) == 0);
		memcpy(&a.s_addr, resp + off + 12, 4);
		PADDOCK_ASSERT(fakeip_in_range(a));
		name = fakeip_reverse(fip, a);
		PADDOCK_ASSERT(name && streq(name, st->last));
	}
	if (st->calls == 1 && st->last_verdict == 0)
		PADDOCK_ASSERT((flags & DNS_FLAG_RCODE_MASK) == DNS_RCODE_NXDOMAIN && an == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t caps[2] = { DNS_RESPONSE_MAX, size > 0 ? data[size - 1] : 0 };

	if (!fip && fakeip_new(200, &fip) < 0)
		abort();
	for (int i = 0; i < 2; i++) {
		struct policy_state st = {};
		uint8_t *resp = malloc(caps[i] ? caps[i] : 1);
		size_t n;

		n = dns_server_handle(data, size, resp, caps[i], fip, policy, &st);
		check(data, size, resp, n, caps[i], &st);
		free(resp);
	}
	return 0;
}
