#!/usr/bin/env bash
# Runs every example of examples/README.md end to end: starts the upstreams each example expects, starts
# `npx skiff -c examples/<file>`, sends the README's curl commands, prints each status line with the
# response headers that matter, and checks them. Exits non-zero on any mismatch. Every process it starts is
# stopped on exit (trap), and every wait is bounded.
#
# The examples use fixed ports (admin 9901, listener 10000, upstreams 8080, 18080, 18081, 18082). When one
# of them is already taken on this machine, the demo runs a copy of each example with those ports replaced
# by free ones and says so; the requests and the checks are the same.
#
# Usage: examples/demo.sh            (from anywhere; needs node, npx and curl, and a built tree: npm run build)
set -u
# Job control: each background job gets its own process group, so cleanup can stop npx together with the
# shell and the skiff process it runs.
set -m
cd "$(dirname "$0")/.."

WORK=$(mktemp -d "${TMPDIR:-/tmp}/skiff-demo.XXXXXX")
PIDS=()
FAILURES=0

stop_all() {
  local pid i
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
  # Up to 5 s for a graceful exit (skiff drains for at most --drain-time-s), then SIGKILL.
  for pid in "${PIDS[@]}"; do
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null
    # Reap it quietly (no "Terminated" job notice).
    wait "$pid" 2>/dev/null
  done
  PIDS=()
}
cleanup() { stop_all 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- ports --------------------------------------------------------------------------------------------

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ADMIN=9901 LISTENER=10000 LOCAL=8080 UP1=18080 UP2=18081 GARBAGE=18082
REMAPPED=0
for p in $ADMIN $LISTENER $LOCAL $UP1 $UP2 $GARBAGE; do
  if port_in_use "$p"; then REMAPPED=1; fi
done
if ((REMAPPED)); then
  # Six distinct free ports, held together while they are picked so none repeats.
  read -r ADMIN LISTENER LOCAL UP1 UP2 GARBAGE < <(node -e '
    const net = require("net");
    (async () => {
      const servers = [];
      for (let i = 0; i < 6; i++) {
        const s = net.createServer();
        await new Promise((r) => s.listen(0, "127.0.0.1", r));
        servers.push(s);
      }
      console.log(servers.map((s) => s.address().port).join(" "));
      for (const s of servers) s.close();
    })();')
  echo "note: a port the examples use is taken here; running copies on admin $ADMIN, listener $LISTENER," \
    "upstreams $LOCAL $UP1 $UP2 $GARBAGE"
fi

# The config to run: the example itself, or a copy with its ports replaced.
config_for() {
  local example=examples/$1
  if ((REMAPPED == 0)); then echo "$example"; return; fi
  sed -e "s/port_value: 9901\b/port_value: $ADMIN/" -e "s/port_value: 10000\b/port_value: $LISTENER/" \
      -e "s/port_value: 8080\b/port_value: $LOCAL/" -e "s/port_value: 18080\b/port_value: $UP1/" \
      -e "s/port_value: 18081\b/port_value: $UP2/" -e "s/port_value: 18082\b/port_value: $GARBAGE/" \
      "$example" > "$WORK/$1"
  echo "$WORK/$1"
}

# ---- processes ----------------------------------------------------------------------------------------

# start NAME COMMAND...: runs COMMAND in the background, output in $WORK/NAME.log.
start() {
  local name=$1; shift
  "$@" > "$WORK/$name.log" 2>&1 &
  PIDS+=($!)
}

# wait_until SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s.
wait_until() {
  local limit=$(($1 * 10)) what=$2 i; shift 2
  for ((i = 0; i < limit; i++)); do "$@" && return 0; sleep 0.1; done
  echo "FAIL: timed out after ${limit}00 ms waiting for $what"
  return 1
}

# HTTP upstreams that say who they are: a header x-upstream-port and a body "upstream PORT PATH". A path
# containing "slow" is answered after 1 s.
start_http_upstreams() {
  start upstreams node -e '
    const http = require("http");
    for (const port of process.argv.slice(1).map(Number)) {
      http.createServer((req, res) => {
        setTimeout(() => {
          res.setHeader("x-upstream-port", port);
          res.end(`upstream ${port} ${req.url}\n`);
        }, req.url.includes("slow") ? 1000 : 0);
      }).listen(port, "127.0.0.1");
    }' "$@"
  local p
  for p in "$@"; do wait_until 5 "upstream on $p" port_in_use "$p" || exit 1; done
}

# A TCP server that answers any bytes with something that is not HTTP.
start_garbage_upstream() {
  start garbage node -e '
    require("net").createServer((socket) => {
      socket.on("error", () => {});
      socket.once("data", () => socket.end("THIS IS NOT HTTP\r\n\r\n"));
    }).listen(Number(process.argv[1]), "127.0.0.1");' "$1"
  wait_until 5 "garbage upstream on $1" port_in_use "$1" || exit 1
}

skiff_ready() { curl -sf --max-time 1 "http://127.0.0.1:$ADMIN/ready" > /dev/null; }

start_skiff() {
  local config
  config=$(config_for "$1")
  echo "\$ npx skiff -c $config"
  start skiff npx --no -- skiff -c "$config" --drain-time-s 1
  if ! wait_until 30 "skiff to be ready" skiff_ready; then cat "$WORK/skiff.log"; exit 1; fi
}

# ---- requests and checks --------------------------------------------------------------------------------

# send DESCRIPTION CURL-ARGS...: one request to the listener; prints the status line and the headers that
# matter. Sets STATUS, and leaves the headers in $WORK/headers and the body in $WORK/body.
send() {
  local what=$1; shift
  echo
  echo "\$ curl -i $what"
  curl -s --max-time 5 -D "$WORK/headers" -o "$WORK/body" "$@" > /dev/null
  STATUS=$(head -n 1 "$WORK/headers" | tr -d '\r')
  echo "  $STATUS"
  grep -iE '^(x-upstream-port|x-served-by|x-envoy-overloaded|location|content-length):' "$WORK/headers" \
    | tr -d '\r' | sed 's/^/  /'
  if [ -s "$WORK/body" ]; then echo "  body: $(head -c 200 "$WORK/body" | tr '\n' ' ')"; fi
}

pass() { echo "  ok: $1"; }
mismatch() { echo "  MISMATCH: $1"; FAILURES=$((FAILURES + 1)); }

expect_status() {
  case "$STATUS" in "HTTP/1.1 $1 "*) pass "status $1" ;; *) mismatch "expected status $1, got '$STATUS'" ;; esac
}
expect_header() {
  if tr -d '\r' < "$WORK/headers" | grep -qix "$1"; then pass "$1"; else mismatch "expected header '$1'"; fi
}
expect_no_header() {
  if tr -d '\r' < "$WORK/headers" | grep -qi "^$1:"; then mismatch "unexpected header $1"; else pass "no $1"; fi
}
expect_body() {
  if [ "$(cat "$WORK/body")" = "$1" ]; then pass "body '$1'"; else mismatch "expected body '$1', got '$(cat "$WORK/body")'"; fi
}
# The upstream that answered (from x-upstream-port), for round-robin checks.
answered_by() { tr -d '\r' < "$WORK/headers" | sed -n 's/^x-upstream-port: //Ip'; }

