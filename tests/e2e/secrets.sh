#!/bin/bash
# SPDX-License-Identifier: MIT
# secrets.sh - THREATS.md category 4 end to end: a secret is a placeholder inside, its value
# is nowhere in the sandbox (environment, files, /proc); the filtered ssh-agent lists and
# signs only, with a real ssh-agent.
. "$(dirname "$0")/lib.sh"

for tool in ssh-agent ssh-add ssh-keygen python3; do
  command -v $tool >/dev/null || { t_skip "secrets tests" "$tool is not installed"; t_done; exit; }
done
ws=$(t_ws sec)
export XDG_DATA_HOME=$T_TMP/data   # paddock's CA and logs (ignored by root: /var/lib/paddock)
REAL="real-value-$$-$RANDOM-do-not-leak"
cfg=$T_TMP/config.json
cat > "$cfg" <<JSON
{"secrets": {"API": {"from": "env:PD_TEST_REAL", "hosts": ["api.test"], "env": "API_KEY"},
             "CMD": {"from": "command:printf %s cmd-$REAL", "hosts": ["api.test"]}}}
JSON
pr() { # pr [paddock run options] -- CMD...: run with the test config
  OUT=$(cd "$ws" && PD_TEST_REAL=$REAL "$PADDOCK" --config "$cfg" run "$@" 2>&1 </dev/null); RC=$?
}

# --- placeholders ---
pr --secret API -- sh -c 'echo "$API_KEY"'
t_expect "the sandbox sees a placeholder for the secret" 0 "^pdk_api_[0-9a-f]{32}$"
PH1=$OUT
pr --secret API -- sh -c 'echo "$API_KEY"'
if [ "$OUT" != "$PH1" ]; then t_ok "the placeholder is new for each sandbox"; else t_fail "new placeholder per sandbox" "$OUT"; fi
# the pattern is put together inside, after the /proc reads: no argv holds it before
pr --secret API --secret CMD -- sh -c 'cat /proc/self/environ /proc/1/environ 2>/dev/null | tr "\0" "\n"; env; cat /proc/*/cmdline 2>/dev/null | tr "\0" " "; a="'"${REAL%%-do-*}"'"; grep -rsl -D skip -- "$a-do-not-leak" /tmp /run /var /etc /home /root "$HOME" "$PWD" 2>/dev/null | head -3 | sed "s/^/FOUND""-IN /"; echo scanned'
t_expect "the sandbox starts with two secrets" 0 "scanned"
t_expect_not "the real value is nowhere in the sandbox's environment, files or /proc" "$REAL|FOUND-IN"
t_expect "... while both placeholders are there" 0 "CMD=pdk_cmd_"
pr --secret NOPE -- true
t_expect "an undeclared secret is refused, naming it" 125 "no secret 'NOPE'"
pr --net none --secret API -- true
t_expect "a secret with --net none is refused" 125 "net none"
OUT=$(cd "$ws" && PD_TEST_REAL= "$PADDOCK" --config "$cfg" run --secret API -- true 2>&1); RC=$?
t_expect "an empty source is refused before the command runs" 125 "empty"
pr --secret API -- sh -c 'echo "$SSL_CERT_FILE $NODE_EXTRA_CA_CERTS $REQUESTS_CA_BUNDLE $GIT_SSL_CAINFO"; grep -c "BEGIN CERTIFICATE" "$SSL_CERT_FILE"'
t_expect "with a secret, the trust bundle is announced in the CA variables" 0 "ca-certificates.crt .*ca-certificates.crt"
pr --secret API -- sh -c 'ls -l "$SSL_CERT_FILE"; echo x >> "$SSL_CERT_FILE" && echo WRITABLE'
t_expect_not "the trust bundle is read-only inside" "WRITABLE"
pr -- sh -c 'env | grep -c NODE_EXTRA_CA_CERTS'
t_expect "without a secret or inspect rule, no bundle is set up" 1 "^0$"
OUT=$(ls -l "$XDG_DATA_HOME/paddock/ca/ca.key" 2>/dev/null || ls -l /var/lib/paddock/ca/ca.key 2>&1); RC=$?
t_expect "the CA key exists only host-side, 0600" 0 "^-rw------- "
pr --secret API -- sh -c 'ls ~/.local/share/paddock /var/lib/paddock 2>&1; cat '"${XDG_DATA_HOME}"'/paddock/ca/ca.key 2>&1 | head -1'
t_expect_not "the CA key is not reachable inside" "BEGIN (EC )?PRIVATE KEY"

