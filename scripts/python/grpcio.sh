#!/usr/bin/env bash
# Provisions gRPC C-core for Python, Debian's python3-grpcio, for the interop test that drives a real non-JavaScript
# xDS client over mutual TLS (test/src/grpc-core-mtls.test.ts). Idempotent: when /usr/bin/python3 already imports
# grpc it prints nothing on stderr; otherwise it installs the package with apt-get (one line on stderr) and fails
# with a clear message when it cannot (no apt-get, not root, package unknown). The last line on stdout is the
# Python interpreter to run (the system one: the Debian package installs into its dist-packages).
# Usage: bash scripts/python/grpcio.sh
set -euo pipefail

python=/usr/bin/python3
say() { echo "python-grpcio: $*" >&2; }
fail() { say "$*"; exit 1; }
has_grpc() { [ -x "$python" ] && "$python" -I -c 'import grpc' >/dev/null 2>&1; }

if ! has_grpc; then
  command -v apt-get >/dev/null 2>&1 ||
    fail "gRPC C-core for Python is needed and apt-get is not available: install Debian's python3-grpcio (or run the tests on Debian or Ubuntu)"
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null ||
      fail "installing python3-grpcio needs root (or password-less sudo): apt-get install -y python3-grpcio"
    sudo=(sudo -n)
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt=("${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 -qq)
  say "installing the Debian package python3-grpcio (gRPC C-core) with apt-get"
  # A fresh machine may have no package lists yet: update them only when the package is unknown.
  if ! apt-cache show python3-grpcio >/dev/null 2>&1; then
    "${apt[@]}" update >/dev/null || fail "apt-get update failed"
  fi
  "${apt[@]}" install -y --no-install-recommends python3 python3-grpcio >/dev/null 2>&1 ||
    fail "apt-get install python3-grpcio failed (run it by hand to see why)"
  has_grpc || fail "python3-grpcio is installed but $python cannot import grpc"
fi
echo "$python"
