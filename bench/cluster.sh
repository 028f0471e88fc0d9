#!/usr/bin/env bash
# Benchmarks a three-node loopback quotad cluster against a single node, in
# one run on this machine:
#
#   1. spread: single debits (bench/debit.lua, 1,000 clients, keep-alive)
#      with the load spread over all three front doors of the cluster (one wrk
#      per door, in parallel, rates summed), against the same three wrk
#      processes all aimed at a single node; alternately, ROUNDS pairs;
#      medians of the summed rates, and their ratio cluster / single.
#      Two thirds of the cluster's debits reach a node that does not own the
#      client and are forwarded to the owner.
#   2. forwarded vs local: one wrk against node1 of the cluster, debiting
#      only clients that node1 owns (answered at the door), then only clients
#      that node2 owns (every debit forwarded to node2 and back); owners are
#      read from X-Quotad-Owner. Alternately, ROUNDS pairs; medians.
#
# Builds nothing: it expects build/quotad (tools/build.sh makes it).
# Everything it starts listens on 127.0.0.1 on free ports, keeps its data in
# a temporary directory, and is stopped and removed when the script exits
# (also on Ctrl-C). Progress goes to stderr, the summary (Markdown) to stdout.
#
# Environment (defaults in brackets):
#   DURATION   seconds of each measured wrk run [10]
#   WARMUP     seconds of the unmeasured warm-up run per target [2]
#   ROUNDS     pairs per comparison; medians are reported [3]
#   CONNS      connections in all, split over the three wrk processes of the
#              spread step; also the connections of the forwarded step [63]
#   THREADS    wrk threads of the forwarded step [2] (the spread step runs
#              three wrk processes of one thread each)
#   OWNED      clients per owner in the forwarded step [200]
#   QUOTAD     the binary [build/quotad]
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-63}
THREADS=${THREADS:-2}
OWNED=${OWNED:-200}
QUOTAD=${QUOTAD:-$ROOT/build/quotad}
CLIENTS=1000
QUOTA_BODY='{"quotas":[{"duration":"DAY","credit_limit":1000000000,"start_date":"2022-01-01T00:00:00","time_zone":"UTC"}]}'


for tool in wrk curl ss awk; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install wrk curl iproute2)"
done
[ -x "$QUOTAD" ] || die "no quotad binary at $QUOTAD: build it first with tools/build.sh (or set QUOTAD=...)"
PER_WRK=$((CONNS / 3))
[ "$PER_WRK" -ge 1 ] || die "CONNS must be at least 3"