# --- profiles ---
cat > "$cfg.prof" <<JSON
{"secrets": {"MINE": {"from": "env:PD_TEST_REAL", "hosts": ["llm.mine.test"], "env": "MINE_KEY"}},
 "profiles": {"mine": {"command": ["mine", "--flag"], "llm_hosts": ["llm.mine.test"],
                       "secrets": ["MINE_KEY"], "home": [".mine"]}}}
JSON
printf '#!/bin/sh\necho "mine args:$* key:$MINE_KEY"\n' > "$ws/mine"; chmod +x "$ws/mine"
OUT=$(cd "$ws" && PD_TEST_REAL=$REAL "$PADDOCK" --config "$cfg.prof" --debug run -- ./mine 2>&1 </dev/null); RC=$?
t_expect "a profile is chosen by the command's name" 0 "profile: mine"
t_expect "... and exposes the secrets it reads without --secret" 0 "key:pdk_mine_[0-9a-f]{32}"
OUT=$(cd "$ws" && PD_TEST_REAL=$REAL PATH="$ws:$PATH" "$PADDOCK" --config "$cfg.prof" run --profile mine 2>&1 </dev/null); RC=$?
t_expect "--profile without a command runs the profile's command" 0 "mine args:--flag key:pdk_mine_"
OUT=$(cd "$ws" && "$PADDOCK" run --profile nosuch -- true 2>&1 </dev/null); RC=$?
t_expect "an unknown profile is refused, listing the profiles" 125 "claude codex pi gemini opencode aider shell"
OUT=$(cd "$ws" && "$PADDOCK" run --net allowlist --profile claude -- sh -c 'getent hosts api.anthropic.com >/dev/null && echo model-ok; getent hosts example.org >/dev/null || echo other-denied' 2>&1 </dev/null); RC=$?
t_expect "allowlist with the claude profile: its API resolves" 0 "model-ok"
t_expect "... and other hosts stay denied" 0 "other-denied"
OUT=$(cd "$ws" && "$PADDOCK" --debug run --net none -- sh -c true 2>&1 </dev/null); RC=$?
t_expect "any other command gets the shell profile" 0 "profile: shell"

# --- ssh-agent ---
agent=$T_TMP/agent
mkdir -p "$agent"
ssh-keygen -q -t ed25519 -N '' -C k1 -f "$agent/k1" && ssh-keygen -q -t ed25519 -N '' -C k2 -f "$agent/k2"
eval "$(ssh-agent -a "$agent/sock" -s)" >/dev/null
trap 'kill $SSH_AGENT_PID 2>/dev/null; t_cleanup' EXIT
ssh-add -q "$agent/k1" "$agent/k2" 2>/dev/null
cp "$agent/k1.pub" "$agent/k2.pub" "$ws/"
FP1=$(ssh-keygen -lf "$agent/k1.pub" | awk '{print $2}')
echo "payload" > "$ws/data"
pr --ssh-agent -- sh -c 'ssh-add -l'
t_expect "--ssh-agent: the keys are listed inside" 0 " k1 "
t_expect "... both of them" 0 " k2 "
pr --ssh-agent -- sh -c 'echo "$SSH_AUTH_SOCK"; ssh-keygen -Y sign -q -f k1.pub -n file data && echo signed'
t_expect "--ssh-agent: signing works inside" 0 "signed"
if [ -f "$ws/data.sig" ] && printf 'k1 %s\n' "$(cat "$agent/k1.pub" | cut -d' ' -f1-2)" > "$T_TMP/allowed" &&
   ssh-keygen -Y verify -f "$T_TMP/allowed" -I k1 -n file -s "$ws/data.sig" < "$ws/data" >/dev/null 2>&1; then
  t_ok "the signature made inside verifies on the host"
