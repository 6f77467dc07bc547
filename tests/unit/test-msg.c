/* SPDX-License-Identifier: MIT */
/*
 * test-msg.c - the supervisor/init message layer refuses malformed messages
 */
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/msg.h"
#include "tap.h"

static void pair(int sv[2])
{
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

TEST(roundtrip)
{
	int sv[2], fd = -1;
	struct msg_exit e = { .status = 42 << 8 }, got = { 0 };

	pair(sv);
	ASSERT_OK(msg_send(sv[0], MSG_EXIT, &e, sizeof(e), -1));
	ASSERT_EQ(msg_recv(sv[1], &got, sizeof(got), &fd), MSG_EXIT);
	ASSERT_EQ(got.status, 42 << 8);
	ASSERT_TRUE(fd < 0);
	close(sv[0]);
	close(sv[1]);
}

TEST(fd_passing)
{
	int sv[2], fd = -1, devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	char dummy[1];

	pair(sv);
	ASSERT_OK(msg_send(sv[0], MSG_PTY, NULL, 0, devnull));
	ASSERT_EQ(msg_recv(sv[1], dummy, sizeof(dummy), &fd), MSG_PTY);
	ASSERT_TRUE(fd >= 0);
	ASSERT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	close(devnull);
	close(sv[0]);
	close(sv[1]);
}

TEST(wrong_size_refused)
{
	int sv[2], fd = -1;
	struct msg_exit e = { 0 };
	char big[16] = { 0 };

	pair(sv);
	/* a MSG_EXIT with a body of the wrong size */
	ASSERT_OK(msg_send(sv[0], MSG_EXIT, big, sizeof(big), -1));
	ASSERT_ERR(msg_recv(sv[1], &e, sizeof(e), &fd), EBADMSG);
	/* an unknown type */
	ASSERT_OK(msg_send(sv[0], 999, NULL, 0, -1));
	ASSERT_ERR(msg_recv(sv[1], &e, sizeof(e), &fd), EBADMSG);
	/* a fd where none is expected */
	ASSERT_OK(msg_send(sv[0], MSG_EXIT, &e, sizeof(e), 0));
	ASSERT_ERR(msg_recv(sv[1], &e, sizeof(e), &fd), EBADMSG);
	/* no fd where one is expected */
	ASSERT_OK(msg_send(sv[0], MSG_PTY, NULL, 0, -1));
	ASSERT_ERR(msg_recv(sv[1], &e, sizeof(e), &fd), EBADMSG);
	close(sv[0]);
	close(sv[1]);
}

TEST(wrong_version_refused)
{
	int sv[2], fd = -1;
	struct {
		struct msg_hdr h;
		struct msg_exit e;
	} raw = { { MSG_EXIT, PADDOCK_PROTO_VERSION + 1, sizeof(struct msg_exit) }, { 0 } };
	struct msg_exit e;

	pair(sv);
	ASSERT_EQ(write(sv[0], &raw, sizeof(raw)), (ssize_t)sizeof(raw));
	ASSERT_ERR(msg_recv(sv[1], &e, sizeof(e), &fd), EPROTO);
	close(sv[0]);
	ASSERT_EQ(msg_recv(sv[1], &e, sizeof(e), &fd), 0);
	close(sv[1]);
}

int main(void)
{
	return tap_run();
}
