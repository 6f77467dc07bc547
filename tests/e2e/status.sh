#!/bin/bash
# SPDX-License-Identifier: MIT
# status.sh - agent status (SPEC.md section 7) driven by a fake agent: waiting for its
# terminal, running a child, idle, exited; read through `paddock status --format json|tmux`
. "$(dirname "$0")/lib.sh"

P=$PADDOCK
if ! t_is_root; then export XDG_DATA_HOME=$T_TMP/data; fi
S=st$$
TM="tmux -L paddock-st-$$"
WS=$(t_ws ws)
trap '$TM kill-server 2>/dev/null; "$P" rm -f "$S" "$S-i" >/dev/null 2>&1; t_cleanup' EXIT
cat > "$WS/agent.sh" <<'SH'
#!/bin/sh
echo "question 1?"
read answer
echo "working on $answer"
sleep 3
echo "question 2?"
read answer
exit 3
SH
chmod +x "$WS/agent.sh"
agent() { "$P" status --format json "$S" | python3 -c 'import json,sys
d=json.load(sys.stdin); print(d[0]["agent"]["state"] if d and "agent" in d[0] else "none")'; }
wait_state() { # wait_state STATE SECS
  local i
  for i in $(seq 1 $(($2 * 10))); do [ "$(agent)" = "$1" ] && return 0; sleep 0.1; done
  return 1
}

OUT=$(cd "$WS" && "$P" create --net none "$S" ./agent.sh 2>&1 && "$P" start "$S" 2>&1); RC=$?
t_expect "the fake agent starts" 0
if wait_state waiting 6; then t_ok "reading its terminal and silent for 2 s: waiting"; else t_fail "waiting" "$(agent)"; fi
OUT=$("$P" status --format tmux 2>&1); RC=$?
t_expect "status --format tmux shows it with its symbol" 0 "$S\\?"
$TM new-session -d -s a -x 80 -y 20 "'$P' attach $S; sleep 30"
sleep 0.5
$TM send-keys -t a 'yes' Enter
if wait_state running 3; then t_ok "a child at work: running"; else t_fail "running" "$(agent)"; fi
OUT=$("$P" ls 2>&1); RC=$?
t_expect "ls shows the agent's state" 0 "$S +running +running"
if wait_state waiting 8; then t_ok "back at its question: waiting"; else t_fail "waiting again" "$(agent)"; fi
$TM send-keys -t a 'done' Enter
if wait_state exited 5; then t_ok "its command ended: exited"; else t_fail "exited" "$(agent)"; fi
OUT=$("$P" status --format json "$S" 2>&1); RC=$?
t_expect "status names the exited sandbox when asked by name" 0 '"state":"exited"'

OUT=$(cd "$WS" && "$P" create --net none "$S-i" sleep 1000 2>&1 && "$P" start "$S-i" 2>&1); RC=$?
sleep 2.5
OUT=$("$P" status --format json "$S-i" 2>&1); RC=$?
t_expect "sleeping, not on its terminal, no child: idle" 0 '"agent":\{"state":"idle"'
OUT=$(timeout 2 "$P" status --watch --format tmux 2>&1); RC=$?
t_expect "status --watch prints the line, and again only on change" 124 "$S-i·"
OUT=$("$P" status --format xml 2>&1); RC=$?
t_expect "a bad --format is refused, naming it" 125 "xml"
t_done
