#!/usr/bin/env bash
# Runs bench/bulkfetch's BenchmarkBulkFetch (1,000 clients through one
# Client and one limiter at a raised limit of 200 requests per second,
# against a simulator enforcing the same limit) twice: on the machine as it
# is, then with two CPU burners running, and summarises both with
# benchstat: req/s in the steady state, the fraction of the limit, 429s,
# the tightest window of 201 requests as the simulator received them,
# connections, bytes allocated and live per client.
#
#   bench/bulk.sh [count]      count runs of each, 5 by default
set -euo pipefail
cd "$(dirname "$0")/.."

BENCHSTAT_VERSION=v0.0.0-20260908200009-22c9c6c9d4da # golang.org/x/perf
COUNT=${1:-5}
OUT=bench/out
benchstat() { go run "golang.org/x/perf/cmd/benchstat@$BENCHSTAT_VERSION" "$@"; }
bulk() { go test -run '^$' -bench BulkFetch -benchtime 1x -count "$COUNT" ./bench/bulkfetch; }

mkdir -p "$OUT"
benchstat -h >/dev/null 2>&1 || true # fetch and build it before measuring
go test -c -o /dev/null ./bench/bulkfetch # and the test binary

echo "quiet: $COUNT runs" >&2
bulk | sed 's/^BenchmarkBulkFetch/BenchmarkBulkFetch\/load=quiet/' >"$OUT/bulk-raw.txt"

echo "loaded (two CPU burners): $COUNT runs" >&2
burners=()
for _ in 1 2; do
	timeout 600 sh -c 'while :; do :; done' &
	burners+=($!)
done
trap 'kill "${burners[@]}" 2>/dev/null || true' EXIT
bulk | sed 's/^BenchmarkBulkFetch/BenchmarkBulkFetch\/load=burners/' >>"$OUT/bulk-raw.txt"
kill "${burners[@]}" 2>/dev/null || true

benchstat -col /load "$OUT/bulk-raw.txt" | tee "$OUT/bulk.txt"
