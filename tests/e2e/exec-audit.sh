#!/bin/bash
# SPDX-License-Identifier: MIT
# exec-audit.sh - every program started in a sandbox is an "exec" event in the audit log:
# a pipeline, a loop of 200 execs, odd argv bytes, execveat and fexecve, `paddock exec` into a
# named sandbox; a sandbox cannot install its own listener; killing the supervisor while the
# command execs in a loop leaves nothing running (docs/design/exec-audit.md)
. "$(dirname "$0")/lib.sh"

P=$PADDOCK
if ! t_is_root; then
  export XDG_DATA_HOME=$T_TMP/data
fi
S=ea$$
WS=$(t_ws ws)
export WS
cleanup_all() {
  "$P" rm -f "$S" >/dev/null 2>&1
  t_cleanup
}
trap cleanup_all EXIT

# run_log [run options] -- CMD...: a run with --keep-log; NAME is the kept log's name
run_log() {
  OUT=$(cd "$WS" && "$P" run --net none --keep-log "$@" 2>&1 </dev/null); RC=$?
  NAME=$(printf '%s' "$OUT" | sed -n 's/.*audit log kept: \(run-[0-9-]*\).*/\1/p')
}

# check DESC LOGNAME PYTHON: PYTHON is evaluated with `ev` (the exec events, a list of dicts);
# it prints nothing and exits 0 when the assertion holds, else prints why
check() {
  local desc=$1 name=$2 code=$3 why
  why=$("$P" logs --json --type exec "$name" 2>&1 | python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin if l.strip()]
def argvs(): return [e.get("argv") for e in ev]
'"$code" 2>&1)
  if [ $? = 0 ] && [ -z "$why" ]; then t_ok "$desc"; else t_fail "$desc" "$why"; fi
}

# --- a shell pipeline: sh, ls and wc, with their argv, cwd, path and parent
run_log -- sh -c 'ls / | wc -l'
t_expect "the pipeline runs" 0
check "sh, ls and wc are logged with their argv" "$NAME" '
want = [["sh", "-c", "ls / | wc -l"], ["ls", "/"], ["wc", "-l"]]
got = argvs()
assert all(w in got for w in want), got
sh = [e for e in ev if e["argv"] == want[0]][-1]
for e in ev:
    if e["argv"] in want[1:]:
        assert e["ppid"] == sh["pid"], (e, sh)
        assert e["path"].endswith("/" + e["argv"][0]), e
        assert e["host_pid"] != e["pid"], e'
check "each exec has the working directory as the sandbox sees it" "$NAME" '
import os
assert ev and all(e.get("cwd") == os.environ["WS"] for e in ev), ev' 
check "the command itself is logged once (no failed PATH tries)" "$NAME" '
n = argvs().count(["sh", "-c", "ls / | wc -l"])
assert n == 1, n'
OUT=$("$P" logs "$NAME" 2>&1); RC=$?
t_expect "paddock logs shows exec events as pid, argv and cwd" 0 "exec +[0-9]+ wc -l \\($WS\\)"

# --- a process that execs many times
run_log -- sh -c 'i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done'
t_expect "a loop of 200 execs runs" 0
check "200 execs, 200 events" "$NAME" '
n = argvs().count(["/bin/true"])
assert n == 200, n'

# --- argv with spaces, newlines, a tab and bytes that are not UTF-8, kept faithfully
run_log -- sh -c '/bin/echo "a b" "$(printf "x\ny")" "$(printf "t\tu")" "$(printf "\377\376z")" >/dev/null'
t_expect "odd arguments run" 0
check "spaces, newlines and tabs are kept in argv" "$NAME" '
e = [e for e in ev if e["argv"][0] == "/bin/echo"][0]
assert e["argv"][1:4] == ["a b", "x\ny", "t\tu"], e'
check "bytes that are not UTF-8 are kept in argv_hex" "$NAME" '
e = [e for e in ev if e["argv"][0] == "/bin/echo"][0]
assert e["argv_hex"] == [None, None, None, None, "fffe7a"], e'

# --- execveat and fexecve
if [ -n "$PROBE" ]; then
  TRUE=$(readlink -f /bin/true); export TRUE
  run_log -- sh -c "./probe execveat /bin true at-arg && ./probe fexecve /bin/true fd-arg"
  t_expect "execveat and fexecve run" 0
  check "execveat is logged with the path resolved against its directory fd" "$NAME" '
e = [e for e in ev if e["argv"] == ["true", "at-arg"]][0]
assert e["syscall"] == "execveat" and e["path"].endswith("/true"), e'
  check "fexecve is logged with the file of its fd" "$NAME" '
import os
e = [e for e in ev if e["argv"] == ["/bin/true", "fd-arg"]][0]
assert e["syscall"] == "execveat" and e["path"] == os.environ["TRUE"], e'
  t_blocked "the sandbox cannot install its own exec listener (EBUSY)" "$WS" user-notif
else
  t_skip "execveat and fexecve" "probe not built"
fi

# --- the switch, only by name in the user's config, never in a project config
echo '{"audit": {"exec": false}}' > "$T_TMP/noaudit.json"
OUT=$(cd "$WS" && "$P" --config "$T_TMP/noaudit.json" run --net none --keep-log -- /bin/true 2>&1 </dev/null); RC=$?
t_expect "audit.exec false in the user's config says so at start" 0 "exec audit is off"
NAME=$(printf '%s' "$OUT" | sed -n 's/.*audit log kept: \(run-[0-9-]*\).*/\1/p')
check "and logs no exec event" "$NAME" 'assert not ev, ev'
echo '{"audit": {"exec": false}}' > "$WS/.paddock.json"
OUT=$(cd "$WS" && "$P" run --net none -- /bin/true 2>&1 </dev/null); RC=$?
rm -f "$WS/.paddock.json"
t_expect "a project config cannot turn the exec audit off" 125 "cannot be set by a project config"

# --- paddock exec into a running named sandbox
OUT=$(cd "$WS" && "$P" create --net none "$S" sleep 600 2>&1 && "$P" start "$S" 2>&1); RC=$?
t_expect "a named sandbox starts" 0
OUT=$("$P" exec "$S" /bin/echo exec-audit-marker 2>&1); RC=$?
t_expect "exec runs in it" 0 "exec-audit-marker"
check "the exec is logged in the sandbox's log" "$S" '
assert ["/bin/echo", "exec-audit-marker"] in argvs(), argvs()
assert ["sleep", "600"] in argvs(), argvs()'
"$P" stop -t 0 "$S" >/dev/null 2>&1
"$P" rm -f "$S" >/dev/null 2>&1

# --- the supervisor killed while the command execs in a loop: nothing is left running
marker="exec-audit-loop-$$"
(cd "$WS" && exec "$P" run --net none -- sh -c "while :; do /bin/true $marker; done" </dev/null >/dev/null 2>&1) &
sup=$!
for i in $(seq 1 50); do pgrep -f -- "sh -c while :; do /bin/true $marker" >/dev/null && break; sleep 0.1; done
if ! pgrep -f -- "sh -c while :; do /bin/true $marker" >/dev/null; then
  t_fail "the exec loop did not start"
else
  sleep 0.3
  kill -KILL "$sup"
  wait "$sup" 2>/dev/null
  if t_wait_gone "$marker" 2; then
    t_ok "SIGKILL of the supervisor: the sandbox's processes are gone within 2 s"
  else
    t_fail "processes left after the supervisor was killed" "$(pgrep -af -- "$marker")"
    kill -KILL $(pgrep -f -- "$marker") 2>/dev/null
  fi
fi

t_done
