#!/usr/bin/env bash
# Builds vat-sandbox exactly as the Dockerfile's build stage does (the
# command is read from the Dockerfile), starts it with -json on a free
# loopback port, and drives the VAT journey over HTTP with curl and plain
# shell: health, obligations, submit, view, liabilities, payments, penalties,
# the control API (clock, fault, request log) and reset. Exits non-zero on
# the first mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$tmp/body" ] && { echo "last body: $(head -c 600 "$tmp/body")" >&2; }; exit 1; }
ok() { echo "ok   $*" >&2; }

# 1. The Dockerfile's build command, with the output path changed.
build=$(grep -E '^RUN CGO_ENABLED=0 go build ' Dockerfile | sed -e 's/^RUN //' -e "s#/out/vat-sandbox#$tmp/vat-sandbox#")
[ -n "$build" ] || fail "no 'RUN CGO_ENABLED=0 go build' line in the Dockerfile"
echo "build: $build"
eval "$build"
ok "static build"

# 2. Start it on a free loopback port and read the JSON line.
"$tmp/vat-sandbox" -json -addr 127.0.0.1:0 -seed 1 -today 2025-05-20 -state "$tmp/state.json" >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 1 100); do
	grep -q '^{' "$tmp/out" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || fail "vat-sandbox exited: $(cat "$tmp/err")"
	sleep 0.1
