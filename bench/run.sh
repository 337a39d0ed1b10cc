#!/usr/bin/env bash
# Runs every benchmark of the module and summarises them with benchstat:
#
#   - the SDK against its hand-written net/http baseline, call by call,
#     without and with fraud prevention headers (BenchmarkObligations,
#     BenchmarkSubmitReturn, …: impl=sdk and impl=baseline), with the
#     ratios and the targets they are held to;
#   - the other benchmarks: fraud prevention header encoding, validation
#     and parsing, Money and Return JSON, the rate limiter's wait for an
#     interactive call under saturating bulk work
#     (BenchmarkLimiterInteractiveWait), and the simulator's throughput
#     (vattest, in requests per second).
#
# examples/agent-bulk's rate and 429s, quiet and loaded, are measured by
# bench/bulk.sh.
#
#   bench/run.sh [count]       count rounds, 6 by default
#
# BENCHTIME (default 1s) is passed to -benchtime. The rounds are
# interleaved (each round runs every benchmark once) so that a change in
# the machine's load falls on the SDK and the baseline alike. The raw
# results are kept in bench/out/ for further benchstat queries.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCHSTAT_VERSION=v0.0.0-20260908200009-22c9c6c9d4da # golang.org/x/perf
COUNT=${1:-6}
BENCHTIME=${BENCHTIME:-1s}
OUT=bench/out
benchstat() { go run "golang.org/x/perf/cmd/benchstat@$BENCHSTAT_VERSION" "$@"; }

mkdir -p "$OUT"
raw="$OUT/raw.txt"
: >"$raw"
benchstat -h >/dev/null 2>&1 || true # fetch and build it before measuring
for i in $(seq "$COUNT"); do
	echo "round $i of $COUNT" >&2
	go test -p 1 -run '^$' -bench . -benchtime "$BENCHTIME" . ./fraud ./vattest >>"$raw"
done

{
	echo "# go: $(go version)"
	echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //') ($(nproc 2>/dev/null || echo '?') CPUs)"
	echo
	echo "## The SDK against the hand-written baseline (vs base: the SDK's change)"
	echo
	benchstat -filter '/impl:(baseline OR sdk)' -col '/impl@(baseline sdk)' "$raw"
	echo
	echo "## Targets: time ≤ 1.10× the baseline's with fraud headers off and ≤ 1.25× with"
	echo "## them on (fraud.Static); at most 30 allocations per call above the"
	echo "## baseline. fraud=per-call (headers encoded on every call) and the in-memory"
	echo "## pair (no network: the difference is the SDK's own CPU time) have no time target."
	echo
	benchstat -format csv -filter '/impl:(baseline OR sdk)' -col '/impl@(baseline sdk)' "$raw" 2>/dev/null | awk -F, '
		/^,/ { # a header line: the columns, or the unit of the rows below
			if ($2 == "sec/op") unit = "time"
			else if ($2 == "allocs/op") unit = "allocs"
			else if ($2 ~ /\//) unit = ""
			next
		}
		!/,/ || /^geomean,/ { next }
		unit != "" {
			name = $1; base = $2 + 0; sdk = $4 + 0
			if (base == 0) next
			if (unit == "time") { ratio[name] = sdk / base; dt[name] = (sdk - base) * 1e6 }
			else { dalloc[name] = sdk - base }
			if (!(name in seen)) { seen[name] = 1; order[++n] = name }
		}
		END {
			printf "%-36s %10s %12s %8s %14s  %s\n", "call", "time ×", "+µs/call", "limit", "+allocs/call", "met"
			all = 1
			for (i = 1; i <= n; i++) {
				name = order[i]
				limit = 0 # no time target: the in-memory pair and fraud=per-call
				if (name !~ /InMemory/ && name ~ /fraud=off/) limit = 1.10
				if (name !~ /InMemory/ && name ~ /fraud=on/) limit = 1.25
				ok = (dalloc[name] <= 30) && (limit == 0 || ratio[name] <= limit)
				if (!ok) all = 0
				printf "%-36s %9.3f× %+12.2f %8s %+14d  %s\n", name, ratio[name], dt[name], limit ? sprintf("%.2f×", limit) : "-", dalloc[name], ok ? "yes" : "NO"
			}
			print ""
			print (all ? "every target met" : "a target was missed: see NO above")
		}'
	echo
	echo "## The other benchmarks"
	echo
	benchstat -filter '-/impl:/./' "$raw"
} | tee "$OUT/summary.txt"
