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

# --- interception: a TLS upstream with a test CA that records what it receives ---
srv=$T_TMP/srv
mkdir -p "$srv"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=paddock e2e upstream CA" \
  -keyout "$srv/ca.key" -out "$srv/ca.pem" >/dev/null 2>&1
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=api.test" \
  -keyout "$srv/tls.key" -out "$srv/tls.csr" >/dev/null 2>&1
printf 'subjectAltName=DNS:api.test,DNS:other.test,DNS:llm.test\n' > "$srv/ext"
openssl x509 -req -in "$srv/tls.csr" -CA "$srv/ca.pem" -CAkey "$srv/ca.key" -CAcreateserial -days 2 \
  -extfile "$srv/ext" -out "$srv/tls.pem" >/dev/null 2>&1
git init -q --bare "$srv/repo.git"
git -C "$T_TMP" init -q src && (cd "$T_TMP/src" && echo content > f && git add f && \
  git -c user.email=t@t -c user.name=t commit -q -m init && git push -q "$srv/repo.git" HEAD:master)
cat > "$srv/up.py" <<'PY'
import base64, hashlib, http.server, json, os, socketserver, ssl, subprocess, sys, threading, time
LOG = sys.argv[1]; lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def record(self, body=b""):
        with lock, open(LOG, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "headers": dict(self.headers.items()),
                                "body": body.decode("latin-1")}) + "\n")
    def reply(self, code, body, ctype="text/plain"):
        self.send_response(code); self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""
    def do_POST(self): self.do_GET()
    def do_GET(self):
        b = self.body(); self.record(b)
        if self.path.startswith("/repo.git"): return self.git(b)
        if self.path == "/sse":
            self.send_response(200); self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked"); self.end_headers()
            for ev in (b"data: one\n\n", b"data: two\n\n"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(ev), ev)); self.wfile.flush(); time.sleep(1.5)
            self.wfile.write(b"0\r\n\r\n"); return
        if self.path == "/slow": time.sleep(4)
        if self.path.startswith("/echo"): return self.echo()
        if self.path == "/ws" and self.headers.get("Upgrade", "").lower() == "websocket":
            acc = base64.b64encode(hashlib.sha1((self.headers["Sec-WebSocket-Key"] +
                  "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            self.send_response(101); self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade"); self.send_header("Sec-WebSocket-Accept", acc)
            self.end_headers(); self.wfile.flush()
            h = self.rfile.read(2); n = h[1] & 0x7f; mask = self.rfile.read(4)
            data = bytes(x ^ mask[i % 4] for i, x in enumerate(self.rfile.read(n)))
            self.wfile.write(bytes([0x81, len(data)]) + data); self.wfile.flush(); return
        self.reply(200, b"upstream-ok " + self.path.encode() + b"\n")
    def echo(self):
        # reflects what it received, the way an echo endpoint or a chatty error does
        auth = self.headers.get("Authorization", "")
        body = json.dumps({"headers": dict(self.headers.items()), "path": self.path}).encode()
        if self.path == "/echo-gzip":
            import gzip
            z = gzip.compress(body); self.send_response(200)
            self.send_header("Content-Encoding", "gzip"); self.send_header("Content-Length", str(len(z)))
            self.end_headers(); self.wfile.write(z); return
        if self.path == "/echo-b64":
            return self.reply(200, b"b64=" + base64.b64encode(auth.encode()) + b"\n")
        if self.path == "/echo-head":
            self.send_response(200); self.send_header("X-Echo", auth)
            self.send_header("Content-Length", "3"); self.end_headers(); self.wfile.write(b"ok\n"); return
        if self.path == "/echo-chunked":
            # the value split over many small chunks (and so TLS records)
            self.send_response(200); self.send_header("Transfer-Encoding", "chunked"); self.end_headers()
            for i in range(0, len(body), 5):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(body[i:i+5]), body[i:i+5])); self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n"); return
        self.reply(200, body, "application/json")
    def git(self, b):
        path, _, q = self.path.partition("?")
        env = dict(os.environ, GIT_PROJECT_ROOT=os.path.dirname(os.path.dirname(LOG)) + "/srv",
                   GIT_HTTP_EXPORT_ALL="1", PATH_INFO=path, QUERY_STRING=q,
                   REQUEST_METHOD=self.command, CONTENT_TYPE=self.headers.get("Content-Type", ""),
                   CONTENT_LENGTH=str(len(b)))
        out = subprocess.run(["git", "http-backend"], input=b, env=env, capture_output=True).stdout
        head, _, body = out.partition(b"\r\n\r\n")
        code, ctype = 200, "text/plain"
        for line in head.decode().split("\r\n"):
            k, _, v = line.partition(": ")
            if k == "Status": code = int(v.split()[0])
            if k == "Content-Type": ctype = v
        self.reply(code, body, ctype)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer): daemon_threads = True
