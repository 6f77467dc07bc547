# zsh-complete.zsh - complete a command line in a real interactive zsh, print the result
#
# usage: zsh -f zsh-complete.zsh SCRIPT 'paddock run --w'
# Sources the completion SCRIPT in an interactive zsh on a pseudo-terminal (zsh/zpty), types
# the line and a TAB, then Enter; `paddock` there is a function printing its arguments, so the
# output is the line as completion left it (without the leading "paddock").
zmodload zsh/zpty || exit 77
zpty z zsh -f -i
zpty -w z "PS1='' PROMPT_EOL_MARK=''; autoload -U compinit; compinit -u -D; source ${(q)1}; paddock() { print -r -- \"RES\"\"ULT:\$*:END\" }"
zpty -n -w z "$2"$'\t'
sleep 0.3
zpty -n -w z $'\n'
local line out=
for i in {1..60}; do
	zpty -r -t z line 2>/dev/null || { sleep 0.05; continue; }
	out+=$line
	[[ $out == *RESULT:*:END* ]] && break
done
zpty -d z
[[ $out == *RESULT:*:END* ]] || exit 1
out=${out##*RESULT:}
print -r -- ${out%%:END*}
