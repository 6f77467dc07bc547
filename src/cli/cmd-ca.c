/* SPDX-License-Identifier: MIT */
/*
 * cmd-ca.c - `paddock ca show|rotate`: the CA that sandboxes trust
 *
 * DOC: Theory of Operation
 * The command table has no nesting, so the action is the one positional argument, with
 * "show rotate" as its completion words. Both actions load the CA, creating it on first use
 * (as the first intercepted connection would), so `show` also answers "what will sandboxes
 * trust?" before any sandbox ran. `rotate` replaces it; sandboxes already running keep the
 * old one (their bundle and their proxy) until they restart, which the command says.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/x509.h>

#include "cmd.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "store/paths.h"
#include "tls/ca.h"
#include "tls/tls.h"

enum {
	ARG_PEM = OPT_LONG_BASE,
};

static const struct paddock_opt ca_opts[] = {
	{ "pem", 0, NULL, false, "show: print only the certificate, in PEM form", ARG_PEM },
	{},
};

static bool arg_pem;

static void print_time(const char *label, const ASN1_TIME *t)
{
	time_t v = 0;
	struct tm tm;
	char buf[64] = "?";

	if (tls_asn1_time_to_time(t, &v) >= 0 && gmtime_r(&v, &tm))
		(void)strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("%-12s %s\n", label, buf);
}

static void ca_print(const struct ca *ca)
{
	char fp[CA_FINGERPRINT_SIZE], *subject;
	X509 *x = ca_cert(ca);

	if (arg_pem) {
		fputs(ca_cert_pem(ca), stdout);
		return;
	}
	ca_fingerprint(ca, fp);
	subject = X509_NAME_oneline(X509_get_subject_name(x), NULL, 0);
	printf("%-12s %s\n", "certificate", ca_cert_path(ca));
	printf("%-12s %s\n", "key", ca_key_path(ca));
	printf("%-12s %s\n", "subject", subject ? subject : "?");
	printf("%-12s %s\n", "sha256", fp);
	print_time("not before", X509_get0_notBefore(x));
	print_time("not after", X509_get0_notAfter(x));
	OPENSSL_free(subject);
}

static int cmd_ca_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("ca"), argc, argv);
	_cleanup_(ca_freep) struct ca *ca = NULL;
	_cleanup_free_ char *data = NULL, *err = NULL;
	const char *action;
	int r;

	/* options may come before or after the action: `paddock ca show --pem` */
	arg_pem = false;
	r = cmd_parse_args(&p, &arg_pem);
	if (r <= 0)
		return r;
	action = p.args[0];
	if (!streq(action, "show") && !streq(action, "rotate")) {
		log_error("ca: unknown action '%s'; usage: paddock ca %s", action, p.cmd->usage);
		return -EINVAL;
	}
	if (arg_pem && !streq(action, "show")) {
		log_error("ca: --pem goes with 'show'");
		return -EINVAL;
	}

	r = paths_data_dir(&data);
	if (r < 0)
		return log_error_errno(r, "ca: cannot determine the data directory: %m");
	if (streq(action, "rotate")) {
		/* not load-then-rotate: a key that loading refuses (mode 0644) must be replaceable */
		r = ca_replace(data, &ca, &err);
		if (r < 0)
			return log_error_errno(r, "ca: %s", err);
	} else {
		r = ca_load_or_create(data, &ca, &err);
		if (r < 0)
			return log_error_errno(r, "ca: %s", err);
		if (r == CA_CREATED)
			log_notice("Created a new CA in '%s'.", ca_cert_path(ca));
		else if (r == CA_RENEWED)
			log_notice("The CA was about to expire; created a new one in '%s'.",
				   ca_cert_path(ca));
	}
	ca_print(ca);
	if (streq(action, "rotate")) {
		(void)fflush(stdout);
		log_warning("Rotated the CA. Sandboxes already running keep trusting the old one "
			    "until they are restarted; new sandboxes trust only the new one.");
	}
	return 0;
}

const struct paddock_cmd paddock_cmd_ca = {
	.name = "ca",
	.usage = "show [--pem] | rotate",
	.summary = "Show or replace the CA that sandboxes trust for intercepted TLS",
	.opts = ca_opts,
	.min_args = 1,
	.max_args = 1,
	.complete_args = "show rotate",
	.exec = cmd_ca_exec,
};
