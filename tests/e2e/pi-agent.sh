#!/bin/bash
# SPDX-License-Identifier: MIT
# pi-agent.sh - a real agent CLI end to end: the Pi coding agent (npm
# @mariozechner/pi-coding-agent, pinned in tests/agents/) runs under paddock's pi profile
# against a mock LLM API on loopback (llm.test via --add-host, TLS from a test CA) that
# scripts its tool calls. Its API key is a placeholder inside; the proxy swaps in the real
# one. The agent's edits land in the workspace and nothing else there changes.
# docs/design/agent-e2e.md tells how the mock works and how to add another agent.
. "$(dirname "$0")/lib.sh"

for tool in node npm python3 openssl sha256sum; do
  command -v $tool >/dev/null || { t_skip "pi agent" "$tool is not installed"; t_done; exit; }
done
# the package's engines field says node >= 20.6 (Debian 12's nodejs is 18.20)
node_ok=$(node -e 'const [a, b] = process.versions.node.split(".").map(Number); console.log(a > 20 || (a == 20 && b >= 6) ? "yes" : "no")')
if [ "$node_ok" != yes ]; then
  t_skip "pi agent" "pi 0.73.1 needs node >= 20.6; this node is $(node --version)"; t_done; exit
fi

# --- the agent, installed once per lock file into a cache outside the tree ---
# as-user.sh stages tests/agents next to the scripts; from the tree it is ../agents
src=$(dirname "$0")/agents
[ -f "$src/package-lock.json" ] || src=$(dirname "$0")/../agents
if [ ! -f "$src/package-lock.json" ]; then
  t_skip "pi agent" "tests/agents/package-lock.json not found next to $0"; t_done; exit
fi
hash=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-12)
# root installs into a shared world-readable cache; a user reuses it when root owns it, else
# keeps its own (never runs code another unprivileged user could have written)
shared=/var/tmp/paddock-tests/agents-$hash
if [ -n "${PADDOCK_TEST_AGENTS_DIR:-}" ]; then agents=$PADDOCK_TEST_AGENTS_DIR/agents-$hash
elif t_is_root; then agents=$shared
elif [ -f "$shared/.complete" ] && [ "$(stat -c %u "$shared")" = 0 ]; then agents=$shared
else agents=${XDG_CACHE_HOME:-$HOME/.cache}/paddock-tests/agents-$hash
fi
if [ ! -f "$agents/.complete" ]; then
  mkdir -p "$(dirname "$agents")"
  t_is_root && [ "$agents" = "$shared" ] && chmod 755 "$(dirname "$agents")"
  rm -rf "$agents.tmp" && mkdir -p "$agents.tmp"
  cp "$src/package.json" "$src/package-lock.json" "$agents.tmp/"
  t_diag "installing the pinned agents into $agents (npm ci, once)"
  # no install scripts: pi needs none, and a test install must not run them
  if ! (cd "$agents.tmp" && timeout 600 npm ci --ignore-scripts --no-audit --no-fund \
        --loglevel=error >npm.log 2>&1); then
    code=$(sed -n 's/^npm \(error\|ERR!\) code \([A-Z0-9_]*\).*/\2/p' "$agents.tmp/npm.log" | head -1)
    tail=$(tail -8 "$agents.tmp/npm.log")
    rm -rf "$agents.tmp"
    case "$code" in # the registry out of reach skips; anything else (a stale lock...) fails
    ECONNREFUSED | ENOTFOUND | ETIMEDOUT | EAI_AGAIN | ECONNRESET | ENETUNREACH | EHOSTUNREACH | \
    ERR_SOCKET_TIMEOUT | E5[0-9][0-9] | "")
      t_diag "$tail"
      t_skip "pi agent" "npm registry not reachable: npm ci failed${code:+ ($code)}" ;;
    *) t_fail "npm ci installs the pinned agents" "npm error code $code" "$tail" ;;
    esac
    t_done; exit
  fi
  chmod -R a+rX "$agents.tmp"
  rm -rf "$agents" && mv "$agents.tmp" "$agents" && touch "$agents/.complete"
fi
PI_BIN=$agents/node_modules/.bin/pi
OUT=$(node "$PI_BIN" --version 2>&1); RC=$?
t_expect "pi from the pinned install runs on this node ($(node --version))" 0 "^0\.73\.1"

# --- a test CA and the mock LLM (OpenAI chat completions, streamed) ---
srv=$T_TMP/srv
mkdir -p "$srv"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=paddock e2e llm CA" \
  -keyout "$srv/ca.key" -out "$srv/ca.pem" >/dev/null 2>&1
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=llm.test" \
  -keyout "$srv/tls.key" -out "$srv/tls.csr" >/dev/null 2>&1
