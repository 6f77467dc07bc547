/* SPDX-License-Identifier: MIT */
/*
 * msg.c - typed, size-checked messages with optional fd passing
 *
 * DOC: Theory of Operation
 * The supervisor and init share a SOCK_SEQPACKET socketpair, and a CLI talks to a supervisor
 * over a SOCK_SEQPACKET control socket, so message boundaries are kept by the kernel and a
 * message is either whole or absent. ipc_recv() is the common part: one packet, the header's
 * version, no truncation of data or descriptors, at most the descriptors the caller allows.
 * msg_recv() then checks init's messages: each type has one fixed body size and a fixed
 * number of descriptors; a message of another size is malformed (the peer is buggy or
 * hostile). Received descriptors are always CLOEXEC.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/macro.h"
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
	case MSG_NOTIFY_FD:
	case MSG_FILTER:
		return 0;
	case MSG_EXEC:
		return sizeof(struct msg_exec);
	case MSG_EXEC_PTY:
	case MSG_EXEC_STARTED:
	case MSG_EXEC_EXIT:
		return sizeof(struct msg_exec_state);
	case MSG_EXEC_SIGNAL:
		return sizeof(struct msg_exec_signal);
	case MSG_CONNECT:
	case MSG_CONNECTED:
		return sizeof(struct msg_connect);
	default:
		return -1;
	}
}

void msg_fd_range(uint16_t type, unsigned *ret_min, unsigned *ret_max)
{
	*ret_min = *ret_max = 0;
	switch (type) {
	case MSG_PTY:
	case MSG_FILTER:
	case MSG_LISTENER:
	case MSG_EXEC_PTY:
	case MSG_NOTIFY_FD:
		*ret_min = *ret_max = 1;
		break;
	case MSG_EXEC: /* stdin, stdout, stderr without a terminal; none with one */
		*ret_max = 3;
		break;
	case MSG_CONNECTED: /* the connection, or none and an error */
		*ret_max = 1;
		break;
	default:
		break;
	}
}

bool msg_carries_fd(uint16_t type)
{
	unsigned lo, hi;

	msg_fd_range(type, &lo, &hi);
	return hi > 0;
}

int msg_sendv(int sock, uint16_t type, const void *body, uint32_t len, const int *fds, size_t n_fds)
{
	struct msg_hdr hdr = { .type = type, .version = PADDOCK_PROTO_VERSION, .len = len };
	union {
		char buf[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)];
		struct cmsghdr align;
	} cmsgbuf;
	struct iovec iov[2] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)body, .iov_len = len },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t k;

	if (n_fds > IPC_MAX_FDS)
		return -E2BIG;
	if (n_fds > 0) {
		struct cmsghdr *c;

		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		mh.msg_control = cmsgbuf.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
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

int msg_send(int sock, uint16_t type, const void *body, uint32_t len, int fd)
{
	return msg_sendv(sock, type, body, len, &fd, fd >= 0 ? 1 : 0);
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0) {
			(void)close(fds[i]);
			fds[i] = -EBADF;
		}
}

int ipc_recv(int sock, int flags, void *buf, size_t cap, size_t *ret_len, int *fds, size_t max_fds,
	     size_t *ret_nfds)
{
	struct msg_hdr hdr;
	union {
		char buf[CMSG_SPACE(sizeof(int) * (IPC_MAX_FDS + 1))];
		struct cmsghdr align;
	} cmsgbuf;
	struct iovec iov[2] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = buf, .iov_len = cap },
	};
	struct msghdr mh = {
		.msg_iov = iov,
		.msg_iovlen = 2,
		.msg_control = cmsgbuf.buf,
		.msg_controllen = sizeof(cmsgbuf.buf),
	};
	size_t n = 0;
	bool too_many = false;
	ssize_t k;

	*ret_nfds = 0;
	do
		k = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags);
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
		size_t m = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < m; i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (n < max_fds)
				fds[n++] = f;
			else {
				(void)close(f);
				too_many = true;
			}
		}
	}
	if (k == 0 && n == 0 && !too_many)
		return 0;
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC) || too_many ||
	    (size_t)k < sizeof(struct msg_hdr) || hdr.len != (size_t)k - sizeof(hdr)) {
		close_all(fds, n);
		return -EBADMSG;
	}
	if (hdr.version != PADDOCK_PROTO_VERSION) {
		close_all(fds, n);
		return -EPROTO;
	}
	if (hdr.type == 0) {
		close_all(fds, n);
		return -EBADMSG;
	}
	*ret_len = hdr.len;
	*ret_nfds = n;
	return hdr.type;
}

int msg_recvv(int sock, void *body, size_t cap, int *fds, size_t max_fds, size_t *ret_nfds)
{
	union {
		struct msg_exec exec;
		struct msg_error error;
	} pkt;
	int got[IPC_MAX_FDS];
	size_t len = 0, n = 0;
	unsigned lo, hi;
	long want;
	int t;

	*ret_nfds = 0;
	t = ipc_recv(sock, 0, &pkt, sizeof(pkt), &len, got, ELEMENTSOF(got), &n);
	if (t <= 0)
		return t;
	want = msg_body_size((uint16_t)t);
	msg_fd_range((uint16_t)t, &lo, &hi);
	if (want < 0 || len != (size_t)want || (size_t)want > cap || n < lo || n > hi ||
	    n > max_fds) {
		close_all(got, n);
		return -EBADMSG;
	}
	memcpy(body, &pkt, (size_t)want);
	memcpy(fds, got, n * sizeof(int));
	*ret_nfds = n;
	return t;
}

int msg_recv(int sock, void *body, size_t cap, int *ret_fd)
{
	int fds[IPC_MAX_FDS];
	size_t n = 0;
	int t;

	*ret_fd = -EBADF;
	t = msg_recvv(sock, body, cap, fds, ELEMENTSOF(fds), &n);
	if (t <= 0)
		return t;
	if (n > 1) {
		close_all(fds, n);
		return -EBADMSG;
	}
	if (n == 1)
		*ret_fd = fds[0];
	return t;
}
