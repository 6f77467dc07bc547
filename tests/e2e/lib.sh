# SPDX-License-Identifier: MIT
# lib.sh - TAP helpers for the end-to-end tests of the real paddock binary
#
# Each test script sources this file, calls the t_* helpers, and ends with t_done.
# Environment: PADDOCK (the binary), PROBE (tests/helpers/probe, optional).
# Every assertion can fail: compare exit codes and output against what an attack would show.

set -u
: "${PADDOCK:?PADDOCK must point at the paddock binary}"
PROBE=${PROBE:-}
T_N=0
T_FAILED=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/paddock-e2e.XXXXXX")
chmod 755 "$T_TMP"
trap 't_cleanup' EXIT

t_cleanup() {
  # placeholders are read-only dirs only while a sandbox runs; make sure rm can walk everything
  chmod -R u+rwX "$T_TMP" 2>/dev/null
  rm -rf "$T_TMP"
}

t_ok() { T_N=$((T_N + 1)); echo "ok $T_N - $1"; }
t_skip() { T_N=$((T_N + 1)); echo "ok $T_N - $1 # SKIP $2"; }
t_fail() {
  T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1))
  echo "not ok $T_N - $1"; shift
  local l
  for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
}
t_done() { echo "1..$T_N"; [ "$T_FAILED" -eq 0 ]; }
t_diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# t_ws NAME: a fresh workspace directory, printed
t_ws() {
  local d="$T_TMP/$1"
  mkdir -p "$d"
  if [ -n "$PROBE" ]; then cp "$PROBE" "$d/probe"; fi
  printf '%s\n' "$d"
}

# t_run WS [paddock run options] -- CMD...: run, capture combined output in OUT and status in RC
t_run() {
  local ws=$1; shift
  OUT=$(cd "$ws" && "$PADDOCK" run --net none "$@" 2>&1 </dev/null)
  RC=$?
}

# t_expect DESC RC_WANTED [GREP_PATTERN_WANTED]: assert on the last t_run (RC nz: any non-zero)
t_expect() {
  local desc=$1 want=$2 pat=${3:-}
  if [ "$want" = nz ] && [ "$RC" != 0 ]; then want=$RC; fi
  if [ "$RC" != "$want" ]; then
    t_fail "$desc" "exit status $RC, wanted $want" "output: $OUT"
  elif [ -n "$pat" ] && ! printf '%s' "$OUT" | grep -qE -- "$pat"; then
    t_fail "$desc" "output does not match /$pat/" "output: $OUT"
  else
    t_ok "$desc"
  fi
}

# t_expect_not DESC PATTERN: the last output must not match
t_expect_not() {
  if printf '%s' "$OUT" | grep -qE -- "$2"; then
    t_fail "$1" "output matches /$2/" "output: $OUT"
  else
    t_ok "$1"
  fi
}

# t_blocked DESC WS PROBE_ARGS...: run the probe inside; it exits 1 when the attack was blocked
t_blocked() {
  local desc=$1 ws=$2; shift 2
  if [ -z "$PROBE" ]; then t_skip "$desc" "probe not built"; return; fi
  t_run "$ws" -- ./probe "$@"
  if [ "$RC" = 1 ]; then t_ok "$desc"; else t_fail "$desc" "probe $* exited $RC (0 = attack worked)" "output: $OUT"; fi
}

# t_allowed DESC WS PROBE_ARGS...: the control case: the probe's operation works
t_allowed() {
  local desc=$1 ws=$2; shift 2
  if [ -z "$PROBE" ]; then t_skip "$desc" "probe not built"; return; fi
  t_run "$ws" -- ./probe "$@"
  if [ "$RC" = 0 ]; then t_ok "$desc"; else t_fail "$desc" "probe $* exited $RC, wanted 0" "output: $OUT"; fi
}

t_is_root() { [ "$(id -u)" = 0 ]; }

# t_wait_gone PATTERN [SECS]: wait until no host process matches PATTERN (pgrep -f)
t_wait_gone() {
  local i
  for i in $(seq 1 $((${2:-5} * 10))); do
    pgrep -f -- "$1" >/dev/null || return 0
    sleep 0.1
  done
  return 1
}
