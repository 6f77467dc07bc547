#!/bin/bash
# SPDX-License-Identifier: MIT
# completion.sh - the generated bash, zsh and fish completion scripts parse and complete (TAP)
#
# usage: completion.sh PADDOCK HELPERS_DIR
set -u
paddock=$1
helpers=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }

# every command listed by `paddock help`
mapfile -t cmds < <("$paddock" help | sed -n '/^Commands:/,/^$/{/^  /s/^  \([^ ]*\).*/\1/p}')
[ ${#cmds[@]} -gt 0 ] || { echo "1..0 # SKIP no commands found in 'paddock help'"; exit 1; }

for sh in bash zsh fish; do
	"$paddock" completion "$sh" >"$tmp/c.$sh" || not_ok "completion $sh runs"
done
check "unknown shell is an error (exit 125)" \
	'"$paddock" completion tcsh >/dev/null 2>&1; [ $? -eq 125 ]'

# bash: syntax, then real completion runs of the function
check "bash -n" 'bash -n "$tmp/c.bash"'
bash_complete() {
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));
		 _paddock; printf "%s\n" "${COMPREPLY[@]}"' _ "$tmp/c.bash" "$@"
}
check "bash: paddock r<TAB> offers run" 'bash_complete paddock r | grep -qx run'
check "bash: paddock run --w<TAB> offers --workspace" \
	'bash_complete paddock run --w | grep -qx -- --workspace'
check "bash: --net value is a word list" \
	'[ "$(bash_complete paddock run --net "" | sort | tr "\n" " ")" = "allowlist none public " ]'
check "bash: --net=a<TAB> (split at =) offers allowlist" \
	'bash_complete paddock run --net = a | grep -qx allowlist'
check "bash: no options after the command's first argument" \
	'[ -z "$(bash_complete paddock run ls --w)" ]'
check "bash: options after a NAME (stop box --t<TAB>)" \
	'bash_complete paddock stop box --t | grep -qx -- --time'
check "bash: the value of an option after a NAME (status a --format <TAB>)" \
	'bash_complete paddock status a --format "" | grep -qx tmux'
check "bash: options after exec's NAME" \
	'bash_complete paddock exec box --i | grep -qx -- --interactive'
check "bash: none in exec's COMMAND" '[ -z "$(bash_complete paddock exec box ls --i)" ]'
check "bash: exec's COMMAND is a program" \
	'bash_complete paddock exec box bas | grep -qx bash'
check "bash: none after '--'" '[ -z "$(bash_complete paddock stop -- --t)" ]'
check "bash: completion's argument is the shell" \
	'bash_complete paddock completion z | grep -qx zsh'
for c in "${cmds[@]}"; do
	check "bash: command '$c' is offered" 'bash_complete paddock "" | grep -qx -- "$c"'
	check "bash: '$c' offers --help" 'bash_complete paddock "$c" --h | grep -qx -- --help'
done

# zsh
if command -v zsh >/dev/null; then
	check "zsh -n" 'zsh -n "$tmp/c.zsh"'
	zsh_complete() { timeout 20 zsh -f "$helpers/zsh-complete.zsh" "$tmp/c.zsh" "$1"; }
	if zsh -fc 'zmodload zsh/zpty' 2>/dev/null; then
		check "zsh: paddock ru<TAB> completes run" '[ "$(zsh_complete "paddock ru")" = run ]'
		check "zsh: paddock run --w<TAB> completes --workspace" \
			'[ "$(zsh_complete "paddock run --w")" = "run --workspace" ]'
		check "zsh: --net=a<TAB> completes allowlist" \
			'[ "$(zsh_complete "paddock run --net=a")" = "run --net=allowlist" ]'
		check "zsh: an option after a NAME (stop box --ti<TAB>)" \
			'[ "$(zsh_complete "paddock stop box --ti")" = "stop box --time" ]'
	else
		skip "zsh: real completion" "no zsh/zpty"
	fi
else
	skip "zsh -n" "zsh not installed (apt-get install zsh)"
fi

# fish
if command -v fish >/dev/null; then
	check "fish -n" 'fish -n "$tmp/c.fish"'
	fish_complete() { fish -c 'source $argv[1]; complete -C $argv[2]' "$tmp/c.fish" "$1" | cut -f1; }
	check "fish: paddock r<TAB> offers run" 'fish_complete "paddock r" | grep -qx run'
	check "fish: paddock run --w<TAB> offers --workspace" \
		'fish_complete "paddock run --w" | grep -qx -- --workspace'
	check "fish: --net value is a word list" \
		'fish_complete "paddock run --net " | grep -qx allowlist'
	for c in "${cmds[@]}"; do
		check "fish: command '$c' is offered" 'fish_complete "paddock " | grep -qx -- "$c"'
	done
else
	skip "fish -n" "fish not installed (apt-get install fish)"
fi

echo "1..$n"
exit $fail
