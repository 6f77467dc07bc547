#!/bin/bash
# SPDX-License-Identifier: MIT
# man-lint.sh - the man pages lint clean, and every command has one (TAP)
#
# usage: man-lint.sh PADDOCK MANDIR
# The command list is what the built binary's `paddock help` prints, so a command added to
# paddock_cmds[] without its page fails here.
set -u
paddock=$1
mandir=$2
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }

if ! command -v mandoc >/dev/null; then
	echo "1..0 # SKIP mandoc is not installed"
	exit 0
fi

mapfile -t cmds < <("$paddock" help | sed -n '/^Commands:/,/^$/{/^  /s/^  \([^ ]*\).*/\1/p}')
if [ ${#cmds[@]} -eq 0 ]; then
	not_ok "'paddock help' lists commands"
fi

for page in "$mandir"/*.[0-9]; do
	out=$(mandoc -T lint -W warning "$page" 2>&1)
	if [ -z "$out" ]; then
		ok "mandoc -T lint $(basename "$page")"
	else
		not_ok "mandoc -T lint $(basename "$page")"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
done

for c in "${cmds[@]}"; do
	if [ -f "$mandir/paddock-$c.1" ]; then
		ok "command '$c' has man/paddock-$c.1"
	else
		not_ok "command '$c' has man/paddock-$c.1"
	fi
	if grep -q "^\.Xr paddock-$c 1" "$mandir/paddock.1"; then
		ok "paddock.1 refers to paddock-$c(1)"
	else
		not_ok "paddock.1 refers to paddock-$c(1)"
	fi
done

# each long option of a command appears in its page
for c in "${cmds[@]}"; do
	[ -f "$mandir/paddock-$c.1" ] || continue
	missing=
	for o in $("$paddock" "$c" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
		[ "$o" = --help ] && continue
		grep -qE -- "Fl -${o#--}( |$)" "$mandir/paddock-$c.1" ||
			missing="$missing $o"
	done
	if [ -z "$missing" ]; then
		ok "paddock-$c.1 documents every option of '$c --help'"
	else
		not_ok "paddock-$c.1 documents every option of '$c --help' (missing:$missing)"
	fi
done

echo "1..$n"
exit $fail
