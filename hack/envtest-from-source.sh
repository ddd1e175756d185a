#!/usr/bin/env bash
# Builds the envtest control-plane binaries (kube-apiserver and etcd) from the Go module proxy and
# caches them where setup-envtest would, because setup-envtest's binary downloads are not reachable
# from our build machines. A second run finds the cache and returns at once.
#
# Usage: hack/envtest-from-source.sh <kubernetes-version, e.g. 1.37.2>
# Prints the directory that holds the binaries (suitable for KUBEBUILDER_ASSETS) on stdout; all
# progress goes to stderr.
set -euo pipefail

K8S_VERSION="${1:?usage: $0 <kubernetes version, e.g. 1.37.2>}"
K8S_VERSION="${K8S_VERSION#v}"
MINOR="$(cut -d. -f2 <<<"$K8S_VERSION")"
ASSETS_ROOT="${ENVTEST_ASSETS_ROOT:-${XDG_DATA_HOME:-$HOME/.local/share}/kubebuilder-envtest}"
DEST="$ASSETS_ROOT/k8s/${K8S_VERSION}-linux-amd64"
GO="${GO:-go}"

log() { printf '[envtest] %s\n' "$*" >&2; }

if [[ -x "$DEST/kube-apiserver" && -x "$DEST/etcd" && -x "$DEST/kubectl" ]]; then
  echo "$DEST"
  exit 0
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/envtest-build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/apiserver" "$WORK/etcd" "$DEST.partial"

# Count the packages `go build -v` compiles so a cold build (about 10 minutes on 2 cores) shows that
# it is moving.
progress() {
  local what="$1" n=0 line
  while IFS= read -r line; do
    case "$line" in
      *" "*|"") printf '%s\n' "$line" >&2 ;; # compiler output, not a package path
      *) n=$((n + 1)); if (( n % 100 == 0 )); then log "$what: compiled $n packages"; fi ;;
    esac
  done
  log "$what: compiled $n packages"
}

log "building kube-apiserver v$K8S_VERSION and etcd from source into $DEST (cold: ~10-15 min on 2 cores)"

# --- kube-apiserver and kubectl -------------------------------------------------------------------
# k8s.io/kubernetes replaces its staging modules with local paths, which do not exist in the module
# zip. Replace each of them with the published k8s.io/<name> v0.<minor>.<patch> instead.
MODINFO="$(cd "$WORK/apiserver" && GOFLAGS=-mod=mod "$GO" mod download -json "k8s.io/kubernetes@v$K8S_VERSION")"
modfield() { sed -n 's/^[[:space:]]*"'"$1"'": "\(.*\)",*$/\1/p' <<<"$MODINFO" | head -n1; }
KMOD_FILE="$(modfield GoMod)"
KMOD_DIR="$(modfield Dir)"
# The module proxy knows the release time but not the git commit, so gitCommit stays unset.
KMOD_INFO="$(modfield Info)"
BUILD_DATE="$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$KMOD_INFO")"
[[ -f "$KMOD_FILE" && -d "$KMOD_DIR" ]] || { log "could not download k8s.io/kubernetes@v$K8S_VERSION"; exit 1; }
STAGING_VERSION="v0.${K8S_VERSION#*.}"

{
  echo "module envtest-kube-apiserver"
  echo
  echo "go $(sed -n 's/^go \(.*\)$/\1/p' "$KMOD_FILE")"
  echo
  echo "require k8s.io/kubernetes v$K8S_VERSION"
  echo
  echo "replace ("
  sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/k8s.io/[a-z0-9-]*$#\t\1 => \1 '"$STAGING_VERSION"'#p' "$KMOD_FILE"
  echo ")"
} >"$WORK/apiserver/go.mod"
log "kube-apiserver: $(grep -c '=>' "$WORK/apiserver/go.mod") staging modules replaced with $STAGING_VERSION"

BUILD_DATE="${BUILD_DATE:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}"
LDFLAGS=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS+=" -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$MINOR"
  LDFLAGS+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$BUILD_DATE"
done

(
  cd "$WORK/apiserver"
  for cmd in kube-apiserver kubectl; do
    log "$cmd: compiling"
    CGO_ENABLED=0 GOFLAGS=-mod=mod "$GO" build -v -trimpath -ldflags "-s -w $LDFLAGS" \
      -o "$DEST.partial/$cmd" "k8s.io/kubernetes/cmd/$cmd" 2>&1 | progress "$cmd"
    [[ "${PIPESTATUS[0]}" == 0 ]] || exit 1
  done
)

# --- etcd -----------------------------------------------------------------------------------------
# The etcd version that this Kubernetes release is tested with.
ETCD_VERSION="${ETCD_VERSION:-$(sed -n 's/^ETCD_VERSION=\${ETCD_VERSION:-\([0-9.]*\)}$/\1/p' "$KMOD_DIR/hack/lib/etcd.sh")}"
[[ -n "$ETCD_VERSION" ]] || { log "could not find ETCD_VERSION in k8s.io/kubernetes hack/lib/etcd.sh"; exit 1; }
cat >"$WORK/etcd/main.go" <<'GO'
// Command etcd is the etcd server, built from its Go module for envtest.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
(
  cd "$WORK/etcd"
  "$GO" mod init envtest-etcd >/dev/null 2>&1
  GOFLAGS=-mod=mod "$GO" get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >/dev/null 2>&1
  GOFLAGS=-mod=mod "$GO" mod tidy >/dev/null 2>&1
  log "etcd v$ETCD_VERSION: compiling"
  CGO_ENABLED=0 "$GO" build -v -trimpath -ldflags "-s -w" -o "$DEST.partial/etcd" . 2>&1 | progress "etcd"
  [[ "${PIPESTATUS[0]}" == 0 ]] || exit 1
)

rm -rf "$DEST"
mv "$DEST.partial" "$DEST"
log "$("$DEST/kube-apiserver" --version), $("$DEST/etcd" --version | head -n1)"
echo "$DEST"
