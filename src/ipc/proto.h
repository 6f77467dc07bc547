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

#define PADDOCK_PROTO_VERSION 1
#define MSG_PATH_MAX          512

enum msg_type {
	MSG_GO = 1,      /* supervisor -> init: ids are mapped, go on (struct msg_go) */
	MSG_SETUP_ERROR, /* init -> supervisor: a setup step failed (struct msg_error) */
	MSG_PTY,         /* init -> supervisor: the pty master (fd) */
	MSG_STARTED,     /* init -> supervisor: the command runs (struct msg_started) */
	MSG_EXIT,        /* init -> supervisor: the command ended (struct msg_exit) */
	MSG_SIGNAL,      /* supervisor -> init: signal every process of the sandbox */
	MSG_READY,       /* supervisor -> init: placeholders exist; the seccomp BPF (memfd) */
	MSG_LISTENER,    /* init -> supervisor: a socket made in the sandbox's netns (fd) */
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
};

struct msg_listener {
	int32_t kind; /* enum msg_listener_kind */
};
