#!/bin/bash
# SPDX-License-Identifier: MIT
# images.sh - golden images and clones: import of a busybox rootfs made here, OCI and docker
# archives with layers and whiteouts, hostile archives refused, clones changed independently,
# their identity, reset, image rm refused while used; image build with mmdebstrap when the
# Debian mirror answers (PADDOCK_TEST_NO_BUILD=1 skips it)
. "$(dirname "$0")/lib.sh"

P=$PADDOCK
if t_is_root; then
  DATA=/var/lib/paddock
else
  export XDG_DATA_HOME=$T_TMP/data
  DATA=$XDG_DATA_HOME/paddock
fi
I=e2e$$ # image and sandbox names, unique for root (whose directories are fixed)
WS=$(t_ws ws)
cleanup_all() {
  "$P" rm -f "$I-a" "$I-b" >/dev/null 2>&1
  "$P" image rm "$I" "$I-oci" "$I-docker" "$I-deb" >/dev/null 2>&1
  t_cleanup
}
trap cleanup_all EXIT

BUSYBOX=$(command -v busybox)
if [ -z "$BUSYBOX" ] || ! file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked'; then
  for b in /bin/busybox /usr/bin/busybox; do
    if [ -x "$b" ]; then BUSYBOX=$b; fi
  done
fi
if [ -z "$BUSYBOX" ]; then
  echo "1..0 # SKIP busybox-static is not installed (scripts/deps test)"
  exit 0
fi

# --- a rootfs tarball made here: busybox, a marker, an ssh host key ---
R=$T_TMP/rootfs
mkdir -p "$R/bin" "$R/etc/ssh" "$R/usr/share" "$R/tmp" "$R/dev"
cp "$BUSYBOX" "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
echo "ID=paddock-e2e-$I" > "$R/etc/os-release"
echo "fake-host-key" > "$R/etc/ssh/ssh_host_ed25519_key"
echo "uninitialized" > "$R/etc/machine-id"
chmod 1777 "$R/tmp"
tar -C "$R" -czf "$T_TMP/rootfs.tar.gz" .

