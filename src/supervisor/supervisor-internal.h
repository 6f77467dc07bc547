/* SPDX-License-Identifier: MIT */
/*
 * supervisor-internal.h - the supervisor's state, shared by run.c and session.c
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "run.h"

#define RELAY_HIGH  (256 * 1024)
#define KILL_GRACE  5
#define DRAIN_MSECS 300

struct event_base;
struct event;
struct bufferevent;
struct fakeip;
struct resolver;
struct proxy;
struct session;
struct ports;
struct sshagent;
struct execaudit;

struct run {
	const struct sandbox_spec *spec;
	struct event_base *base;
	pid_t init_pid;
	int sock;
	struct event *sock_ev, *kill_timer, *drain_timer;
	struct event *sig_ev[5];

	/* network: the proxy serving the sandbox's listeners */
	struct fakeip *fakeip;
	struct resolver *resolver;
	struct proxy *proxy;
	struct ports *ports;         /* -p forwards */
	struct sshagent *agent;      /* --ssh-agent */
	struct execaudit *execaudit; /* exec audit: init's seccomp listener (MSG_NOTIFY_FD) */
	const struct supervisor_hooks *hooks;

	/* terminal relay */
	int master;
	struct bufferevent *in, *out, *pty;

	int status; /* wait status from MSG_EXIT, -1 until then */
	int result; /* what supervisor_run() returns when set (>= 0 or -errno) */
	bool done;
	bool started;
	bool exited;
	int signals_seen;

	/* a session (paddock start): the control socket and its clients; NULL for run */
	struct session *sess;
	bool stopping; /* paddock stop, or SIGTERM: the final state is "stopped" */
	bool suspended;
	int hold_ticks;
	uint64_t last_output_ms; /* CLOCK_MONOTONIC of the pty's last output (agent status) */
};

/* run_stop() - SIGTERM every process of the sandbox, SIGKILL after @timeout seconds (0: now) */
void run_stop(struct run *r, int timeout);

/* run_suspend() - stop (true) or continue (false) every process of the sandbox; 0 or -errno */
int run_suspend(struct run *r, bool on);

/* run_send() - a message to init; 0 or -errno */
int run_send(struct run *r, uint16_t type, const void *body, uint32_t len, const int *fds,
	     size_t n_fds);
