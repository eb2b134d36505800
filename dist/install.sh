#!/usr/bin/env bash
# hoist's installer: the one way a composite action gets its binary.
#
#   dist/install.sh NAME      prints the path of the verified binary NAME
#
# - HOIST_BIN_DIR set: NAME is taken from that directory (self-hosted
#   runners, local builds, the tests); nothing is downloaded.
# - Otherwise the release manifest beside this script (dist/manifest, written
#   by the release workflow on the release commit) names the version, the
#   download base URL and the SHA-256 of every asset. The asset for the
#   runner's OS and architecture is taken from the tool cache when its
#   checksum matches, else downloaded from BASE/VERSION/ASSET
#   (HOIST_DOWNLOAD_URL overrides BASE), checked, and cached. Nothing is ever
#   fetched from "latest", and a checksum mismatch is refused.
# - A ref without a manifest (someone pinning @main) is refused with what
#   to do instead.
#
# Errors are one `::error::` line on stdout and exit status 1.
set -euo pipefail

fail() {
  printf '::error title=hoist installer::%s\n' "$1"
  exit 1
}

name=${1:-}
case "$name" in
  bump-manifest|ecr-push|oidc-assume|open-promotion-pr|sign|wait-for-sync) ;;
  *) fail "unknown hoist binary '${name}'%0AHint: name one of bump-manifest, ecr-push, oidc-assume, open-promotion-pr, sign, wait-for-sync" ;;
esac

if [ -n "${HOIST_BIN_DIR:-}" ]; then
  binary="${HOIST_BIN_DIR%/}/${name}"
  [ -x "$binary" ] || fail "HOIST_BIN_DIR is set, but ${binary} is not an executable%0AHint: point HOIST_BIN_DIR at the directory holding the hoist binaries, or unset it to install the pinned release"
  printf '%s\n' "$binary"
  exit 0
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
manifest="$here/manifest"
[ -f "$manifest" ] || fail "this ref of hoist has no release manifest (dist/manifest), so there is no pinned binary to install: it is not a release (pinning @main?)%0AHint: pin a release, such as uses: hoist-actions/hoist/actions/${name}@v1 or a release commit's sha, or set HOIST_BIN_DIR to a directory holding the hoist binaries"

version='' base=''
declare -A checksums=()
while read -r key value rest; do
  case "$key" in
    ''|'#'*) ;;
    version) version=$value ;;
    base-url) base=$value ;;
    *)
      [[ "$key" =~ ^[0-9a-f]{64}$ ]] || fail "dist/manifest has a malformed line starting '${key}'%0AHint: the manifest is written by the release workflow; re-pin a release"
      checksums[$value]=$key
      ;;
  esac
done < "$manifest"
[[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]] || fail "dist/manifest names no version (found '${version}')%0AHint: the manifest is written by the release workflow; re-pin a release"
base=${HOIST_DOWNLOAD_URL:-$base}
[ -n "$base" ] || fail "dist/manifest names no base-url%0AHint: set HOIST_DOWNLOAD_URL to where the release assets are"

os=${RUNNER_OS:-$(uname -s)}
arch=${RUNNER_ARCH:-$(uname -m)}
case "$os" in
  Linux|linux) os=unknown-linux-gnu ;;
  macOS|Darwin) os=apple-darwin ;;
  Windows|MINGW*|MSYS*|CYGWIN*) os=pc-windows-msvc ;;
  *) fail "no hoist build for the OS '${os}'%0AHint: hoist is built for Linux, macOS and Windows; set HOIST_BIN_DIR to binaries built for this OS" ;;
esac
case "$arch" in
  X64|x86_64|amd64) arch=x86_64 ;;
  ARM64|arm64|aarch64) arch=aarch64 ;;
  *) fail "no hoist build for the architecture '${arch}'%0AHint: hoist is built for x86_64 and aarch64; set HOIST_BIN_DIR to binaries built for this machine" ;;
esac
target="${arch}-${os}"
suffix=''
[ "$os" = pc-windows-msvc ] && suffix=.exe
asset="${name}-${version}-${target}${suffix}"
expected=${checksums[$asset]:-}
[ -n "$expected" ] || fail "the ${version} release has no ${asset}%0AHint: this OS and architecture are not released; set HOIST_BIN_DIR to binaries built for this machine"

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

cache="${RUNNER_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}}/hoist/${version}/${target}"
binary="$cache/${name}${suffix}"
if [ -f "$binary" ] && [ "$(sha256_of "$binary")" = "$expected" ]; then
  printf '%s\n' "$binary"
  exit 0
fi

# Plain HTTP only to loopback; TLS is always verified.
case "$base" in
  https://*) ;;
  http://127.0.0.1[:/]*|http://localhost[:/]*|http://\[::1\][:/]*) ;;
  *) fail "the download URL '${base}' is neither https:// nor loopback http://%0AHint: use an https:// URL in HOIST_DOWNLOAD_URL" ;;
esac
mkdir -p "$cache"
partial=$(mktemp "$cache/.${name}.XXXXXX")
trap 'rm -f "$partial"' EXIT
url="${base%/}/${version}/${asset}"
if ! error=$(curl --fail --silent --show-error --location --proto '=https,http' \
  --proto-redir '=https' --retry 3 --output "$partial" "$url" 2>&1); then
  fail "could not download ${url}: ${error//$'\n'/ }%0AHint: check the network and HOIST_DOWNLOAD_URL, or set HOIST_BIN_DIR"
fi
actual=$(sha256_of "$partial")
[ "$actual" = "$expected" ] || fail "${asset} from ${url} has SHA-256 ${actual}, but the release manifest says ${expected}: refused, nothing was installed%0AHint: the download was tampered with or corrupted; check HOIST_DOWNLOAD_URL and any proxy in between"
chmod 755 "$partial"
mv -f "$partial" "$binary"
trap - EXIT
printf '%s\n' "$binary"
