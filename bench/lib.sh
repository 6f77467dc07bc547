# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# bench/lib.sh - shared pieces of paddock's benchmarks (bench/startup, bench/proxy, later
# bench/sessions, bench/audit, bench/clone). Source it from a bash script that runs with
# `set -euo pipefail`:
#
#   . "$(dirname "$0")/lib.sh"
#   bench_init startup                     # temp dir, timeit helper, EXIT cleanup
#   bench_add bwrap -- bwrap ... true      # a tool and the exact argv to time
#   bench_skip firejail "why it cannot run here"
#   bench_run_interleaved 50 3             # 3 warm-ups each, then A B C A B C ... 50 times
#   bench_table bwrap                      # median / p10 / p90 / ratio to bwrap's median
#   bench_write_json "$file" bwrap         # raw samples + stats + host info
#
# Benchmarks are never asserted: they print medians and ratios against peers run side by side
# in one run, so drift (thermal, noisy neighbours, page cache) hits every tool alike.
#
# Each sample is the wall time, in microseconds, from just before posix_spawn() to just after
# waitpid() of one run of the tool's argv, measured by bench/timeit.c (compiled on the fly).
# The command's stdin/stdout/stderr are /dev/null during timed runs; the first warm-up run
# keeps its stderr so that a tool that cannot run here is reported with its own words.

BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_REPO=$(cd "$BENCH_LIB_DIR/.." && pwd)

BENCH_NAME=
BENCH_TMP=
BENCH_TIMEIT=
BENCH_CLEANUP=()
BENCH_TOOLS=()              # names, in the order they run
declare -A BENCH_ARGV=()    # name -> argv, each word quoted with printf %q
declare -A BENCH_STATUS=()  # name -> ok | skipped
declare -A BENCH_REASON=()  # name -> why it was skipped
declare -A BENCH_VERSION=() # name -> version string (free text)
declare -A BENCH_SAMPLES=() # name -> space-separated microseconds of the successful runs
declare -A BENCH_FAILED=()  # name -> number of timed runs that exited non-zero
BENCH_RUNS=0
BENCH_WARMUP=0

bench_note() { printf '%s\n' "$*" >&2; }
bench_die() {
	printf '%s: %s\n' "${BENCH_NAME:-bench}" "$*" >&2
	exit 1
}

bench_cleanup() {
	local p
	for p in "${BENCH_CLEANUP[@]}"; do
		[[ -n $p ]] && rm -rf -- "$p"
	done
	return 0
}

# bench_mktemp_dir VAR: a new temp dir removed at exit, its path in VAR.
bench_mktemp_dir() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/paddock-bench.XXXXXX") || bench_die "mktemp failed"
	BENCH_CLEANUP+=("$d")
	printf -v "$1" '%s' "$d"
}

# bench_init NAME: set up the temp dir and build bench/timeit.c into it.
bench_init() {
	BENCH_NAME=$1
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	bench_mktemp_dir BENCH_TMP
	local cc=${CC:-cc}
	command -v "$cc" >/dev/null || bench_die "no C compiler ($cc) to build timeit; apt-get install gcc"
	"$cc" -O2 -o "$BENCH_TMP/timeit" "$BENCH_LIB_DIR/timeit.c" ||
		bench_die "cannot build $BENCH_LIB_DIR/timeit.c"
	BENCH_TIMEIT=$BENCH_TMP/timeit
}

