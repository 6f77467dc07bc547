/* SPDX-License-Identifier: MIT */
/*
 * netcap.c - capture of every outgoing connection in the sandbox's network namespace
 *
 * DOC: Theory of Operation
 * The sandbox has its own network namespace with one interface, lo, which also carries the
 * default route (with 192.0.0.8, the IPv4 dummy address, as the source of non-local traffic):
 * a packet to the outside has a route, so connect() gets as far as the netfilter hooks, but it
 * can go nowhere, since lo only delivers locally. nftables (through libnftables) rewrites the
 * output path:
 *
 *  - every TCP connection to anything but loopback is REDIRECTed to 127.0.0.1:15001, where the
 *    supervisor's transparent listener accepts it and learns the original destination with
 *    SO_ORIGINAL_DST; an IP literal, an odd port, a fake address paddock's DNS handed out: all
 *    the same;
 *  - UDP to port 53 anywhere is REDIRECTed to paddock's resolver on 127.0.0.1:53;
 *  - everything else that leaves lo (other UDP, ICMP) is rejected at once, so clients fail fast
 *    instead of timing out; raw and packet sockets are refused by seccomp and the missing
 *    CAP_NET_RAW before that;
 *  - IPv6 has no route but ::1, and an ip6 table rejects what is not ::1.
 *
 * DESIGN.md suggested a tun device as the blackhole default route; lo does the same job with no
 * /dev/net/tun, and without the tun device's teardown, which cost ~25 ms (RCU grace periods in
 * unregister_netdevice) in init's exit on every run (docs/design/network-capture.md).
 *
 * The listeners are created here, inside the namespace, and handed to the supervisor (init as
 * the socket factory): the supervisor never joins the namespace, and it dials upstream from the
 * host's namespace after its policy allowed it. The filter chain accepts conntrack-established
 * traffic and anything to 127.0.0.0/8, because a REDIRECTed packet still carries the tun device
 * as its output interface when the filter hook sees it.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fd.h"
#include "common/macro.h"
#include "netcap.h"

/* clang-format off */
#define NETCAP_RULES                                                                               \
	"table ip paddock {\n"                                                                     \
	"  chain nat_output {\n"                                                                   \
	"    type nat hook output priority -100; policy accept;\n"                                 \
	"    ip daddr 127.0.0.0/8 accept\n"                                                        \
	"    meta l4proto tcp redirect to :15001\n"                                                \
	"    meta l4proto udp udp dport 53 redirect to :53\n"                                      \
	"  }\n"                                                                                    \
	"  chain filter_output {\n"                                                                \
	"    type filter hook output priority 0; policy accept;\n"                                 \
	"    ct state established,related accept\n"                                                \
	"    ip daddr 127.0.0.0/8 accept\n"                                                        \
	"    meta l4proto tcp reject with tcp reset\n"                                             \
	"    reject with icmp type admin-prohibited\n"                                             \
	"  }\n"                                                                                    \
	"}\n"                                                                                      \
	"table ip6 paddock6 {\n"                                                                   \
	"  chain filter_output {\n"                                                                \
	"    type filter hook output priority 0; policy accept;\n"                                 \
	"    ip6 daddr ::1 accept\n"                                                               \
	"    meta l4proto tcp reject with tcp reset\n"                                             \
	"    reject with icmpv6 type admin-prohibited\n"                                           \
	"  }\n"                                                                                    \
	"}\n"
/* clang-format on */

/* lo_route() - 192.0.0.8/32 on lo, and the default route through lo */
static int lo_route(void)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct ifreq ifr = {};
	struct rtentry rt = {};

	if (s < 0)
		return -errno;
	/* an alias: lo keeps 127.0.0.1 */
	(void)snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo:paddock");
	(void)inet_pton(AF_INET, NETCAP_SOURCE_ADDR, &sin.sin_addr);
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
		return -errno;

	sin.sin_addr.s_addr = INADDR_ANY;
	memcpy(&rt.rt_dst, &sin, sizeof(sin));
	memcpy(&rt.rt_genmask, &sin, sizeof(sin));
	rt.rt_flags = RTF_UP;
	rt.rt_dev = (char *)"lo";
	if (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * nft_apply() - run @rules through libnftables, loaded here with dlopen(): paddock without the
 * network capture never pays for it (and its five dependencies) at start.
 */
static int nft_apply(const char *rules)
{
	struct nft_ctx *(*ctx_new)(uint32_t);
	void (*ctx_free)(struct nft_ctx *);
	int (*buffer_output)(struct nft_ctx *), (*buffer_error)(struct nft_ctx *);
	int (*run)(struct nft_ctx *, const char *);
	struct nft_ctx *nft;
	void *lib;
	int r;

	lib = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return -ENOSYS;
	ctx_new = (struct nft_ctx * (*)(uint32_t)) dlsym(lib, "nft_ctx_new");
	ctx_free = (void (*)(struct nft_ctx *))dlsym(lib, "nft_ctx_free");
	buffer_output = (int (*)(struct nft_ctx *))dlsym(lib, "nft_ctx_buffer_output");
	buffer_error = (int (*)(struct nft_ctx *))dlsym(lib, "nft_ctx_buffer_error");
	run = (int (*)(struct nft_ctx *, const char *))dlsym(lib, "nft_run_cmd_from_buffer");
	if (!ctx_new || !ctx_free || !buffer_output || !buffer_error || !run)
		return -ENOSYS; /* the library stays loaded: init is short-lived */
	nft = ctx_new(NFT_CTX_DEFAULT);
	if (!nft)
		return -ENOMEM;
	(void)buffer_output(nft);
	(void)buffer_error(nft);
	r = run(nft, rules);
	ctx_free(nft);
	return r == 0 ? 0 : -EPROTO;
}

static int listener(int type, uint16_t port, int *ret_fd)
{
	_cleanup_close_ int fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1;

	if (fd < 0)
		return -errno;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -errno;
	if (type == SOCK_STREAM && listen(fd, 512) < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int netcap_setup(struct netcap_fds *ret, const char **reterr_what)
{
	struct netcap_fds f = { -EBADF, -EBADF, -EBADF };
	int r;

	r = lo_route();
	if (r < 0) {
		*reterr_what = "the default route";
		goto fail;
	}
	r = nft_apply(NETCAP_RULES);
	if (r == -ENOSYS) {
		*reterr_what = "libnftables.so.1 (install the libnftables1 package)";
		goto fail;
	}
	if (r < 0) {
		*reterr_what = "nftables";
		goto fail;
	}
	r = listener(SOCK_STREAM, NETCAP_TRANSPARENT_PORT, &f.transparent);
	if (r >= 0)
		r = listener(SOCK_STREAM, NETCAP_HTTP_PROXY_PORT, &f.http_proxy);
	if (r >= 0)
		r = listener(SOCK_DGRAM, NETCAP_DNS_PORT, &f.dns);
	if (r < 0) {
		*reterr_what = "127.0.0.1 listeners";
		goto fail;
	}
	*ret = f;
	return 0;
fail:
	safe_close(f.transparent);
	safe_close(f.http_proxy);
	safe_close(f.dns);
	return r;
}
