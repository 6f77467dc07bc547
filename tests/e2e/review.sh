#!/bin/bash
# SPDX-License-Identifier: MIT
# review.sh - review mode (--review): the agent's workspace changes go to the sandbox's own
# layer; diff lists and shows them, apply lands exactly them (refusing files changed on the
# host meanwhile unless --force), discard drops them; protected paths stay read-only
. "$(dirname "$0")/lib.sh"

P=$PADDOCK
if ! t_is_root; then
  export XDG_DATA_HOME=$T_TMP/data
fi
S=rv$$    # sandbox names, unique for root (whose directories are fixed)
WS=$(t_ws ws)
cleanup_all() {
  "$P" rm -f "$S" "$S-b" "$S-c" "$S-d" >/dev/null 2>&1
  "$P" image rm "$S-img" >/dev/null 2>&1
  t_cleanup
}
trap cleanup_all EXIT

mkdir -p "$WS/dir" "$WS/.git/hooks"
printf 'line1\nline2\n' > "$WS/change.txt"
echo keep > "$WS/keep.txt"
echo del > "$WS/del.txt"
echo a > "$WS/dir/a"
printf '[core]\n' > "$WS/.git/config"
snapshot() { (cd "$WS" && find . -path ./probe -prune -o -print0 | sort -z | xargs -0 ls -ld --time-style=+ | awk '{print $1, $5, $NF}'; cat change.txt); }

OUT=$(cd "$WS" && "$P" run --net none --review true 2>&1); RC=$?
t_expect "run --review without --name is refused, saying why" 125 "needs a named sandbox"

OUT=$(cd "$WS" && "$P" create --net none --review "$S" sleep 600 2>&1); RC=$?
t_expect "create --review makes a sandbox" 0 "$S"
OUT=$("$P" start "$S" 2>&1); RC=$?
t_expect "start runs it with the review layer" 0
BEFORE=$(snapshot)

