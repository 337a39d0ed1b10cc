#!/usr/bin/env bash
# Runs every fuzz target of the module in turn, FUZZTIME each (default 2m),
# and prints one line per target with its execution count. A crasher is
# written to the package's testdata/fuzz/<Target>/ by the go tool; commit it
# with the fix so that plain `go test` replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-2m}
status=0
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u || true)
	for t in $targets; do
		log=$(mktemp)
		if go test -run '^$' -fuzz "^${t}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 10s "$pkg" >"$log" 2>&1; then
			printf '%-45s %-28s ok   %s\n' "$pkg" "$t" "$(grep -o 'execs: [0-9]*' "$log" | tail -1)"
		else
			printf '%-45s %-28s FAIL\n' "$pkg" "$t"; sed 's/^/    /' "$log" | tail -20; status=1
		fi
		rm -f "$log"
	done
done
exit $status
