#!/usr/bin/env bash
# Benchmarks oidc-assume side by side with the floor and a peer, in one run,
# against the same local peers (the stand-in GitHub OIDC issuer, and moto
# behind the trust-checking STS front):
#   floor — two bare curl requests: the token fetch, then AssumeRoleWithWebIdentity;
#   hoist — the release oidc-assume binary, as the runner starts it;
#   peer  — the AWS CLI (v1, PyPI `awscli`) doing the same exchange.
# Prints a markdown table of times (hyperfine) and peak RSS (/usr/bin/time).
# Usage: bash benches/oidc-assume.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}

bash scripts/setup >/dev/null
command -v aws >/dev/null || python3 -m pip install --quiet --disable-pip-version-check 'awscli==1.46.3'
cargo build --release --locked --quiet -p oidc-assume
cargo build --profile ci --locked --quiet -p hoist-demo
bin=target/x86_64-unknown-linux-gnu/release/oidc-assume

work=$(mktemp -d)
# The peers serve until their stdin closes; closing it lets them stop moto.
coproc PEERS { target/x86_64-unknown-linux-gnu/ci/hoist-demo peers; }
stop_peers() { eval "exec ${PEERS[1]}>&-"; wait "$PEERS_PID" 2>/dev/null || true; rm -rf "$work"; }
trap stop_peers EXIT
while read -r line <&"${PEERS[0]}"; do
  eval "$line"
  [ "${HOIST_DEMO_READY:-}" = 1 ] && break
done

export GITHUB_ACTIONS=true GITHUB_RUN_ID=1 GITHUB_RUN_ATTEMPT=1 HOME="$work"
export GITHUB_OUTPUT="$work/output" GITHUB_ENV="$work/env" GITHUB_STEP_SUMMARY="$work/summary"
touch "$GITHUB_OUTPUT" "$GITHUB_ENV" "$GITHUB_STEP_SUMMARY"
export HOIST_STS="$HOIST_DEMO_STS" HOIST_ROLE="$HOIST_DEMO_ROLE"

cat > "$work/floor.sh" <<'FLOOR'
token=$(curl -sf -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=sts.amazonaws.com")
token=${token#*\"value\":\"}; token=${token%%\"*}
curl -sf -o /dev/null "$HOIST_STS/" --data "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleSessionName=bench&RoleArn=$HOIST_ROLE&WebIdentityToken=$token"
FLOOR
cat > "$work/hoist.sh" <<HOIST
env 'INPUT_AWS-REGION=eu-west-1' "INPUT_ROLE-TO-ASSUME=\$HOIST_ROLE" "INPUT_STS-ENDPOINT=\$HOIST_STS" $PWD/$bin >/dev/null
HOIST
cat > "$work/peer.sh" <<'PEER'
token=$(curl -sf -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=sts.amazonaws.com")
token=${token#*\"value\":\"}; token=${token%%\"*}
AWS_EC2_METADATA_DISABLED=true aws sts assume-role-with-web-identity --region eu-west-1 --endpoint-url "$HOIST_STS" \
  --role-arn "$HOIST_ROLE" --role-session-name bench --web-identity-token "$token" >/dev/null
PEER

# Each command must work before it is timed.
for name in floor hoist peer; do bash "$work/$name.sh"; done

hyperfine --warmup 3 --runs "$runs" --style none --export-markdown "$work/times.md" \
  -n "floor: 2× curl" "bash $work/floor.sh" \
  -n "hoist: oidc-assume" "bash $work/hoist.sh" \
  -n "peer: aws sts (awscli)" "bash $work/peer.sh" >/dev/null
hyperfine --warmup 5 --runs 100 -N --style none --export-markdown "$work/version.md" "$bin --version" >/dev/null

rss() { # peak RSS in KiB of the heaviest process the script starts, over 5 runs
  local max=0 kib
  for _ in 1 2 3 4 5; do
    kib=$( { /usr/bin/time -f '%M' bash "$1" >/dev/null; } 2>&1 | tail -1)
    [ "$kib" -gt "$max" ] && max=$kib
  done
  echo "$max"
}
echo "### oidc-assume: token fetch + AssumeRoleWithWebIdentity ($runs runs, $(nproc) cores)"
echo
cat "$work/times.md"
echo
echo "| command | peak RSS (KiB) |"
echo "|:---|---:|"
echo "| floor: 2× curl | $(rss "$work/floor.sh") |"
echo "| hoist: oidc-assume | $(rss "$work/hoist.sh") |"
echo "| peer: aws sts (awscli) | $(rss "$work/peer.sh") |"
echo
echo "Binary: $(stat -c %s "$bin") bytes, $(file -b "$bin" | grep -o "static[-a-z]* linked"), $(file -b "$bin" | grep -o "stripped")"
echo
cat "$work/version.md"
