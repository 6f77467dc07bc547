#!/bin/bash
# SPDX-License-Identifier: MIT
# run-as-user.sh SCRIPT [ARG...]: run a TAP script as an unprivileged user. Not root: as this
# user. Root: as $PADDOCK_TEST_USER (default pdtest), with the script and every argument that
# is a file copied to a world-readable directory first (the build tree may be under /root).
set -u
script=$1; shift
if [ "$(id -u)" != 0 ]; then exec bash "$script" "$@"; fi
user=${PADDOCK_TEST_USER:-pdtest}
if ! id "$user" >/dev/null 2>&1; then
  echo "1..0 # SKIP no unprivileged test user '$user' (scripts/test creates it)"
  exit 0
fi
stage=$(mktemp -d /tmp/paddock-stage.XXXXXX)
trap 'rm -rf "$stage"' EXIT
chmod 755 "$stage"
cp "$script" "$stage/script.sh"
args=()
for a in "$@"; do
  if [ -f "$a" ]; then cp "$a" "$stage/$(basename "$a")"; args+=("$stage/$(basename "$a")"); else args+=("$a"); fi
done
chmod -R a+rX "$stage"
home=$(getent passwd "$user" | cut -d: -f6)
cd "$stage" && runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" \
  USER="$user" LANG=C.UTF-8 bash "$stage/script.sh" "${args[@]}"
