#!/usr/bin/env bash
# Provisions etcd (v3 API) for the etcd adapter tests and for kube-apiserver's storage: Debian's etcd-server via apt
# when running as root on Debian (seconds), otherwise built from the Go module proxy (about a minute, then cached).
# XDS_ETCD_FROM=go forces the Go build. Prints the path of the executable.
. "$(dirname "$0")/lib.sh"
VER=${ETCD_VERSION:-v3.6.16}
if [ "${XDS_ETCD_FROM:-}" != go ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  if [ ! -x /usr/bin/etcd ]; then
    say "installing Debian etcd-server with apt-get"
    install_apt() {
      [ -x /usr/bin/etcd ] && return
      apt-get update -q >/dev/null 2>&1 || true
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends etcd-server >/dev/null
    }
    with_lock "$XDS_REGISTRY_CACHE/etcd-apt" install_apt
  fi
  echo /usr/bin/etcd
  exit 0
fi
DIR=$XDS_REGISTRY_CACHE/etcd-$VER
BIN=$DIR/etcd
build() {
  [ -x "$BIN" ] && return
  say "building etcd $VER from the Go module proxy (about a minute the first time) into $DIR"
  mkdir -p "$DIR"
  go_build_scratch "$BIN" "go.etcd.io/etcd/server/v3@$VER" go.etcd.io/etcd/server/v3
}
with_lock "$DIR" build
echo "$BIN"
