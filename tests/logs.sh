#!/bin/bash
# SPDX-License-Identifier: MIT
# logs.sh - `paddock logs` against logs written by hand and by the real writer (TAP)
#
# usage: logs.sh PADDOCK AUDIT_WRITE
set -u
paddock=$1
writer=$2
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }
tmp=$(mktemp -d)
bg=
trap '[ -n "$bg" ] && kill "$bg" 2>/dev/null; rm -rf "$tmp"' EXIT
export TZ=UTC XDG_DATA_HOME=$tmp/data HOME=$tmp
unset PADDOCK_DEBUG

# wait up to 5 s for FILE to contain PATTERN (grep -E)
wait_for() {
	for _ in $(seq 50); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

log=$tmp/a.jsonl
cat >"$log" <<'JSON'
{"ts":"2025-01-31T09:00:00.000Z","sandbox":"b","type":"start","argv":["claude","--yes"],"workspace":"/w"}
{"ts":"2025-01-31T09:00:01.250Z","sandbox":"b","type":"exec","pid":12,"ppid":1,"argv":["sh","-c","echo hi"],"cwd":"/w"}
{"ts":"2025-01-31T09:00:02.000Z","sandbox":"b","type":"dns","name":"github.com","answer":["198.18.0.1"],"decision":"allow"}
{"ts":"2025-01-31T09:00:03.000Z","sandbox":"b","type":"net","host":"github.com","port":443,"ip":"140.82.121.4","decision":"allow","rule":"github.com","bytes_up":517,"bytes_down":43000,"duration_ms":1234}
{"ts":"2025-01-31T09:00:04.000Z","sandbox":"b","type":"deny","host":"169.254.169.254","port":80,"rule":"metadata","reason":"cloud metadata"}
{"ts":"2025-01-31T09:00:05.000Z","sandbox":"b","type":"secret_leak","secret":"GH_TOKEN","host":"evil.com"}
{"ts":"2025-01-31T09:00:06.000Z","sandbox":"b","type":"exit","status":0,"duration_ms":6000}
JSON
cat >"$tmp/want" <<'EOF2'
2025-01-31 09:00:00.000 start         claude --yes (/w)
2025-01-31 09:00:01.250 exec          12 sh -c 'echo hi' (/w)
2025-01-31 09:00:02.000 dns           github.com -> 198.18.0.1 (allow)
2025-01-31 09:00:03.000 net           github.com:443 140.82.121.4 allow github.com 517B/42K 1.2s
2025-01-31 09:00:04.000 deny          169.254.169.254:80 metadata cloud metadata
2025-01-31 09:00:05.000 secret_leak   secret=GH_TOKEN host=evil.com
2025-01-31 09:00:06.000 exit          status 0 after 6.0s
EOF2
"$paddock" logs "$log" >"$tmp/out" 2>"$tmp/err"
check "readable output: one line per event (time, type, summary)" 'diff -u "$tmp/want" "$tmp/out" >&2'
check "readable output: nothing on stderr" '[ ! -s "$tmp/err" ]'
check "--json prints the lines as stored" '"$paddock" logs --json "$log" | cmp -s - "$log"'
check "--type net,dns" \
	'[ "$("$paddock" logs --type net,dns "$log" | cut -c25-29 | tr -d " " | tr "\n" " ")" = "dns net " ]'
check "--type secret selects secret_*" \
	'[ "$("$paddock" logs --json --type secret "$log" | wc -l)" -eq 1 ]'
check "--type rejects a non-identifier (exit 125)" \
	'"$paddock" logs --type "NET" "$log" >/dev/null 2>&1; [ $? -eq 125 ]'
check "--since RFC 3339" \
	'[ "$("$paddock" logs --json --since 2025-01-31T10:00:04+01:00 "$log" | wc -l)" -eq 3 ]'
check "--since RFC 3339 with a fraction" \
	'[ "$("$paddock" logs --json --since 2025-01-31T09:00:01.250Z "$log" | wc -l)" -eq 6 ]'
check "--since rejects garbage (exit 125)" \
	'"$paddock" logs --since yesterday "$log" >/dev/null 2>&1; [ $? -eq 125 ]'

# --since DURATION: the old events are hours ago, one written now is not
cp "$log" "$tmp/recent.jsonl"
echo 'port {"action":"add","host_port":8080,"port":3000}' | "$writer" "$tmp/recent.jsonl" b
check "--since 10m keeps only the recent event" \
	'[ "$("$paddock" logs --since 10m "$tmp/recent.jsonl" | cut -c25-)" = "port          action=add host_port=8080 port=3000" ]'
check "--since 1d and 2h parse" \
	'"$paddock" logs --since 1d "$tmp/recent.jsonl" >/dev/null && "$paddock" logs --since 2h "$tmp/recent.jsonl" >/dev/null'

# malformed lines: skipped, warned with FILE:LINE, never fatal
{
	head -2 "$log"
	echo '{"ts":"2025-01-31T09:00:02.000Z","sandbox":"b","type":"net","host":"trunc'
	echo 'not json at all'
	echo '[1,2,3]'
	echo '{"ts":"yesterday","type":"net"}'
	echo '{"ts":"2025-01-31T09:00:02.000Z","type":"Not A Type"}'
	tail -1 "$log"
	printf '{"ts":"2025-01-31T09:00:09.000Z","sandbox":"b","type":"ex'
} >"$tmp/bad.jsonl"
"$paddock" logs "$tmp/bad.jsonl" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "malformed lines: exit 0" '[ $rc -eq 0 ]'
check "malformed lines: the good ones are printed" '[ "$(wc -l <"$tmp/out")" -eq 3 ]'
check "malformed lines: warnings name the file and line" \
	'grep -q "bad.jsonl:3: .*skipped" "$tmp/err" && grep -q "bad.jsonl:7: " "$tmp/err"'
check "malformed lines: at most 5 warnings per file" \
	'[ "$(grep -c "bad.jsonl:[0-9]*: " "$tmp/err")" -eq 5 ] && grep -q "further malformed" "$tmp/err"'
sed 's/^/# /' "$tmp/err"
{ head -1 "$log"; printf '{"ts":"2025-01-31T09:00:09.000Z","sandbox":"b","type":"ex'; } >"$tmp/cut.jsonl"
"$paddock" logs "$tmp/cut.jsonl" >"$tmp/out" 2>"$tmp/err"
check "a last line cut by a crash is skipped with a warning" \
	'[ $? -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 1 ] && grep -q "cut.jsonl:2: " "$tmp/err"'

# hostile strings from the writer: every line is strict JSON, nothing reaches the terminal raw
printf '%s\n' 'exec {"pid":7,"argv":["printf","\u001b]0;pwned\u0007\u001b[2J","a\nb"],"cwd":"/w"}' |
	"$writer" "$tmp/hostile.jsonl" b
printf 'exec {"pid":8,"argv":["bad\xff\xfeutf8"],"cwd":"/w"}\n' | "$writer" "$tmp/hostile.jsonl" b
check "writer output is strict JSON with valid UTF-8" \
	'python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1], encoding=\"utf-8\", errors=\"strict\")]" "$tmp/hostile.jsonl"'
"$paddock" logs "$tmp/hostile.jsonl" >"$tmp/out"
check "readable output escapes control characters" \
	'! grep -q $'"'"'\x1b'"'"' "$tmp/out" && grep -qF "\\x1b]0;pwned\\x07" "$tmp/out" && grep -qF "a\\nb" "$tmp/out"'
check "readable output: one line per event" '[ "$(wc -l <"$tmp/out")" -eq 2 ]'

# rotated files are read oldest first
r=$tmp/rot.jsonl
sed -n 1p "$log" >"$r.3"
sed -n 2,3p "$log" >"$r.2"
sed -n 4p "$log" >"$r.1"
sed -n 5,7p "$log" >"$r"
check "rotated files .3 .2 .1 then the file, in order" '"$paddock" logs --json "$r" | cmp -s - "$log"'
rm "$r"
check "rotated files alone are enough" '[ "$("$paddock" logs --json "$r" | wc -l)" -eq 4 ]'

# names: a kept run, a persistent sandbox, the list, and unknown names. Root's data directory is
# /var/lib/paddock whatever XDG_DATA_HOME says: the test creates nothing there.
if [ "$(id -u)" = 0 ]; then
	data=/var/lib/paddock
	for t in "a kept run by name" "a sandbox by name" "no TARGET lists the logs" "the list as JSON"; do
		n=$((n + 1))
		echo "ok $n - $t # SKIP as root the data directory is $data (run as a user)"
	done
else
	data=$XDG_DATA_HOME/paddock
	mkdir -p "$data/logs" "$data/sandboxes/dev"
	cp "$log" "$data/logs/run-20250131-090000-42.jsonl"
	head -2 "$log" >"$data/sandboxes/dev/audit.jsonl"
	check "a kept run by name" \
		'"$paddock" logs --json run-20250131-090000-42 | cmp -s - "$log"'
	check "a sandbox by name" '[ "$("$paddock" logs dev | wc -l)" -eq 2 ]'
	check "no TARGET lists the logs" \
		'"$paddock" logs | grep -q "^run-20250131-090000-42 .* run " && "$paddock" logs | grep -q "^dev .* sandbox "'
	check "the list as JSON" \
		'"$paddock" logs --json | python3 -c "import json,sys; d=json.load(sys.stdin); assert len(d)==2"'
fi
"$paddock" logs nosuch-sandbox-$$ >/dev/null 2>"$tmp/err"
rc=$?
check "unknown name: exit 125" '[ $rc -eq 125 ]'
check "unknown name: names the paths looked at" \
	'grep -qF "$data/sandboxes/nosuch-sandbox-$$/audit.jsonl" "$tmp/err" && grep -qF "$data/logs/nosuch-sandbox-$$.jsonl" "$tmp/err"'
"$paddock" logs "$tmp/nosuch.jsonl" >/dev/null 2>"$tmp/err"
rc=$?
check "unknown file: exit 125 naming it" '[ $rc -eq 125 ] && grep -qF "$tmp/nosuch.jsonl" "$tmp/err"'
check "invalid name: exit 125" '"$paddock" logs .. >/dev/null 2>&1; [ $? -eq 125 ]'

# -f: what exists, then appends, a rotation, and a late creation; SIGINT ends it with 0
f=$tmp/follow/f.jsonl
mkdir "$tmp/follow"
echo 'start {"argv":["sh"]}' | "$writer" "$f" b
timeout 30 "$paddock" logs -f "$f" >"$tmp/fout" 2>"$tmp/ferr" &
bg=$!
check "-f prints what exists" 'wait_for "$tmp/fout" "start +sh"'
echo 'exec {"pid":1,"argv":["one"]}' | "$writer" "$f" b
check "-f picks up an append" 'wait_for "$tmp/fout" "exec +1 one"'
# a small limit: each event rotates the file
for i in 2 3 4; do echo "exec {\"pid\":$i,\"argv\":[\"n$i\"]}"; done | "$writer" "$f" b 10
check "-f follows a rotation" 'wait_for "$tmp/fout" "exec +4 n4"'
check "the rotation happened" '[ -f "$f.2" ]'
rm -f "$f" "$f".*
sleep 0.2
echo 'exec {"pid":5,"argv":["late"]}' | "$writer" "$f" b
check "-f picks up a file created later" 'wait_for "$tmp/fout" "exec +5 late"'
printf '{"ts":"2025-01-31T09:00:09.000Z","sandbox":"b","type":"net"' >>"$f"
sleep 0.3
printf ',"host":"half.example","port":80}\n' >>"$f"
check "-f waits for the end of a half-written line" 'wait_for "$tmp/fout" "net +half.example:80"'
check "-f: every event once, in order" \
	'[ "$(cut -c25- "$tmp/fout" | awk "{print \$1 \$2}" | tr "\n" " ")" = "startsh exec1 exec2 exec3 exec4 exec5 nethalf.example:80 " ]'
check "-f: no warnings" '[ ! -s "$tmp/ferr" ]'
sed "s/^/# /" "$tmp/ferr" "$tmp/fout"
kill -INT "$bg"
wait "$bg"
rc=$?
bg=
check "-f exits 0 on SIGINT" '[ $rc -eq 0 ]'
check "-f needs no TARGET's file, but its directory" \
	'"$paddock" logs -f "$tmp/nodir/x.jsonl" >/dev/null 2>&1; [ $? -eq 125 ]'

echo "1..$n"
exit $fail
