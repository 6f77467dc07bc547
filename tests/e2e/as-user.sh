#!/bin/bash
# SPDX-License-Identifier: MIT
# as-user.sh MODE SCRIPT: run an end-to-end test script as MODE = "user" (an unprivileged user:
# the current one when not root, else $PADDOCK_TEST_USER, default pdtest) or "root".
#
# When root runs a test as the unprivileged user, the binaries and scripts are copied to a
# world-readable temporary directory first: the build tree may sit under /root (0700).
set -u
mode=$1 script=$2
: "${PADDOCK:?}"
user=${PADDOCK_TEST_USER:-pdtest}

if [ "$mode" = root ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "1..0 # SKIP needs root (run the suite as root to cover paddock run by root)"
    exit 0
  fi
  exec bash "$script"
fi

if [ "$(id -u)" != 0 ]; then
  exec bash "$script"
fi
if ! id "$user" >/dev/null 2>&1; then
  echo "1..0 # SKIP no unprivileged test user '$user' (scripts/test creates it)"
  exit 0
fi
stage=$(mktemp -d /tmp/paddock-stage.XXXXXX)
trap 'rm -rf "$stage"' EXIT
chmod 755 "$stage"
cp "$PADDOCK" "$stage/paddock"
[ -n "${PROBE:-}" ] && [ -e "$PROBE" ] && cp "$PROBE" "$stage/probe"
cp "$(dirname "$script")"/*.sh "$stage/"
# tests/agents: the pinned agent CLIs some scripts install (package.json and its lock)
[ -d "$(dirname "$script")/../agents" ] && mkdir "$stage/agents" &&
  cp "$(dirname "$script")"/../agents/package*.json "$stage/agents/"
chmod -R a+rX "$stage"
home=$(getent passwd "$user" | cut -d: -f6)
runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" USER="$user" \
  LANG=C.UTF-8 TERM="${TERM:-xterm}" PADDOCK="$stage/paddock" \
  PROBE="$( [ -e "$stage/probe" ] && echo "$stage/probe")" \
  bash "$stage/$(basename "$script")"
