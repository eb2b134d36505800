#!/usr/bin/env bash
# Benchmarks bump-manifest side by side with the floor and the documents'
# script, in one run, against real bare repositories over file://:
#   1. One bump in a GitOps repository of 10,000 files:
#      floor — the fewest git commands a shell script can land one edit with
#              (shallow fetch, cat-file, sed, hash-object, a scratch index,
#              commit-tree, push);
#      hoist — the release bump-manifest binary;
#      peer  — the documents' promotion script: full clone, sed rewrite of
#              the tag (yq's role), commit, push.
#   2. Thirty bumps at once into one repository (twenty apps, and ten jobs of
#      one app with increasing versions): wall time and how many landed, for
#      bump-manifest and for the documents' `git pull --rebase` loop, with
#      its real `sleep $((i * 5))` waits.
# Usage: bash benches/bump-manifest.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}

bash scripts/setup >/dev/null
cargo build --release --locked --quiet -p bump-manifest
bin=$PWD/target/x86_64-unknown-linux-gnu/release/bump-manifest
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
export HOME=$work GIT_CONFIG_NOSYSTEM=1

# A GitOps repository of 10,000 files: 2,000 apps, each with values and four overlays.
seed=$work/seed
mkdir -p "$seed"
for app in $(seq -w 0 1999); do
  for env in dev staging prod base; do
    mkdir -p "$seed/apps/app-$app/overlays/$env"
    printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\nimages:\n  - name: app-%s\n    newName: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app-%s\n    newTag: v1.0.0 # set by CI\n' "$app" "$app" \
      > "$seed/apps/app-$app/overlays/$env/kustomization.yaml"
  done
  printf 'replicaCount: 1\n' > "$seed/apps/app-$app/values.yaml"
done
git -C "$seed" init --quiet --initial-branch=main
git -C "$seed" add --all
git -C "$seed" commit --quiet -m seed
git init --quiet --bare --initial-branch=main "$work/big.git"
git -C "$seed" push --quiet "$work/big.git" main
seed_commit=$(git -C "$work/big.git" rev-parse main)
files=$(git -C "$work/big.git" ls-tree -r main | wc -l)
url=file://$work/big.git
file=apps/app-0042/overlays/dev/kustomization.yaml

export GITHUB_ACTIONS=true GITHUB_OUTPUT=$work/out GITHUB_ENV=$work/env GITHUB_STEP_SUMMARY=$work/summary RUNNER_TEMP=$work
touch "$GITHUB_OUTPUT" "$GITHUB_ENV" "$GITHUB_STEP_SUMMARY"

cat > "$work/floor.sh" <<FLOOR
set -e
d=\$(mktemp -d -p $work); export GIT_DIR=\$d
git init --quiet --bare
git fetch --quiet --depth=1 $url +refs/heads/main:refs/remotes/origin/main
tip=\$(git rev-parse refs/remotes/origin/main)
blob=\$(git cat-file blob \$tip:$file | sed 's/newTag: v1.0.0/newTag: v1.0.1/' | git hash-object -w --stdin)
export GIT_INDEX_FILE=\$d/index
git read-tree \$tip
git update-index --cacheinfo 100644,\$blob,$file
commit=\$(git write-tree | xargs -I{} git commit-tree {} -p \$tip -m "chore(dev): update app-0042 to v1.0.1")
git push --quiet $url \$commit:refs/heads/main
rm -rf \$d
FLOOR
cat > "$work/hoist.sh" <<HOIST
env INPUT_REPOSITORY=$url INPUT_EDITS='$file:images[name=app-0042].newTag=v1.0.1' $bin >/dev/null
HOIST
cat > "$work/peer.sh" <<PEER
set -e
d=\$(mktemp -d -p $work)
git clone --quiet $url \$d/gitops
cd \$d/gitops
sed -i 's/newTag: v1.0.0/newTag: v1.0.1/' $file
git add $file
git commit --quiet -m "chore(dev): update app-0042 to v1.0.1"
for i in 1 2 3; do git pull --quiet --rebase origin main && git push --quiet && break || sleep \$((i * 5)); done
rm -rf \$d
PEER
reset="git -C $work/big.git update-ref refs/heads/main $seed_commit"
for name in floor hoist peer; do $reset; bash "$work/$name.sh"; done
$reset
git -C "$work/big.git" show main:$file | grep -q 'newTag: v1.0.0'

hyperfine --warmup 1 --runs "$runs" --style none --prepare "$reset" --export-markdown "$work/one.md" \
  -n "floor: shallow fetch + plumbing + push" "bash $work/floor.sh" \
  -n "hoist: bump-manifest" "bash $work/hoist.sh" \
  -n "peer: full clone + sed + commit + push" "bash $work/peer.sh" >/dev/null