printf 'subjectAltName=DNS:llm.test\n' > "$srv/ext"
openssl x509 -req -in "$srv/tls.csr" -CA "$srv/ca.pem" -CAkey "$srv/ca.key" -CAcreateserial -days 2 \
  -extfile "$srv/ext" -out "$srv/tls.pem" >/dev/null 2>&1
# the conversation: one step per model call, chosen by how many tool results the request
# already carries, so a retried request gets the same answer
cat > "$srv/script.json" <<'JSON'
[
 {"tool": "write", "args": {"path": "notes/plan.md", "content": "# Plan\n\nwritten by pi under paddock\n"}},
 {"tool": "edit", "args": {"path": "src/app.py",
   "edits": [{"oldText": "GREETING = \"hello\"", "newText": "GREETING = \"hello from the agent\""}]}},
 {"tool": "bash", "args": {"command": "grep -c 'hello from the agent' src/app.py"}},
 {"text": "Done: wrote notes/plan.md and changed the greeting in src/app.py."}
]
JSON
cat > "$srv/mock-llm.py" <<'PY'
# mock-llm.py LOG CERT KEY SCRIPT: an OpenAI chat completions server that scripts a conversation.
# Every request is appended to LOG as JSON; the key it wants is $MOCK_LLM_KEY.
import http.server, json, os, socketserver, ssl, sys, threading
LOG, CERT, KEY, SCRIPT = sys.argv[1:5]
STEPS = json.load(open(SCRIPT)); WANT = os.environ["MOCK_LLM_KEY"]; lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def record(self, body, **extra):
        with lock, open(LOG, "a") as f:
            f.write(json.dumps(dict({"method": self.command, "path": self.path,
                                     "headers": dict(self.headers.items()),
                                     "body": body.decode("utf-8", "replace")}, **extra)) + "\n")
    def send(self, code, obj):
        b = json.dumps(obj).encode()
        self.send_response(code); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def do_GET(self):
        self.record(b""); self.send(404, {"error": {"message": "no such path", "type": "not_found"}})
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Authorization") != "Bearer " + WANT:
            self.record(body, answer="401")
            return self.send(401, {"error": {"message": "bad key", "type": "invalid_request_error"}})
        if not self.path.endswith("/chat/completions"):
            self.record(body, answer="404")
            return self.send(404, {"error": {"message": "no such path", "type": "not_found"}})
        req = json.loads(body)
        done = sum(1 for m in req.get("messages", []) if m.get("role") == "tool")
        step = STEPS[min(done, len(STEPS) - 1)]
        self.record(body, answer="step %d" % done)
        base = {"id": "chatcmpl-mock%d" % done, "object": "chat.completion.chunk",
                "created": 1700000000, "model": req.get("model", "mock")}
        if "tool" in step:
            deltas = [{"role": "assistant", "tool_calls": [{"index": 0, "id": "call_%d" % done,
                       "type": "function", "function": {"name": step["tool"], "arguments": ""}}]}]
            args = json.dumps(step["args"])
            # the arguments arrive in pieces, as a real model streams them
            for i in range(0, len(args), 16):
                deltas.append({"tool_calls": [{"index": 0, "function": {"arguments": args[i:i + 16]}}]})
            finish = "tool_calls"
        else:
            deltas = [{"role": "assistant", "content": ""}] + \
                     [{"content": w + " "} for w in step["text"].split(" ")]
            finish = "stop"
        chunks = [dict(base, choices=[{"index": 0, "delta": d, "finish_reason": None}]) for d in deltas]
        chunks.append(dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": finish}]))
        chunks.append(dict(base, choices=[], usage={"prompt_tokens": 10, "completion_tokens": 5,
                                                    "total_tokens": 15}))
        self.send_response(200); self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked"); self.end_headers()
        for ev in ["data: " + json.dumps(c) + "\n\n" for c in chunks] + ["data: [DONE]\n\n"]:
            ev = ev.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(ev), ev)); self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n"); self.wfile.flush()