done
line=$(head -n 1 "$tmp/out")
field() { printf '%s' "$line" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
url=$(field url); vrn=$(field vrn); token=$(field accessToken)
[ -n "$url" ] && [ -n "$vrn" ] && [ -n "$token" ] || fail "start-up line lacks url, vrn or accessToken: $line"
for k in clientId clientSecret redirectUri userId password; do
	[ -n "$(field "$k")" ] || fail "start-up line lacks $k"
done
case "$url" in http://127.0.0.1:*) ;; *) fail "url $url is not on loopback" ;; esac
ok "ready at $url, VRN $vrn"

# req METHOD PATH [JSON] prints the status; the body is in $tmp/body.
req() {
	local args=(-sS -o "$tmp/body" -w '%{http_code}' -X "$1" -H 'Accept: application/vnd.hmrc.1.0+json' -H "Authorization: Bearer $token")
	if [ $# -ge 3 ]; then args+=(-H 'Content-Type: application/json' --data "$3"); fi
	curl "${args[@]}" "$url$2"
}
# ctl METHOD PATH [JSON]: the control API, no HMRC headers.
ctl() {
	local args=(-sS -o "$tmp/body" -w '%{http_code}' -X "$1")
	if [ $# -ge 3 ]; then args+=(-H 'Content-Type: application/json' --data "$3"); fi
	curl "${args[@]}" "$url$2"
}
expect() { # expect STATUS GOT WHAT [GREP]
	[ "$2" = "$1" ] || fail "$3: status $2, want $1"
	if [ $# -ge 4 ]; then grep -q -- "$4" "$tmp/body" || fail "$3: body lacks $4"; fi
	ok "$3"
}

expect 200 "$(ctl GET /_sandbox/health)" "health" '"status":"ok"'
"$tmp/vat-sandbox" -healthcheck -addr "${url#http://}" || fail "-healthcheck"
ok "-healthcheck"

expect 200 "$(req GET "/organisations/vat/$vrn/obligations?status=O")" "open obligations" '"status":"O"'
key=$(grep -o '"periodKey":"[^"]*"' "$tmp/body" | head -n 1 | sed 's/.*:"\(.*\)"/\1/')
[ "$key" = "25A1" ] || fail "first open period key is $key, want 25A1"

ret='{"periodKey":"'$key'","vatDueSales":1000.00,"vatDueAcquisitions":0,"totalVatDue":1000.00,"vatReclaimedCurrPeriod":0,"netVatDue":1000.00,"totalValueSalesExVAT":5000,"totalValuePurchasesExVAT":0,"totalValueGoodsSuppliedExVAT":0,"totalAcquisitionsExVAT":0,"finalised":true}'
expect 201 "$(req POST "/organisations/vat/$vrn/returns" "$ret")" "submit return $key" '"formBundleNumber"'
charge=$(sed -n 's/.*"chargeRefNumber":"\([^"]*\)".*/\1/p' "$tmp/body")
[ -n "$charge" ] || fail "no chargeRefNumber"
expect 403 "$(req POST "/organisations/vat/$vrn/returns" "$ret")" "resubmission is a duplicate" 'DUPLICATE_SUBMISSION'
expect 200 "$(req GET "/organisations/vat/$vrn/returns/$key")" "view return" '"netVatDue":1000'
expect 201 "$(req POST "/organisations/vat/$vrn/returns" "${ret/$key/18AA}")" "return for a key with no obligation (HMRC's sandbox)"
expect 200 "$(req GET "/organisations/vat/$vrn/liabilities?from=2025-01-01&to=2025-03-31")" "liabilities" '"outstandingAmount":1000'
expect 201 "$(ctl POST /_sandbox/payments '{"vrn":"'$vrn'","periodKey":"'$key'","amount":"250.00"}')" "record a payment"
expect 200 "$(req GET "/organisations/vat/$vrn/payments?from=2025-01-01&to=2025-03-31")" "payments" '"amount":250'
expect 200 "$(req GET "/organisations/vat/$vrn/liabilities?from=2025-01-01&to=2025-03-31")" "liability after payment" '"outstandingAmount":750'
expect 200 "$(req GET "/organisations/vat/$vrn/penalties")" "penalties" '"totalisations"'

expect 201 "$(ctl POST /_sandbox/faults '{"path":"/organisations/vat/'$vrn'/obligations","status":503}')" "inject a 503"
expect 503 "$(req GET "/organisations/vat/$vrn/obligations?status=O")" "the fault answers" 'SERVICE_UNAVAILABLE'
expect 200 "$(req GET "/organisations/vat/$vrn/obligations?status=O")" "then the service again"
expect 200 "$(ctl GET /_sandbox/requests)" "request log" '"status":503'
if grep -q -- "$token" "$tmp/body"; then fail "the request log holds the access token"; fi

expect 200 "$(ctl POST /_sandbox/clock '{"days":30}')" "advance the clock 30 days" '"today":"2025-06-19"'
expect 401 "$(req GET "/organisations/vat/$vrn/obligations?status=O")" "the four-hour token has expired" 'INVALID_CREDENTIALS'
expect 201 "$(ctl POST /_sandbox/businesses '{"filing":"monthly","open":1,"fulfilled":0}')" "a monthly business" '"periodKey":"25ME"'
vrn=$(sed -n 's/.*"vrn":"\([^"]*\)".*/\1/p' "$tmp/body"); token=$(sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p' "$tmp/body")
expect 200 "$(req GET "/organisations/vat/$vrn/obligations?status=O")" "its token works" '"periodKey":"25ME"'
expect 200 "$(ctl GET /_sandbox/state)" "state dump" "\"vrn\": \"$vrn\""
expect 204 "$(ctl POST /_sandbox/reset)" "reset"
expect 401 "$(req GET "/organisations/vat/$vrn/obligations?status=O")" "tokens are gone after reset" 'INVALID_CREDENTIALS'
expect 200 "$(ctl GET /_sandbox/clock)" "the clock is back" '"today":"2025-05-20"'

kill -TERM "$pid"
wait "$pid" || fail "vat-sandbox exited $? on SIGTERM"
pid=
ok "stopped on SIGTERM"
[ "$(stat -c %a "$tmp/state.json")" = 600 ] || fail "state file mode $(stat -c %a "$tmp/state.json"), want 600"
grep -q '"version": 1' "$tmp/state.json" || fail "state file holds no state"
ok "state saved on SIGTERM, mode 0600"
echo "sandbox smoke test passed"
