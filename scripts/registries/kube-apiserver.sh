#!/usr/bin/env bash
# Provisions kube-apiserver for the Kubernetes adapter tests: built from the Go module proxy as a dependency of a
# scratch module (k8s.io/kubernetes replaces its staging modules with ./staging paths, which do not apply to a
# dependency, so we replace each staging module by its published v0.X.Y). The longest build here: 5-10 minutes on
# a 2-core machine the first time, then cached by version. Prints the path of the executable.
. "$(dirname "$0")/lib.sh"
VER=${KUBE_VERSION:-v1.37.2}
DIR=$XDS_REGISTRY_CACHE/kube-apiserver-$VER
BIN=$DIR/kube-apiserver
build() {
  [ -x "$BIN" ] && return
  need go kube-apiserver
  say "building kube-apiserver $VER from the Go module proxy (5-10 min the first time) into $DIR"
  mkdir -p "$DIR"
  local staging=v0.${VER#v1.} minor=${VER#v1.} mod edits=""
  minor=${minor%%.*}
  go mod download -json "k8s.io/kubernetes@$VER" >/dev/null
  mod=$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$VER.mod
  for m in $(grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging' "$mod" | awk '{print $1}'); do
    edits="$edits -replace=$m=$m@$staging"
  done
  GO_MOD_EDIT=$edits \
  GO_LDFLAGS="-X k8s.io/component-base/version.gitVersion=$VER -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
    go_build_scratch "$BIN" "k8s.io/kubernetes@$VER" k8s.io/kubernetes/cmd/kube-apiserver
}
with_lock "$DIR" build
echo "$BIN"
