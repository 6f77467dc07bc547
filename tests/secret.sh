#!/bin/bash
# SPDX-License-Identifier: MIT
# secret.sh - `paddock secret set|ls|rm` against a private data directory (TAP)
#
# usage: secret.sh PADDOCK
# As root the data directory is /var/lib/paddock whatever XDG_DATA_HOME says, so the script
# skips there; tests/meson.build also runs it as an unprivileged user (run-as-user.sh).
set -u
paddock=$1
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }
if [ "$(id -u)" = 0 ]; then
	echo "1..0 # SKIP as root the store is /var/lib/paddock/secrets (run as a user)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_DATA_HOME=$tmp/data HOME=$tmp
unset PADDOCK_DEBUG
store=$tmp/data/paddock/secrets
value='ghp_s3cr3t-VALUE-1234'

check "ls of a missing store prints nothing" '[ -z "$("$paddock" secret ls)" ]'
check "ls --json of a missing store is []" '[ "$("$paddock" secret ls --json)" = "[]" ]'
check "set reads the value from stdin" 'printf "%s\n" "$value" | "$paddock" secret set GH_TOKEN'
check "the value is stored without the trailing newline" \
	'[ "$(cat "$store/GH_TOKEN")" = "$value" ] && [ "$(wc -c <"$store/GH_TOKEN")" -eq ${#value} ]'
check "the store directory is 0700" '[ "$(stat -c %a "$store")" = 700 ]'
check "the secret file is 0600" '[ "$(stat -c %a "$store/GH_TOKEN")" = 600 ]'
check "the data directory's new parents are 0700" '[ "$(stat -c %a "$tmp/data/paddock")" = 700 ]'
check "set under umask 000 still makes a 0600 file" \
	'(umask 000; printf x | "$paddock" secret set LOOSE) && [ "$(stat -c %a "$store/LOOSE")" = 600 ]'
check "set replaces a value" \
	'printf "second" | "$paddock" secret set GH_TOKEN && [ "$(cat "$store/GH_TOKEN")" = second ]'
check "no temporary file is left" '[ "$(ls -A "$store" | tr "\n" " ")" = "GH_TOKEN LOOSE " ]'

"$paddock" secret set GH_TOKEN "$value" </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
check "a value on the command line is refused (exit 125)" '[ $rc -eq 125 ]'
check "... with a message that says stdin" 'grep -q "read from standard input, never from the command line" "$tmp/err"'
check "... and the stored value is unchanged" '[ "$(cat "$store/GH_TOKEN")" = second ]'
check "an empty value is refused" '! printf "" | "$paddock" secret set EMPTY 2>/dev/null && [ ! -e "$store/EMPTY" ]'
check "a value with a line break is refused" '! printf "a\nb\n" | "$paddock" secret set NL 2>/dev/null && [ ! -e "$store/NL" ]'
check "an invalid name is refused" '! printf x | "$paddock" secret set ../evil 2>/dev/null && [ ! -e "$tmp/data/paddock/evil" ]'
check "a name starting with a digit is refused" '! printf x | "$paddock" secret set 1X 2>/dev/null'

printf '%s' "$value" | "$paddock" secret set GH_TOKEN
"$paddock" secret ls >"$tmp/ls" 2>&1
"$paddock" secret ls --json >"$tmp/lsj" 2>&1
check "ls lists the names" 'grep -q "^GH_TOKEN " "$tmp/ls" && grep -q "^LOOSE " "$tmp/ls" && head -1 "$tmp/ls" | grep -q "^NAME .*MODIFIED"'
check "ls never prints a value" '! grep -q "$value" "$tmp/ls" && ! grep -q "s3cr3t" "$tmp/ls"'
check "ls --json is names and times, never values" \
	'grep -qE "^\[\{\"name\":\"GH_TOKEN\",\"modified\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\"\}," "$tmp/lsj" && ! grep -q "s3cr3t" "$tmp/lsj"'
check "secret --json ls works too" '"$paddock" secret --json ls | cmp -s - "$tmp/lsj"'

chmod 644 "$store/GH_TOKEN"
check "ls still works with a loose file" '"$paddock" secret ls >/dev/null'
chmod 600 "$store/GH_TOKEN"
chmod 755 "$store"
check "set refuses a store directory that others can read, and does not repair it" \
	'! printf x | "$paddock" secret set OTHER 2>/dev/null && [ "$(stat -c %a "$store")" = 755 ]'
chmod 700 "$store"

check "rm removes" '"$paddock" secret rm LOOSE && [ ! -e "$store/LOOSE" ]'
"$paddock" secret rm LOOSE >/dev/null 2>"$tmp/err"
rc=$?
check "rm of a missing secret fails (125) and says so" '[ $rc -eq 125 ] && grep -q "no secret .LOOSE. in the store" "$tmp/err"'
check "an unknown action is refused" '! "$paddock" secret show GH_TOKEN 2>/dev/null'
check "secret with no action is a usage error" '! "$paddock" secret 2>/dev/null'
check "--help lists the usage" '"$paddock" secret --help | grep -q "set NAME | ls \[--json\] | rm NAME"'

if command -v script >/dev/null; then
	# from a terminal: read without echo; the value must not appear in what the terminal shows
	# (the value is typed after the prompt: typeahead would be echoed by the terminal before
	# paddock turns echo off)
	(sleep 1; printf '%s\n' "$value"; sleep 1) |
		script -qec "$paddock secret set TTY_SECRET" /dev/null >"$tmp/tty" 2>&1
	check "from a terminal: stored" '[ "$(cat "$store/TTY_SECRET" 2>/dev/null)" = "$value" ]'
	check "from a terminal: prompt on stderr, value not echoed" \
		'grep -q "input is hidden" "$tmp/tty" && ! grep -q "s3cr3t" "$tmp/tty"'
else
	ok "from a terminal # SKIP script(1) is not installed"
fi

echo "1..$n"
exit $fail
