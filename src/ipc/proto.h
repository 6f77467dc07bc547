/* SPDX-License-Identifier: MIT */
/*
 * proto.h - messages between a supervisor and its sandbox's init
 *
 * One message per SOCK_SEQPACKET packet: a struct msg_hdr followed by a fixed-size body, and
 * for some types one file descriptor in SCM_RIGHTS. The receiver treats the peer as hostile:
 * it checks the version, the type and that the length is exactly the size of the body of that
 * type (IMSG_SIZE_CHECK), and closes any descriptor it did not expect. Bump
 * PADDOCK_PROTO_VERSION on any change.
 */
#pragma once

#include <stdint.h>

#define PADDOCK_PROTO_VERSION 3
#define MSG_PATH_MAX          512

enum msg_type {
	MSG_GO = 1,      /* supervisor -> init: ids are mapped, go on (struct msg_go) */
	MSG_SETUP_ERROR, /* init -> supervisor: a setup step failed (struct msg_error) */
	MSG_PTY,         /* init -> supervisor: the pty master (fd) */
	MSG_STARTED,     /* init -> supervisor: the command runs (struct msg_started) */
	MSG_EXIT,        /* init -> supervisor: the command ended (struct msg_exit) */
	MSG_SIGNAL,      /* supervisor -> init: signal every process of the sandbox */
	MSG_READY,       /* supervisor -> init: the placeholders exist */
	MSG_LISTENER,    /* init -> supervisor: a socket made in the sandbox's netns (fd) */
	MSG_EXEC,     /* supervisor -> init: start another command (struct msg_exec, 0 or 3 fds) */
	MSG_EXEC_PTY, /* init -> supervisor: the pty master of an exec (msg_exec_state, fd) */
	MSG_EXEC_STARTED, /* init -> supervisor: an exec runs, or failed (struct msg_exec_state) */
	MSG_EXEC_EXIT,    /* init -> supervisor: an exec ended (struct msg_exec_state) */
	MSG_EXEC_SIGNAL,  /* supervisor -> init: signal an exec's process group */
	MSG_CONNECT,      /* supervisor -> init: connect to a port inside (struct msg_connect) */
	MSG_CONNECTED,    /* init -> supervisor: the connection (fd), or the error */
	MSG_NOTIFY_FD,    /* init -> supervisor: the exec audit's seccomp listener (fd) */
	MSG_FILTER,       /* supervisor -> init: the command's seccomp BPF (sealed memfd) */
	_MSG_TYPE_MAX,
};

struct msg_hdr {
	uint16_t type;
	uint16_t version;
	uint32_t len; /* of the body that follows */
};

struct msg_go {
	uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel; /* initial window size, 0 when none */
};

struct msg_error {
	int32_t step;  /* enum init_step */
	int32_t error; /* positive errno */
	char path[MSG_PATH_MAX];
};

struct msg_started {
	int32_t pid; /* the command's pid inside the sandbox */
};

struct msg_exit {
	int32_t status; /* wait status */
};

struct msg_signal {
	int32_t signo;
};

enum msg_listener_kind {
	LISTENER_TRANSPARENT = 1, /* TCP, every captured connection */
	LISTENER_HTTP_PROXY,      /* TCP, HTTP_PROXY/HTTPS_PROXY */
	LISTENER_DNS,             /* UDP, resolv.conf */
	LISTENER_SSH_AGENT,       /* unix, SSH_AUTH_SOCK inside (--ssh-agent) */
};

struct msg_listener {
	int32_t kind; /* enum msg_listener_kind */
};

/* at most this many descriptors in one message */
#define IPC_MAX_FDS 3

/* argv of an exec: NUL-separated strings, at most this many bytes and MSG_EXEC_ARGC_MAX */
#define MSG_EXEC_ARGS_MAX 16384
#define MSG_EXEC_ARGC_MAX 1024

struct msg_exec {
	uint32_t id;
	uint8_t tty;         /* on a new pty (MSG_EXEC_PTY); else stdin/stdout/stderr come as fds */
	uint8_t interactive; /* unused with a tty */
	uint16_t ws_row, ws_col;
	uint16_t pad;
	uint32_t argc;
	uint32_t args_len;
	char args[MSG_EXEC_ARGS_MAX];
};

struct msg_exec_state {
	uint32_t id;
	int32_t pid;    /* MSG_EXEC_STARTED: the pid inside, 0 when it failed */
	int32_t step;   /* MSG_EXEC_STARTED failure: enum init_step */
	int32_t error;  /* MSG_EXEC_STARTED failure: positive errno */
	int32_t status; /* MSG_EXEC_EXIT: wait status */
};

struct msg_exec_signal {
	uint32_t id;
	int32_t signo;
};

struct msg_connect {
	uint64_t id;
	uint16_t port;
	uint16_t pad;
	int32_t error; /* MSG_CONNECTED: positive errno, 0 with the fd */
};
