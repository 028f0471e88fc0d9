#!/usr/bin/env bash
# Benchmarks quotad against nginx's limit_req on this machine, in one run:
#
#   1. single debits  (bench/debit.lua, 1,000 clients, keep-alive), quotad and
#      nginx alternately, ROUNDS pairs; median rates and their ratio;
#   2. batch debits   (bench/batch.lua, 1,000 items a request), the same way;
#   3. latency at half of quotad's median single-debit rate (paced by
#      debit.lua's RATE), against quotad and, for reference, nginx;
#   4. memory: quotad's RSS per resident client, for the 1,000 benchmark
#      clients and, on a fresh node, for MEM_CLIENTS clients activated by one
#      debit each through batch requests; then again for the same clients
#      after a restart of that node.
#
# Progress goes to stderr, a Markdown summary table to stdout.
#
# Builds nothing: it expects build/quotad (tools/build.sh makes it).
# Everything it starts listens on 127.0.0.1 on free ports, keeps its data in
# a temporary directory, and is stopped and removed when the script exits.
#
# Environment (defaults in brackets):
#   DURATION     seconds of each measured wrk run [10]
#   WARMUP       seconds of the unmeasured warm-up run per target [2]
#   ROUNDS       quotad/nginx pairs per endpoint; medians are reported [3]
#   THREADS      wrk threads [2]
#   CONNS        connections for single debits and the latency run [64]
#   BATCH_CONNS  connections for batch requests [8]
#   MEM_CLIENTS  clients of the memory step, 0 skips it [100000]
#   QUOTAD       the binary [build/quotad]
#   NGINX_ONLY   1: run only the nginx side (checks the scripts and config)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
BATCH_CONNS=${BATCH_CONNS:-8}
MEM_CLIENTS=${MEM_CLIENTS:-100000}
QUOTAD=${QUOTAD:-$ROOT/build/quotad}
NGINX_ONLY=${NGINX_ONLY:-0}
CLIENTS=1000
QUOTA_BODY='{"quotas":[{"duration":"DAY","credit_limit":1000000000,"start_date":"2022-01-01T00:00:00","time_zone":"UTC"}]}'


for tool in wrk nginx curl ss awk; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install wrk nginx-light curl iproute2)"
done
if [ "$NGINX_ONLY" != 1 ] && [ ! -x "$QUOTAD" ]; then
  die "no quotad binary at $QUOTAD: build it first with tools/build.sh (or set QUOTAD=...), or run NGINX_ONLY=1 bench/run.sh to check the nginx side alone"
fi

TMP=$(mktemp -d /tmp/quotad-bench.XXXXXX)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() {  # removes $1 from PIDS once it has been stopped here
  local keep=() p
  for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}


WRK_N=0
run_wrk() {  # script url conns duration [VAR=value...]: sets LINE to wrk's BENCH line
  local script=$1 url=$2 conns=$3 dur=$4
  shift 4
  WRK_N=$((WRK_N + 1))
  local out="$TMP/wrk-$WRK_N.txt"
  # In the background, so that a signal stops the script at once (and the
  # EXIT trap stops wrk).
  env "$@" WRK_THREADS="$THREADS" \
    wrk -t"$THREADS" -c"$conns" -d"${dur}s" --timeout 5s -s "$BENCH/$script" "$url" >"$out" 2>&1 &
  local wrk_pid=$!
  PIDS+=("$wrk_pid")
  wait "$wrk_pid" || true
  forget_pid "$wrk_pid"
  local line
  line=$(grep '^BENCH ' "$out" || true)
  [ -n "$line" ] || { cat "$out" >&2; die "wrk gave no result for $url"; }
  local errs=0 k
  for k in errors_connect errors_read errors_write errors_status errors_timeout; do
    errs=$((errs + $(field "$k" "$line")))
  done
  [ "$errs" = 0 ] || log "WARNING: $errs wrk errors against $url ($line)"
  LINE=$line
}

