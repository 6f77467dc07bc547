#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run.sh - build the libFuzzer targets and run each for N seconds
#
#   tests/fuzz/run.sh [SECONDS] [BUILDDIR]
#
# SECONDS defaults to 30 (or $FUZZ_SECONDS). BUILDDIR defaults to build-fuzz at the top of the
# tree; it is configured with clang and -Dfuzz=true if it is not already. Each target NAME
# (tests/fuzz/fuzz-NAME.c) starts from the seeds in tests/fuzz/corpus/NAME/, uses
# tests/fuzz/NAME.dict when present, and writes what it learns to BUILDDIR/fuzz-corpus/NAME/,
# so the checked-in corpus only changes when you copy a reproducer there on purpose. A crash stops with its reproducer in BUILDDIR/fuzz-artifacts/.
set -euo pipefail

secs=${1:-${FUZZ_SECONDS:-30}}
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${2:-$top/build-fuzz}

if [[ ! -f $build/build.ninja ]]; then
	CC=clang meson setup "$build" "$top" -Dfuzz=true -Db_lundef=false >/dev/null
elif ! grep -q 'fuzz-config:' "$build/build.ninja" 2>/dev/null; then
	meson configure "$build" -Dfuzz=true -Db_lundef=false >/dev/null
fi
ninja -C "$build" >/dev/null

status=0
n=0
for src in "$top"/tests/fuzz/fuzz-*.c; do
	name=$(basename "$src" .c)
	name=${name#fuzz-}
	exe=$build/tests/fuzz-$name
	corpus=$build/fuzz-corpus/$name
	artifacts=$build/fuzz-artifacts/$name/
	dict=()
	[[ -f $top/tests/fuzz/$name.dict ]] && dict=(-dict="$top/tests/fuzz/$name.dict")
	mkdir -p "$corpus" "$artifacts"
	echo "# fuzzing $name for ${secs}s"
	if ! "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		"${dict[@]}" -artifact_prefix="$artifacts" "$corpus" "$top/tests/fuzz/corpus/$name" \
		>"$build/fuzz-$name.log" 2>&1; then
		n=$((n + 1))
		echo "not ok $n - fuzz $name for ${secs}s"
		echo "# $name: FAILED, see $build/fuzz-$name.log and $artifacts"
		tail -n 40 "$build/fuzz-$name.log" | sed 's/^/# /'
		status=1
	else
		n=$((n + 1))
		echo "ok $n - fuzz $name for ${secs}s"
		grep -E 'stat::number_of_executed_units|cov:' "$build/fuzz-$name.log" | tail -n 2 |
			sed 's/^/# /'
	fi
done
echo "1..$n"
exit $status