TMP=$(mktemp -d /tmp/quotad-bench-cluster.XXXXXX)
PIDS=()
cleanup() {
  local pid
  # One node at a time, the cluster's first node last: a node leaving hands
  # its clients on, and members stopped all at once would race their leaves.
  for pid in $(printf '%s\n' "${PIDS[@]}" | tac); do
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# --------------------------------------------------------------------- nodes
declare -A URL CPORT PID_OF
start_node() {  # name [seed-name]: starts a node named name; waits until it is up
  local name=$1 seed=${2:-}
  free_port; local http_port=$PORT
  free_port; local cluster_port=$PORT
  mkdir -p "$TMP/$name"
  local args=(--node-id="$name" --http="127.0.0.1:$http_port" --cluster="127.0.0.1:$cluster_port"
              --data-dir="$TMP/$name/data" --log-level=warn --actor-idle-seconds=600)
  [ -z "$seed" ] || args+=(--seeds="127.0.0.1:${CPORT[$seed]}")
  "$QUOTAD" "${args[@]}" >>"$TMP/$name/quotad.log" 2>&1 </dev/null &
  PID_OF[$name]=$!
  PIDS+=("$!")
  URL[$name]="http://127.0.0.1:$http_port"
  CPORT[$name]=$cluster_port
  for _ in $(seq 1 300); do
    kill -0 "${PID_OF[$name]}" 2>/dev/null || { tail -20 "$TMP/$name/quotad.log" >&2; die "$name exited"; }
    [ "$(curl -s -o /dev/null -w '%{http_code}' "${URL[$name]}/readyz" || true)" = 200 ] && return 0
    sleep 0.1
  done
  tail -20 "$TMP/$name/quotad.log" >&2
  die "$name did not become ready on ${URL[$name]}"
}

cluster_settled() {  # every node lists node1..node3, all up, at one epoch
  local n v epochs=""
  for n in node1 node2 node3; do
    v=$(curl -s "${URL[$n]}/v1/cluster" || true)
    [ "$(grep -o '"state":"[a-z]*"' <<<"$v" | sort | uniq -c | awk '{$1=$1; print}')" = '3 "state":"up"' ] || return 1
    epochs+="$(sed -n 's/.*"epoch":\([0-9]*\).*/\1/p' <<<"$v")"$'\n'
  done
  [ "$(sed '/^$/d' <<<"$epochs" | sort -u | wc -l)" = 1 ]
}

set_quotas() {  # url prefix count: PUTs the quota definitions, 200 for each
  local url=$1 prefix=$2 count=$3 ok
  curl -sS --no-progress-meter --parallel --parallel-max 32 -X PUT \
    -H 'Content-Type: application/json' --data-binary "$QUOTA_BODY" \
    -o /dev/null -w '%{http_code}\n' "$url/v1/clients/${prefix}[0-$((count - 1))]/quotas" \
    >"$TMP/put-codes.txt" 2>"$TMP/put-errors.txt" || true
  ok=$(grep -c '^200$' "$TMP/put-codes.txt" || true)
  [ "$ok" = "$count" ] || die "setting quotas for ${prefix}0..: $ok of $count answered 200"
}

owners() {  # url prefix count: "<id> <owner>" lines, from PUTting their quotas
  local url=$1 prefix=$2 count=$3
  curl -sS --no-progress-meter --parallel --parallel-max 32 -X PUT \
    -H 'Content-Type: application/json' --data-binary "$QUOTA_BODY" -o /dev/null \
    -w '%{http_code} %{url_effective} %header{x-quotad-owner}\n' \
    "$url/v1/clients/${prefix}[0-$((count - 1))]/quotas" 2>"$TMP/owner-errors.txt" \
    | awk '$1 == 200 { n = split($2, p, "/"); print p[n - 1], $3 }'
}

# ----------------------------------------------------------------------- wrk
WRK_N=0
check_errors() {  # line url
  local errs=0 k
  for k in errors_connect errors_read errors_write errors_status errors_timeout; do
    errs=$((errs + $(field "$k" "$1")))
  done
  [ "$errs" = 0 ] || log "WARNING: $errs wrk errors against $2 ($1)"
}

# wrk_spread dur url url url: one wrk (-t1, PER_WRK connections) per url, in
# parallel; prints "rps=<sum> p50_us=<max> p99_us=<max>".
wrk_spread() {
  local dur=$1
  shift
  local outs=() wrks=() u out pid
  for u in "$@"; do
    WRK_N=$((WRK_N + 1))
    out="$TMP/wrk-$WRK_N.txt"
    outs+=("$out")
    env CLIENTS="$CLIENTS" WRK_THREADS=1 \
      wrk -t1 -c"$PER_WRK" -d"${dur}s" --timeout 5s -s "$BENCH/debit.lua" "$u" >"$out" 2>&1 &
    wrks+=("$!")
  done
  for pid in "${wrks[@]}"; do wait "$pid" || true; done
  local sum=0 p50=0 p99=0 line i=0
  for out in "${outs[@]}"; do
    i=$((i + 1))
    line=$(grep '^BENCH ' "$out" || true)
    [ -n "$line" ] || { cat "$out" >&2; die "wrk gave no result (${!i})"; }
    check_errors "$line" "wrk #$i"
    sum=$(LC_ALL=C awk -v a="$sum" -v b="$(field rps "$line")" 'BEGIN { printf "%.1f", a + b }')
    [ "$(field p50_us "$line")" -gt "$p50" ] && p50=$(field p50_us "$line")
    [ "$(field p99_us "$line")" -gt "$p99" ] && p99=$(field p99_us "$line")
  done
  echo "rps=$sum p50_us=$p50 p99_us=$p99"
}

wrk_list() {  # dur url file: one wrk (THREADS, CONNS) over the ids in file
  WRK_N=$((WRK_N + 1))
  local out="$TMP/wrk-$WRK_N.txt" line
  env CLIENT_FILE="$3" WRK_THREADS="$THREADS" \
    wrk -t"$THREADS" -c"$CONNS" -d"$1s" --timeout 5s -s "$BENCH/debit_list.lua" "$2" >"$out" 2>&1 || true
  line=$(grep '^BENCH ' "$out" || true)
  [ -n "$line" ] || { cat "$out" >&2; die "wrk gave no result for $2"; }
  check_errors "$line" "$2"
  echo "$line"
}

metric() {  # url name
  curl -s "$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'
}

# ----------------------------------------------------------------------- run
DATE=$(date -u +%Y-%m-%dT%H:%MZ)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "date $DATE, $(nproc) CPUs, load average $LOAD_BEFORE; DURATION=${DURATION}s ROUNDS=$ROUNDS CONNS=$CONNS THREADS=$THREADS"

start_node single
start_node node1
start_node node2 node1
start_node node3 node1
for _ in $(seq 1 600); do cluster_settled && break; sleep 0.1; done
cluster_settled || die "the cluster did not settle: $(curl -s "${URL[node1]}/v1/cluster")"
log "single node on ${URL[single]}; cluster on ${URL[node1]} ${URL[node2]} ${URL[node3]}"

set_quotas "${URL[single]}" client- "$CLIENTS"
set_quotas "${URL[node1]}" client- "$CLIENTS"

# Clients owned by node1 and by node2, as node1 routes them.
owners "${URL[node1]}" own- $((OWNED * 6)) >"$TMP/owners.txt"
awk '$2 == "node1" { print $1 }' "$TMP/owners.txt" | head -n "$OWNED" >"$TMP/local.txt"
awk '$2 == "node2" { print $1 }' "$TMP/owners.txt" | head -n "$OWNED" >"$TMP/forwarded.txt"
[ "$(wc -l <"$TMP/local.txt")" = "$OWNED" ] && [ "$(wc -l <"$TMP/forwarded.txt")" = "$OWNED" ] \
  || die "did not find $OWNED clients owned by node1 and by node2 among $((OWNED * 6)) ids"
SHARE=$(awk '{ n[$2]++ } END { for (o in n) printf "%s %d, ", o, n[o] }' "$TMP/owners.txt" | sed 's/, $//')
log "owners of $((OWNED * 6)) ids: $SHARE"

SINGLE_DOORS=("${URL[single]}" "${URL[single]}" "${URL[single]}")
CLUSTER_DOORS=("${URL[node1]}" "${URL[node2]}" "${URL[node3]}")
wrk_spread "$WARMUP" "${SINGLE_DOORS[@]}" >/dev/null
wrk_spread "$WARMUP" "${CLUSTER_DOORS[@]}" >/dev/null
FWD0=$(( $(metric "${URL[node1]}" quotad_forwarded_total) + $(metric "${URL[node2]}" quotad_forwarded_total) + $(metric "${URL[node3]}" quotad_forwarded_total) ))

S_RPS="" C_RPS="" S_P99="" C_P99="" S_P50="" C_P50=""
for r in $(seq 1 "$ROUNDS"); do
  line=$(wrk_spread "$DURATION" "${SINGLE_DOORS[@]}")
  S_RPS+="$(field rps "$line") "; S_P99+="$(field p99_us "$line") "; S_P50+="$(field p50_us "$line") "
  log "spread round $r single : $(fmt "$(field rps "$line")") debits/s, p50 $(field p50_us "$line") us, p99 $(field p99_us "$line") us"
  line=$(wrk_spread "$DURATION" "${CLUSTER_DOORS[@]}")
  C_RPS+="$(field rps "$line") "; C_P99+="$(field p99_us "$line") "; C_P50+="$(field p50_us "$line") "
  log "spread round $r cluster: $(fmt "$(field rps "$line")") debits/s, p50 $(field p50_us "$line") us, p99 $(field p99_us "$line") us"
done
FWD1=$(( $(metric "${URL[node1]}" quotad_forwarded_total) + $(metric "${URL[node2]}" quotad_forwarded_total) + $(metric "${URL[node3]}" quotad_forwarded_total) ))

wrk_list "$WARMUP" "${URL[node1]}" "$TMP/local.txt" >/dev/null
wrk_list "$WARMUP" "${URL[node1]}" "$TMP/forwarded.txt" >/dev/null
L_RPS="" F_RPS="" L_P50="" F_P50="" L_P99="" F_P99=""
for r in $(seq 1 "$ROUNDS"); do
  line=$(wrk_list "$DURATION" "${URL[node1]}" "$TMP/local.txt")
  L_RPS+="$(field rps "$line") "; L_P50+="$(field p50_us "$line") "; L_P99+="$(field p99_us "$line") "
  log "node1 round $r local    : $(fmt "$(field rps "$line")") debits/s, p50 $(field p50_us "$line") us, p99 $(field p99_us "$line") us"
  line=$(wrk_list "$DURATION" "${URL[node1]}" "$TMP/forwarded.txt")
  F_RPS+="$(field rps "$line") "; F_P50+="$(field p50_us "$line") "; F_P99+="$(field p99_us "$line") "
  log "node1 round $r forwarded: $(fmt "$(field rps "$line")") debits/s, p50 $(field p50_us "$line") us, p99 $(field p99_us "$line") us"
done

SR=$(median_of "$S_RPS"); CR=$(median_of "$C_RPS")
SP99=$(median_of "$S_P99"); CP99=$(median_of "$C_P99")
SP50=$(median_of "$S_P50"); CP50=$(median_of "$C_P50")
LR=$(median_of "$L_RPS"); FR=$(median_of "$F_RPS")
LP50=$(median_of "$L_P50"); FP50=$(median_of "$F_P50")
LP99=$(median_of "$L_P99"); FP99=$(median_of "$F_P99")
SPREAD_TOTAL=$(LC_ALL=C awk -v r="$C_RPS" -v d="$DURATION" 'BEGIN { n = split(r, x, " "); s = 0; for (i = 1; i <= n; i++) s += x[i] * d; printf "%d", s }')
FWD_SHARE=$(LC_ALL=C awk -v f="$((FWD1 - FWD0))" -v t="$SPREAD_TOTAL" 'BEGIN { if (t > 0) printf "%.0f%%", 100 * f / t; else print "n/a" }')
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
BUSY=""
if LC_ALL=C awk -v l="${LOAD_BEFORE%% *}" 'BEGIN { exit !(l > 1.0) }'; then
  BUSY="WARNING: the machine was busy before the run (load average ${LOAD_BEFORE%% *}): the rates are lower and the latencies higher than on a quiet machine."
fi

cat <<EOF

## quotad cluster benchmark, $DATE
$(nproc) CPUs; load average $LOAD_BEFORE before, $LOAD_AFTER after; ${DURATION} s runs, median of $ROUNDS alternating rounds.
Three wrk processes (-t1 -c$PER_WRK each, bench/debit.lua, $CLIENTS clients) in parallel: all at the single node, or one per front door of the three-node cluster.
The three nodes, the single node and wrk share the same $(nproc) cores.
$BUSY

| measure | single node | three-node cluster | cluster / single |
|---|---:|---:|---:|
| single debits, debits/s (sum of the three wrk) | $(fmt "$SR") | $(fmt "$CR") | $(ratio "$CR" "$SR") |
| p50, us (highest of the three wrk) | $SP50 | $CP50 | $(ratio "$CP50" "$SP50") |
| p99, us (highest of the three wrk) | $SP99 | $CP99 | $(ratio "$CP99" "$SP99") |

Debits forwarded to another node during the cluster's measured runs: $((FWD1 - FWD0)) of about $SPREAD_TOTAL ($FWD_SHARE; the ring gives each node about a third of the clients).

| at node1 (wrk -t$THREADS -c$CONNS, $OWNED clients) | debits/s | p50, us | p99, us |
|---|---:|---:|---:|
| clients owned by node1 (local) | $(fmt "$LR") | $LP50 | $LP99 |
| clients owned by node2 (forwarded) | $(fmt "$FR") | $FP50 | $FP99 |
| forwarded / local | $(ratio "$FR" "$LR") | $(ratio "$FP50" "$LP50") | $(ratio "$FP99" "$LP99") |

A forwarded debit costs $(diff_us "$FP50" "$LP50") us more at the median than a local one, at this load.

per round, debits/s: single $S_RPS| cluster $C_RPS| local $L_RPS| forwarded $F_RPS
EOF