tls = S(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[2], sys.argv[3])
tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
plain = S(("127.0.0.1", 0), H)
print(tls.server_address[1], plain.server_address[1], flush=True)
threading.Thread(target=plain.serve_forever, daemon=True).start()
tls.serve_forever()
PY
coproc UP { exec python3 "$srv/up.py" "$srv/requests.log" "$srv/tls.pem" "$srv/tls.key" 2>"$srv/up.err"; }
read -r TLS_PORT HTTP_PORT <&"${UP[0]}"
trap 'kill $UP_PID 2>/dev/null; t_cleanup' EXIT
cat > "$cfg.tls" <<JSON
{"secrets": {"API": {"from": "env:PD_TEST_REAL", "hosts": ["api.test"], "env": "API_KEY"}},
 "tls": {"upstream_ca": ["$srv/ca.pem"]}, "llm_hosts": ["llm.test"], "inspect": ["llm.test"]}
JSON
HOSTS=(--add-host "api.test:127.0.0.1" --add-host "other.test:127.0.0.1" --add-host "llm.test:127.0.0.1")
pt() { OUT=$(cd "$ws" && PD_TEST_REAL=$REAL "$PADDOCK" --config "$cfg.tls" run "${HOSTS[@]}" --secret API "$@" 2>&1 </dev/null); RC=$?; }
got() { grep -c -- "$1" "$srv/requests.log" 2>/dev/null || echo 0; }
U=https://api.test:$TLS_PORT
pt -- sh -c "curl -sS -H \"Authorization: Bearer \$API_KEY\" $U/header"
t_expect "curl: an intercepted request to the secret's host works" 0 "upstream-ok /header"
OUT=$(grep '"/header"' "$srv/requests.log"); RC=0
t_expect "the real value arrives at the upstream in the header" 0 "Bearer $REAL"
t_expect_not "... and the placeholder does not" "pdk_api_"
pt -- sh -c "curl -sS -u \"me:\$API_KEY\" $U/basic"
OUT=$(grep '"/basic"' "$srv/requests.log" | python3 -c 'import json,sys,base64
for l in sys.stdin: print(base64.b64decode(json.loads(l)["headers"]["Authorization"].split()[1]).decode())'); RC=0
t_expect "in Basic credentials the real value is swapped in (decoded)" 0 "^me:$REAL$"
pt -- sh -c "curl -sS \"$U/query?key=\$API_KEY&x=1\""
OUT=$(grep '"/query' "$srv/requests.log"); RC=0
t_expect "in the query string the real value is swapped in" 0 "key=$REAL"
n0=$(got pdk_api_)
pt -- sh -c "curl -sS -o /dev/null -w '%{http_code}' -H \"X-Key: \$API_KEY\" https://other.test:$TLS_PORT/leak"
t_expect "the placeholder to another host is refused (403)" 0 "403"
pt -- sh -c "curl -sS -o /dev/null -w '%{http_code}' -H \"X-Key: \$API_KEY\" http://api.test:$HTTP_PORT/plain"
t_expect "the placeholder over plaintext HTTP is refused, even to its host" 0 "403"
pt -- sh -c "curl -sS -d \"token=\$API_KEY\" $U/body; echo rc=\$?"
t_expect_not "the placeholder in a request body is refused" "upstream-ok /body"
pt -- sh -c "curl -sS -o /dev/null -w '%{http_code} ' -H \"X-Key: \$API_KEY\" $U/one -o /dev/null -w '%{http_code} ' -H \"X-Key: \$API_KEY\" https://other.test:$TLS_PORT/two"
t_expect "a second request on the same connection to another host is refused too" 0 "200 403"
if [ "$(got pdk_api_)" = "$n0" ]; then t_ok "no upstream ever received a placeholder"; else t_fail "no upstream received a placeholder" "$(grep pdk_api_ "$srv/requests.log")"; fi
# a bound host that reflects what it received: the value never comes back
pt -- sh -c "curl -sS -H \"Authorization: Bearer \$API_KEY\" $U/echo; echo; echo rc=\$?"
t_expect "a reflecting host answers through interception" 0 '"Authorization": "Bearer \*\*\*\*'
t_expect_not "... and its answer holds no real value (redacted)" "$REAL"
pt -- sh -c "curl -sS -H \"Authorization: Bearer \$API_KEY\" $U/echo-chunked; echo; echo rc=\$?"
t_expect "a reflection in 5-byte chunks arrives whole" 0 '"path": "/echo-chunked"'
t_expect_not "... without the real value, however it is split" "$REAL"
pt -- sh -c "curl -sS -H \"Authorization: Bearer \$API_KEY\" $U/echo-b64 | cut -c5- | base64 -d 2>/dev/null; echo; echo rc=\$?"
t_expect_not "a reflection in base64 does not decode to the real value" "$REAL"
pt -- sh -c "curl -sS -D - -o /dev/null -H \"Authorization: Bearer \$API_KEY\" $U/echo-head; echo rc=\$?"
t_expect "a reflection in a response header is redacted" 0 "X-Echo: Bearer \*\*\*\*"
t_expect_not "... and holds no real value" "$REAL"
pt -- sh -c "curl -sS --compressed -H \"Authorization: Bearer \$API_KEY\" $U/echo; echo; echo rc=\$?"
t_expect_not "asking for compression does not hide a reflection" "$REAL"
OUT=$(grep '"/echo"' "$srv/requests.log" | tail -n 1); RC=0
t_expect "a bound host is asked for identity encoding" 0 '"Accept-Encoding": "identity"'
pt -- sh -c "curl -sS -o /dev/null -w '%{http_code}' -H \"Authorization: Bearer \$API_KEY\" $U/echo-gzip; echo; echo rc=\$?"
t_expect "a compressed answer from a bound host is refused (502)" 0 "^502"
pt -- sh -c "curl -sS --compressed -H \"Authorization: Bearer \$API_KEY\" $U/echo-gzip; echo; echo rc=\$?"
t_expect_not "... and never reaches the sandbox" "$REAL"
pt -- sh -c "curl -sS -H 'Host: other.test' $U/hostswap; echo rc=\$?"
t_expect_not "a Host header that differs from the SNI is refused" "upstream-ok /hostswap"
pt -- node -e "fetch('$U/node', {headers: {authorization: 'Bearer ' + process.env.API_KEY}}).then(r => r.text()).then(t => console.log(t.trim()), e => { console.log('ERR', e.cause || e); process.exit(1) })"
t_expect "node fetch through interception (NODE_EXTRA_CA_CERTS)" 0 "upstream-ok /node"
pt -- python3 -c "import os, urllib.request; print(urllib.request.urlopen(urllib.request.Request('$U/python', headers={'X-Api-Key': os.environ['API_KEY']})).read().decode().strip())"
t_expect "python urllib through interception (SSL_CERT_FILE)" 0 "upstream-ok /python"
OUT=$(grep -E '"/(node|python)"' "$srv/requests.log" | grep -c "$REAL"); RC=0
t_expect "node and python sent the real value" 0 "^2$"
if command -v go >/dev/null; then
  mkdir -p "$T_TMP/go"
  cat > "$T_TMP/go/main.go" <<'GO'
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	req, _ := http.NewRequest("GET", os.Args[1], nil)
	req.Header.Set("Authorization", "Bearer "+os.Getenv("API_KEY"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	b, _ := io.ReadAll(resp.Body)
	fmt.Print(string(b))
}
GO
  if (cd "$T_TMP/go" && GOCACHE=$T_TMP/go/cache GOPATH=$T_TMP/go/path GO111MODULE=off go build -o "$ws/goclient" main.go) >"$T_TMP/go/build.log" 2>&1; then
    pt -- ./goclient "$U/go"
    t_expect "a Go-built client through interception (SSL_CERT_FILE)" 0 "upstream-ok /go"
    OUT=$(grep '"/go"' "$srv/requests.log"); RC=0
    t_expect "... sent the real value" 0 "Bearer $REAL"
  else
    t_fail "build the Go client" "$(cat "$T_TMP/go/build.log")"
  fi
  rm -f "$ws/goclient"
else
  t_skip "a Go-built client through interception" "go is not installed (golang-go)"
fi
pt -- sh -c "GIT_CURL_VERBOSE=1 git -c http.extraHeader=\"Authorization: Bearer \$API_KEY\" clone -q $U/repo.git cloned 2>git.err && cat cloned/f || grep -i 'certif\|tls\|ssl\|fatal' git.err | head -20"
t_expect "git clone over smart HTTP through interception" 0 "^content$"
rm -rf "$ws/cloned"
OUT=$(grep '"/repo.git/info/refs' "$srv/requests.log" | head -1); RC=0
t_expect "git's request carried the real value" 0 "Bearer $REAL"
pt -- sh -c "curl -sSN $U/sse | while read -r l; do [ -n \"\$l\" ] && echo \"\$(date +%s.%N) \$l\"; done"
t1=$(printf '%s\n' "$OUT" | awk '/data: one/ {print $1}'); t2=$(printf '%s\n' "$OUT" | awk '/data: two/ {print $1}')
if [ -n "$t1" ] && [ -n "$t2" ] && python3 -c "import sys; sys.exit(0 if float('$t2') - float('$t1') > 1.0 else 1)"; then
  t_ok "server-sent events flow through interception as they are sent"
else t_fail "SSE flows" "$OUT"; fi
pt -- python3 -c "
import os, socket, ssl
c = ssl.create_default_context(cafile=os.environ['SSL_CERT_FILE']).wrap_socket(socket.create_connection(('api.test', $TLS_PORT)), server_hostname='api.test')
c.sendall(b'GET /ws HTTP/1.1\r\nHost: api.test:$TLS_PORT\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')
h = b''
while b'\r\n\r\n' not in h: h += c.recv(1)
m = bytes([1, 2, 3, 4]); p = b'ws-echo'
c.sendall(bytes([0x81, 0x80 | len(p)]) + m + bytes(x ^ m[i % 4] for i, x in enumerate(p)))
r = c.recv(2); print(h.split(b'\r\n')[0].decode(), c.recv(r[1]).decode())"
t_expect "a websocket upgrade, then frames both ways, through interception" 0 "101 .*ws-echo"
OUT=$(cd "$ws" && PD_TEST_REAL=$REAL "$PADDOCK" --config "$cfg.tls" run --keep-log "${HOSTS[@]}" --secret API -- sh -c "curl -sS -H \"Authorization: Bearer \$API_KEY\" $U/logged; curl -sS -H \"X: \$API_KEY\" https://other.test:$TLS_PORT/x; curl -sS -H \"Authorization: Bearer \$API_KEY\" $U/echo" 2>&1 </dev/null); RC=$?
log=$(printf '%s' "$OUT" | sed -n 's/.*audit log kept: \(run-[0-9-]*\).*/\1/p')
OUT=$("$PADDOCK" logs --json "$log" 2>&1); RC=$?
t_expect "an injection is logged as secret_inject with the secret's name" 0 '"type":"secret_inject".*"secret":"API"'
t_expect "a refused leak is logged as secret_leak" 0 '"type":"secret_leak"'
t_expect "a redacted reflection is logged as secret_reflect with the secret's name" 0 '"type":"secret_reflect".*"secret":"API"'
t_expect_not "the log never holds the real value" "$REAL"
OUT=$(curl -sS --cacert "$srv/ca.pem" --resolve "api.test:$TLS_PORT:127.0.0.1" -x "http://127.0.0.1:3128" "$U/from-outside" 2>&1); RC=$?
t_expect_not "the proxy cannot be used from outside the sandbox" "upstream-ok"
# the sandbox's CA signs only inside: the host does not trust it
cp "$srv/ca.pem" "$ws/upstream-ca.pem"
OUT=$(cd "$ws" && PD_TEST_REAL=$REAL "$PADDOCK" --config "$cfg.tls" run "${HOSTS[@]}" --secret API -- sh -c "curl -sS --cacert upstream-ca.pem $U/pinned; echo rc=\$?" 2>&1 </dev/null); RC=$?
t_expect "a client trusting only the real CA sees paddock's certificate and refuses it" 0 "rc=60"
rm -f "$ws/git.err"

# --- the agent's status: a request to an llm host in flight is "thinking" ---
S=st$$
OUT=$(cd "$ws" && PD_TEST_REAL=$REAL "$PADDOCK" --config "$cfg.tls" create "${HOSTS[@]}" "$S" sh -c "curl -sS https://llm.test:$TLS_PORT/slow; sleep 1000" 2>&1 && PD_TEST_REAL=$REAL "$PADDOCK" --config "$cfg.tls" start "$S" 2>&1); RC=$?
t_expect "a fake agent that asks its model starts" 0
sleep 1.5
OUT=$("$PADDOCK" --config "$cfg.tls" status --format json "$S" 2>&1); RC=$?
t_expect "a request to an llm host in flight: thinking" 0 '"state":"thinking"'
sleep 5
OUT=$("$PADDOCK" --config "$cfg.tls" status --format json "$S" 2>&1); RC=$?
t_expect "the answer came: no longer thinking" 0 '"agent":\{"state":"(running|idle)"'
"$PADDOCK" rm -f "$S" >/dev/null 2>&1

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