OUT=$("$P" image import "$I" "$T_TMP/rootfs.tar.gz" 2>&1); RC=$?
t_expect "image import of a rootfs tarball" 0 "^$I\$"
OUT=$("$P" image ls 2>&1); RC=$?
t_expect "image ls shows it with its base" 0 "^$I +[0-9.]+ [KM]iB .*import:rootfs.tar.gz"
OUT=$("$P" image ls --json 2>&1 | python3 -c 'import json,sys
for i in json.load(sys.stdin):
    if i["name"] == sys.argv[1]: print(i["format"], i["size"] > 1000, i["base"])' "$I"); RC=$?
t_expect "image ls --json: format, size, base" 0 "^rootfs True import:rootfs.tar.gz$"
OUT=$("$P" image import "$I" "$T_TMP/rootfs.tar.gz" 2>&1); RC=$?
t_expect "image import refuses an existing name" 125 "exists already"
OUT=$("$P" image import host "$T_TMP/rootfs.tar.gz" 2>&1); RC=$?
t_expect "image import refuses the name 'host'" 125 "not an image"

# --- ephemeral clones ---
t_run "$WS" --image "$I" -- /bin/busybox cat /etc/os-release
t_expect "run --image sees the image's /etc" 0 "^ID=paddock-e2e-$I\$"
t_run "$WS" --image "$I" -- /bin/busybox sh -c 'test -e /usr/bin/python3 && echo host-usr || echo image-usr; pwd'
t_expect "run --image does not see the host's /usr, starts in the workspace" 0 "^image-usr"$'\n'"$WS\$"
t_run "$WS" --image "$I" -- /bin/busybox sh -c 'echo changed > /etc/os-release && echo new > /usr/share/new && cat /etc/os-release && echo ws > ws-file'
t_expect "a clone can change its system files" 0 "^changed$"
t_run "$WS" --image "$I" -- /bin/busybox sh -c 'cat /etc/os-release; test -e /usr/share/new && echo leaked || echo fresh'
t_expect "the next ephemeral clone starts from the image again" 0 "^ID=paddock-e2e-$I"$'\n'"fresh\$"
if [ "$(cat "$WS/ws-file" 2>/dev/null)" = ws ]; then t_ok "the workspace is the real one in a clone"
else t_fail "the workspace is the real one in a clone" "ws-file: $(cat "$WS/ws-file" 2>&1)"; fi
if grep -q "ID=paddock-e2e-$I" "$DATA/images/$I/rootfs/etc/os-release" && [ ! -e "$DATA/images/$I/rootfs/usr/share/new" ]; then
  t_ok "the image itself is unchanged"
else t_fail "the image itself is unchanged" "$(cat "$DATA/images/$I/rootfs/etc/os-release")"; fi
OUT=$(ls -A "$DATA/tmp" 2>&1 | grep clone-); RC=0
t_expect_not "an ephemeral clone's layer is removed at exit" "clone-"
t_run "$WS" --image "$I" -- /bin/busybox sh -c 'cat /etc/machine-id; test -e /etc/ssh/ssh_host_ed25519_key && echo has-key || echo no-key; ls /etc/ssh'
t_expect "a clone has its own machine-id and no ssh host key" 0 "^[0-9a-f]{32}"$'\n'"no-key"
t_run "$WS" --image no-such-image -- /bin/true
t_expect "run --image of a missing image says what to do" 125 "no image named 'no-such-image'; 'paddock image ls'"

# --- persistent clones: independent, reset ---
OUT=$(cd "$WS" && "$P" create --net none --image "$I" "$I-a" /bin/busybox sleep 1000 2>&1 &&
  "$P" create --net none --image "$I" "$I-b" /bin/busybox sleep 1000 2>&1); RC=$?
t_expect "create --image makes two clones" 0
if [ -s "$DATA/sandboxes/$I-a/upper/etc/machine-id" ] 2>/dev/null || t_is_root || [ -d "$DATA/sandboxes/$I-a/upper" ]; then
  t_ok "create made the clone's writable layer"
else t_fail "create made the clone's writable layer" "$(ls -la "$DATA/sandboxes/$I-a" 2>&1)"; fi
OUT=$("$P" start "$I-a" 2>&1 && "$P" start "$I-b" 2>&1); RC=$?
t_expect "both clones start" 0
OUT=$("$P" exec "$I-a" /bin/busybox sh -c 'echo only-a > /etc/only-a; cat /etc/only-a' 2>&1); RC=$?
t_expect "a file written in clone a" 0 "^only-a$"
OUT=$("$P" exec "$I-b" /bin/busybox sh -c 'test -e /etc/only-a && echo visible || echo absent' 2>&1); RC=$?
t_expect "is absent in clone b" 0 "^absent$"
if [ -e "$DATA/images/$I/rootfs/etc/only-a" ]; then t_fail "and in the image" "it is there"; else t_ok "and in the image"; fi
MA=$("$P" exec "$I-a" /bin/busybox cat /etc/machine-id 2>&1)
MB=$("$P" exec "$I-b" /bin/busybox cat /etc/machine-id 2>&1)
if [[ $MA =~ ^[0-9a-f]{32}$ ]] && [[ $MB =~ ^[0-9a-f]{32}$ ]] && [ "$MA" != "$MB" ]; then
  t_ok "machine-ids differ between clones"
else t_fail "machine-ids differ between clones" "a: $MA" "b: $MB"; fi
OUT=$("$P" image rm "$I" 2>&1); RC=$?
t_expect "image rm is refused while sandboxes use it, naming them" 125 "used by the sandboxes $I-a, $I-b"
OUT=$("$P" stop -t 0 "$I-a" 2>&1 && "$P" start "$I-a" 2>&1 && "$P" exec "$I-a" /bin/busybox cat /etc/only-a 2>&1); RC=$?
t_expect "a persistent clone keeps its changes across stop and start" 0 "^only-a$"
OUT=$("$P" reset -f "$I-a" 2>&1 && "$P" start "$I-a" 2>&1 && "$P" exec "$I-a" /bin/busybox sh -c 'test -e /etc/only-a && echo kept || echo reset; cat /etc/machine-id' 2>&1); RC=$?
t_expect "reset returns a clone to the image" 0 "^reset$"
if printf '%s' "$OUT" | grep -q "$MA"; then t_fail "reset gives the clone a new machine-id" "$OUT"
else t_ok "reset gives the clone a new machine-id"; fi
OUT=$("$P" rm -f "$I-a" "$I-b" 2>&1 && "$P" image rm "$I" 2>&1); RC=$?
t_expect "image rm once no sandbox uses it" 0 "^$I\$"
OUT=$("$P" image ls 2>&1); RC=$?
t_expect_not "image ls no longer shows it" "^$I "

# --- OCI and docker archives: two layers, whiteouts, digests ---
mkarchives() {
  python3 - "$T_TMP" "$BUSYBOX" <<'EOF'
import hashlib, io, json, os, sys, tarfile
out, busybox = sys.argv[1], sys.argv[2]

def tarball(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            name, kind = e[0], e[1]
            ti = tarfile.TarInfo(name)
            if kind == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            elif kind == "file":
                data = e[2]
                ti.size, ti.mode = len(data), e[3] if len(e) > 3 else 0o644
                t.addfile(ti, io.BytesIO(data))
            elif kind == "symlink":
                ti.type, ti.linkname = tarfile.SYMTYPE, e[2]
                t.addfile(ti)
            elif kind == "hardlink":
                ti.type, ti.linkname = tarfile.LNKTYPE, e[2]
                t.addfile(ti)
            elif kind == "chr":
                ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
                t.addfile(ti)
    return buf.getvalue()

bb = open(busybox, "rb").read()
layer1 = tarball([("bin", "dir"), ("bin/busybox", "file", bb, 0o755), ("etc", "dir"),
                  ("etc/os-release", "file", b"ID=oci-layer1\n"), ("etc/gone", "file", b"x\n"),
                  ("opq", "dir"), ("opq/old", "file", b"old\n"), ("opq/sub", "dir"),
                  ("opq/sub/deep", "file", b"deep\n"), ("bin/link", "hardlink", "bin/busybox")])
# the opaque marker after a new entry of the same layer: that entry must stay
layer2 = tarball([("etc/.wh.gone", "file", b""), ("opq/new", "file", b"new\n"),
                  ("opq/.wh..wh..opq", "file", b""), ("etc/os-release", "file", b"ID=oci-layer2\n")])

def oci(path, layers, corrupt=False):
    blobs = {}
    def blob(data):
        d = hashlib.sha256(data).hexdigest()
        blobs[d] = data
        return {"digest": "sha256:" + d, "size": len(data)}
    cfg = blob(b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}')
    ls = []
    for l in layers:
        b = blob(l)
        b["mediaType"] = "application/vnd.oci.image.layer.v1.tar"
        ls.append(b)
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": dict(cfg, mediaType="application/vnd.oci.image.config.v1+json"), "layers": ls}
    m = blob(json.dumps(man).encode())
    index = {"schemaVersion": 2, "manifests": [dict(m, mediaType="application/vnd.oci.image.manifest.v1+json",
             annotations={"org.opencontainers.image.ref.name": "e2e:latest"})]}
    if corrupt:
        d = ls[0]["digest"][7:]
        blobs[d] = blobs[d][:-1024] + b"\0" * 1024 + b"garbage"
    entries = [("oci-layout", "file", b'{"imageLayoutVersion":"1.0.0"}'),
               ("index.json", "file", json.dumps(index).encode()), ("blobs", "dir"), ("blobs/sha256", "dir")]
    entries += [("blobs/sha256/" + d, "file", data) for d, data in blobs.items()]
    open(path, "wb").write(tarball(entries))

oci(out + "/oci.tar", [layer1, layer2])
oci(out + "/oci-corrupt.tar", [layer1, layer2], corrupt=True)
docker = [("manifest.json", "file", json.dumps([{"Config": "c.json", "RepoTags": ["e2e:docker"],
           "Layers": ["l1/layer.tar", "l2/layer.tar"]}]).encode()),
          ("c.json", "file", b"{}"), ("l1", "dir"), ("l1/layer.tar", "file", layer1),
          ("l2", "dir"), ("l2/layer.tar", "file", layer2)]
open(out + "/docker.tar", "wb").write(tarball(docker))

# hostile archives
open(out + "/h-dotdot.tar", "wb").write(tarball([("etc", "dir"), ("etc/../../escape", "file", b"x")]))
open(out + "/h-abs.tar", "wb").write(tarball([("/tmp/paddock-e2e-absolute", "file", b"x")]))
open(out + "/h-symlink.tar", "wb").write(tarball([("lib", "symlink", "/tmp"), ("lib/paddock-e2e-through", "file", b"x")]))
open(out + "/h-dev.tar", "wb").write(tarball([("etc", "dir"), ("etc/null", "chr")]))
open(out + "/h-hardlink.tar", "wb").write(tarball([("etc", "dir"), ("etc/passwd", "hardlink", "../../../etc/passwd")]))
# a device node under dev/ is skipped, not refused
open(out + "/devnull.tar", "wb").write(tarball([("bin", "dir"), ("bin/busybox", "file", bb, 0o755), ("dev", "dir"), ("dev/null", "chr")]))
EOF
}
if mkarchives; then t_ok "made OCI, docker and hostile archives"; else t_fail "made OCI, docker and hostile archives"; fi
if command -v zstd >/dev/null; then zstd -q -f "$T_TMP/oci.tar" -o "$T_TMP/oci.tar.zst"; OCI=$T_TMP/oci.tar.zst
else OCI=$T_TMP/oci.tar; fi

OUT=$("$P" image import "$I-oci" "$OCI" 2>&1); RC=$?
t_expect "an OCI archive (zstd) imports" 0 "oci, 2 layers"
t_run "$WS" --image "$I-oci" -- /bin/busybox sh -c 'cat /etc/os-release; test -e /etc/gone && echo gone-present || echo gone-deleted; ls /opq | tr "\n" " "; test -e /bin/link && echo hardlink'
t_expect "layers apply in order" 0 "^ID=oci-layer2"
t_expect "a whiteout deletes the lower layer's file" 0 "gone-deleted"
t_expect "an opaque directory keeps only its own layer's entries" 0 "^new hardlink$"
OUT=$("$P" image ls --json 2>&1); RC=$?
t_expect "the OCI image's ref is recorded" 0 "\"name\":\"$I-oci\""
OUT=$("$P" image import "$I-docker" "$T_TMP/docker.tar" 2>&1); RC=$?
t_expect "a docker-save archive imports" 0 "docker, 2 layers"
t_run "$WS" --image "$I-docker" -- /bin/busybox sh -c 'cat /etc/os-release; test -e /etc/gone || echo gone-deleted'
t_expect "its layers and whiteouts apply" 0 "^ID=oci-layer2"$'\n'"gone-deleted"
"$P" image rm "$I-oci" "$I-docker" >/dev/null 2>&1

OUT=$("$P" image import "$I-bad" "$T_TMP/oci-corrupt.tar" 2>&1); RC=$?
t_expect "an OCI layer that does not match its digest is refused" 125 "does not match its digest"

hostile() { # DESC FILE PATTERN
  OUT=$("$P" image import "$I-bad" "$T_TMP/$2" 2>&1); RC=$?
  t_expect "refused: $1" 125 "$3"
}
hostile "a '..' entry, named" h-dotdot.tar "refusing entry 'etc/../../escape': '..'"
hostile "an absolute entry, named" h-abs.tar "refusing entry '/tmp/paddock-e2e-absolute': absolute path"
hostile "a file through a symlink, named" h-symlink.tar "refusing entry 'lib/paddock-e2e-through': a directory on its path is a symlink"
hostile "a device node outside /dev, named" h-dev.tar "refusing entry 'etc/null': device node"
hostile "a hard link out of the tree, named" h-hardlink.tar "refusing entry 'etc/passwd': hard link target"
if [ -e /tmp/paddock-e2e-absolute ] || [ -e /tmp/paddock-e2e-through ] || [ -e "$T_TMP/escape" ]; then
  t_fail "no hostile entry was written outside the tree"
else t_ok "no hostile entry was written outside the tree"; fi
OUT=$(ls -A "$DATA/images" 2>&1); RC=0
t_expect_not "a refused import leaves nothing behind" "$I-bad|\\.tmp-"
OUT=$("$P" image import "$I-bad" /dev/null 2>&1); RC=$?
t_expect "an empty file is refused" 125 "image import"
OUT=$("$P" image import "$I-dev" "$T_TMP/devnull.tar" 2>&1); RC=$?
t_expect "device nodes under dev/ are skipped with a notice" 0 "1 device nodes under /dev were skipped"
"$P" image rm "$I-dev" >/dev/null 2>&1

# --- image build (mmdebstrap; about 25 s with a reachable Debian mirror) ---
if [ -n "${PADDOCK_TEST_NO_BUILD:-}" ]; then
  t_skip "image build of a minimal Debian" "PADDOCK_TEST_NO_BUILD is set"
elif ! command -v mmdebstrap >/dev/null; then
  t_skip "image build of a minimal Debian" "mmdebstrap is not installed (scripts/deps test)"
elif ! timeout 10 python3 -c 'import urllib.request; urllib.request.urlopen("http://deb.debian.org/debian/dists/bookworm/Release", timeout=8)' 2>/dev/null; then
  t_skip "image build of a minimal Debian" "the Debian mirror deb.debian.org is not reachable"
elif ! t_is_root && ! grep -q "^$(id -un):" /etc/subuid 2>/dev/null; then
  OUT=$("$P" image build "$I-deb" --from bookworm 2>&1); RC=$?
  t_expect "image build without subordinate uids says what to do" 125 "/etc/subuid"
else
  OUT=$("$P" image build "$I-deb" --from bookworm --packages nonexistent-pkg-e2e 2>&1 | tail -5; exit "${PIPESTATUS[0]}"); RC=$?
  t_expect "image build names a package that does not exist" 125 "package 'nonexistent-pkg-e2e' is not in bookworm"
  T0=$(date +%s)
  OUT=$("$P" image build "$I-deb" --from bookworm 2>&1 | tail -5; exit "${PIPESTATUS[0]}"); RC=$?
  t_expect "image build of a minimal Debian bookworm ($(( $(date +%s) - T0 )) s)" 0 "^$I-deb\$"
  t_run "$WS" --image "$I-deb" -- sh -c '. /etc/os-release; echo $VERSION_CODENAME; dpkg -s apt | grep ^Status'
  t_expect "a clone of the built image runs its own shell and dpkg" 0 "^bookworm"$'\n'"Status: install ok installed"
fi

t_done