OUT=$("$P" exec "$S" sh -c 'echo new > added.txt && echo changed >> change.txt && rm del.txt &&
  mkdir newdir && echo x > newdir/f && rm -r dir && cat change.txt && ls' 2>&1); RC=$?
t_expect "the agent adds, changes and deletes files and sees its changes" 0 "changed"
if [ "$(snapshot)" = "$BEFORE" ]; then t_ok "the real workspace is unchanged"; else
  t_fail "the real workspace is unchanged" "$(diff <(echo "$BEFORE") <(snapshot))"; fi

OUT=$("$P" exec "$S" sh -c 'echo evil > .git/hooks/pre-commit' 2>&1); RC=$?
t_expect ".git/hooks stays read-only inside with --review" nz "Read-only file system"
OUT=$("$P" exec "$S" sh -c 'echo evil >> .git/config' 2>&1); RC=$?
t_expect ".git/config stays read-only inside with --review" nz "Read-only file system"

OUT=$("$P" apply "$S" 2>&1); RC=$?
t_expect "apply is refused while the sandbox runs" 125 "is running; stop it first"
OUT=$("$P" discard "$S" 2>&1); RC=$?
t_expect "discard is refused while the sandbox runs" 125 "is running"
OUT=$("$P" diff "$S" 2>&1); RC=$?
t_expect "diff works while it runs" 0 "^A added.txt"

OUT=$("$P" stop "$S" 2>&1); RC=$?
t_expect "stop" 0

OUT=$("$P" diff "$S" 2>&1); RC=$?
t_expect "diff lists added, changed and deleted paths, and nothing else" 0 \
  "^A added.txt"$'\n'"M change.txt"$'\n'"D del.txt"$'\n'"D dir/"$'\n'"A newdir/"$'\n'"A newdir/f\$"
OUT=$("$P" diff --patch "$S" 2>&1); RC=$?
t_expect "diff --patch shows the text change as a unified diff" 0 \
  "--- a/change.txt"$'\n'"\\+\\+\\+ b/change.txt"$'\n'"@@ -1,2 \\+1,3 @@"$'\n'" line1"$'\n'" line2"$'\n'"\\+changed"
OUT=$("$P" diff --json "$S" | python3 -c 'import json,sys
print(" ".join("%s:%s:%s" % (e["change"], e["type"], e["path"]) for e in json.load(sys.stdin)))' 2>&1); RC=$?
t_expect "diff --json" 0 "^added:file:added.txt changed:file:change.txt deleted:file:del.txt deleted:directory:dir added:directory:newdir added:file:newdir/f\$"

# the host changes a file the agent changed too
sleep 0.05
echo host >> "$WS/change.txt"
OUT=$("$P" apply "$S" 2>&1); RC=$?
t_expect "apply refuses a file changed on the host meanwhile, naming it" 125 "^  change.txt\$"
if [ -e "$WS/added.txt" ] || [ ! -e "$WS/del.txt" ] || ! grep -q host "$WS/change.txt"; then
  t_fail "a refused apply applies nothing"; else t_ok "a refused apply applies nothing"; fi

OUT=$("$P" apply --force "$S" 2>&1); RC=$?
t_expect "apply --force applies over it" 0 "M change.txt"
GOT=$(cd "$WS" && echo "$(cat added.txt) $(tr '\n' , < change.txt) $(cat newdir/f) $(ls -A | grep -v '^probe$' | tr '\n' ' ')")
if [ "$GOT" = "new line1,line2,changed, x .git added.txt change.txt keep.txt newdir " ]; then
  t_ok "apply lands exactly the agent's changes"; else t_fail "apply lands exactly the agent's changes" "got: $GOT"; fi
[ -f "$WS/.git/hooks/pre-commit" ] && t_fail "the refused hook write never lands" || t_ok "the refused hook write never lands"
OUT=$("$P" diff "$S" 2>&1); RC=$?
if [ "$RC" = 0 ] && [ -z "$OUT" ]; then t_ok "after apply the layer is empty"; else t_fail "after apply the layer is empty" "rc $RC: $OUT"; fi

# a second round: no conflict now (the layer starts again), applied without --force
OUT=$("$P" start "$S" 2>&1 && "$P" exec "$S" sh -c 'echo two > second.txt; echo more >> change.txt; mkdir ro && echo r > ro/f && chmod 555 ro; echo s > secret && chmod 000 secret' 2>&1 && "$P" stop "$S" 2>&1); RC=$?
t_expect "a second session writes again" 0
OUT=$("$P" apply "$S" 2>&1); RC=$?
t_expect "apply without conflicts needs no --force" 0 "A second.txt"
if [ "$(cat "$WS/second.txt")" = two ] && tail -1 "$WS/change.txt" | grep -q more; then
  t_ok "the second round landed"; else t_fail "the second round landed"; fi
GOT=$(stat -c '%a %n' "$WS/ro" "$WS/ro/f" "$WS/secret" 2>&1 | tr '\n' ' ')
if [ "$GOT" = "555 $WS/ro 644 $WS/ro/f 0 $WS/secret " ] && [ "$(cat "$WS/ro/f")" = r ]; then
  t_ok "a read-only new directory and an unreadable file land with their modes"; else
  t_fail "a read-only new directory and an unreadable file land with their modes" "got: $GOT"; fi

# discard drops everything
BEFORE=$(snapshot)
OUT=$("$P" start "$S" 2>&1 && "$P" exec "$S" sh -c 'echo junk > junk.txt; rm keep.txt' 2>&1 && "$P" stop "$S" 2>&1); RC=$?
t_expect "a third session writes junk" 0
OUT=$("$P" discard "$S" 2>&1); RC=$?
t_expect "discard" 0
OUT=$("$P" diff "$S" 2>&1); RC=$?
if [ "$RC" = 0 ] && [ -z "$OUT" ] && [ "$(snapshot)" = "$BEFORE" ]; then
  t_ok "discard dropped the changes, the workspace untouched"; else t_fail "discard dropped the changes" "rc $RC: $OUT"; fi
OUT=$("$P" start "$S" 2>&1 && "$P" exec "$S" sh -c 'ls keep.txt junk.txt' 2>&1); RC=$?
t_expect "the next session sees the real workspace again" nz "keep.txt"
"$P" stop "$S" >/dev/null 2>&1

# reset empties the layer too
OUT=$("$P" start "$S" 2>&1 && "$P" exec "$S" sh -c 'echo r > reset.txt' 2>&1 && "$P" stop "$S" 2>&1 && "$P" reset "$S" 2>&1 && "$P" diff "$S" 2>&1); RC=$?
if [ "$RC" = 0 ] && [ -z "$OUT" ] && [ ! -e "$WS/reset.txt" ]; then t_ok "reset empties the review layer"; else t_fail "reset empties the review layer" "rc $RC: $OUT"; fi

# a protected path in the layer (planted from outside: the sandbox sees it read-only) is
# refused, even though it is no conflict
if t_is_root; then DATA=/var/lib/paddock; else DATA=$XDG_DATA_HOME/paddock; fi
UPPER=$DATA/sandboxes/$S/review/upper
OUT=$("$P" start "$S" 2>&1 && "$P" exec "$S" sh -c 'echo fine > ok.txt' 2>&1 && "$P" stop "$S" 2>&1); RC=$?
mkdir -p "$UPPER/.git/hooks" && printf '#!/bin/sh\necho pwned\n' > "$UPPER/.git/hooks/pre-commit"
OUT=$("$P" apply "$S" 2>&1); RC=$?
t_expect "apply refuses a protected path in the layer, naming it" 125 "^  .git/hooks/pre-commit\$"
if [ -e "$WS/ok.txt" ] || [ -e "$WS/.git/hooks/pre-commit" ]; then t_fail "nothing applied"; else t_ok "nothing applied"; fi
OUT=$("$P" discard "$S" 2>&1); RC=$?
t_expect "discard drops it" 0

# an apply interrupted after its journal: discard, reset and rm refuse, apply completes it
OUT=$("$P" start "$S" 2>&1 && "$P" exec "$S" sh -c 'echo j > j.txt; echo k > k.txt' 2>&1 && "$P" stop "$S" 2>&1); RC=$?
printf 'paddock review journal 1\nAf644\tj.txt\0' > "$UPPER/../apply.journal"
OUT=$("$P" discard "$S" 2>&1); RC=$?
t_expect "discard refuses a half-done apply" 125 "complete it first"
OUT=$("$P" reset "$S" 2>&1); RC=$?
t_expect "reset refuses a half-done apply" 125 "complete it first"
OUT=$("$P" rm "$S" 2>&1); RC=$?
t_expect "rm refuses a half-done apply" 125 "complete it first"
OUT=$("$P" start "$S" 2>&1); RC=$?
t_expect "start refuses a half-done apply" 125 "complete it first"
OUT=$("$P" apply "$S" 2>&1); RC=$?
t_expect "apply completes the interrupted apply" 0 "completed an interrupted apply"
if [ "$(cat "$WS/j.txt" 2>/dev/null)" = j ] && [ ! -e "$WS/k.txt" ] && [ -z "$("$P" diff "$S" 2>&1)" ]; then
  t_ok "exactly the journal's operations landed, then the layer was emptied"; else
  t_fail "exactly the journal's operations landed" "$(ls "$WS")"; fi

# a sandbox without --review has nothing to review
OUT=$(cd "$WS" && "$P" create --net none "$S-b" true 2>&1 && "$P" diff "$S-b" 2>&1); RC=$?
t_expect "diff of a sandbox not in review mode says so" 125 "not in review mode"

# run --name NAME --review: created, started and attached in one go (on a pty from script(1));
# its options reach the sandbox (getopt used to go on from run's own parse and skip them all)
if ! command -v script >/dev/null; then
  t_skip "run --name --review" "script(1) (util-linux) is not installed"
else
  WS2=$(t_ws ws2)
  OUT=$(cd "$WS2" && timeout 60 script -qec "'$P' run --name '$S-d' --review --net none --hostname rvhost sh -c 'hostname; echo hi > n.txt'" /dev/null 2>&1 | tr -d '\r\0'); RC=$?
  t_expect "run --name --review --hostname: the options apply" 0 "rvhost\$"
  OUT=$("$P" diff "$S-d" 2>&1); RC=$?
  if [ "$RC" = 0 ] && [ "$OUT" = "A n.txt" ] && [ ! -e "$WS2/n.txt" ]; then
    t_ok "run --name --review: the change is in the layer only"; else
    t_fail "run --name --review: the change is in the layer only" "rc $RC: $OUT"; fi
fi

# --review with --image: the workspace overlay inside the clone's root (busybox-static)
BUSYBOX=""
for b in /bin/busybox /usr/bin/busybox; do [ -x "$b" ] && BUSYBOX=$b; done
if [ -z "$BUSYBOX" ]; then
  t_skip "--review with --image" "busybox-static is not installed"
else
  R=$T_TMP/rootfs
  mkdir -p "$R/bin" "$R/etc" "$R/tmp"
  cp "$BUSYBOX" "$R/bin/busybox"
  ln -s busybox "$R/bin/sh"
  chmod 1777 "$R/tmp"
  tar -C "$R" -czf "$T_TMP/rootfs.tar.gz" .
  OUT=$("$P" image import "$S-img" "$T_TMP/rootfs.tar.gz" 2>&1 &&
    cd "$WS" && "$P" create --net none --review --image "$S-img" "$S-c" /bin/busybox sleep 600 2>&1 &&
    "$P" start "$S-c" 2>&1 && "$P" exec "$S-c" /bin/busybox sh -c 'echo img > img.txt; /bin/busybox cat img.txt' 2>&1 &&
    "$P" stop "$S-c" 2>&1); RC=$?
  t_expect "--review with --image: the agent writes its copy" 0 "^img\$"
  OUT=$("$P" diff "$S-c" 2>&1); RC=$?
  if [ "$RC" = 0 ] && [ "$OUT" = "A img.txt" ] && [ ! -e "$WS/img.txt" ]; then
    t_ok "--review with --image: diff shows it, the workspace unchanged"; else
    t_fail "--review with --image: diff shows it" "rc $RC: $OUT"; fi
  OUT=$("$P" apply "$S-c" 2>&1); RC=$?
  t_expect "--review with --image: apply lands it" 0 "A img.txt"
  [ "$(cat "$WS/img.txt" 2>/dev/null)" = img ] && t_ok "img.txt landed" || t_fail "img.txt landed"
fi

t_done
