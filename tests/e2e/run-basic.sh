#!/bin/bash
# SPDX-License-Identifier: MIT
# run-basic.sh - exit codes, stdio, options and their refusals
. "$(dirname "$0")/lib.sh"

ws=$(t_ws basic)

t_run "$ws" -- true
t_expect "true exits 0" 0
t_run "$ws" -- sh -c 'exit 3'
t_expect "the command's exit status is paddock's" 3
t_run "$ws" -- sh -c 'kill -TERM $$'
t_expect "a command killed by SIGTERM gives 143" 143
t_run "$ws" -- no-such-command-xyz
t_expect "a missing command gives 127 and says so" 127 "command not found"
printf 'not a program\n' > "$ws/noexec"; chmod 644 "$ws/noexec"
t_run "$ws" -- ./noexec
t_expect "a non-executable command gives 126" 126 "cannot execute"
t_run "$ws" --no-such-option -- true
t_expect "an unknown option is a paddock error (125) naming it" 125 "no-such-option"
t_run "$ws" --net public -- true
t_expect "--net public starts (network capture)" 0
t_run "$ws" --net bogus -- true
t_expect "--net with a bad value names the value" 125 "bogus"
t_run "$ws" --cpus 1 -- true
if [ "$RC" = 0 ]; then
  t_ok "--cpus is enforced (a delegated cgroup cpu controller)"
else
  t_expect "--cpus without a cgroup cpu controller is refused, naming it, not ignored" 125 "--cpus"
fi
t_run "$ws" --cpus 0.0001 -- true
t_expect "--cpus below 0.01 is refused" 125 "at least 0.01"
t_run "$ws" --memory 64M -- python3 -c 'x = bytearray(16 * 1024 * 1024); print("small-ok")'
t_expect "--memory 64M: a 16 MiB allocation works" 0 "small-ok"
t_run "$ws" --memory 64M -- python3 -c 'x = bytearray(256 * 1024 * 1024); print("bomb-ok")'
t_expect "--memory 64M: a 256 MiB allocation is refused or killed" nz
t_expect_not "--memory 64M: the memory bomb did not get its memory" "bomb-ok"
t_run "$ws" --memory 64M -- sh -c 'ulimit -d'
if [ "$OUT" = unlimited ]; then
  t_ok "--memory is enforced by the cgroup (no per-process rlimit)"
else
  t_expect "--memory without a cgroup is RLIMIT_DATA per process" 0 "^65536$"
fi
t_run "$ws" --hostname 'bad host!' -- true
t_expect "a bad hostname is refused" 125 "invalid hostname"
OUT=$("$PADDOCK" frobnicate 2>&1); RC=$?
t_expect "an unknown command is a paddock error" 125 "unknown command 'frobnicate'"

# stdio
OUT=$(cd "$ws" && echo piped-in | "$PADDOCK" run --net none -i -- cat 2>&1); RC=$?
t_expect "-i passes stdin through a pipe" 0 "^piped-in$"
OUT=$(cd "$ws" && echo piped-in | "$PADDOCK" run --net none -- cat 2>&1); RC=$?
if [ "$RC" = 0 ] && [ -z "$OUT" ]; then t_ok "without -i, stdin is /dev/null"; else t_fail "without -i, stdin is /dev/null" "rc=$RC out=$OUT"; fi
OUT=$(cd "$ws" && "$PADDOCK" run --net none -- sh -c 'echo to-out; echo to-err >&2' 2>/dev/null | tr a-z A-Z); RC=$?
t_expect "stdout goes to a pipe, stderr stays apart" 0 "^TO-OUT$"
t_expect_not "stderr is not mixed into stdout" "TO-ERR"
big=$(cd "$ws" && "$PADDOCK" run --net none -- sh -c 'head -c 3000000 /dev/zero | tr "\0" x' | wc -c)
if [ "$big" = 3000000 ]; then t_ok "3 MB of output arrive whole"; else t_fail "3 MB of output arrive whole" "got $big bytes"; fi

