#!/bin/bash
# SPDX-License-Identifier: MIT
# run-harness.sh - THREATS.md category 6: configuration that widens, missing kernel features
# that would make paddock run unprotected, and the sandbox turning itself off
. "$(dirname "$0")/lib.sh"

ws=$(t_ws harness)
cfgdir="$T_TMP/xdg-config"
mkdir -p "$cfgdir/paddock"
export XDG_CONFIG_HOME=$cfgdir

# --- user config (root's user config is /etc/paddock, as podman's is /etc/containers: the
# tests use --config FILE, which replaces the user file, plus XDG discovery when not root)
cfg="$cfgdir/paddock/config.json"
pdc() { (cd "$ws" && "$PADDOCK" --config "$cfg" run "$@" 2>&1 </dev/null); }
echo '{"net": "none", "hostname": "from-config", "env": {"CFGVAR": "cfg-value"}}' > "$cfg"
OUT=$(pdc -- sh -c 'hostname; echo $CFGVAR'); RC=$?
t_expect "the user config applies (net, hostname, env)" 0 "^from-config$"
t_expect "env from the user config" 0 "^cfg-value$"
if t_is_root; then
  t_skip "the user config is found through XDG_CONFIG_HOME" "root's user config is /etc/paddock"
else
  OUT=$(cd "$ws" && "$PADDOCK" run -- hostname 2>&1 </dev/null); RC=$?
  t_expect "the user config is found through XDG_CONFIG_HOME" 0 "^from-config$"
fi
OUT=$(pdc --hostname from-flag -- hostname); RC=$?
t_expect "options override the user config" 0 "^from-flag$"
echo '{"net": "none", "colour": "blue"}' > "$cfg"
OUT=$(pdc -- true); RC=$?
t_expect "an unknown key is an error naming file and key" 125 "config.json.*colour"
echo '{"net": "none",' > "$cfg"
OUT=$(pdc -- true); RC=$?
t_expect "a syntax error names the file and where" 125 "config.json.*(line|column|end of file)"
echo '{"net": "open"}' > "$cfg"
OUT=$(pdc -- true); RC=$?
t_expect "a bad value names key and value" 125 "net.*open"
echo '{"gpus": ["all"]}' > "$cfg"
OUT=$(pdc --net none -- true); RC=$?
t_expect "an unknown key (say, of a later version) is refused, not ignored" 125 "gpus.*unknown key"
echo '{"cpus": 2}' > "$cfg"
OUT=$(pdc --net none -- true); RC=$?
if [ "$RC" = 0 ]; then
  t_ok "a CPU limit from the config is enforced (delegated cgroup cpu controller)"
else
  t_expect "a CPU limit from the config that cannot be enforced is refused" 125 "cpus"
fi
OUT=$(cd "$ws" && "$PADDOCK" --config "$T_TMP/missing.json" run --net none -- true 2>&1 </dev/null); RC=$?
t_expect "--config with a missing file is an error" 125 "missing.json"
echo '{"net": "none", "protect": ["secrets-dir/"]}' > "$cfg"
OUT=$(pdc -- sh -c 'mkdir secrets-dir 2>&1; echo x > secrets-dir/f 2>&1'); RC=$?
if [ ! -e "$ws/secrets-dir/f" ]; then t_ok "the config's protect list adds protected paths"; else t_fail "config protect" "$OUT"; fi
rm -f "$cfg"

