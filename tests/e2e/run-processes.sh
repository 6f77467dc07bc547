#!/bin/bash
# SPDX-License-Identifier: MIT
# run-processes.sh - THREATS.md category 5: nothing outlives the sandbox; resource bombs;
# nested namespaces, ptrace, keyrings, bpf and friends
. "$(dirname "$0")/lib.sh"

ws=$(t_ws procs)
tag=$$

# daemonised and double-forked processes die with the command
t_run "$ws" -- sh -c "setsid sh -c 'sleep 7${tag}1 &' ; (sleep 7${tag}2 &) ; nohup sleep 7${tag}3 >/dev/null 2>&1 & exit 0"
t_expect "the command exits while its daemons run" 0
if t_wait_gone "sleep 7${tag}[123]" 5; then t_ok "daemonised, double-forked and nohup'd processes are gone after exit"; else t_fail "processes survived" "$(pgrep -af "sleep 7${tag}")"; pkill -f "sleep 7${tag}"; fi

# signals to paddock end every process of the sandbox
for sig in INT TERM HUP; do
  (cd "$ws" && exec "$PADDOCK" run --net none -- sh -c "sleep 8${tag}1 & setsid sleep 8${tag}2 & wait" </dev/null >/dev/null 2>&1) &
  pid=$!
  for i in $(seq 50); do pgrep -f "^sleep 8${tag}2" >/dev/null && break; sleep 0.1; done
  kill -"$sig" "$pid"
  wait "$pid"; rc=$?
  if t_wait_gone "sleep 8${tag}[12]" 8; then t_ok "SIG$sig to paddock ends every process of the sandbox (exit $rc)"; else t_fail "SIG$sig left processes" "$(pgrep -af "sleep 8${tag}")"; pkill -f "sleep 8${tag}"; fi
done

# a command that ignores SIGTERM is killed after the grace period
(cd "$ws" && exec "$PADDOCK" run --net none -- sh -c "trap '' TERM INT HUP; sleep 9${tag}1; sleep 9${tag}1" </dev/null >/dev/null 2>&1) &
pid=$!
for i in $(seq 50); do pgrep -f "^sleep 9${tag}1" >/dev/null && break; sleep 0.1; done
kill -TERM "$pid"
if t_wait_gone "sleep 9${tag}1" 10; then t_ok "a sandbox that ignores SIGTERM is killed after the grace period"; else t_fail "SIGTERM-ignoring sandbox survived" "$(pgrep -af "sleep 9${tag}")"; pkill -f "sleep 9${tag}"; fi
wait "$pid" 2>/dev/null

# SIGKILL of paddock itself: init dies with it (PR_SET_PDEATHSIG), so does everything
(cd "$ws" && exec "$PADDOCK" run --net none -- sh -c "sleep 6${tag}1 & sleep 6${tag}2" </dev/null >/dev/null 2>&1) &
pid=$!
for i in $(seq 50); do pgrep -f "^sleep 6${tag}2" >/dev/null && break; sleep 0.1; done
kill -KILL "$pid"
if t_wait_gone "sleep 6${tag}[12]" 5; then t_ok "SIGKILL of paddock takes the whole sandbox down"; else t_fail "sandbox survived SIGKILL of paddock" "$(pgrep -af "sleep 6${tag}")"; pkill -f "sleep 6${tag}"; fi
wait "$pid" 2>/dev/null
# ... and the next run cleans up its placeholders
sleep 0.2
leftover=$(ls -A "$ws" | grep -E '^\.(envrc|vscode|idea|mcp\.json|codex|claude)$' | tr '\n' ' ')
if [ -n "$leftover" ]; then t_ok "after a SIGKILL, placeholders are still there ($leftover)"; else t_skip "placeholders after SIGKILL" "none were left to clean"; fi
t_run "$ws" -- true
leftover=$(ls -A "$ws" | grep -E '^\.(envrc|vscode|idea|mcp\.json|codex|claude)$' | tr '\n' ' ')
if [ -z "$leftover" ]; then t_ok "the next run removes the placeholders a killed run left"; else t_fail "stale placeholders stay" "$leftover"; fi

# two sandboxes on one workspace: when the first exits, the second keeps its protection
# (placeholders the first created are shared, not removed under the second)
wsc=$(t_ws shared)
(cd "$wsc" && exec "$PADDOCK" run --net none -- sleep 5${tag}8 </dev/null >/dev/null 2>&1) &
apid=$!
for i in $(seq 50); do pgrep -f "^sleep 5${tag}8" >/dev/null && break; sleep 0.1; done
(cd "$wsc" && exec "$PADDOCK" run --net none -- sh -c "while [ ! -e go ]; do sleep 0.05; done; echo evil > .envrc; mkdir .vscode/x; echo \$? > result; sleep 5${tag}9" </dev/null >/dev/null 2>&1) &
bpid=$!
# wait for the second sandbox's own loop (^sh: not paddock's command line, which contains it too)
for i in $(seq 100); do pgrep -f "^sh -c while \[ ! -e go \]" >/dev/null && break; sleep 0.1; done
pkill -f "sleep 5${tag}8"; wait "$apid" 2>/dev/null
t_wait_gone "sleep 5${tag}8" 5
touch "$wsc/go"
for i in $(seq 50); do [ -e "$wsc/result" ] && break; sleep 0.1; done
if [ -e "$wsc/result" ] && [ ! -s "$wsc/.envrc" ] && [ ! -e "$wsc/.vscode/x" ]; then t_ok "the second sandbox stays protected after the first exits"; else t_fail "protection lost when the other sandbox exited" "$(ls -la "$wsc")"; fi
if [ -e "$wsc/.envrc" ]; then t_ok "placeholders stay while a sandbox still uses them"; else t_fail "placeholder removed under a running sandbox"; fi
pkill -f "sleep 5${tag}9"; wait "$bpid" 2>/dev/null
rm -f "$wsc/go" "$wsc/result"
leftover=$(ls -A "$wsc" | grep -E '^\.(envrc|vscode|idea|mcp\.json|codex|claude)$' | tr '\n' ' ')
if [ -z "$leftover" ]; then t_ok "the last sandbox to exit removes the shared placeholders"; else t_fail "placeholders left" "$leftover"; fi

