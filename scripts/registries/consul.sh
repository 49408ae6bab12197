#!/usr/bin/env bash
# Provisions Consul for the Consul adapter tests, built from the Go module proxy as a dependency of a scratch module.
# 1.13.9 is the newest MPL-2.0 release whose dependencies the proxy serves (later MPL releases need modules the
# checksum database refuses; 1.17+ is BUSL). Its catalog, health and agent HTTP APIs and blocking queries are the
# ones current Consul serves. 3-6 minutes the first time, then cached by version. Prints the path of the executable.
. "$(dirname "$0")/lib.sh"
VER=${CONSUL_VERSION:-v1.13.9}
DIR=$XDS_REGISTRY_CACHE/consul-$VER
BIN=$DIR/consul
build() {
  [ -x "$BIN" ] && return
  say "building consul $VER from the Go module proxy (3-6 min the first time) into $DIR"
  mkdir -p "$DIR"
  go_build_scratch "$BIN" "github.com/hashicorp/consul@$VER" github.com/hashicorp/consul
}
with_lock "$DIR" build
echo "$BIN"