URL=http://127.0.0.1:$LISTENER

# ---- default.yaml ---------------------------------------------------------------------------------------

echo "=== examples/default.yaml: a health check answered by Skiff, everything else to 127.0.0.1:8080"
start_http_upstreams "$LOCAL"
start_skiff default.yaml

send "$URL/healthz" "$URL/healthz"
expect_status 200
expect_body "ok"
send "$URL/hello" "$URL/hello"
expect_status 200
expect_header "x-upstream-port: $LOCAL"
expect_body "upstream $LOCAL /hello"
stop_all 2>/dev/null

# ---- routing.yaml ---------------------------------------------------------------------------------------

echo
echo "=== examples/routing.yaml: routing by host, path and header; round robin across 18080 and 18081"
start_http_upstreams "$UP1" "$UP2"
start_skiff routing.yaml

send "-H 'Host: api.example.com' $URL/v1/health   (host api, exact path: direct response)" \
  -H 'Host: api.example.com' "$URL/v1/health"
expect_status 200
expect_body "api ok"
expect_header "x-served-by: skiff"

send "-H 'Host: api.example.com' $URL/v1/users/42   (host api, regex path)" \
  -H 'Host: api.example.com' "$URL/v1/users/42"
expect_status 200
expect_header "x-upstream-port: $UP1"
expect_body "upstream $UP1 /v1/users/42"

