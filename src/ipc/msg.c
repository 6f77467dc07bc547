/* SPDX-License-Identifier: MIT */
/*
 * msg.c - typed, size-checked messages with optional fd passing
 *
 * DOC: Theory of Operation
 * The supervisor and init share a SOCK_SEQPACKET socketpair, so message boundaries are kept by
 * the kernel and a message is either whole or absent. Each type has one fixed body size; a
 * message of another size is malformed (the peer is buggy or hostile), and so is one with
 * MSG_CTRUNC/MSG_TRUNC set. Received descriptors are always CLOEXEC.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "msg.h"

long msg_body_size(uint16_t type)
{
	switch (type) {
	case MSG_GO:
		return sizeof(struct msg_go);
	case MSG_SETUP_ERROR:
		return sizeof(struct msg_error);
	case MSG_PTY:
		return 0;
	case MSG_STARTED:
		return sizeof(struct msg_started);
	case MSG_EXIT:
		return sizeof(struct msg_exit);
	case MSG_SIGNAL:
		return sizeof(struct msg_signal);
	case MSG_LISTENER:
		return sizeof(struct msg_listener);
	case MSG_READY:
		return 0;
	default:
		return -1;
	}
}

bool msg_carries_fd(uint16_t type)
{
	return type == MSG_PTY || type == MSG_READY || type == MSG_LISTENER;
}

#define MSG_MAX_BODY sizeof(struct msg_error)

int msg_send(int sock, uint16_t type, const void *body, uint32_t len, int fd)
{
	struct msg_hdr hdr = { .type = type, .version = PADDOCK_PROTO_VERSION, .len = len };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cmsgbuf;
	struct iovec iov[2] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)body, .iov_len = len },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t k;

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		mh.msg_control = cmsgbuf.buf;
		mh.msg_controllen = sizeof(cmsgbuf.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		k = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return -errno;
	if ((size_t)k != sizeof(hdr) + len)
		return -EIO;
	return 0;
}

int msg_recv(int sock, void *body, size_t cap, int *ret_fd)
{
	struct {
		struct msg_hdr hdr;
		char body[MSG_MAX_BODY + 1];
	} pkt;
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} cmsgbuf;
	struct iovec iov = { .iov_base = &pkt, .iov_len = sizeof(pkt) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cmsgbuf.buf,
		.msg_controllen = sizeof(cmsgbuf.buf),
	};
	_cleanup_close_ int fd = -EBADF;
	int nfds = 0;
	ssize_t k;
	long want;

	*ret_fd = -EBADF;
	do
		k = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (k < 0 && errno == EINTR);
	/*
	 * A peer that exited with a message of ours unread leaves ECONNRESET pending; the kernel
	 * reports (and clears) it before the messages the peer sent us first: read those.
	 */
	if (k < 0 && errno == ECONNRESET) {
		mh.msg_controllen = sizeof(cmsgbuf.buf);
		do
			k = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		while (k < 0 && errno == EINTR);
		if (k < 0)
			return errno == EAGAIN ? 0 : -errno;
	} else if (k < 0)
		return -errno;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (nfds++ == 0)
				fd = f;
			else
				(void)close(f);
		}
	}
	if (k == 0 && nfds == 0)
		return 0;
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC) || nfds > 1)
		return -EBADMSG;
	if ((size_t)k < sizeof(struct msg_hdr))
		return -EBADMSG;
	if (pkt.hdr.version != PADDOCK_PROTO_VERSION)
		return -EPROTO;
	want = msg_body_size(pkt.hdr.type);
	if (want < 0 || pkt.hdr.len != (uint32_t)want ||
	    (size_t)k != sizeof(struct msg_hdr) + (size_t)want || (size_t)want > cap)
		return -EBADMSG;
	if (msg_carries_fd(pkt.hdr.type) != (fd >= 0))
		return -EBADMSG;
	memcpy(body, pkt.body, (size_t)want);
	*ret_fd = TAKE_FD(fd);
	return pkt.hdr.type;
}