# ---------------------------------------------------------------- nginx
start_nginx() {
  local dir="$TMP/nginx"
  mkdir -p "$dir"
  free_port
  NGINX_PORT=$PORT
  sed "s/^\( *\)listen [^;]*; # BENCH_LISTEN/\1listen 127.0.0.1:$NGINX_PORT; # BENCH_LISTEN/" \
    "$BENCH/nginx.conf" >"$dir/nginx.conf"
  grep -q "listen 127.0.0.1:$NGINX_PORT;" "$dir/nginx.conf" || die "could not set nginx's port"
  cp "$BENCH/nginx-batch-body.conf" "$dir/"
  nginx -p "$dir/" -c "$dir/nginx.conf" >"$dir/stdout.log" 2>&1 &
  NGINX_PID=$!
  PIDS+=("$NGINX_PID")
  NGINX_URL="http://127.0.0.1:$NGINX_PORT"
  # nginx has no health route here: any answer from the debit location will do.
  for _ in $(seq 1 100); do
    kill -0 "$NGINX_PID" 2>/dev/null || { cat "$dir/stdout.log" "$dir/error.log" >&2 2>/dev/null; die "nginx did not start"; }
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$NGINX_URL/v1/clients/client-0/usage" || true)" = 200 ] && return 0
    sleep 0.1
  done
  die "nginx did not answer on $NGINX_URL"
}

# ---------------------------------------------------------------- quotad
start_quotad() {  # name: starts a node on data dir $TMP/name (fresh or not); sets QUOTAD_PID, QUOTAD_URL
  local name=$1
  free_port; local http_port=$PORT
  free_port; local cluster_port=$PORT
  mkdir -p "$TMP/$name"
  "$QUOTAD" --http="127.0.0.1:$http_port" --cluster="127.0.0.1:$cluster_port" \
    --data-dir="$TMP/$name/data" --log-level=warn --actor-idle-seconds=600 \
    >>"$TMP/$name/stdout.log" 2>>"$TMP/$name/stderr.log" &
  QUOTAD_PID=$!
  PIDS+=("$QUOTAD_PID")
  QUOTAD_URL="http://127.0.0.1:$http_port"
  wait_http "$QUOTAD_URL/readyz" "$QUOTAD_PID" || {
    tail -20 "$TMP/$name/stderr.log" >&2
    die "quotad did not become ready on $QUOTAD_URL"
  }
}

QUOTAD_EXITS=""
stop_quotad() {  # stops QUOTAD_PID with SIGTERM; sets QUOTAD_EXIT, adds it to QUOTAD_EXITS
  kill -TERM "$QUOTAD_PID"
  QUOTAD_EXIT=timeout
  for _ in $(seq 1 300); do
    if ! kill -0 "$QUOTAD_PID" 2>/dev/null; then
      QUOTAD_EXIT=0
      wait "$QUOTAD_PID" || QUOTAD_EXIT=$?
      forget_pid "$QUOTAD_PID"
      break
    fi
    sleep 0.1
  done
  [ "$QUOTAD_EXIT" != timeout ] || log "WARNING: quotad did not stop within 30 s of SIGTERM"
  QUOTAD_EXITS+="$QUOTAD_EXIT "
}

set_quotas() {  # url prefix count: PUTs the quota definitions, 200 for each
  local url=$1 prefix=$2 count=$3
  local codes="$TMP/put-codes.txt"
  curl -sS --no-progress-meter --parallel --parallel-max 32 -X PUT \
    -H 'Content-Type: application/json' --data-binary "$QUOTA_BODY" \
    -o /dev/null -w '%{http_code}\n' "$url/v1/clients/${prefix}[0-$((count - 1))]/quotas" \
    >"$codes" 2>"$TMP/put-errors.txt" || true
  local ok
  ok=$(grep -c '^200$' "$codes" || true)
  [ "$ok" = "$count" ] || {
    sort "$codes" | uniq -c >&2
    die "setting quotas for ${prefix}0..${prefix}$((count - 1)): $ok of $count answered 200"
  }
}

