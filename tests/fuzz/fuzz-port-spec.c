/* SPDX-License-Identifier: MIT */
/*
 * fuzz-port-spec.c - libFuzzer target for the -p / `port NAME add` parser
 *
 * The input is a spec as a user may type it, any bytes (cut at the first NUL, as argv is).
 * Invariants checked:
 *
 * - a refusal sets a message and leaves the result untouched;
 * - an accepted spec has an inner port 1-65535 and an IPv4 or IPv6 host address;
 * - its canonical form fits PORT_SPEC_STRLEN and parses back to the same forward;
 * - the canonical form of that is the same text (a fixed point).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/macro.h"
#include "supervisor/ports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct port_spec spec, again, untouched;
	char buf[PORT_SPEC_STRLEN], buf2[PORT_SPEC_STRLEN];
	char *s, *err = NULL;
	int r;

	if (size > 4096)
		return 0;
	s = strndup((const char *)data, size);
	if (!s)
		abort();
	memset(&spec, 0xa5, sizeof(spec));
	untouched = spec;
	r = port_spec_parse(s, &spec, &err);
	if (r < 0) {
		PADDOCK_ASSERT(r == -EINVAL);
		PADDOCK_ASSERT(err && strlen(err) > 0);
		PADDOCK_ASSERT(spec.host.family == untouched.host.family);
		PADDOCK_ASSERT(spec.host_port == untouched.host_port &&
			       spec.port == untouched.port);
		free(err);
		free(s);
		return 0;
	}
	PADDOCK_ASSERT(!err);
	PADDOCK_ASSERT(spec.port != 0);
	PADDOCK_ASSERT(spec.host.family == AF_INET || spec.host.family == AF_INET6);
	port_spec_format(&spec, buf);
	PADDOCK_ASSERT(strlen(buf) < PORT_SPEC_STRLEN - 1);
	PADDOCK_ASSERT(port_spec_parse(buf, &again, &err) == 0);
	PADDOCK_ASSERT(addr_equal(&again.host, &spec.host));
	PADDOCK_ASSERT(again.host_port == spec.host_port && again.port == spec.port);
	PADDOCK_ASSERT(streq(port_spec_format(&again, buf2), buf));
	free(s);
	return 0;
}
