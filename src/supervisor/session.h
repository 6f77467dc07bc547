/* SPDX-License-Identifier: MIT */
/*
 * session.h - a session supervisor's control socket, clients and output ring
 */
#pragma once

#include <stdbool.h>

#include "ipc/proto.h"

struct run;
struct supervisor_session;
struct evbuffer;
struct session;

/* session_new() - serve @opts->ctl_fd for @r; 0 or -errno (logged) */
int session_new(struct run *r, struct supervisor_session *opts, struct session **ret);
/* session_free() - flush what the clients are owed (briefly), close them */
void session_free(struct session *s);

/* session_output() - the command printed @data (drained): to the ring and attached clients */
void session_output(struct session *s, struct evbuffer *data);
/* session_started() - the command runs: tell the CLI that started us, record the state */
void session_started(struct session *s);
/* session_main_exit() - the command ended with @status: tell the attached clients */
void session_main_exit(struct session *s, int status);
/* session_exec_event() - MSG_EXEC_PTY (@fd), MSG_EXEC_STARTED, MSG_EXEC_EXIT from init */
void session_exec_event(struct session *s, int type, const struct msg_exec_state *st, int fd);
/*
 * session_holding() - after the command's exit: whether the supervisor should stay a little
 * (the client of `start -a` has not attached yet, or a client has output still queued)
 */
bool session_holding(struct session *s);
