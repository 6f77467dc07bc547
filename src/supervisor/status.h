/* SPDX-License-Identifier: MIT */
/*
 * status.h - what a sandbox's agent is doing (SPEC.md section 7), seen from outside
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum agent_state {
	AGENT_IDLE,     /* nothing of the below */
	AGENT_WAITING,  /* blocked reading its terminal, silent for AGENT_WAIT_MS: needs the user */
	AGENT_RUNNING,  /* child processes at work (using CPU, or runnable) */
	AGENT_THINKING, /* a request to one of its llm_hosts is in flight */
	AGENT_EXITED,   /* its command ended */
	_AGENT_STATE_MAX,
};

#define AGENT_WAIT_MS 2000

const char *agent_state_to_string(enum agent_state s);
/* agent_state_symbol() - one character cell for `status --format tmux` */
const char *agent_state_symbol(enum agent_state s);

/*
 * struct agent_probe - what the supervisor knows, and what the previous look found
 * @agent: the command's pid (host view; the session leader of its terminal)
 * @fg: the terminal's foreground process group leader (host view), or 0
 * @tty_rdev: st_rdev of the command's terminal (the pty slave)
 * @silent_ms: milliseconds since the terminal last printed
 * @thinking: a request to an LLM host is in flight (from the proxy)
 */
struct agent_probe {
	pid_t agent;
	pid_t fg;
	dev_t tty_rdev;
	uint64_t silent_ms;
	bool thinking;
};

/*
 * agent_state_compute() - thinking > running > waiting > idle, from /proc: the descendants of
 * @p->agent (running when there is one, long-lived servers aside: a process listening on a TCP
 * port, and its children), and the
 * foreground process (waiting when it sleeps in read(2) on its terminal, or in poll/select/
 * epoll with the terminal in its set, and the terminal was silent for AGENT_WAIT_MS).
 */
enum agent_state agent_state_compute(struct agent_probe *p);

/* agent_blocked_on_tty() - @pid sleeps waiting for input on the terminal @tty_rdev */
bool agent_blocked_on_tty(pid_t pid, dev_t tty_rdev);
