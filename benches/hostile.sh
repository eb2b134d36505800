#!/usr/bin/env bash
# Bounded memory against hostile peers and files (issue 19): each case runs a
# release binary under /usr/bin/time -v and must end with one clear error
# and a peak RSS of at most 32 MiB:
#   wait-for-sync — Argo CD answers every request with a body that never ends;
#   oidc-assume   — STS answers AssumeRoleWithWebIdentity with a body that never ends;
#   ecr-push      — the OCI layout's manifest blob is a symlink to /dev/zero.
# The endless peer is a small python3 http.server on 127.0.0.1 that writes
# chunks until the client hangs up (it also serves the OIDC token and a
# registry's /v2/). Prints a markdown table; exits 1 if a case breaks a bound.
# Usage: bash benches/hostile.sh [profile]   (release by default; `ci` is faster to build)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-release}
limit_kib=$((32 * 1024))

bash scripts/setup >/dev/null
cargo build --profile "$profile" --locked --quiet -p wait-for-sync -p oidc-assume -p ecr-push
bin=$PWD/target/x86_64-unknown-linux-gnu/$profile

work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

cat > "$work/endless.py" <<'PY'
import base64, http.server, json, sys, time

def b64(value):
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

now = int(time.time())
JWT = ".".join([
    b64({"alg": "RS256", "typ": "JWT", "kid": "bench"}),
    b64({"iss": "https://token.actions.githubusercontent.com", "aud": "sts.amazonaws.com",
         "sub": "repo:acme/app:ref:refs/heads/main", "repository": "acme/app",
         "ref": "refs/heads/main", "iat": now, "nbf": now, "exp": now + 300}),
    "c2lnbmF0dXJl",
])
CHUNK = b" " * 65536

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def whole(self, status, body, kind="application/json"):
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def endless(self, kind, prefix):
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(prefix), prefix))
            frame = b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK)
            while True:
                self.wfile.write(frame)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        if self.path.startswith("/token"):
            self.whole(200, json.dumps({"value": JWT}).encode())
        elif self.path == "/v2/":
            self.whole(200, b"{}")
        elif self.path.startswith("/v2/"):
            self.whole(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}')
        else:
            self.endless("application/json", b'{"metadata":')

    def do_HEAD(self):
        self.send_response(404)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.endless("text/xml", b"<AssumeRoleWithWebIdentityResponse>")

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
PY
python3 "$work/endless.py" > "$work/port" &
server_pid=$!
until [ -s "$work/port" ]; do sleep 0.05; done
base=http://127.0.0.1:$(cat "$work/port")

# The layout: a well-formed index whose manifest blob is /dev/zero.
layout=$work/layout
mkdir -p "$layout/blobs/sha256"
printf '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
digest=$(printf 'hostile' | sha256sum | cut -d' ' -f1)
ln -s /dev/zero "$layout/blobs/sha256/$digest"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":1024,"annotations":{"org.opencontainers.image.ref.name":"bench"}}]}' \
  "$digest" > "$layout/index.json"

export GITHUB_ACTIONS=true GITHUB_RUN_ID=1 GITHUB_RUN_ATTEMPT=1 GITHUB_REPOSITORY=acme/app HOME=$work
export GITHUB_OUTPUT=$work/output GITHUB_ENV=$work/env GITHUB_STEP_SUMMARY=$work/summary
touch "$GITHUB_OUTPUT" "$GITHUB_ENV" "$GITHUB_STEP_SUMMARY"

failed=0
echo "### Hostile peers: peak RSS ($profile binaries, $(nproc) cores)"
echo
echo "| case | exit | wall (s) | peak RSS (KiB) | error |"
echo "|:---|---:|---:|---:|:---|"
case_() { # name, then the command
  local name=$1 code wall kib error
  shift
  /usr/bin/time -v -o "$work/time" "$@" >"$work/out" 2>&1 || true
  code=$(sed -n 's/^\s*Exit status: //p' "$work/time")
  wall=$(sed -n 's/^\s*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time")
  kib=$(sed -n 's/^\s*Maximum resident set size (kbytes): //p' "$work/time")
  error=$(grep -m1 '^::error' "$work/out" | sed 's/^::error[^:]*:://; s/%0A/ — /g; s/|/\\|/g' | cut -c1-260 || true)
  echo "| $name | $code | ${wall#0:} | $kib | $error |"
  if [ "$code" = 0 ] || [ -z "$error" ] || [ "$kib" -gt "$limit_kib" ]; then
    failed=1
    sed 's/^/    /' "$work/out" >&2
  fi
}
case_ "wait-for-sync: endless Argo CD answer" env \
  "INPUT_ARGOCD-SERVER=$base" INPUT_ARGOCD-TOKEN=bench INPUT_APPLICATION=payments-dev \
  INPUT_REVISION=0123456789abcdef0123456789abcdef01234567 INPUT_TIMEOUT=60s \
  "$bin/wait-for-sync"
case_ "oidc-assume: endless STS answer" env \
  "ACTIONS_ID_TOKEN_REQUEST_URL=$base/token?api-version=2.0" ACTIONS_ID_TOKEN_REQUEST_TOKEN=bench \
  INPUT_AWS-REGION=eu-west-1 INPUT_ROLE-TO-ASSUME=arn:aws:iam::123456789012:role/bench \
  "INPUT_STS-ENDPOINT=$base" \
  "$bin/oidc-assume"
case_ "ecr-push: manifest blob → /dev/zero" env \
  "INPUT_SOURCE=$layout" "INPUT_REGISTRY=${base#http://}" INPUT_REPOSITORY=bench/hostile \
  INPUT_INSECURE-REGISTRY=true INPUT_TAGS=bench \
  "$bin/ecr-push"
echo
echo "Bound: every case exits non-zero with an error, at most $limit_kib KiB peak RSS."
exit "$failed"