batch_debit_all() {  # url prefix count: one debit for each client, by batches of 1000; fails unless all 200
  local url=$1 prefix=$2 count=$3 start=0 ok=0 n
  while [ "$start" -lt "$count" ]; do
    n=$((count - start)); [ "$n" -gt 1000 ] && n=1000
    awk -v p="$prefix" -v s="$start" -v n="$n" 'BEGIN {
      printf "{\"requests\":["
      for (i = 0; i < n; i++) printf "%s{\"client_id\":\"%s%d\",\"credits\":1}", (i ? "," : ""), p, s + i
      printf "]}"
    }' >"$TMP/batch-body.json"
    curl -sS -X POST -H 'Content-Type: application/json' --data-binary @"$TMP/batch-body.json" \
      -o "$TMP/batch-answer.json" "$url/v1/usage:batch" || return 1
    ok=$((ok + $(grep -o '"status":200' "$TMP/batch-answer.json" | wc -l)))
    start=$((start + n))
  done
  if [ "$ok" != "$count" ]; then
    BATCH_FAILURE="$ok of $count items answered 200; an answer: $(head -c 200 "$TMP/batch-answer.json")"
    return 1
  fi
}

single_debit_all() {  # url prefix count: one single debit for each client, 200 for each
  local url=$1 prefix=$2 count=$3 ok
  curl -sS --no-progress-meter --parallel --parallel-max 32 -X POST \
    -H 'Content-Type: application/json' --data-binary '{"credits":1}' \
    -o /dev/null -w '%{http_code}\n' "$url/v1/clients/${prefix}[0-$((count - 1))]/usage" \
    >"$TMP/debit-codes.txt" 2>"$TMP/debit-errors.txt" || true
  ok=$(grep -c '^200$' "$TMP/debit-codes.txt" || true)
  [ "$ok" = "$count" ] || die "one debit each for ${prefix}*: $ok of $count answered 200"
}

debit_all() {  # url prefix count: one debit each, by batches (single debits if batches fail)
  if [ -z "$BATCH_FAILURE" ]; then
    batch_debit_all "$@" && return 0
    log "WARNING: the batch endpoint failed ($BATCH_FAILURE); using single debits"
  fi
  single_debit_all "$@"
}

