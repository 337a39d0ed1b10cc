#!/usr/bin/env bash
# Runs the README's test command N times (20 by default) from a fresh clone
# of this repository while two CPU-bound processes run beside it: a test
# that passes only on an idle machine fails here. -count=1 keeps Go's test
# cache from turning runs 2..N into no-ops.
#
#   scripts/busy.sh [N]
set -u
N=${1:-20}
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)/repo
git clone -q "$top" "$dir"
cd "$dir"
burners=()
for _ in 1 2; do
	timeout 7200 sh -c 'while :; do :; done' &
	burners+=($!)
done
trap 'kill "${burners[@]}" 2>/dev/null || true' EXIT
pass=0
for i in $(seq 1 "$N"); do
	start=$(date +%s)
	if go test -race -count=1 ./... >"$dir/run$i.log" 2>&1; then
		pass=$((pass + 1))
		echo "run $i: pass ($(($(date +%s) - start)) s)"
	else
		echo "run $i: FAIL ($(($(date +%s) - start)) s)"
		grep -E "^(--- FAIL|FAIL|panic)" "$dir/run$i.log" | head -20
	fi
done
echo "$pass of $N passed; clone at $dir, commit $(git rev-parse --short HEAD)"
[ "$pass" -eq "$N" ]
