#!/bin/bash
# SPDX-License-Identifier: MIT
# sessions.sh - persistent sandboxes: create, start, attach (through tmux), exec, ls, stop,
# suspend/resume, rm, reset, run --name; the supervisor killed; the terminal closed
. "$(dirname "$0")/lib.sh"

P=$PADDOCK
if ! t_is_root; then
  export XDG_DATA_HOME=$T_TMP/data
fi
S=e2e$$    # sandbox names, unique for root (whose directories are fixed)
TM="tmux -L paddock-e2e-$$"
WS=$(t_ws ws)
cleanup_all() {
  $TM kill-server 2>/dev/null
  "$P" rm -f "$S-a" "$S-b" "$S-c" "$S-d" "$S-e" "$S-f" >/dev/null 2>&1
  t_cleanup
}
trap cleanup_all EXIT

# state NAME: the state `ls --json` shows
state() {
  "$P" ls --json | python3 -c 'import json,sys
for s in json.load(sys.stdin):
    if s["name"] == sys.argv[1]: print(s["state"] + (" %d" % s["exit_code"] if "exit_code" in s else ""))' "$1"
}
# wait_for CMD...: until it succeeds (5 s)
wait_for() {
  local i
  for i in $(seq 1 50); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}
screen() { $TM capture-pane -p -t "$1" 2>/dev/null; }
screen_has() { screen "$1" | grep -q -- "$2"; }

# --- names ---
OUT=$(cd "$WS" && "$P" create 'bad/name' 2>&1); RC=$?
t_expect "create refuses a bad name, naming it" 125 "'bad/name' is not a valid sandbox name"
OUT=$(cd "$WS" && "$P" create run-12 2>&1); RC=$?
t_expect "create refuses a reserved name" 125 "paddock's own"
OUT=$(cd "$WS" && "$P" create --net none "$S-a" sh -c 'i=0; while :; do i=$((i+1)); echo $i > count.tmp; mv count.tmp count; sleep 0.1; done' 2>&1); RC=$?
t_expect "create makes a sandbox" 0 "$S-a"
OUT=$(cd "$WS" && "$P" create "$S-a" 2>&1); RC=$?
t_expect "create refuses a duplicate name" 125 "already exists"
OUT=$(state "$S-a"); RC=$?
t_expect "ls shows it created" 0 "^created$"