# --- the project config can only narrow
echo '{"net": "public"}' > "$ws/.paddock.json"
t_run "$ws" -- true
t_expect "a project cannot widen net from none to public" 125 "paddock.json.*net"
echo '{"volumes": ["/:/host"]}' > "$ws/.paddock.json"
t_run "$ws" -- true
t_expect "a project cannot add volumes" 125 "paddock.json.*volumes.*only narrow"
echo '{"env": {"LD_PRELOAD": "/x"}}' > "$ws/.paddock.json"
t_run "$ws" -- true
t_expect "a project cannot set env" 125 "paddock.json.*env"
echo '{"pids": 100000}' > "$ws/.paddock.json"
t_run "$ws" -- true
t_expect "a project cannot raise the process limit" 125 "paddock.json.*pids"
echo '{"protect": []}' > "$ws/.paddock.json"
t_run "$ws" -- sh -c 'echo x > .envrc'
if [ "$RC" != 0 ] && [ ! -s "$ws/.envrc" ]; then t_ok "an empty project protect list removes no protection"; else t_fail "project emptied protect" "$OUT"; fi
echo '{"protect": ["generated/"], "deny": ["evil.example"]}' > "$ws/.paddock.json"
t_run "$ws" -- sh -c 'mkdir generated 2>&1; echo done'
if [ ! -d "$ws/generated" ]; then t_ok "a project may add protected paths"; else t_fail "project protect" "$OUT"; fi
t_run "$ws" -- sh -c 'echo "{\"net\": \"public\"}" > .paddock.json'
if grep -q generated "$ws/.paddock.json"; then t_ok ".paddock.json cannot be changed from inside"; else t_fail ".paddock.json changed" "$(cat "$ws/.paddock.json")"; fi
rm -f "$ws/.paddock.json"
ln -s /etc/passwd "$ws/.paddock.json"
t_run "$ws" -- true
t_expect "a .paddock.json symlink is refused" 125 "symlink"
rm -f "$ws/.paddock.json"

# --- fail closed: a protection that cannot be set up stops the start
if [ -n "$PROBE" ]; then
  t_run "$ws" -- true
  t_expect "control: the sandbox starts normally" 0
  OUT=$(cd "$ws" && "$PROBE" deny landlock_create_ruleset 38 "$PADDOCK" run --net none -- echo RAN 2>&1 </dev/null); RC=$?
  t_expect "no Landlock: refuses to start, says why" 125 "Landlock is not available"
  t_expect_not "no Landlock: the command never ran" "^RAN$"
  OUT=$(cd "$ws" && "$PROBE" deny landlock_restrict_self 1 "$PADDOCK" run --net none -- echo RAN 2>&1 </dev/null); RC=$?
  t_expect "Landlock failing to apply refuses the start" 125 "Landlock"
  t_expect_not "... and the command never ran" "^RAN$"
  OUT=$(cd "$ws" && "$PROBE" deny clone-newuser 1 "$PADDOCK" run --net none -- echo RAN 2>&1 </dev/null); RC=$?
  t_expect "no user namespaces: refuses and points at doctor" 125 "user namespaces.*paddock doctor"
  OUT=$(cd "$ws" && "$PROBE" deny mount_setattr 38 "$PADDOCK" run --net none -- echo RAN 2>&1 </dev/null); RC=$?
  t_expect "read-only mounts impossible: refuses to start" 125 "could not"
  t_expect_not "... and the command never ran" "^RAN$"
  OUT=$(cd "$ws" && "$PROBE" deny seccomp 38 "$PADDOCK" run --net none -- echo RAN 2>&1 </dev/null); RC=$?
  t_expect "seccomp unavailable: refuses to start" 125 "seccomp"
  t_expect_not "... and the command never ran" "^RAN$"
  OUT=$(cd "$ws" && "$PROBE" deny mount 1 "$PADDOCK" run --net none -- echo RAN 2>&1 </dev/null); RC=$?
  t_expect "mounts impossible: refuses to start" 125 "could not"
  leftover=$(ls -A "$ws" | grep -E '^\.(envrc|vscode|mcp\.json)$' | tr '\n' ' ')
  if [ -z "$leftover" ]; then t_ok "a refused start leaves no placeholders"; else t_fail "placeholders left after a refused start" "$leftover"; fi
else
  t_skip "fail-closed tests" "probe not built"
fi

# --- the sandbox cannot turn its protections off
t_run "$ws" -- sh -c 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status'
t_expect "seccomp is in filter mode" 0 "Seccomp:[[:space:]]+2"
t_expect "no_new_privs is set" 0 "NoNewPrivs:[[:space:]]+1"
t_run "$ws" -- sh -c 'ls -A ${XDG_RUNTIME_DIR:-/run/user/$(id -u)} /run 2>&1; ls /tmp'
t_expect_not "no control socket or runtime state of paddock inside" "ctl\\.sock|run-[0-9]+"

t_done
