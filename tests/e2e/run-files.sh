#!/bin/bash
# SPDX-License-Identifier: MIT
# run-files.sh - THREATS.md category 2: what the sandbox must not read or change
. "$(dirname "$0")/lib.sh"

ws=$(t_ws proj)
git -C "$ws" init -q 2>/dev/null || mkdir -p "$ws/.git/hooks"
mkdir -p "$ws/.git/hooks"
echo '#!/bin/sh' > "$ws/.git/hooks/pre-commit"
# credentials of the user on the host (created for the test when missing)
mkdir -p "$HOME/.ssh" "$HOME/.aws"
[ -e "$HOME/.ssh/paddock_test_key" ] || echo "PRIVATE-KEY-MATERIAL" > "$HOME/.ssh/paddock_test_key"
[ -e "$HOME/.aws/credentials" ] || echo "[default]" > "$HOME/.aws/credentials"

# --- the home
t_run "$ws" -- sh -c "ls -A $HOME; cat $HOME/.ssh/paddock_test_key"
t_expect_not "~/.ssh is not visible" "PRIVATE-KEY-MATERIAL|^\\.ssh$"
t_expect_not "~/.aws is not visible" "^\\.aws$"
t_run "$ws" -- sh -c "ls -A /home | grep -vx '$(id -un)'; ls -A /root 2>&1"
t_expect_not "other users' homes are not visible" "^(pdtest|postgres|paddock-test)$"
t_run "$ws" -- cat /etc/shadow
t_expect_not "/etc/shadow gives nothing" "root:"
t_run "$ws" -- sh -c 'ls /var/log /var/lib 2>&1; ls /run'
t_expect_not "/var/log and /run of the host are not visible" "syslog|journal|systemd|user|docker"

# --- links out of the workspace
ln -s "$HOME/.ssh/paddock_test_key" "$ws/keylink"
t_run "$ws" -- cat keylink
t_expect_not "a symlink to ~/.ssh leads nowhere" "PRIVATE-KEY-MATERIAL"
ln -s /etc "$ws/etclink"
t_run "$ws" -- sh -c 'echo x > etclink/paddock-test-file'
if [ "$RC" != 0 ] && [ ! -e /etc/paddock-test-file ]; then t_ok "writing through a symlink to /etc fails"; else t_fail "writing through a symlink to /etc fails" "rc=$RC"; rm -f /etc/paddock-test-file; fi
victim="$T_TMP/victim-outside"
echo original > "$victim"
t_run "$ws" -- sh -c "ln $victim hardlink 2>&1; echo changed > $victim 2>&1; cat ../victim-outside 2>&1"
if [ "$(cat "$victim")" = original ]; then t_ok "a file next to the workspace cannot be changed (hard link, path)"; else t_fail "file outside changed" "$OUT"; fi
t_run "$ws" -- sh -c 'cat /proc/self/root/../../etc/shadow; ls /proc/1/root/home'
t_expect_not "/proc/self/root and /proc/1/root show the sandbox, not the host" "root:|pdtest"

# --- path prefix confusion: proj vs proj-evil
evil=$(t_ws proj-evil)
echo secret-next-door > "$evil/data"
t_run "$ws" -- sh -c "cat ${ws}-evil/data"
t_expect_not "a sibling directory sharing the prefix is not visible" "secret-next-door"

# --- protected paths
t_run "$ws" -- sh -c 'echo evil >> .git/hooks/pre-commit'
if [ "$RC" != 0 ] && ! grep -q evil "$ws/.git/hooks/pre-commit"; then t_ok ".git/hooks is read-only"; else t_fail ".git/hooks is read-only" "$OUT"; fi
t_run "$ws" -- sh -c 'echo "[core] fsmonitor = evil" >> .git/config'
if [ "$RC" != 0 ] && ! grep -q evil "$ws/.git/config"; then t_ok ".git/config is read-only"; else t_fail ".git/config is read-only" "$OUT"; fi
t_run "$ws" -- sh -c 'rm -rf .git/hooks; mv .git/hooks .git/h2'
if [ -f "$ws/.git/hooks/pre-commit" ]; then t_ok ".git/hooks cannot be removed or renamed"; else t_fail ".git/hooks removed" "$OUT"; fi
# git files that redirect git elsewhere or hold per-worktree config and submodule git dirs
t_run "$ws" -- sh -c 'echo ../.evil > .git/commondir; echo "[core] fsmonitor = evil" > .git/config.worktree; mkdir -p .git/modules/x 2>&1; git status >/dev/null 2>&1 && echo git-works-inside'
t_expect "git still works inside with the placeholders in .git" 0 "git-works-inside"
if [ ! -e "$ws/.git/commondir" ] && [ ! -e "$ws/.git/config.worktree" ] && [ ! -e "$ws/.git/modules" ]; then t_ok ".git/commondir, config.worktree and modules cannot be planted (and their placeholders are gone)"; else t_fail ".git internals planted or left" "$(ls -la "$ws/.git")"; fi