# identity, workspace, hostname
t_run "$ws" -- sh -c 'id -u; pwd; hostname'
t_expect "runs as the user's uid, in the workspace, hostname paddock" 0 "^$(id -u)$"
t_expect "starts in the workspace" 0 "^$ws$"
t_expect "default hostname" 0 "^paddock$"
t_run "$ws" --hostname agent-1 -- hostname
t_expect "--hostname" 0 "^agent-1$"
t_run "$ws" --root -- id -u
t_expect "--root runs as uid 0 inside" 0 "^0$"
t_run "$ws" -- sh -c 'echo written > file-from-inside'
if [ "$RC" = 0 ] && [ "$(cat "$ws/file-from-inside")" = written ]; then t_ok "workspace is writable and changes land on the host"; else t_fail "workspace is writable" "rc=$RC $OUT"; fi
other=$(t_ws other)
echo marker > "$other/m"
t_run "$ws" -w "$other" -- cat m
t_expect "-w chooses the workspace" 0 "^marker$"

# environment
OUT=$(cd "$ws" && env SECRET_TOKEN=hunter2 AWS_SECRET_ACCESS_KEY=x LANG=C.UTF-8 "$PADDOCK" run --net none -- env 2>&1); RC=$?
t_expect "LANG is passed (allowlist)" 0 "^LANG=C.UTF-8$"
t_expect_not "other host variables are not passed" "SECRET_TOKEN|AWS_SECRET"
t_expect "HOME is set" 0 "^HOME=$HOME$"
OUT=$(cd "$ws" && env MYVAR=from-host "$PADDOCK" run --net none -e MYVAR -e SET=direct -- env 2>&1); RC=$?
t_expect "-e NAME passes the host's value" 0 "^MYVAR=from-host$"
t_expect "-e NAME=VALUE sets it" 0 "^SET=direct$"
t_run "$ws" -e LD_PRELOAD=/tmp/x.so -- true
t_expect "-e LD_PRELOAD is refused" 125 "never enters a sandbox"
t_run "$ws" -e NODE_OPTIONS=--require=/x -- true
t_expect "-e NODE_OPTIONS is refused" 125 "never enters a sandbox"
t_run "$ws" -e '1BAD=x' -- true
t_expect "-e with an invalid name is refused" 125 "invalid environment variable name"
OUT=$(cd "$ws" && env LD_LIBRARY_PATH=/nonexistent BASH_ENV=/x PYTHONSTARTUP=/x "$PADDOCK" run --net none -- env 2>&1); RC=$?
t_expect_not "LD_*, BASH_ENV, PYTHONSTARTUP never pass from the host" "LD_LIBRARY_PATH|BASH_ENV|PYTHONSTARTUP"

# volumes
vol=$(t_ws vol)
echo in-volume > "$vol/f"
t_run "$ws" -v "$vol:/mnt/vol:ro" -- cat /mnt/vol/f
t_expect "-v SRC:DST:ro is readable" 0 "^in-volume$"
t_run "$ws" -v "$vol:/mnt/vol:ro" -- sh -c 'echo x > /mnt/vol/g'
t_expect "-v ...:ro is read-only" nz "Read-only"
t_run "$ws" -v "$vol:/mnt/vol" -- sh -c 'echo x > /mnt/vol/g'
if [ "$RC" = 0 ] && [ -f "$vol/g" ]; then t_ok "-v SRC:DST is writable"; else t_fail "-v SRC:DST is writable" "$OUT"; fi
t_run "$ws" -v "$vol:/mnt/vol:rx" -- true
t_expect "-v with a bad option names it" 125 "got 'rx'"
t_run "$ws" -v "/nonexistent-src:/x" -- true
t_expect "-v with a missing source names it" 125 "nonexistent-src"
mkdir -p "$HOME/.ssh" 2>/dev/null
t_run "$ws" -v "$HOME/.ssh:/mnt/ssh:ro" -- true
t_expect "-v of ~/.ssh is refused" 125 "credentials"
t_run "$ws" -v "$vol:$ws" -- true
t_expect "-v cannot hide the workspace" 125 "hide the workspace"
t_run "$ws" -v "$vol:$ws/.git/hooks" -- true
t_expect "-v cannot cover a protected path" 125 "protected"

t_done
