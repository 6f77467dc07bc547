#!/bin/bash
# SPDX-License-Identifier: MIT
# run-terminal.sh - the pty, raw mode and window size, and THREATS.md category 1 (terminal),
# driven through a real terminal: tmux (send-keys, capture-pane)
. "$(dirname "$0")/lib.sh"

if ! command -v tmux >/dev/null; then
  t_skip "terminal tests" "tmux is not installed"; t_done; exit
fi
ws=$(t_ws term)
sock="paddock-e2e-$$"
tm() { tmux -L "$sock" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null; t_cleanup' EXIT
tm new-session -d -s t -x 100 -y 30 "env -i PATH=$PATH HOME=$HOME TERM=xterm PS1='$ ' bash --norc --noprofile"
tm send-keys -t t "cd $ws" Enter

# wait_for PATTERN [SECS]: poll the pane until PATTERN appears
wait_for() {
  local i
  for i in $(seq 1 $((${2:-10} * 10))); do
    PANE=$(tm capture-pane -p -t t -S -200)
    if printf '%s' "$PANE" | grep -qE -- "$1"; then return 0; fi
    sleep 0.1
  done
  return 1
}
n=0
# type CMD, then wait for the marker it prints at the end
type_cmd() {
  n=$((n + 1))
  tm send-keys -t t "$1; echo \"mark$n rc=\$?\"" Enter
  wait_for "^mark$n rc=" "${2:-10}"
  RCLINE=$(printf '%s' "$PANE" | grep -E "^mark$n rc=" | tail -1)
}

tm send-keys -t t "$PADDOCK run --net none -- bash --norc --noprofile" Enter
sleep 0.5
type_cmd "tty; stty size"
if printf '%s' "$PANE" | grep -qE '^/dev/pts/[0-9]+$'; then t_ok "the command runs on the sandbox's own pty"; else t_fail "own pty" "$PANE"; fi
if printf '%s' "$PANE" | grep -qE '^30 100$'; then t_ok "the pty has the terminal's size"; else t_fail "initial size" "$PANE"; fi
tm resize-window -t t -x 120 -y 40
sleep 0.3
type_cmd "stty size"
if printf '%s' "$PANE" | grep -qE '^40 120$'; then t_ok "window size changes are forwarded (SIGWINCH)"; else t_fail "SIGWINCH forwarded" "$PANE"; fi
type_cmd "ps -o sid=,pid=,comm= -p \$\$"
if printf '%s' "$PANE" | grep -qE '^ *2 +2 bash$'; then t_ok "the command leads its own session inside"; else t_fail "own session" "$PANE"; fi
if [ -n "$PROBE" ]; then
  type_cmd "./probe tiocsti 0"
  if printf '%s' "$RCLINE" | grep -q 'rc=1'; then t_ok "TIOCSTI is refused even on the sandbox's own pty"; else t_fail "TIOCSTI refused" "$PANE"; fi
  type_cmd "./probe tiocsti-high"
  if printf '%s' "$RCLINE" | grep -q 'rc=1'; then t_ok "TIOCSTI with high bits set in the ioctl number is refused"; else t_fail "TIOCSTI high bits" "$PANE"; fi
  type_cmd "./probe tioclinux"
  if printf '%s' "$RCLINE" | grep -q 'rc=1'; then t_ok "TIOCLINUX is refused"; else t_fail "TIOCLINUX" "$PANE"; fi
  hostpid=$(tm display -p -t t '#{pane_pid}')
  type_cmd "./probe kill $hostpid 15"
  if printf '%s' "$RCLINE" | grep -q 'rc=1' && kill -0 "$hostpid"; then t_ok "a host process (the user's shell) cannot be signalled"; else t_fail "host kill" "$PANE"; fi
  type_cmd "./probe ptrace-pid $hostpid"
  if printf '%s' "$RCLINE" | grep -q 'rc=1'; then t_ok "a host process cannot be traced"; else t_fail "host ptrace" "$PANE"; fi
else
  t_skip "terminal attacks" "probe not built"
fi
tm send-keys -t t "exit 7" Enter
wait_for '^\$ $' 5
type_cmd "true"
type_cmd "stty -a | tr ' ' '\\n' | grep -xE -- '-?(icanon|echo|isig)' | tr '\\n' ,"
if printf '%s' "$PANE" | grep -qE '^icanon,isig,echo,|^isig,icanon,echo,'; then t_ok "raw mode is restored after the sandbox exits"; else t_fail "terminal restored" "$PANE"; fi

# exit status through the terminal path
type_cmd "$PADDOCK run --net none -- sh -c 'exit 9'"
if printf '%s' "$RCLINE" | grep -q 'rc=9'; then t_ok "exit status with a terminal"; else t_fail "tty exit status" "$PANE"; fi

# pipe mode whose stdout is the user's terminal: TIOCSTI on it must not inject
if [ -n "$PROBE" ]; then
  type_cmd "$PADDOCK run --net none -- ./probe tiocsti 1 </dev/null"
  if printf '%s' "$RCLINE" | grep -q 'rc=1'; then t_ok "TIOCSTI on the user's terminal (inherited stdout) is refused"; else t_fail "TIOCSTI stdout" "$PANE"; fi
  type_cmd "$PADDOCK run --net none -- ./probe tiocsti-high 1 </dev/null"
  if printf '%s' "$RCLINE" | grep -q 'rc=1'; then t_ok "high-bit TIOCSTI on the user's terminal is refused"; else t_fail "TIOCSTI high stdout" "$PANE"; fi
fi

# killing the terminal: the sandbox goes with it (SIGHUP)
tm send-keys -t t "$PADDOCK run --net none -- sh -c 'sleep 91235 & sleep 91236'" Enter
sleep 0.5
if pgrep -f 'sleep 91236' >/dev/null; then t_ok "sandbox running in the terminal"; else t_fail "sandbox running" "$(tm capture-pane -p -t t)"; fi
tm kill-server
if t_wait_gone 'sleep 9123[56]' 8; then t_ok "closing the terminal ends every process of the sandbox"; else t_fail "processes left after the terminal closed" "$(pgrep -af 'sleep 9123')"; pkill -f 'sleep 9123'; fi

t_done