# swapping a protected path's parent: rename .git away and build a new one with a hostile config
t_run "$ws" -- sh -c 'mv .git .git-old 2>&1; mkdir -p .git && cp -a .git-old/. .git/ 2>/dev/null; printf "[core]\n\tfsmonitor = evil\n" > .git/config 2>&1; echo done'
if [ -d "$ws/.git/hooks" ] && ! grep -q fsmonitor "$ws/.git/config" && [ ! -e "$ws/.git-old" ]; then t_ok "the parent of a protected path cannot be renamed and replaced"; else t_fail "parent of a protected path swapped" "$OUT" "$(ls -la "$ws")"; fi
mkdir -p "$ws/.claude"; echo '{}' > "$ws/.claude/settings.json"
t_run "$ws" -- sh -c 'mv .claude .claude-old 2>&1; mkdir -p .claude; echo "{\"hooks\": 1}" > .claude/settings.json 2>&1'
if grep -q hooks "$ws/.claude/settings.json" || [ -e "$ws/.claude-old" ]; then t_fail "existing .claude swapped" "$OUT"; else t_ok "an existing .claude cannot be renamed and replaced"; fi
rm -rf "$ws/.claude"
t_run "$ws" -- sh -c 'echo "source evil" > .envrc; mkdir -p .vscode && echo {} > .vscode/tasks.json; echo {} > .mcp.json; mkdir -p .claude && echo {} > .claude/settings.json'
for p in .envrc .vscode/tasks.json .mcp.json .claude/settings.json; do
  if [ -s "$ws/$p" ]; then t_fail "missing $p cannot be created" "$OUT"; else t_ok "missing $p cannot be created"; fi
done
for p in .envrc .vscode .mcp.json .claude .idea .codex; do
  if [ -e "$ws/$p" ]; then t_fail "placeholder $p removed after exit"; else t_ok "placeholder $p removed after exit"; fi
done
t_run "$ws" -- sh -c 'git status >/dev/null 2>&1; echo obj > .git/objects/test-obj && echo objects-writable'
t_expect ".git/objects stays writable" 0 "objects-writable"
rm -f "$ws/.git/objects/test-obj"
t_run "$ws" -- sh -c 'touch .git/hooks-new 2>&1; mkdir .git/hooks/sub 2>&1; echo x > .gitmodules 2>&1'
if [ ! -e "$ws/.gitmodules" ] && [ ! -e "$ws/.git/hooks/sub" ]; then t_ok ".gitmodules and hooks subdirectories cannot be created"; else t_fail "protected paths created" "$OUT"; fi
# a protected path that is a symlink out of the workspace refuses the start
ws2=$(t_ws linked)
ln -s /tmp/elsewhere-envrc "$ws2/.envrc"
t_run "$ws2" -- true
t_expect "a protected path linking out of the workspace refuses the start" 125 "outside the workspace"
# a protected path that is a symlink inside the workspace protects its target
ws3=$(t_ws linked-in)
mkdir -p "$ws3/.git" "$ws3/scripts/hooks"
ln -s ../scripts/hooks "$ws3/.git/hooks"
t_run "$ws3" -- sh -c 'echo evil > scripts/hooks/post-checkout'
if [ ! -e "$ws3/scripts/hooks/post-checkout" ]; then t_ok "the target of a protected symlink is protected"; else t_fail "symlink target writable" "$OUT"; fi
# core.hooksPath (husky) is protected too
ws4=$(t_ws husky)
git -C "$ws4" init -q && git -C "$ws4" config core.hooksPath .husky/_
mkdir -p "$ws4/.husky/_"
t_run "$ws4" -- sh -c 'echo evil > .husky/pre-commit; echo evil > .husky/_/pre-commit'
if [ ! -e "$ws4/.husky/pre-commit" ] && [ ! -e "$ws4/.husky/_/pre-commit" ]; then t_ok "core.hooksPath (.husky) is protected"; else t_fail "husky hooks writable" "$OUT"; fi
# a .git file (worktree) is protected
ws5=$(t_ws worktree)
echo "gitdir: /elsewhere" > "$ws5/.git"
t_run "$ws5" -- sh -c 'rm -f .git; echo "gitdir: evil" > .git'
if grep -q elsewhere "$ws5/.git"; then t_ok "a gitdir file cannot be replaced"; else t_fail "gitdir file replaced" "$OUT"; fi
# workspace refusals
OUT=$(cd "$HOME" && "$PADDOCK" run --net none -- true 2>&1); RC=$?
t_expect "the home directory as workspace is refused" 125 "home directory|system directory"
OUT=$("$PADDOCK" run --net none -w / -- true 2>&1); RC=$?
t_expect "/ as workspace is refused" 125 "system directory"
OUT=$("$PADDOCK" run --net none -w "$HOME/.ssh" -- true 2>&1); RC=$?
t_expect "~/.ssh as workspace is refused" 125 "credentials"

