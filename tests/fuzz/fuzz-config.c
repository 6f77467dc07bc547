/* SPDX-License-Identifier: MIT */
/*
 * fuzz-config.c - libFuzzer target for the configuration parser
 *
 * The first byte picks the mode: even bytes load the rest as a trusted (user) file, odd bytes
 * first load a fixed user config and then the rest as a project .paddock.json, so that the
 * narrowing code runs against a non-trivial policy. After a successful project load the
 * narrowing invariants are checked: a project never widens net, never raises a limit, never
 * drops a deny rule or protected path, and every allowed rule left is either one the user
 * allowed (or an intersection with one) or marked project_only; secrets are only removed or
 * their hosts narrowed to rules within the user's.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/strv.h"
#include "store/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char user_config[] =
	"{\"net\": \"allowlist\", \"allow\": [\"*.github.com\", \"pypi.org:443\", \"10.0.0.5\"],"
	" \"deny\": [\"evil.com\"], \"memory\": \"2G\", \"pids\": 500, \"cpus\": 2,"
	" \"protect\": [\"keep\"], \"secrets\": {\"GH\": {\"from\": \"env:GH\", \"hosts\":"
	" [\"*.github.com\", \"api.x.io:443\"], \"headers\": [\"authorization\"]}, \"S\":"
	" {\"from\": \"store\", \"hosts\": [\"a.b\"]}}}";

static void check_narrowed(const struct paddock_config *before, const struct paddock_config *c)
{
	PADDOCK_ASSERT(c->net <= before->net);
	PADDOCK_ASSERT(c->memory <= before->memory);
	PADDOCK_ASSERT(c->pids <= before->pids);
	PADDOCK_ASSERT(before->cpus == 0 || (c->cpus > 0 && c->cpus <= before->cpus));
	PADDOCK_ASSERT(c->n_deny >= before->n_deny);
	PADDOCK_ASSERT(strv_length(c->protect) >= strv_length(before->protect));
	STRV_FOREACH (p, before->protect)
		PADDOCK_ASSERT(strv_contains(c->protect, *p));
	PADDOCK_ASSERT(c->n_env == before->n_env && c->n_volumes == before->n_volumes);
	/* a published port listens on the host: never a project's to add */
	PADDOCK_ASSERT(strv_length(c->publish) == strv_length(before->publish));
	PADDOCK_ASSERT(streq(c->image, before->image));
	/* secrets: only removed, or their hosts narrowed; nothing else about them changes */
	PADDOCK_ASSERT(c->n_secrets <= before->n_secrets);
	for (size_t i = 0; i < c->n_secrets; i++) {
		const struct config_secret *s = &c->secrets[i],
					   *b = config_secret_find(before, s->name);

		PADDOCK_ASSERT(b && s->from == b->from && streq_ptr(s->arg, b->arg) &&
			       streq(s->env, b->env) && s->timeout_ms == b->timeout_ms &&
			       strv_length(s->headers) == strv_length(b->headers));
		PADDOCK_ASSERT(s->n_hosts > 0);
		for (size_t k = 0; k < s->n_hosts; k++) {
			bool within = false;

			for (size_t j = 0; j < b->n_hosts && !within; j++) {
				struct host_rule r;

				if (host_rule_intersect(&s->hosts[k], &b->hosts[j], &r)) {
					within = host_rule_equal(&r, &s->hosts[k]);
					host_rule_done(&r);
				}
			}
			PADDOCK_ASSERT(within);
		}
	}
	if (c->net == CONFIG_NET_ALLOWLIST && before->net == CONFIG_NET_ALLOWLIST)
		for (size_t i = 0; i < c->n_allow; i++) {
			bool within = false;

			for (size_t j = 0; j < before->n_allow && !within; j++) {
				struct host_rule r;

				if (host_rule_intersect(&c->allow[i], &before->allow[j], &r)) {
					within = host_rule_equal(&r, &c->allow[i]);
					host_rule_done(&r);
				}
			}
			PADDOCK_ASSERT(within);
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct paddock_config *c = config_new(), *before = NULL;
	char *err = NULL, *json;
	int r;

	if (size < 1)
		goto out;
	if (data[0] & 1) {
		r = config_load_buffer(c, "/u/config.json", user_config, strlen(user_config), false,
				       &err);
		PADDOCK_ASSERT(r >= 0);
		before = config_new();
		r = config_load_buffer(before, "/u/config.json", user_config, strlen(user_config),
				       false, &err);
		PADDOCK_ASSERT(r >= 0);
		r = config_load_buffer(c, "/w/.paddock.json", (const char *)data + 1, size - 1,
				       true, &err);
		if (r >= 0)
			check_narrowed(before, c);
	} else
		r = config_load_buffer(c, "/u/config.json", (const char *)data + 1, size - 1, false,
				       &err);
	/* every failure has a message naming the file; every success prints */
	PADDOCK_ASSERT(r >= 0 || (err && strstr(err, "config.json: ")) ||
		       (err && strstr(err, ".paddock.json: ")));
	json = config_to_json(c);
	free(json);
out:
	free(err);
	config_free(before);
	config_free(c);
	return 0;
}
