# Shared by the provisioning scripts in this directory (sourced, not run). Each script installs or builds one real
# service registry for the registry tests and caches the result by version OUTSIDE the source tree, so a fresh
# clone on the same machine reuses it. Contract of every script: progress goes to stderr (one line when it builds,
# nothing when cached); the last line on stdout is the absolute path of the executable (or jar).
set -euo pipefail

XDS_REGISTRY_CACHE=${XDS_REGISTRY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xds/registries}
mkdir -p "$XDS_REGISTRY_CACHE"

# Go: the module proxy only; the module and build caches stay where Go keeps them by default (persistent, shared
# with other Go work on this machine) unless the caller set GOMODCACHE/GOCACHE. No toolchain downloads.
export PATH=$PATH:/usr/local/go/bin
export GOTOOLCHAIN=local GOFLAGS=-mod=mod

# Prints its arguments to stderr with a prefix.
say() { echo "registries: $*" >&2; }

# Fails with a clear message when a tool is missing.
need() { command -v "$1" >/dev/null 2>&1 || { say "$1 is needed to provision $2 (not found on PATH)"; exit 1; }; }

# Runs "$@" while holding an exclusive lock on $1.lock, so two test runs never build the same thing at once.
with_lock() {
  local target=$1; shift
  exec 9>"$target.lock"
  flock 9
  "$@"
  flock -u 9
}

# Builds the main package $3 of a scratch Go module that requires $2 (space-separated module@version list), writing
# the executable to $1 atomically. Scratch module: `go install mod@v` is refused for modules with replace lines.
# Extra `go mod edit` flags (e.g. replaces) may follow in GO_MOD_EDIT; extra link flags in GO_LDFLAGS.
go_build_scratch() {
  local out=$1 requires=$2 pkg=$3 src
  need go "$(basename "$out")"
  src=$(mktemp -d "$XDS_REGISTRY_CACHE/src.XXXXXX")
  (
    cd "$src"
    go mod init xdsregistrybuild >/dev/null 2>&1
    for r in $requires; do go mod edit -require="$r"; done
    if [ -n "${GO_MOD_EDIT:-}" ]; then eval "go mod edit $GO_MOD_EDIT"; fi
    printf '//go:build tools\npackage tools\nimport _ "%s"\n' "$pkg" > tools.go
    go mod tidy >/dev/null 2>"$src/tidy.log" || { cat "$src/tidy.log" >&2; exit 1; }
    go build -trimpath -ldflags="-s -w ${GO_LDFLAGS:-}" -o "$out.tmp" "$pkg"
    mv "$out.tmp" "$out"
  )
  rm -rf "$src"
}