# --- system files, devices, /proc, /sys
t_run "$ws" -- sh -c 'touch /usr/bin/paddock-evil; touch /etc/paddock-evil; touch /paddock-evil; touch /opt/paddock-evil'
if [ ! -e /usr/bin/paddock-evil ] && [ ! -e /etc/paddock-evil ] && [ ! -e /opt/paddock-evil ]; then t_ok "host system directories are read-only"; else t_fail "system dirs writable"; rm -f /usr/bin/paddock-evil /etc/paddock-evil /opt/paddock-evil; fi
t_run "$ws" -- sh -c 'echo 1 > /proc/sys/kernel/sysrq'
t_expect "/proc/sys is read-only" nz ""
t_run "$ws" -- sh -c 'echo x > /sys/kernel/uevent_helper'
t_expect "/sys is read-only" nz ""
t_run "$ws" -- sh -c 'ls -A /sys/firmware | wc -l'
t_expect "/sys/firmware is masked" 0 "^0$"
t_run "$ws" -- sh -c 'cat /proc/kcore | head -c 10 | wc -c; cat /proc/keys | wc -c'
t_expect "/proc/kcore and /proc/keys are masked" 0 "^0$"
t_run "$ws" -- sh -c 'ls /dev'
if [ "$(printf '%s' "$OUT" | tr '\n' ' ')" = "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero" ]; then t_ok "/dev holds only the minimal set"; else t_fail "/dev holds only the minimal set" "$OUT"; fi
t_blocked "mknod of a block device fails" "$ws" mknod ./sda
t_run "$ws" -- sh -c 'ls /sys/block; ls /dev/sda /dev/vda 2>&1'
t_expect_not "no disk device nodes" "^/dev/(sda|vda)$"

# --- setuid and file capabilities grant nothing
if command -v su >/dev/null; then
  t_run "$ws" -- sh -c 'su -c id root </dev/null 2>&1; id -u'
  t_expect_not "su does not elevate" "uid=0\\(root\\).*uid=0"
fi
t_run "$ws" -- grep -E '^(CapEff|CapPrm|CapInh|CapAmb|NoNewPrivs)' /proc/self/status
t_expect "no_new_privs is set" 0 "NoNewPrivs:[[:space:]]+1"
t_expect "no effective capabilities" 0 "CapEff:[[:space:]]+0000000000000000"
t_expect "no permitted capabilities" 0 "CapPrm:[[:space:]]+0000000000000000"

# --- paddock's own state
t_run "$ws" -- sh -c 'ls -A /run /tmp; ls ${XDG_RUNTIME_DIR:-/nonexistent} 2>&1; ls ~/.local/share 2>&1; ls /var/lib/paddock /run/paddock 2>&1'
t_expect_not "paddock's runtime and data directories are not visible" "run-[0-9]|placeholders|^ca$|sandboxes"

t_done