else t_fail "the signature verifies on the host" "$(ls -l "$ws/data.sig" 2>&1)"; fi
rm -f "$ws/data.sig"
pr --ssh-agent -- sh -c 'ssh-add -D; echo "rc=$?"; ssh-add k1 2>&1; ssh-keygen -q -t ed25519 -N "" -f /tmp/k3 && ssh-add /tmp/k3; echo "rc=$?"'
t_expect "--ssh-agent: removing keys is refused" 0 "rc=[1-9]"
t_expect_not "--ssh-agent: adding a key is refused" "Identity added"
OUT=$(SSH_AUTH_SOCK=$agent/sock ssh-add -l | wc -l); RC=0
t_expect "the user's agent still holds both keys" 0 "^2$"
cat > "$cfg.k1" <<JSON
{"ssh_agent": {"keys": ["$FP1"]}}
JSON
OUT=$(cd "$ws" && "$PADDOCK" --config "$cfg.k1" run --ssh-agent -- sh -c 'ssh-add -l; ssh-keygen -Y sign -q -f k2.pub -n file data && echo k2-signed; true' 2>&1 </dev/null); RC=$?
t_expect "ssh_agent.keys: only the listed key is shown" 0 " k1 "
t_expect_not "ssh_agent.keys: another key is neither listed nor signable" " k2 |k2-signed"
rm -f "$ws/data.sig"
printf '{"ssh_agent": {"confirm": ["/bin/false"]}}' > "$cfg.no"
OUT=$(cd "$ws" && "$PADDOCK" --config "$cfg.no" run --ssh-agent=confirm -- sh -c 'ssh-keygen -Y sign -q -f k1.pub -n file data && echo signed' 2>&1 </dev/null); RC=$?
t_expect_not "--ssh-agent=confirm: a refused confirmation means no signature" "^signed"
rm -f "$ws/data.sig"
printf '{"ssh_agent": {"confirm": ["/bin/true"]}}' > "$cfg.yes"
OUT=$(cd "$ws" && "$PADDOCK" --config "$cfg.yes" run --keep-log --ssh-agent=confirm -- sh -c 'ssh-keygen -Y sign -q -f k1.pub -n file data && echo signed' 2>&1 </dev/null); RC=$?
t_expect "--ssh-agent=confirm: an accepted confirmation signs" 0 "signed"
log=$(printf '%s' "$OUT" | sed -n 's/.*audit log kept: \(run-[0-9-]*\).*/\1/p')
OUT=$("$PADDOCK" logs --type ssh_sign "$log" 2>&1); RC=$?
t_expect "each signature is logged as ssh_sign" 0 "ssh_sign.*decision=allow"
t_expect_not "... without key material" "BEGIN|AAAA"
OUT=$(cd "$ws" && "$PADDOCK" run --ssh-agent=confirm -- true 2>&1 </dev/null); RC=$?
t_expect "--ssh-agent=confirm without a confirm command is refused, saying what to set" 125 "ssh_agent"
OUT=$(cd "$ws" && env -u SSH_AUTH_SOCK "$PADDOCK" run --ssh-agent -- true 2>&1 </dev/null); RC=$?
t_expect "--ssh-agent without an agent is refused" 125 "SSH_AUTH_SOCK"
pr -- sh -c 'echo "sock=${SSH_AUTH_SOCK:-none}"; ls /run/paddock 2>&1; true'
t_expect "without --ssh-agent there is no agent inside" 0 "sock=none"
t_done