rss() { # peak RSS in KiB of the heaviest process the script starts, over 3 runs
  local max=0 kib
  for _ in 1 2 3; do
    $reset
    kib=$( { /usr/bin/time -f '%M' bash "$1" >/dev/null; } 2>&1 | tail -1)
    [ "$kib" -gt "$max" ] && max=$kib
  done
  echo "$max"
}

# 2. Thirty at once.
small_seed=$work/small
mkdir -p "$small_seed/charts/shared"
printf 'image:\n  tag: 1.0.0\n' > "$small_seed/charts/shared/values-dev.yaml"
for app in $(seq -w 0 19); do
  mkdir -p "$small_seed/apps/app-$app/overlays/dev"
  printf 'images:\n  - name: app-%s\n    newTag: v0.0.1 # CI\n' "$app" > "$small_seed/apps/app-$app/overlays/dev/kustomization.yaml"
done
git -C "$small_seed" init --quiet --initial-branch=main
git -C "$small_seed" add --all
git -C "$small_seed" commit --quiet -m seed

race() { # $1 = hoist|script; prints "seconds landed reported"
  local kind=$1 repo=$work/race-$1.git
  rm -rf "$repo" "$work/race-out-$kind"
  git init --quiet --bare --initial-branch=main "$repo"
  git -C "$small_seed" push --quiet "$repo" main
  mkdir -p "$work/race-out-$kind"
  local start end
  start=$(date +%s.%N)
  for job in $(seq 0 29); do
    if [ "$job" -lt 20 ]; then
      app=$(printf '%02d' "$job"); file=apps/app-$app/overlays/dev/kustomization.yaml
      key="images[name=app-$app].newTag"; old='newTag: v0.0.1'; new="v1.0.$job"; newline="newTag: $new"
    else
      n=$((job - 19)); file=charts/shared/values-dev.yaml; key=image.tag; old='tag: 1.0.0'; new="1.0.$n"; newline="tag: $new"
    fi
    if [ "$kind" = hoist ]; then
      touch "$work/race-out-$kind/$job"
      ( GITHUB_OUTPUT=$work/race-out-$kind/$job INPUT_REPOSITORY=file://$repo INPUT_EDITS="$file:$key=$new" \
          "$bin" >/dev/null 2>&1 && echo ok > "$work/race-out-$kind/$job.status" ) &
    else
      ( d=$(mktemp -d -p "$work"); git clone --quiet "file://$repo" "$d/g" && cd "$d/g" \
          && sed -i "s/$old/$newline/" "$file" && git add "$file" && git commit --quiet -m "bump $file to $new" \
          && { for i in 1 2 3; do git pull --quiet --rebase origin main && git push --quiet && break || sleep $((i * 5)); done; } \
          >/dev/null 2>&1 && echo ok > "$work/race-out-$kind/$job.status" ) &
    fi
  done
  wait
  end=$(date +%s.%N)
  local landed=0 reported
  reported=$(find "$work/race-out-$kind" -name '*.status' | wc -l)
  for job in $(seq 0 19); do
    app=$(printf '%02d' "$job")
    git -C "$repo" show "main:apps/app-$app/overlays/dev/kustomization.yaml" | grep -q "newTag: v1.0.$job" && landed=$((landed + 1))
  done
  local final
  final=$(git -C "$repo" show main:charts/shared/values-dev.yaml | sed -n 's/.*tag: //p')
  echo "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') $landed $reported $final"
}
read -r h_time h_landed h_reported h_final < <(race hoist)
read -r s_time s_landed s_reported s_final < <(race script)

echo "### bump-manifest: one bump in a repository of $files files ($runs runs, $(nproc) cores)"
echo
cat "$work/one.md"
echo
echo "| command | peak RSS (KiB) |"
echo "|:---|---:|"
echo "| floor: shallow fetch + plumbing + push | $(rss "$work/floor.sh") |"
echo "| hoist: bump-manifest | $(rss "$work/hoist.sh") |"
echo "| peer: full clone + sed + commit + push | $(rss "$work/peer.sh") |"
echo
echo "### bump-manifest: 30 concurrent bumps (20 apps + 10 versions of one key)"
echo
echo "| | wall time (s) | app bumps landed (of 20) | runs reporting success (of 30) | contested key at the end (newest: 1.0.10) |"
echo "|:---|---:|---:|---:|:---|"
echo "| hoist: bump-manifest | $h_time | $h_landed | $h_reported | $h_final |"
echo "| peer: \`git pull --rebase\` loop | $s_time | $s_landed | $s_reported | $s_final |"
echo
echo "Binary: $(stat -c %s "$bin") bytes, $(file -b "$bin" | grep -o "static[-a-z]* linked"), $(file -b "$bin" | grep -o "stripped")"
