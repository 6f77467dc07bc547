#!/bin/bash
# SPDX-License-Identifier: MIT
# doctor.sh - `paddock doctor` and `paddock version` against the real host (TAP)
#
# usage: doctor.sh PADDOCK
set -u
paddock=$1
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

start=$(date +%s%N)
"$paddock" doctor >"$tmp/out"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
echo "# doctor: exit $rc in $ms ms"
sed 's/^/# /' "$tmp/out"
check "doctor exits 0 or 1" '[ $rc -eq 0 ] || [ $rc -eq 1 ]'
check "doctor is fast (< 1000 ms here; the goal is 300)" '[ $ms -lt 1000 ]'
check "one line per probe, each starting with its state" \
	'[ $(grep -cE "^(OK|MISSING|LIMITED) " "$tmp/out") -eq 12 ]'
fixes_follow() {
	awk '/^(MISSING|LIMITED) / { if (want) bad = 1; want = 1; next }
	     want && !/^ +fix: / { bad = 1 }
	     { want = 0 }
	     END { exit bad || want }' "$1"
}
check "every non-OK line is followed by a fix" 'fixes_follow "$tmp/out"'
check "names the resource-limit mechanism" \
	'grep -qE "^resource limits: memory (.* by cgroup memory.max|unlimited); pids .* by (cgroup pids.max|RLIMIT_NPROC)" "$tmp/out"'
check "a resource limits probe line" 'grep -qE "^(OK|LIMITED) +resource limits " "$tmp/out"'

"$paddock" doctor --json >"$tmp/json"
jrc=$?
check "doctor --json has the same exit status" '[ $jrc -eq $rc ]'
json_agrees() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["ok"] == (sys.argv[2] == "0") and len(d["probes"]) == 12 else 1)' "$1" "$2"
}
check "doctor --json: ok agrees with the exit status" 'json_agrees "$tmp/json" $rc'
check "doctor rejects arguments (exit 125)" '"$paddock" doctor extra 2>/dev/null; [ $? -eq 125 ]'

check "version prints the version" '"$paddock" version | head -1 | grep -qE "^paddock [0-9]+\.[0-9]+\.[0-9]+"'
check "version lists libraries" '"$paddock" version | grep -q "^libraries: libseccomp .*json-c .*libevent "'
check "--version is version" '[ "$("$paddock" --version | head -1)" = "$("$paddock" version | head -1)" ]'
check "version --json parses" \
	'"$paddock" version --json | python3 -c "import json,sys; d=json.load(sys.stdin); assert d[\"features\"][\"pty\"] in (\"ok\",\"limited\",\"missing\")"'

echo "1..$n"
exit $fail