class S(socketserver.ThreadingMixIn, http.server.HTTPServer): daemon_threads = True
srv = S(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(CERT, KEY)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
PY
REAL="sk-real-$$-$RANDOM-do-not-leak"
coproc LLM { MOCK_LLM_KEY=$REAL exec python3 "$srv/mock-llm.py" "$srv/requests.log" "$srv/tls.pem" "$srv/tls.key" "$srv/script.json" 2>"$srv/mock.err"; }
read -r PORT <&"${LLM[0]}"
trap 'kill $LLM_PID 2>/dev/null; t_cleanup' EXIT
if [ -z "${PORT:-}" ]; then t_fail "the mock LLM starts" "$(cat "$srv/mock.err")"; t_done; exit; fi

# --- the workspace, the config, pi's own config dir ---
ws=$(t_ws pi-ws)
rm -f "$ws/probe"
mkdir -p "$ws/src" "$ws/docs"
printf 'GREETING = "hello"\n\nprint(GREETING)\n' > "$ws/src/app.py"
printf '# demo\n' > "$ws/README.md"
printf 'keep me\n' > "$ws/docs/keep.txt"
snapshot() { # every path but the two the agent is told to change: type, mode, content
  (cd "$ws" && find . \( -path ./notes -o -path ./src/app.py \) -prune -o -printf '%y %m %p\n' | sort &&
   find . \( -path ./notes -o -path ./src/app.py \) -prune -o -type f -exec sha256sum {} + | sort); }
before=$(snapshot)
cfg=$T_TMP/config.json
# MOCKLLM is asked for by --secret; OPENAI is exposed by the pi profile itself, which reads
# OPENAI_API_KEY among others (src/store/profile.c)
cat > "$cfg" <<JSON
{"secrets": {"MOCKLLM": {"from": "env:PD_TEST_LLM_KEY", "hosts": ["llm.test"], "env": "MOCK_LLM_API_KEY"},
             "OPENAI": {"from": "env:PD_TEST_LLM_KEY", "hosts": ["llm.test"], "env": "OPENAI_API_KEY"}},
 "tls": {"upstream_ca": ["$srv/ca.pem"]}}
JSON
# pi reads ~/.pi/agent/models.json; the sandbox's home is an empty tmpfs, so a directory of the
# test is mounted there (read-write: pi keeps auth.json, settings and sessions in it)
pidir=$T_TMP/pi-agent
mkdir -p "$pidir"
cat > "$pidir/models.json" <<JSON
{"providers": {
 "mock": {"baseUrl": "https://llm.test:$PORT/v1", "api": "openai-completions",
  "apiKey": "MOCK_LLM_API_KEY",
  "compat": {"supportsDeveloperRole": false, "supportsReasoningEffort": false},
  "models": [{"id": "mock-coder", "name": "Mock Coder", "contextWindow": 32000, "maxTokens": 4096}]},
 "mock-openai": {"baseUrl": "https://llm.test:$PORT/v1", "api": "openai-completions",
  "apiKey": "OPENAI_API_KEY",
  "compat": {"supportsDeveloperRole": false, "supportsReasoningEffort": false},
  "models": [{"id": "mock-coder", "contextWindow": 32000, "maxTokens": 4096}]}}}
JSON
chmod -R a+rwX "$pidir"
PROMPT="Write notes/plan.md and change the greeting in src/app.py."
pi_run() { # pi_run WS [paddock run options] -- PI ARGS...: the agent in its sandbox, output in OUT
  local ws=$1; shift
  OUT=$(cd "$ws" && PD_TEST_LLM_KEY=$REAL timeout 120 "$PADDOCK" --config "$cfg" run --keep-log \
    --add-host llm.test:127.0.0.1 -v "$agents:/tmp/paddock-agents:ro" -v "$pidir:$HOME/.pi/agent" \
    -e PATH=/tmp/paddock-agents/node_modules/.bin:/usr/local/bin:/usr/bin:/bin -e PI_OFFLINE=1 \
    "$@" 2>&1 </dev/null); RC=$?
}
pi_run "$ws" --profile pi --secret MOCKLLM -- pi --provider mock --model mock-coder --no-session -p "$PROMPT"
t_expect "pi runs under the pi profile and gives the scripted final answer" 0 "Done: wrote notes/plan.md"
t_diag "pi printed: $(printf '%s' "$OUT" | tail -3)"
log=$(printf '%s' "$OUT" | sed -n 's/.*audit log kept: \(run-[0-9-]*\).*/\1/p')

# --- the edits landed, nothing else changed ---
OUT=$(cat "$ws/notes/plan.md" 2>&1); RC=$?
t_expect "the write tool call landed in the workspace with the scripted content" 0 "^# Plan"
t_expect "... all of it" 0 "written by pi under paddock"
OUT=$(cat "$ws/src/app.py" 2>&1); RC=$?
t_expect "the edit tool call changed src/app.py" 0 '^GREETING = "hello from the agent"$'
t_expect "... and only the scripted line" 0 'print\(GREETING\)'
OUT=$(cd "$ws" && find notes -printf '%p\n' | sort | tr '\n' ' '); RC=0
t_expect "the agent added only notes/plan.md" 0 '^notes notes/plan.md $'
after=$(snapshot)
if [ "$before" = "$after" ]; then t_ok "nothing else in the workspace changed"
else t_fail "nothing else in the workspace changed" "$(diff <(printf '%s\n' "$before") <(printf '%s\n' "$after"))"; fi
t_diag "pi's own files in its agent dir: $(cd "$pidir" && find . -type f | sort | tr '\n' ' ')"

# --- the mock's side: the real key, never the placeholder ---
OUT=$(python3 - "$srv/requests.log" "$REAL" <<'PY'
import json, sys
real_ok = 0
for l in open(sys.argv[1]):
    r = json.loads(l)
    auth = {k.lower(): v for k, v in r["headers"].items()}.get("authorization", "-")
    real_ok += auth == "Bearer " + sys.argv[2]
    print(r["method"], r["path"], r.get("answer"), "real-key" if auth == "Bearer " + sys.argv[2] else auth[:20])
print("requests with the real key:", real_ok)
PY
); RC=$?
t_diag "$OUT"
t_expect "the mock answered the four scripted model calls" 0 "POST /v1/chat/completions step 3 real-key"
t_expect "every model call carried the real key, swapped in by the proxy" 0 "with the real key: 4$"
t_expect_not "... none was refused for a wrong key" " 401 "
n=$(wc -l < "$srv/requests.log")
if grep -q "pdk_" "$srv/requests.log"; then t_fail "the mock never saw a placeholder" "$(grep -o 'pdk_[a-z0-9_]*' "$srv/requests.log" | head -3)"
else t_ok "the mock never saw a placeholder ($n requests)"; fi
OUT=$(python3 - "$srv/requests.log" <<'PY'
import json, sys
reqs = [json.loads(json.loads(l)["body"]) for l in open(sys.argv[1]) if json.loads(l).get("answer") == "step 3"]
tools = [m for m in reqs[0]["messages"] if m.get("role") == "tool"] if reqs else []
print(len(tools), " | ".join(str(m.get("content"))[:80].replace("\n", " ") for m in tools))
print("tools offered:", " ".join(sorted(t["function"]["name"] for t in reqs[0].get("tools", []))) if reqs else "")
PY
); RC=$?
t_diag "$OUT"
t_expect "the model got the three tool results back" 0 "^3 "
t_expect "... the bash tool ran inside and saw the edited file" 0 "^3 .*\\| 1 *$"
t_expect "... and pi offered its bash, edit and write tools" 0 "tools offered:.*bash .*edit .*write"

# --- the audit log ---
OUT=$("$PADDOCK" logs --json "$log" 2>&1); RC=$?
t_expect "the audit log has the key's injection as secret_inject" 0 '"type":"secret_inject".*"secret":"MOCKLLM"'
t_expect_not "the log never holds the real key" "$REAL"
OUT=$(printf '%s\n' "$OUT" | python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin if l.startswith("{")]
print("injections:", sum(e["type"] == "secret_inject" for e in ev))
print("other hosts:", sorted({e.get("host") for e in ev if e["type"] == "net" and e.get("host") != "llm.test"}))'); RC=$?
t_expect "... one injection per model call" 0 "injections: 4"
t_expect "the agent reached no host but its model (PI_OFFLINE)" 0 'other hosts: \[\]'
OUT=$("$PADDOCK" logs --json "$log" 2>&1 | python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin if l.startswith("{")]
ex = [e.get("argv") for e in ev if e["type"] == "exec"]
print("execs:", len(ex)); [print(a) for a in ex if a and "grep" in " ".join(a)]'); RC=$?
if printf '%s' "$OUT" | grep -q "^execs: 0"; then
  t_skip "the bash tool's command is in the audit log as an exec event" "this paddock logs no exec events"
else t_expect "the bash tool's command is in the audit log as an exec event" 0 "'grep', '-c', 'hello from the agent', 'src/app.py'"; fi
# --- the profile by the command's name, with the key it reads exposed without --secret ---
ws2=$(t_ws pi-ws2)
rm -f "$ws2/probe"
mkdir -p "$ws2/src" && printf 'GREETING = "hello"\n' > "$ws2/src/app.py"
n0=$(wc -l < "$srv/requests.log")
pi_run "$ws2" -- pi --provider mock-openai --model mock-coder --no-session -p "$PROMPT"
t_expect "pi chosen by name: the profile exposes OPENAI_API_KEY and the agent finishes" 0 "Done: wrote"
log2=$(printf '%s' "$OUT" | sed -n 's/.*audit log kept: \(run-[0-9-]*\).*/\1/p')
OUT=$(cat "$ws2/notes/plan.md" "$ws2/src/app.py" 2>&1); RC=$?
t_expect "... its edits landed" 0 'GREETING = "hello from the agent"'
OUT=$(tail -n +$((n0 + 1)) "$srv/requests.log" | grep -c "Bearer $REAL"); RC=0
t_expect "... its four model calls carried the real key" 0 "^4$"
OUT=$("$PADDOCK" logs --json "$log2" 2>&1); RC=$?
t_expect "... the profile was pi, from the command's name" 0 '"type":"start".*"profile":"pi"'
t_expect "... injected as the OPENAI secret" 0 '"type":"secret_inject".*"secret":"OPENAI"'
t_expect_not "... and MOCKLLM, not asked for, was not exposed" '"secret":"MOCKLLM"'
t_done