# bench_add NAME -- ARGV...: a tool to time, with the exact command line.
bench_add() {
	local name=$1 q
	shift
	[[ ${1-} == -- ]] && shift
	(($# > 0)) || bench_die "bench_add $name: no command"
	printf -v q '%q ' "$@"
	BENCH_TOOLS+=("$name")
	BENCH_ARGV[$name]=$q
	BENCH_STATUS[$name]=ok
	BENCH_SAMPLES[$name]=
	BENCH_FAILED[$name]=0
}

# bench_skip NAME REASON: a tool that is part of the comparison but cannot run here.
bench_skip() {
	local name=$1
	if [[ -z ${BENCH_STATUS[$name]+x} ]]; then
		BENCH_TOOLS+=("$name")
		BENCH_ARGV[$name]=
		BENCH_SAMPLES[$name]=
		BENCH_FAILED[$name]=0
	fi
	BENCH_STATUS[$name]=skipped
	BENCH_REASON[$name]=$2
}

bench_set_version() { BENCH_VERSION[$1]=$2; }

# bench_find TOOL...: print the path of the first TOOL found on PATH (or given as a path).
bench_find() {
	local t
	for t in "$@"; do
		if [[ $t == */* ]]; then
			[[ -x $t && ! -d $t ]] && { printf '%s\n' "$t"; return 0; }
		else
			command -v "$t" 2>/dev/null && return 0
		fi
	done
	return 1
}

# bench_find_paddock: the paddock binary: $PADDOCK, else build/paddock in the repo.
# Prints the path, or nothing and returns 1 when it is not built.
bench_find_paddock() {
	local p=${PADDOCK:-$BENCH_REPO/build/paddock}
	[[ -x $p && ! -d $p ]] || return 1
	printf '%s\n' "$p"
}

# bench_run_once NAME [TIMEIT-OPTS...]: one timed run of NAME; prints "<us> <status>".
bench_run_once() {
	local name=$1 opts=
	shift
	(($# == 0)) || printf -v opts '%q ' "$@"
	eval "set -- $opts -- ${BENCH_ARGV[$name]}"
	"$BENCH_TIMEIT" "$@"
}

# bench_probe NAME: the first warm-up run, with stderr kept; marks NAME skipped if it fails.
bench_probe() {
	local name=$1 err out us st
	err=$BENCH_TMP/probe-$name.err
	: >"$err"
	# shellcheck disable=SC2094 # timeit appends its own errors to the command's
	out=$(bench_run_once "$name" -e "$err" 2>>"$err") || out="0 spawn-failed"
	read -r us st <<<"$out"
	if [[ $st != 0 ]]; then
		local why
		why=$(grep -v '^[[:space:]]*$' "$err" | head -n 3 | tr '\n' ' ' | sed 's/ *$//')
		bench_skip "$name" "probe failed (status $st)${why:+: $why}"
		return 1
	fi
	return 0
}

# bench_run_interleaved RUNS WARMUP: WARMUP untimed runs of every tool (the first one a probe
# that drops tools which cannot run), then RUNS rounds of one run of each tool in turn.
bench_run_interleaved() {
	local runs=$1 warmup=$2 name i out us st
	BENCH_RUNS=$runs
	BENCH_WARMUP=$warmup
	((warmup >= 1)) || warmup=1 # the probe is always done
	for name in "${BENCH_TOOLS[@]}"; do
		[[ ${BENCH_STATUS[$name]} == ok ]] || continue
		bench_probe "$name" || { bench_note "  $name: ${BENCH_REASON[$name]}"; continue; }
		for ((i = 1; i < warmup; i++)); do
			bench_run_once "$name" -q >/dev/null || true
		done
	done
	local -a active=()
	for name in "${BENCH_TOOLS[@]}"; do
		[[ ${BENCH_STATUS[$name]} == ok ]] && active+=("$name")
	done
	((${#active[@]} > 0)) || { bench_note "nothing to run"; return 0; }
	printf '%s: %d rounds of %s\n' "$BENCH_NAME" "$runs" "${active[*]}" >&2
	for ((i = 1; i <= runs; i++)); do
		for name in "${active[@]}"; do
			out=$(bench_run_once "$name" -q) || out="0 spawn-failed"
			read -r us st <<<"$out"
			if [[ $st == 0 ]]; then
				BENCH_SAMPLES[$name]+="$us "
			else
				BENCH_FAILED[$name]=$((BENCH_FAILED[$name] + 1))
			fi
		done
		if [[ -t 2 ]]; then
			printf '\r  round %d/%d' "$i" "$runs" >&2
		fi
	done
	[[ -t 2 ]] && printf '\n' >&2
	return 0
}

# bench_stats SAMPLES...: "n median p10 p90 min max mean" in milliseconds (3 decimals), with
# percentiles linearly interpolated between closest ranks (numpy's default); "0" if empty.
bench_stats() {
	printf '%s\n' "$@" | grep -E '^[0-9]+$' | sort -n | awk '
		{ v[n++] = $1; s += $1 }
		function pct(p,   h, lo) {
			h = p * (n - 1); lo = int(h)
			return lo + 1 < n ? v[lo] + (h - lo) * (v[lo + 1] - v[lo]) : v[lo]
		}
		END {
			if (n == 0) { print 0; exit }
			printf "%d %.3f %.3f %.3f %.3f %.3f %.3f\n", n, pct(0.5) / 1000, pct(0.1) / 1000,
				pct(0.9) / 1000, v[0] / 1000, v[n - 1] / 1000, s / n / 1000
		}'
}

# bench_median_ms NAME: the median of NAME in ms, or nothing.
bench_median_ms() {
	local -a s
	[[ ${BENCH_STATUS[$1]-} == ok ]] || return 0
	read -r -a s <<<"${BENCH_SAMPLES[$1]}"
	((${#s[@]} > 0)) || return 0
	local st
	st=$(bench_stats "${s[@]}")
	printf '%s\n' "${st#* }" | cut -d' ' -f1
}

bench_ratio() { # bench_ratio A B: A/B with 2 decimals, "-" if B is empty or 0
	if [[ -z $2 ]]; then
		printf -- '-\n'
	else
		awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'
	fi
}

# bench_table REF: one line per tool: median, p10, p90 (ms), ratio to REF's median, runs.
bench_table() {
	local ref=$1 refmed name n med p10 p90 rest ratio
	local -a s
	refmed=$(bench_median_ms "$ref")
	printf '%-10s %10s %9s %9s %9s %6s\n' tool "median ms" "p10" "p90" "vs $ref" runs
	for name in "${BENCH_TOOLS[@]}"; do
		if [[ ${BENCH_STATUS[$name]} != ok ]]; then
			printf '%-10s %s\n' "$name" "${BENCH_REASON[$name]}"
			continue
		fi
		read -r -a s <<<"${BENCH_SAMPLES[$name]}"
		if ((${#s[@]} == 0)); then
			printf '%-10s every timed run failed (%d)\n' "$name" "${BENCH_FAILED[$name]}"
			continue
		fi
		read -r n med p10 p90 rest <<<"$(bench_stats "${s[@]}")"
		: "$rest"
		ratio=$(bench_ratio "$med" "$refmed")
		[[ $ratio == - ]] || ratio+=x
		printf '%-10s %10s %9s %9s %9s %6s' "$name" "$med" "$p10" "$p90" "$ratio" "$n"
		((BENCH_FAILED[$name] == 0)) || printf '  (%d failed)' "${BENCH_FAILED[$name]}"
		printf '\n'
	done
}

# bench_json_str STRING: STRING as a JSON string literal.
bench_json_str() {
	local str=$1 out='' c i
	for ((i = 0; i < ${#str}; i++)); do
		c=${str:i:1}
		case $c in
		'"') out+='\"' ;;
		"\\") out+="\\\\" ;;
		$'\n') out+='\n' ;;
		$'\t') out+='\t' ;;
		$'\r') out+='\r' ;;
		[[:cntrl:]]) printf -v c '\\u%04x' "'$c" && out+=$c ;;
		*) out+=$c ;;
		esac
	done
	printf '"%s"' "$out"
}

# bench_json_argv NAME: NAME's argv as a JSON array.
bench_json_argv() {
	local w sep=
	eval "set -- ${BENCH_ARGV[$1]}"
	printf '['
	for w in "$@"; do
		printf '%s' "$sep"
		bench_json_str "$w"
		sep=', '
	done
	printf ']'
}

# bench_host_json: a JSON object describing where the numbers come from.
bench_host_json() {
	local os=unknown
	if [[ -r /etc/os-release ]]; then
		os=$(. /etc/os-release && printf '%s' "${PRETTY_NAME:-$ID}")
	fi
	printf '{"hostname": %s, "kernel": %s, "os": %s, "cpus": %s, "cpu_model": %s, "user": %s, "uid": %s}' \
		"$(bench_json_str "$(uname -n)")" "$(bench_json_str "$(uname -r)")" "$(bench_json_str "$os")" \
		"$(nproc)" \
		"$(bench_json_str "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)")" \
		"$(bench_json_str "$(id -un)")" "$(id -u)"
}

# bench_write_json FILE REF [EXTRA]: raw samples and stats of every tool to FILE. EXTRA is
# more members of the top-level object, e.g. '"settings": {...}' (no leading comma).
bench_write_json() {
	local file=$1 ref=$2 extra=${3-} refmed name sep='' n med p10 p90 min max mean
	local -a s
	refmed=$(bench_median_ms "$ref")
	mkdir -p "$(dirname "$file")"
	{
		printf '{\n  "benchmark": %s,\n' "$(bench_json_str "$BENCH_NAME")"
		printf '  "date": %s,\n' "$(bench_json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
		printf '  "host": %s,\n' "$(bench_host_json)"
		printf '  "runs": %d,\n  "warmup": %d,\n  "reference": %s,\n' \
			"$BENCH_RUNS" "$BENCH_WARMUP" "$(bench_json_str "$ref")"
		[[ -n $extra ]] && printf '  %s,\n' "$extra"
		printf '  "tools": ['
		for name in "${BENCH_TOOLS[@]}"; do
			printf '%s\n    {"name": %s, "status": %s' "$sep" "$(bench_json_str "$name")" \
				"$(bench_json_str "${BENCH_STATUS[$name]}")"
			sep=,
			[[ -n ${BENCH_VERSION[$name]-} ]] &&
				printf ', "version": %s' "$(bench_json_str "${BENCH_VERSION[$name]}")"
			[[ -n ${BENCH_ARGV[$name]} ]] && printf ', "command": %s' "$(bench_json_argv "$name")"
			if [[ ${BENCH_STATUS[$name]} != ok ]]; then
				printf ', "reason": %s}' "$(bench_json_str "${BENCH_REASON[$name]}")"
				continue
			fi
			read -r -a s <<<"${BENCH_SAMPLES[$name]}"
			printf ', "failed_runs": %d' "${BENCH_FAILED[$name]}"
			if ((${#s[@]} > 0)); then
				read -r n med p10 p90 min max mean <<<"$(bench_stats "${s[@]}")"
				printf ', "n": %d, "median_ms": %s, "p10_ms": %s, "p90_ms": %s, "min_ms": %s, "max_ms": %s, "mean_ms": %s' \
					"$n" "$med" "$p10" "$p90" "$min" "$max" "$mean"
				local ratio
				ratio=$(bench_ratio "$med" "$refmed")
				[[ $ratio == - ]] && ratio=null
				printf ', "ratio_to_reference": %s' "$ratio"
			fi
			printf ', "samples_us": [%s]}' "$(IFS=,; printf '%s' "${s[*]}")"
		done
		printf '\n  ]\n}\n'
	} >"$file.tmp"
	mv -f -- "$file.tmp" "$file"
}