check_debit() {  # url name: one debit must answer 200 with "allowed":true
  local answer code
  answer=$(curl -sS -X POST -H 'Content-Type: application/json' --data-binary '{"credits":1}' \
    -w '\n%{http_code}' "$1/v1/clients/client-1/usage") || die "$2: debit request failed"
  code=${answer##*$'\n'}
  if [ "$code" != 200 ] || ! grep -q '"allowed":true' <<<"$answer"; then
    die "$2: a debit answered $answer"
  fi
}

# ---------------------------------------------------------------- run
DATE=$(date -u +%Y-%m-%dT%H:%MZ)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "date $DATE, $(nproc) CPUs, load average $LOAD_BEFORE; DURATION=${DURATION}s ROUNDS=$ROUNDS THREADS=$THREADS CONNS=$CONNS BATCH_CONNS=$BATCH_CONNS"

start_nginx
check_debit "$NGINX_URL" nginx
log "nginx (bench/nginx.conf) on $NGINX_URL, master pid $NGINX_PID"

TARGETS=(nginx)
RSS_PER_1K=n/a
BATCH_FAILURE=""
if [ "$NGINX_ONLY" != 1 ]; then
  start_quotad node
  log "quotad on $QUOTAD_URL, pid $QUOTAD_PID ($QUOTAD)"
  RSS0=$(rss_kb "$QUOTAD_PID")
  set_quotas "$QUOTAD_URL" client- "$CLIENTS"
  BATCH_FAILURE=""
  batch_debit_all "$QUOTAD_URL" client- "$CLIENTS" || {
    log "WARNING: quotad's batch endpoint fails: $BATCH_FAILURE"
    log "WARNING: quotad's batch runs are skipped"
    single_debit_all "$QUOTAD_URL" client- "$CLIENTS"
  }
  RSS1=$(rss_kb "$QUOTAD_PID")
  RSS_PER_1K=$(( (RSS1 - RSS0) * 1024 / CLIENTS ))
  log "quotad RSS ${RSS0} kB before the quotas, ${RSS1} kB with $CLIENTS clients active"
  check_debit "$QUOTAD_URL" quotad
  TARGETS=(quotad nginx)
fi
url_of() { if [ "$1" = quotad ]; then echo "$QUOTAD_URL"; else echo "$NGINX_URL"; fi; }

declare -A DEBIT_RPS BATCH_RPS BATCH_ITEMS
for t in "${TARGETS[@]}"; do DEBIT_RPS[$t]=""; BATCH_RPS[$t]=""; BATCH_ITEMS[$t]=""; done

# Single debits.
for t in "${TARGETS[@]}"; do
  run_wrk debit.lua "$(url_of "$t")" "$CONNS" "$WARMUP"
done
for r in $(seq 1 "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do
    run_wrk debit.lua "$(url_of "$t")" "$CONNS" "$DURATION"
    line=$LINE
    rps=$(field rps "$line")
    DEBIT_RPS[$t]+="$rps "
    log "debit  round $r $t: $(fmt "$rps") req/s, p50 $(field p50_us "$line") us, p99 $(field p99_us "$line") us"
  done
done

# Batch debits.
BATCH_TARGETS=("${TARGETS[@]}")
[ -n "$BATCH_FAILURE" ] && BATCH_TARGETS=(nginx)
for t in "${BATCH_TARGETS[@]}"; do
  run_wrk batch.lua "$(url_of "$t")" "$BATCH_CONNS" "$WARMUP"
done
for r in $(seq 1 "$ROUNDS"); do
  for t in "${BATCH_TARGETS[@]}"; do
    run_wrk batch.lua "$(url_of "$t")" "$BATCH_CONNS" "$DURATION"
    line=$LINE
    BATCH_RPS[$t]+="$(field rps "$line") "
    BATCH_ITEMS[$t]+="$(field items_per_s "$line") "
    log "batch  round $r $t: $(fmt "$(field rps "$line")") req/s = $(fmt "$(field items_per_s "$line")") debits/s, p99 $(field p99_us "$line") us"
  done
done

Q_DEBIT=$(median_of "${DEBIT_RPS[quotad]:-}")
N_DEBIT=$(median_of "${DEBIT_RPS[nginx]}")
Q_BATCH=$(median_of "${BATCH_RPS[quotad]:-}")
N_BATCH=$(median_of "${BATCH_RPS[nginx]}")
Q_ITEMS=$(median_of "${BATCH_ITEMS[quotad]:-}")
N_ITEMS=$(median_of "${BATCH_ITEMS[nginx]}")

# Latency at half of quotad's peak (nginx's when NGINX_ONLY=1), paced by debit.lua.
PEAK=$Q_DEBIT; [ "$NGINX_ONLY" = 1 ] && PEAK=$N_DEBIT
HALF=$(LC_ALL=C awk -v p="$PEAK" 'BEGIN { printf "%d\n", p / 2 }')
declare -A LAT
for t in "${TARGETS[@]}"; do
  run_wrk debit.lua "$(url_of "$t")" "$CONNS" "$DURATION" RATE="$HALF"
  line=$LINE
  LAT[$t]="$(fmt "$(field rps "$line")") req/s: p50 $(field p50_us "$line") us, p90 $(field p90_us "$line") us, p99 $(field p99_us "$line") us"
  log "half load ($HALF req/s target) $t: ${LAT[$t]}"
done

# Memory on a fresh node: MEM_CLIENTS clients, one debit each.
MEM_LINE="skipped"
RSS_PER_MEM=n/a
RSS_PER_RELOAD=n/a
RELOAD_LINE="skipped"
if [ "$NGINX_ONLY" != 1 ]; then
  stop_quotad
  log "benchmark quotad stopped by SIGTERM, exit status $QUOTAD_EXIT"
  if [ "$MEM_CLIENTS" -gt 0 ]; then
    start_quotad mem
    # Warm the process first, so that one-time allocations are not counted per client.
    set_quotas "$QUOTAD_URL" warm- 1000
    debit_all "$QUOTAD_URL" warm- 1000
    M0=$(rss_kb "$QUOTAD_PID")
    set_quotas "$QUOTAD_URL" mem- "$MEM_CLIENTS"
    M1=$(rss_kb "$QUOTAD_PID")
    debit_all "$QUOTAD_URL" mem- "$MEM_CLIENTS"
    M2=$(rss_kb "$QUOTAD_PID")
    RSS_PER_MEM=$(( (M2 - M0) * 1024 / MEM_CLIENTS ))
    MEM_LINE="RSS ${M0} kB before, ${M1} kB after the quotas, ${M2} kB after one debit each${BATCH_FAILURE:+ (single debits: the batch endpoint failed)}"
    log "memory: $MEM_CLIENTS clients: $MEM_LINE"
    curl -s "$QUOTAD_URL/metrics" | grep -i 'actor' | grep -v '^#' | sed 's/^/-- metrics: /' >&2 || true
    stop_quotad
    log "memory quotad stopped by SIGTERM, exit status $QUOTAD_EXIT"

    # The same clients after a restart: their state is on disk only, and one
    # debit each makes them resident again. This leaves out the memtable
    # holding the quota definitions written above.
    start_quotad mem
    debit_all "$QUOTAD_URL" warm- 1000
    R0=$(rss_kb "$QUOTAD_PID")
    debit_all "$QUOTAD_URL" mem- "$MEM_CLIENTS"
    R1=$(rss_kb "$QUOTAD_PID")
    RSS_PER_RELOAD=$(( (R1 - R0) * 1024 / MEM_CLIENTS ))
    RELOAD_LINE="RSS ${R0} kB after the restart, ${R1} kB after one debit each"
    log "memory after a restart: $MEM_CLIENTS clients: $RELOAD_LINE"
    curl -s "$QUOTAD_URL/metrics" | grep -i 'actor' | grep -v '^#' | sed 's/^/-- metrics: /' >&2 || true
    stop_quotad
    log "restarted memory quotad stopped by SIGTERM, exit status $QUOTAD_EXIT"
  fi
fi

BATCH_STATUS=${BATCH_FAILURE:-ok (1000 of 1000 items answered 200)}
[ "$NGINX_ONLY" = 1 ] && BATCH_STATUS=n/a
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
BUSY=""
if LC_ALL=C awk -v l="${LOAD_BEFORE%% *}" 'BEGIN { exit !(l > 1.0) }'; then
  BUSY="WARNING: the machine was busy before the run (load average ${LOAD_BEFORE%% *}): the rates are lower and the latencies higher than on a quiet machine."
fi
cat <<EOF

## quotad benchmark, $DATE
$(nproc) CPUs; load average $LOAD_BEFORE before, $LOAD_AFTER after; wrk -t$THREADS, ${DURATION} s runs, median of $ROUNDS alternating rounds.
$BUSY

| measure | quotad | nginx limit_req | quotad / nginx |
|---|---:|---:|---:|
| single debits, req/s (-c$CONNS, $CLIENTS clients) | $(fmt "$Q_DEBIT") | $(fmt "$N_DEBIT") | $(ratio "$Q_DEBIT" "$N_DEBIT") |
| batch, req/s (-c$BATCH_CONNS, 1000 items) | $(fmt "$Q_BATCH" 1) | $(fmt "$N_BATCH" 1) | not like for like |
| batch, debits/s | $(fmt "$Q_ITEMS") | $(fmt "$N_ITEMS") | (nginx: one lookup a request) |
| latency at $HALF req/s (half of $( [ "$NGINX_ONLY" = 1 ] && echo "nginx's" || echo "quotad's") peak) | ${LAT[quotad]:-n/a} | ${LAT[nginx]} | |
| RSS per resident client, $CLIENTS clients (bytes) | $RSS_PER_1K | | |
| RSS per resident client, $MEM_CLIENTS clients (bytes) | $RSS_PER_MEM | | |
| the same, made resident again after a restart (bytes) | $RSS_PER_RELOAD | | |

single debits per round, req/s: quotad ${DEBIT_RPS[quotad]:-n/a}| nginx ${DEBIT_RPS[nginx]}| quotad/nginx per pair: $(pair_ratios "${DEBIT_RPS[quotad]:-}" "${DEBIT_RPS[nginx]}")
batch per round, req/s: quotad ${BATCH_RPS[quotad]:-n/a}| nginx ${BATCH_RPS[nginx]}
memory step: $MEM_LINE
after the restart: $RELOAD_LINE
quotad batch endpoint: $BATCH_STATUS
quotad exit statuses on SIGTERM: ${QUOTAD_EXITS:-n/a}
EOF