# --- start, exec ---
OUT=$(cd / && "$P" start "$S-a" 2>&1); RC=$?
t_expect "start (from another directory) runs it in the background" 0
OUT=$(state "$S-a"); RC=$?
t_expect "ls shows it running" 0 "^running$"
OUT=$("$P" start "$S-a" 2>&1); RC=$?
t_expect "start refuses a running sandbox" 125 "already running"
OUT=$("$P" exec "$S-a" sh -c 'echo in-tmp > /tmp/t; pwd' 2>&1 && "$P" exec "$S-a" cat /tmp/t 2>&1); RC=$?
t_expect "exec starts in the workspace and shares the sandbox's /tmp" 0 "^$WS"$'\n'"in-tmp\$"
OUT=$("$P" exec "$S-a" sh -c 'exit 3' 2>&1); RC=$?
t_expect "exec returns the command's exit code" 3
OUT=$("$P" exec "$S-a" no-such-command-xyz 2>&1); RC=$?
t_expect "exec of a missing command is 127, named" 127 "'no-such-command-xyz': command not found"
OUT=$(printf 'piped-in\n' | "$P" exec -i "$S-a" cat 2>&1); RC=$?
t_expect "exec -i passes stdin" 0 "^piped-in$"
OUT=$(printf 'x\n' | "$P" exec "$S-a" sh -c 'cat; echo end' 2>&1); RC=$?
t_expect "exec without -i gives /dev/null as stdin" 0 "^end$"
OUT=$("$P" exec "$S-a" sh -c 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status; ls /proc | grep -c "^[0-9]"' 2>&1); RC=$?
t_expect "exec has the same isolation (no_new_privs, seccomp)" 0 "NoNewPrivs:.1"
t_expect "exec has seccomp filtering" 0 "Seccomp:.2"
OUT=$("$P" exec "$S-a" sh -c 'test -e '"$HOME"'/.bashrc-e2e-marker || echo home-is-private' 2>&1); RC=$?
touch "$HOME/.bashrc-e2e-marker" 2>/dev/null
OUT=$("$P" exec "$S-a" sh -c "test -e $HOME/.bashrc-e2e-marker && echo sees-host-home || echo home-is-private" 2>&1); RC=$?
rm -f "$HOME/.bashrc-e2e-marker"
t_expect "exec does not see the host's home" 0 "home-is-private"
OUT=$("$P" exec -t "$S-a" sh -c 'tty; exit 5' 2>&1 </dev/null); RC=$?
t_expect "exec -t runs on a new pty in the sandbox" 5 "^/dev/pts/[0-9]+"

# --- suspend / resume ---
OUT=$("$P" suspend "$S-a" 2>&1); RC=$?
t_expect "suspend says how" 0 "SIGSTOP|cgroup is frozen"
OUT=$(state "$S-a"); RC=$?
t_expect "ls shows it suspended" 0 "^suspended$"
c1=$(cat "$WS/count"); sleep 0.6; c2=$(cat "$WS/count")
if [ -n "$c1" ] && [ "$c1" = "$c2" ]; then t_ok "a suspended sandbox's counter stops ($c1)"; else t_fail "a suspended sandbox's counter stops" "$c1 then $c2"; fi
OUT=$("$P" exec "$S-a" true 2>&1); RC=$?
t_expect "exec into a suspended sandbox is refused, saying so" 125 "suspended; 'paddock resume"
OUT=$("$P" resume "$S-a" 2>&1); RC=$?
t_expect "resume" 0
sleep 0.6; c3=$(cat "$WS/count")
if [ -n "$c3" ] && [ "$c3" -gt "$c2" ] 2>/dev/null; then t_ok "a resumed sandbox's counter goes on ($c2 -> $c3)"; else t_fail "a resumed counter goes on" "$c2 then $c3"; fi

# --- stop ---
OUT=$("$P" stop -t 2 "$S-a" 2>&1); RC=$?
t_expect "stop" 0
OUT=$(state "$S-a"); RC=$?
t_expect "ls shows it stopped" 0 "^stopped"
OUT=$("$P" exec "$S-a" true 2>&1); RC=$?
t_expect "exec into a stopped sandbox says so" 125 "is not running; 'paddock start"
if pgrep -f "while :; do i=" >/dev/null; then t_fail "stop leaves no process behind" "$(pgrep -af 'while :; do i=')"; else t_ok "stop leaves no process behind"; fi

# --- persistent home, reset ---
OUT=$("$P" start "$S-a" 2>&1 && "$P" exec "$S-a" sh -c 'echo kept > "$HOME/note"; ln -s /etc "$HOME/.gitconfig" 2>/dev/null; true' 2>&1 && "$P" stop -t 0 "$S-a" 2>&1 && "$P" start "$S-a" 2>&1 && "$P" exec "$S-a" cat "$HOME/note" 2>&1); RC=$?
t_expect "the home persists across stop and start" 0 "^kept$"
"$P" stop -t 0 "$S-a" >/dev/null 2>&1
OUT=$("$P" reset "$S-a" 2>&1 && "$P" start "$S-a" 2>&1 && "$P" exec "$S-a" sh -c 'cat "$HOME/note" 2>/dev/null || echo gone' 2>&1); RC=$?
t_expect "reset empties the home" 0 "^gone$"
OUT=$("$P" reset "$S-a" 2>&1); RC=$?
t_expect "reset refuses a running sandbox" 125 "is running; stop it first"

# --- attach through tmux ---
OUT=$(cd "$WS" && "$P" create "$S-b" -- bash --norc --noprofile -i 2>&1 && "$P" start "$S-b" 2>&1); RC=$?
t_expect "start an interactive shell" 0
$TM new-session -d -s one -x 100 -y 30 "'$P' attach $S-b; echo attach-exit=\$?; sleep 60"
sleep 0.5
$TM send-keys -t one 'echo marker-$((6*7))' Enter
if wait_for screen_has one marker-42; then t_ok "attach: typed commands run and print"; else t_fail "attach: typed commands run" "$(screen one)"; fi
$TM send-keys -t one C-p C-q
if wait_for screen_has one "attach-exit=0"; then t_ok "ctrl-p ctrl-q detaches (exit 0)"; else t_fail "ctrl-p ctrl-q detaches" "$(screen one)"; fi
OUT=$(state "$S-b"); RC=$?
t_expect "the sandbox keeps running after detach" 0 "^running$"
$TM new-session -d -s two -x 100 -y 30 "'$P' attach $S-b; echo attach-exit=\$?; sleep 60"
if wait_for screen_has two marker-42; then t_ok "attach replays recent output"; else t_fail "attach replays recent output" "$(screen two)"; fi
$TM new-session -d -s three -x 90 -y 25 "'$P' attach --detach-keys ctrl-x,x $S-b; echo attach-exit=\$?; sleep 60"
sleep 0.5
$TM send-keys -t three 'echo both-$((7*7))' Enter
if wait_for screen_has two both-49 && screen_has three both-49; then t_ok "two clients attached at once both see the output"; else t_fail "two clients see the output" "$(screen two)" "$(screen three)"; fi
OUT=$("$P" ls --json 2>&1); RC=$?
t_expect "ls counts the attached clients" 0 '"attached":2'
$TM send-keys -t three C-x x
if wait_for screen_has three "attach-exit=0"; then t_ok "--detach-keys sets other keys"; else t_fail "--detach-keys" "$(screen three)"; fi
$TM send-keys -t two 'sleep 2; echo agent-still-here > /tmp/alive' Enter
sleep 0.3
$TM kill-session -t two   # the terminal and the attached CLI go away
pkill -KILL -f "attach $S-b" 2>/dev/null
sleep 2.5
OUT=$("$P" exec "$S-b" cat /tmp/alive 2>&1); RC=$?
t_expect "closing the terminal and killing the CLI leaves the agent running" 0 "agent-still-here"
$TM new-session -d -s four -x 100 -y 30 "'$P' attach $S-b; echo attach-exit=\$?; sleep 60"
sleep 0.5
$TM send-keys -t four 'exit 7' Enter
if wait_for screen_has four "attach-exit=7"; then t_ok "attach ends with the command's exit code"; else t_fail "attach ends with the exit code" "$(screen four)"; fi
OUT=$(state "$S-b"); RC=$?
t_expect "ls shows the exit code" 0 "^exited 7$"

# --- the supervisor killed ---
OUT=$(cd "$WS" && "$P" create "$S-c" sh -c 'echo crash-victim-$$ > /dev/null; sleep 1000' 2>&1 && "$P" start "$S-c" 2>&1); RC=$?
t_expect "start a sandbox to crash" 0
spid=$("$P" ls --json | python3 -c 'import json,sys
for s in json.load(sys.stdin):
    if s["name"] == sys.argv[1]: print(s.get("supervisor_pid", ""))' "$S-c")
if [ -n "$spid" ] && kill -KILL "$spid"; then t_ok "supervisor SIGKILLed ($spid)"; else t_fail "find the supervisor" "pid '$spid'"; fi
sleep 0.5
if t_wait_gone "sleep 1000" 5; then t_ok "the sandbox dies with its supervisor"; else t_fail "the sandbox dies with its supervisor" "$(pgrep -af 'sleep 1000')"; fi
OUT=$(state "$S-c"); RC=$?
t_expect "ls shows it crashed" 0 "^crashed$"
OUT=$("$P" ls 2>&1); RC=$?
t_expect "ls explains the crash" 0 "$S-c +crashed"
OUT=$("$P" start "$S-c" 2>&1 && state "$S-c"); RC=$?
t_expect "a crashed sandbox starts again" 0 "running"
# crash it again and remove it as it is, without -f
spid=$("$P" ls --json | python3 -c 'import json,sys
for s in json.load(sys.stdin):
    if s["name"] == sys.argv[1]: print(s.get("supervisor_pid", ""))' "$S-c")
kill -KILL "$spid" 2>/dev/null; t_wait_gone "sleep 1000" 5
OUT=$("$P" rm "$S-c" 2>&1); RC=$?
t_expect "rm removes a crashed sandbox without -f" 0 "$S-c"
OUT=$(cd "$WS" && "$P" create "$S-c" sh -c 'echo crash-victim-$$ > /dev/null; sleep 1000' 2>&1 && "$P" start "$S-c" 2>&1); RC=$?

# --- rm ---
OUT=$("$P" rm "$S-c" 2>&1); RC=$?
t_expect "rm refuses a running sandbox" 125 "is running; stop it first"
OUT=$("$P" rm -f "$S-c" 2>&1); RC=$?
t_expect "rm -f removes a running sandbox" 0
OUT=$("$P" ls --json 2>&1); RC=$?
t_expect_not "it is gone from ls" "\"$S-c\""
if t_wait_gone "sleep 1000" 5; then t_ok "rm -f leaves no process"; else t_fail "rm -f leaves no process" "$(pgrep -af 'sleep 1000')"; fi
OUT=$("$P" rm "$S-b" 2>&1); RC=$?
t_expect "rm removes an exited sandbox" 0
OUT=$("$P" rm "$S-zzz" 2>&1); RC=$?
t_expect "rm of an unknown sandbox says so" 125 "no sandbox named"

# --- ports ---
# host ports below the ephemeral range (32768-60999), where no outgoing connection takes them
HP=$((10000 + ($$ % 2000) * 10))
echo "served-from-the-workspace" > "$WS/index.txt"
OUT=$(cd "$WS" && "$P" create -p "$HP:8000" --net none "$S-e" python3 -m http.server 8000 --bind 127.0.0.1 2>&1 && "$P" start "$S-e" 2>&1); RC=$?
t_expect "a sandbox with -p starts" 0
got=""
for i in $(seq 1 50); do got=$(curl -s -m 2 "http://127.0.0.1:$HP/index.txt") && [ -n "$got" ] && break; sleep 0.1; done
if [ "$got" = served-from-the-workspace ]; then t_ok "-p: a dev server inside is reachable from the host"; else t_fail "-p: dev server reachable" "got '$got'"; fi
OUT=$("$P" port "$S-e" add "$((HP + 1)):8000" 2>&1); RC=$?
t_expect "port add forwards another host port" 0 "127.0.0.1:$((HP + 1)):8000"
got=$(curl -s -m 5 "http://127.0.0.1:$((HP + 1))/index.txt")
if [ "$got" = served-from-the-workspace ]; then t_ok "the added port works"; else t_fail "the added port works" "got '$got'"; fi
OUT=$("$P" ls 2>&1); RC=$?
t_expect "ls shows the forwards" 0 "127.0.0.1:$HP->8000"
OUT=$("$P" port "$S-e" add "$((HP + 1)):8000" 2>&1); RC=$?
t_expect "port add refuses a port in use, saying so" 125 "already"
OUT=$("$P" port "$S-e" add "70000:8000" 2>&1); RC=$?
t_expect "port add refuses a bad port, naming it" 125 "70000"
OUT=$("$P" port "$S-e" rm "$HP" 2>&1); RC=$?
t_expect "port rm" 0
if curl -s -m 2 "http://127.0.0.1:$HP/index.txt" >/dev/null; then t_fail "a removed port no longer answers"; else t_ok "a removed port no longer answers"; fi
OUT=$("$P" logs --type port "$S-e" 2>&1); RC=$?
t_expect "port events are in the audit log" 0 "action=open.*host_port=$((HP + 1))"
OUT=$("$P" port "$S-e" add "$HP:8001" 2>&1 && curl -s -m 5 "http://127.0.0.1:$HP/" 2>&1); RC=$?
t_expect_not "a forward to a port nobody listens on gives nothing" "served"
OUT=$("$P" logs --type port "$S-e" 2>&1); RC=$?
t_expect "... and is logged as refused" 0 "action=refused.*port=8001"
"$P" rm -f "$S-e" >/dev/null 2>&1
# a server that listens on ::1 only, in an ephemeral run
(cd "$WS" && exec "$P" run -p "$((HP + 2)):8002" --net none -- python3 -m http.server 8002 --bind ::1 >/dev/null 2>&1 </dev/null) &
rpid=$!
got=""
for i in $(seq 1 50); do got=$(curl -s -m 2 "http://127.0.0.1:$((HP + 2))/index.txt") && [ -n "$got" ] && break; sleep 0.1; done
if [ "$got" = served-from-the-workspace ]; then t_ok "run -p reaches a server bound to ::1 inside"; else t_fail "run -p to a ::1 server" "got '$got'"; fi
kill -TERM $rpid 2>/dev/null; wait $rpid 2>/dev/null
if curl -s -m 1 "http://127.0.0.1:$((HP + 2))/" >/dev/null; then t_fail "the forward ends with the run"; else t_ok "the forward ends with the run"; fi

# "publish" in the user's config forwards like -p; a project's .paddock.json may not ask for it
echo '{"publish": ["'$((HP + 3))':8003"]}' > "$T_TMP/publish.json"
(cd "$WS" && exec "$P" --config "$T_TMP/publish.json" run --net none -- python3 -m http.server 8003 --bind 127.0.0.1 >/dev/null 2>"$T_TMP/publish.err" </dev/null) &
rpid=$!
got=""
for i in $(seq 1 50); do got=$(curl -s -m 2 "http://127.0.0.1:$((HP + 3))/index.txt") && [ -n "$got" ] && break; sleep 0.1; done
if [ "$got" = served-from-the-workspace ]; then t_ok "config \"publish\" forwards a host port"; else t_fail "config \"publish\" forwards a host port" "got '$got'; paddock said: $(head -c 600 "$T_TMP/publish.err")"; fi
kill -TERM $rpid 2>/dev/null; wait $rpid 2>/dev/null
PWS=$(t_ws publish-project)
echo '{"publish": ["'$((HP + 4))':8004"]}' > "$PWS/.paddock.json"
t_run "$PWS" -- true
t_expect "a project config cannot publish a port" 125 "key 'publish': cannot be set by a project config"

# --- options after NAME (cmd_parse_next); a COMMAND's own options stay its own ---
OUT=$(cd "$WS" && "$P" create "$S-f" --net none -- sh -c 'trap "" TERM; sleep 1000' 2>&1); RC=$?
t_expect "create NAME --net none (an option after NAME)" 0 "^$S-f\$"
OUT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["options"])' \
  "${XDG_DATA_HOME:-/var/lib}/paddock/sandboxes/$S-f/config.json" 2>&1); RC=$?
t_expect "... and the option was taken as one" 0 "'--net', 'none'"
OUT=$("$P" start "$S-f" 2>&1 && "$P" exec "$S-f" echo -t --net 2>&1); RC=$?
t_expect "exec NAME CMD -t --net: the command's words are its own" 0 "^-t --net$"
OUT=$("$P" exec "$S-f" -i echo after-name </dev/null 2>&1); RC=$?
t_expect "exec NAME -i CMD: an option after NAME" 0 "^after-name$"
OUT=$("$P" stop "$S-f" --foo 2>&1); RC=$?
t_expect "stop NAME --foo names the option and the command" 125 "stop: unknown option '--foo'; see 'paddock stop --help'"
t0=$(date +%s%N)
OUT=$("$P" stop "$S-f" -t 0 2>&1); RC=$?
t1=$(date +%s%N)
t_expect "stop NAME -t 0 (an option after NAME)" 0
if [ $(((t1 - t0) / 1000000)) -lt 4000 ]; then t_ok "... took -t 0: SIGKILL at once ($(((t1 - t0) / 1000000)) ms)"; else t_fail "stop NAME -t 0 took -t 0" "$(((t1 - t0) / 1000000)) ms"; fi
OUT=$(state "$S-f"); RC=$?
t_expect "... and it is stopped" 0 "^stopped"
OUT=$("$P" rm "$S-f" -f 2>&1); RC=$?
t_expect "rm NAME -f" 0 "^$S-f\$"

# --- run --name ---
OUT=$(cd "$WS" && "$P" run --name "$S-d" -- sh -c 'echo named-run; exit 4' 2>&1 </dev/null); RC=$?
t_expect "run --name creates, starts and attaches" 4 "named-run"
OUT=$(state "$S-d"); RC=$?
t_expect "run --name leaves a persistent sandbox" 0 "^exited 4$"
OUT=$(cd "$WS" && "$P" run --name "$S-d" -- true 2>&1 </dev/null); RC=$?
t_expect "run --name refuses a name in use" 125 "already exists"
"$P" rm -f "$S-a" "$S-d" >/dev/null 2>&1
OUT=$(ls "${XDG_DATA_HOME:-/var/lib}/paddock/sandboxes" 2>/dev/null | grep -c "^$S"); RC=0
t_expect "nothing is left behind in the data directory" 0 "^0$"
if t_wait_gone "while :; do i=" 5; then t_ok "nor any process"; else t_fail "nor any process" "$(pgrep -af 'while :; do i=')"; fi
t_done
