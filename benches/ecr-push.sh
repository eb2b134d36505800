#!/usr/bin/env bash
# Benchmarks ecr-push side by side with the floor and a peer, in one run,
# against the Debian docker-registry on loopback:
#   floor — curl PUTting the same blobs (POST, then one PUT each), 2 at a time, then the manifest;
#   hoist — the release ecr-push binary;
#   peer  — skopeo copy from the same OCI layout.
# Each push goes to a fresh repository. The image is 1 GiB in 4 layers of
# incompressible bytes, generated here. Also times a re-push of an image
# that is already there. Prints markdown.
# Usage: bash benches/ecr-push.sh [runs] [layer MiB]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
layer_mib=${2:-256}

bash scripts/setup >/dev/null
cargo build --release --locked --quiet -p ecr-push
bin=$PWD/target/x86_64-unknown-linux-gnu/release/ecr-push

work=$(mktemp -d)
registry_pid=
cleanup() { [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# The image: 4 random layers, a config and a manifest in an OCI layout.
layout=$work/image
mkdir -p "$layout/blobs/sha256"
printf '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
layers=""
for i in 1 2 3 4; do
  head -c $((layer_mib * 1024 * 1024)) /dev/urandom > "$work/layer"
  digest=$(sha256sum "$work/layer" | cut -d' ' -f1)
  mv "$work/layer" "$layout/blobs/sha256/$digest"
  layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$digest\",\"size\":$((layer_mib * 1024 * 1024))}"
done
config='{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
printf '%s' "$config" > "$work/config"
config_digest=$(sha256sum "$work/config" | cut -d' ' -f1)
mv "$work/config" "$layout/blobs/sha256/$config_digest"
manifest="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$config_digest\",\"size\":${#config}},\"layers\":[$layers]}"
printf '%s' "$manifest" > "$work/manifest"
manifest_digest=$(sha256sum "$work/manifest" | cut -d' ' -f1)
cp "$work/manifest" "$layout/blobs/sha256/$manifest_digest"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"bench"}}]}' \
  "$manifest_digest" "${#manifest}" > "$layout/index.json"

# The registry.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/registry.yml" <<CONFIG
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port, secret: bench}
CONFIG
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
until curl -sf "http://127.0.0.1:$port/v2/" >/dev/null; do sleep 0.1; done
export HOST=127.0.0.1:$port LAYOUT=$layout BIN=$bin MANIFEST=$work/manifest

cat > "$work/floor.sh" <<'FLOOR'
repo=bench/floor-$(date +%s%N)
upload() {
  location=$(curl -sf -X POST -D - -o /dev/null "http://$HOST/v2/$repo/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
  case "$location" in http*) ;; *) location="http://$HOST$location" ;; esac
  sep='?'; case "$location" in *\?*) sep='&' ;; esac
  curl -sf -X PUT -H 'Content-Type: application/octet-stream' -T "$LAYOUT/blobs/sha256/$1" "$location${sep}digest=sha256:$1" -o /dev/null
}
export -f upload; export repo
ls "$LAYOUT/blobs/sha256" | grep -v "$(basename "$(sha256sum "$MANIFEST" | cut -d' ' -f1)")" | xargs -P 2 -I{} bash -c 'upload {}'
curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$MANIFEST" "http://$HOST/v2/$repo/manifests/bench" -o /dev/null
FLOOR
cat > "$work/hoist.sh" <<'HOIST'
env "INPUT_SOURCE=$LAYOUT" "INPUT_REGISTRY=$HOST" "INPUT_REPOSITORY=bench/hoist-$(date +%s%N)" \
  INPUT_INSECURE-REGISTRY=true INPUT_TAGS=bench HOME=/tmp "$BIN" >/dev/null
HOIST
cat > "$work/peer.sh" <<'PEER'
# skopeo's blob-info cache would otherwise make it mount the blobs from the
# repository of an earlier run instead of uploading them: start it empty.
rm -f /var/lib/containers/cache/blob-info-cache-v1.* "$HOME"/.local/share/containers/cache/blob-info-cache-v1.*
skopeo copy -q --dest-tls-verify=false "oci:$LAYOUT:bench" "docker://$HOST/bench/skopeo-$(date +%s%N):bench"
PEER
cat > "$work/repush.sh" <<'REPUSH'
env "INPUT_SOURCE=$LAYOUT" "INPUT_REGISTRY=$HOST" INPUT_REPOSITORY=bench/again \
  INPUT_INSECURE-REGISTRY=true INPUT_TAGS=bench HOME=/tmp "$BIN" >/dev/null
REPUSH
for name in floor hoist peer repush; do bash "$work/$name.sh"; done
# The timed hoist runs upload every byte: check it once.
pushed=$(GITHUB_OUTPUT=$work/out bash -c 'touch $GITHUB_OUTPUT; bash '"$work/hoist.sh"'; grep -A1 "^pushed-bytes<<" $GITHUB_OUTPUT | tail -1')
[ "$pushed" -ge $((4 * layer_mib * 1024 * 1024)) ] || { echo "ecr-push uploaded only $pushed bytes" >&2; exit 1; }

hyperfine --runs "$runs" --style none --export-markdown "$work/times.md" \
  -n "floor: curl, 2 at a time" "bash $work/floor.sh" \
  -n "hoist: ecr-push" "bash $work/hoist.sh" \
  -n "peer: skopeo copy" "bash $work/peer.sh" >/dev/null
hyperfine --warmup 2 --runs 20 --style none --export-markdown "$work/repush.md" -n "hoist: re-push, already there" "bash $work/repush.sh" >/dev/null

rss() { { /usr/bin/time -f '%M' bash "$1" >/dev/null; } 2>&1 | tail -1; }
echo "### ecr-push: $((4 * layer_mib)) MiB in 4 layers into docker-registry ($runs runs, $(nproc) cores)"
echo
cat "$work/times.md"
echo
echo "| command | peak RSS (KiB) |"
echo "|:---|---:|"
echo "| floor: curl, 2 at a time | $(rss "$work/floor.sh") |"
echo "| hoist: ecr-push | $(rss "$work/hoist.sh") |"
echo "| peer: skopeo copy | $(rss "$work/peer.sh") |"
echo
cat "$work/repush.md"
