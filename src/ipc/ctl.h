/* SPDX-License-Identifier: MIT */
/*
 * ctl.h - messages between the paddock CLI and a sandbox's supervisor (control socket)
 *
 * The control socket is a SOCK_SEQPACKET Unix socket at $RUNTIME/NAME/ctl.sock in a 0700
 * directory; the supervisor also checks SO_PEERCRED (same uid only). Each message is one
 * packet: struct msg_hdr (type, PADDOCK_PROTO_VERSION, body length) and a body of at most
 * CTL_BODY_MAX bytes; the receiver checks each type's body size. A peer of another protocol
 * version gets -EPROTO from ipc_recv(): the CLI says the supervisor must be restarted.
 */
#pragma once

#include <stdint.h>

#include "proto.h"

#define CTL_BODY_MAX (MSG_EXEC_ARGS_MAX + 64)
#define CTL_DATA_MAX 16384

enum ctl_type {
	CTL_INFO = 100, /* c->s: nothing; answered by CTL_OK with a JSON object */
	CTL_ATTACH,     /* c->s: struct ctl_winsize; then CTL_DATA both ways, CTL_EXIT at the end */
	CTL_DATA,       /* both: terminal bytes (at most CTL_DATA_MAX) */
	CTL_RESIZE,     /* c->s: struct ctl_winsize */
	CTL_EXEC,       /* c->s: struct ctl_exec; 3 fds (stdin, stdout, stderr) without a tty */
	CTL_SIGNAL,     /* c->s: int32 signal for this client's exec */
	CTL_STOP,       /* c->s: int32 seconds before SIGKILL; CTL_OK, then the socket closes */
	CTL_SUSPEND,    /* c->s: nothing; CTL_OK (JSON: how) or CTL_ERROR */
	CTL_RESUME,     /* c->s: nothing; CTL_OK or CTL_ERROR */
	CTL_PORT_ADD,   /* c->s: a -p spec (text); CTL_OK (JSON: the bound spec) or CTL_ERROR */
	CTL_PORT_RM,    /* c->s: a host port (text); CTL_OK or CTL_ERROR */
	CTL_EXIT,       /* s->c: int32 wait status of the command (attach: the main one) */
	CTL_OK,         /* s->c: optional JSON text */
	CTL_ERROR,      /* s->c: struct ctl_error */
	_CTL_TYPE_MAX,
};

struct ctl_winsize {
	uint16_t rows, cols;
};

struct ctl_exec {
	uint8_t tty;
	uint8_t interactive;
	uint16_t rows, cols;
	uint16_t pad;
	uint32_t argc;
	/* argv follows: NUL-separated, at most MSG_EXEC_ARGS_MAX bytes */
};

/* the message follows the struct (text, not NUL-terminated) */
struct ctl_error {
	/* the exit code the CLI should use: 125, 126 or 127 */
	int32_t code;
};
