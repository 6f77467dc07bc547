#!/bin/bash
# SPDX-License-Identifier: MIT
# lint.sh - clang-tidy, cppcheck and clang-format are quiet (TAP, one test point per tool)
#
# usage: lint.sh SRCDIR BUILDDIR
# clang-tidy and cppcheck read BUILDDIR/compile_commands.json, which meson writes. A tool that
# is not installed is a skipped test point (scripts/deps test installs them). Diagnostics are
# printed as TAP comments; `meson test --suite lint --print-errorlogs` shows them.
set -u
src=$1
build=$2
jobs=2
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1 not installed"; }
# the first of the named programs that is installed (the Debian 12 version first)
pick() { for p in "$@"; do command -v "$p" && return 0; done; return 1; }
# diagnostics as TAP comments, without colours, at most 200 lines
comment() { sed 's/\x1b\[[0-9;]*m//g' "$1" | head -200 | sed 's/^/# /'; }

cd "$src" || exit 1
db=$build/compile_commands.json
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "1..3"

# clang-tidy over every C file of src/ and tests/ in the compile database, with .clang-tidy
if tidy=$(pick clang-tidy-14 clang-tidy); then
	if [ ! -f "$db" ]; then
		echo "# no $db" >"$out"
		false
	elif runner=$(pick run-clang-tidy-14 run-clang-tidy); then
		"$runner" -clang-tidy-binary "$tidy" -p "$build" -j "$jobs" -quiet \
			"^$src/(src|tests)/.*\.c\$" >"$out" 2>&1
	else
		# no runner: the same files, two at a time
		find "$src/src" "$src/tests" -name '*.c' -print0 |
			xargs -0 -n 4 -P "$jobs" "$tidy" -p "$build" --quiet --warnings-as-errors='*' \
			>"$out" 2>&1
	fi
	r=$?
	if [ $r -eq 0 ] && ! grep -qE '(warning|error):' "$out"; then
		ok "clang-tidy"
	else
		not_ok "clang-tidy"
		grep -E -A3 '(warning|error):' "$out" >"$out.short" || cp "$out" "$out.short"
		comment "$out.short"
		rm -f "$out.short"
	fi
else
	skip clang-tidy
fi

# cppcheck over the same compile database. Suppressions live in .cppcheck-suppressions or
# inline (// cppcheck-suppress ID with a reason). No --library=posix: it does not understand
# __attribute__((cleanup)) and reports every _cleanup_close_ fd as leaked.
if cppcheck=$(pick cppcheck); then
	if [ ! -f "$db" ]; then
		echo "# no $db" >"$out"
		false
	else
		"$cppcheck" --enable=warning,performance,portability --inline-suppr --error-exitcode=1 \
			--suppressions-list="$src/.cppcheck-suppressions" --project="$db" -j "$jobs" \
			--quiet --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
			>"$out" 2>&1
	fi
	if [ $? -eq 0 ] && [ ! -s "$out" ]; then
		ok "cppcheck"
	else
		not_ok "cppcheck"
		comment "$out"
	fi
else
	skip cppcheck
fi

# clang-format: every C file is formatted with .clang-format
if format=$(pick clang-format-14 clang-format); then
	bad=()
	while IFS= read -r -d '' f; do
		"$format" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("${f#"$src"/}")
	done < <(find src tests/unit tests/helpers tests/fuzz -name '*.[ch]' -print0 | sort -z)
	if [ ${#bad[@]} -eq 0 ]; then
		ok "clang-format"
	else
		not_ok "clang-format (${#bad[@]} files; run: clang-format -i FILE)"
		printf '# %s\n' "${bad[@]}"
	fi
else
	skip clang-format
fi
exit $fail