send "-H 'Host: api.example.com' $URL/v1/orders   (host api, prefix /v1/ rewritten to /)" \
  -H 'Host: api.example.com' "$URL/v1/orders"
expect_status 200
expect_header "x-upstream-port: $UP1"
expect_body "upstream $UP1 /orders"

send "-H 'Host: api.example.com' $URL/v2/orders   (host api, no route)" -H 'Host: api.example.com' "$URL/v2/orders"
expect_status 404

FIRST=""
for i in 1 2 3 4; do
  send "-H 'Host: www.example.com' $URL/page   (host *.example.com, round robin, request $i)" \
    -H 'Host: www.example.com' "$URL/page"
  expect_status 200
  port=$(answered_by)
  if [ -z "$FIRST" ]; then FIRST=$port; fi
  # Round robin: requests 1 and 3 go to one endpoint, 2 and 4 to the other.
  if ((i % 2 == 1)); then want=$FIRST; elif [ "$FIRST" = "$UP1" ]; then want=$UP2; else want=$UP1; fi
  if [ "$port" = "$want" ] && { [ "$port" = "$UP1" ] || [ "$port" = "$UP2" ]; }; then
    pass "answered by $port"
  else
    mismatch "expected upstream $want, got '$port'"
  fi
done

for i in 1 2; do
  send "-H 'x-canary: 1' $URL/   (header match: canary cluster, request $i)" -H 'x-canary: 1' "$URL/"
  expect_status 200
  expect_header "x-upstream-port: $UP2"
done

send "$URL/old/page   (redirect)" "$URL/old/page"
expect_status 301
expect_header "location: http://127.0.0.1:$LISTENER/new/page"
stop_all 2>/dev/null

# ---- local-replies.yaml ---------------------------------------------------------------------------------

echo
echo "=== examples/local-replies.yaml: the replies Skiff makes itself"
start_http_upstreams "$UP1"
start_garbage_upstream "$GARBAGE"
start_skiff local-replies.yaml

send "$URL/ok/" "$URL/ok/"
expect_status 200
expect_body "upstream $UP1 /ok/"

send "$URL/nowhere   (no route)" "$URL/nowhere"
expect_status 404

send "$URL/empty/   (cluster without endpoints)" "$URL/empty/"
expect_status 503
expect_body "no healthy upstream"

send "$URL/refused/   (connect failure, after 2 retries)" "$URL/refused/"
expect_status 503
expect_body "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
retries=$(curl -s --max-time 2 "http://127.0.0.1:$ADMIN/stats?filter=nothing_listening.upstream_rq_retry\$" | tr -d ' ')
echo "  /stats: $retries"
if [ "$retries" = "cluster.nothing_listening.upstream_rq_retry:2" ]; then pass "2 retries"; else mismatch "expected 2 retries"; fi

send "$URL/slow   (route timeout 250 ms, upstream answers after 1 s)" "$URL/slow"
expect_status 504
expect_body "upstream request timeout"

send "$URL/unknown/   (cluster not defined)" "$URL/unknown/"
expect_status 503

send "$URL/garbage/   (upstream answers garbage)" "$URL/garbage/"
expect_status 502

# Circuit breaker (max_requests 1): hold one request on the upstream, then send a second.
echo
echo "\$ curl $URL/limited/slow &   (held by the upstream for 1 s)"
curl -s --max-time 5 -o "$WORK/first-body" -w '%{http_code}' "$URL/limited/slow" > "$WORK/first-status" &
FIRST_CURL=$!
sleep 0.3
send "$URL/limited/slow   (while the first is in flight: circuit breaker overflow)" "$URL/limited/slow"
expect_status 503
expect_header "x-envoy-overloaded: true"
wait "$FIRST_CURL"
echo "  the first request: $(cat "$WORK/first-status") $(tr -d '\n' < "$WORK/first-body")"
if [ "$(cat "$WORK/first-status")" = 200 ]; then pass "first request 200"; else mismatch "first request not 200"; fi

send "$URL/limited/fast   (after it finished)" "$URL/limited/fast"
expect_status 200
expect_no_header x-envoy-overloaded
stop_all 2>/dev/null

echo
if ((FAILURES == 0)); then
  echo "demo: all checks passed"
else
  echo "demo: $FAILURES check(s) failed"
  exit 1
fi