# pid namespace: host processes are invisible
t_run "$ws" -- sh -c 'ls /proc | grep -cE "^[0-9]+$"'
if [ "$RC" = 0 ] && [ "$OUT" -lt 10 ]; then t_ok "host processes are invisible ($OUT pids in /proc)"; else t_fail "host processes visible" "$OUT"; fi
# pid 1 ignores every signal from inside, and none of them reaches the supervisor (which would
# forward SIGTERM to the sandbox and kill it after its 5 s grace period)
t_run "$ws" -- sh -c 'kill -KILL 1; kill -TERM 1; kill -HUP 1; kill -INT 1; sleep 5.5; echo alive'
t_expect "pid 1 (init) ignores signals from inside and passes none on" 0 "^alive$"

# fork bomb: bounded by --pids, the host stays fine
if t_is_root; then
  t_skip "fork bomb bounded by --pids" "RLIMIT_NPROC does not apply to the host's root user; needs cgroups (sessions issue)"
else
  # sh gives up at the first fork that fails; the file holds how many succeeded
  t_run "$ws" --pids 64 -- sh -c 'i=0; while [ $i -lt 300 ]; do sleep 5 & i=$((i+1)); echo $i > forks; done'
  cnt=$(cat "$ws/forks" 2>/dev/null || echo 0)
  if [ "$RC" != 0 ] && [ "$cnt" -gt 10 ] && [ "$cnt" -le 64 ]; then t_ok "a fork bomb stops at --pids ($cnt forks, then: $OUT)"; else t_fail "fork bomb not bounded" "rc=$RC forks=$cnt $OUT"; fi
  rm -f "$ws/forks"
fi
t_run "$ws" --pids 0 -- true
t_expect "--pids 0 is refused" 125 "--pids.*got 0"

# kernel attack surface from inside (seccomp + no capabilities)
t_blocked "nested user namespace (unshare)" "$ws" unshare-user
t_blocked "nested user namespace (clone)" "$ws" clone-newuser
t_blocked "clone3 (flags hidden from seccomp)" "$ws" clone3
t_blocked "mount" "$ws" mount
t_blocked "umount" "$ws" umount
t_blocked "pivot_root" "$ws" pivot-root
t_blocked "setns" "$ws" setns
t_blocked "bpf" "$ws" bpf
t_blocked "userfaultfd" "$ws" userfaultfd
t_blocked "perf_event_open" "$ws" perf-event
t_blocked "keyctl" "$ws" keyctl
t_blocked "kexec_load" "$ws" kexec
t_blocked "init_module" "$ws" init-module
t_blocked "io_uring" "$ws" io-uring
t_blocked "netlink: netfilter (nftables)" "$ws" socket netlink-netfilter
t_blocked "netlink: audit" "$ws" socket netlink-audit
t_blocked "netlink: kobject uevent" "$ws" socket netlink-uevent
t_allowed "control: netlink route (getifaddrs) works" "$ws" socket netlink
t_run "$ws" -- sh -c 'ip -o link 2>&1 | cut -d: -f2'
t_expect "the sandbox's interfaces are readable (ip link)" 0 "^ lo$"
t_blocked "packet sockets" "$ws" socket packet
t_blocked "vsock" "$ws" socket vsock
t_blocked "raw IP sockets" "$ws" raw-inet
t_allowed "control: a unix socket works" "$ws" socket unix
t_allowed "control: an inet socket can be created" "$ws" socket inet
t_run "$ws" -- sh -c 'unshare -U true 2>&1; unshare -m true 2>&1; echo done'
t_expect_not "unshare(1) cannot make namespaces" "^$"
t_expect "unshare(1) fails inside" 0 "Operation not permitted"

# ptrace inside the sandbox works (debuggers), but init is off limits
if command -v strace >/dev/null; then
  t_run "$ws" -- strace -f -o /dev/null true
  t_expect "strace works on the sandbox's own processes" 0
fi
t_run "$ws" -- sh -c 'cat /proc/1/environ | wc -c; ls -l /proc/1/fd 2>&1 | head -3'
t_expect_not "init's environment and fds are not readable" "socket:|pipe:"

t_done
