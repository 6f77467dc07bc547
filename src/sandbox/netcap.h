/* SPDX-License-Identifier: MIT */
/*
 * netcap.h - capture of every outgoing connection in the sandbox's network namespace
 */
#pragma once

#define NETCAP_TRANSPARENT_PORT 15001       /* nftables REDIRECTs every TCP connection here */
#define NETCAP_HTTP_PROXY_PORT  3128        /* HTTP_PROXY / HTTPS_PROXY */
#define NETCAP_DNS_PORT         53          /* resolv.conf's nameserver, 127.0.0.1 */
#define NETCAP_SOURCE_ADDR      "192.0.0.8" /* RFC 7600: the IPv4 dummy address */

struct netcap_fds {
	int transparent; /* TCP listener 127.0.0.1:15001 */
	int http_proxy;  /* TCP listener 127.0.0.1:3128 */
	int dns;         /* UDP socket 127.0.0.1:53 */
};

/*
 * netcap_setup() - in init, in the sandbox's new network namespace (holding CAP_NET_ADMIN
 * there): the default route through lo (where nothing answers), the nftables rules that
 * redirect every TCP connection and DNS to paddock's listeners and reject everything else,
 * and the listeners themselves. Does not log; on failure @reterr_what names the step.
 * Return: 0 or -errno.
 */
int netcap_setup(struct netcap_fds *ret, const char **reterr_what);
