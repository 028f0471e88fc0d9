#!/usr/bin/env bash
# Runs a three-node quotad cluster on loopback, in the foreground:
#
#   tools/local-cluster.sh            start, wait until all three are up,
#                                     print the front doors; Ctrl-C stops them
#   tools/local-cluster.sh --check    the same, then one round of requests
#                                     through every door, then stop (exit 0
#                                     when all went well)
#
# Each node reads configs/cluster-node<N>.conf and keeps its data in its own
# directory, BASE_DIR/node<N>/data, and its log in BASE_DIR/node<N>/quotad.log.
# node1 starts the cluster (no seeds); node2 and node3 join through the
# others. Started again on the same BASE_DIR, the nodes come back with their
# ids, member list and clients.
#
# Environment (defaults in brackets):
#   BASE_DIR       where the nodes keep their data and logs [./local-cluster]
#   HTTP_PORTS     the three HTTP front doors [8081 8082 8083]
#   CLUSTER_PORTS  the three cluster listeners [4811 4812 4813]
#   QUOTAD         the binary [build/quotad]; tools/build.sh makes it
#   LOG_LEVEL      the nodes' log level [info]
#   QUOTAD_ADMIN_TOKEN, QUOTAD_GATEWAY_TOKEN: passed on to every node
#
# Stopping: the nodes get SIGTERM one at a time, node3 first and node1 last,
# each after the previous one has exited. Every node but the last leaves the
# cluster gracefully (hands its clients on); node1 ends as a cluster of one
# holding every client, and starts the cluster again next time (the others
# get their clients back when they rejoin). Stop a cluster started by hand
# the same way: not all nodes at once (docs/cluster.md, "Limits").
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BASE_DIR=${BASE_DIR:-./local-cluster}
read -ra HTTP <<<"${HTTP_PORTS:-8081 8082 8083}"
read -ra CLUSTER <<<"${CLUSTER_PORTS:-4811 4812 4813}"
QUOTAD=${QUOTAD:-$ROOT/build/quotad}
LOG_LEVEL=${LOG_LEVEL:-info}
CHECK=0
case "${1:-}" in
  "") ;;
  --check) CHECK=1 ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "local-cluster: unknown argument $1 (try --help)" >&2; exit 2 ;;
esac

die() { echo "local-cluster: $*" >&2; exit 1; }
say() { echo "local-cluster: $*" >&2; }

[ "${#HTTP[@]}" = 3 ] || die "HTTP_PORTS must name three ports"
[ "${#CLUSTER[@]}" = 3 ] || die "CLUSTER_PORTS must name three ports"
[ -x "$QUOTAD" ] || die "no quotad binary at $QUOTAD: build it with tools/build.sh (or set QUOTAD=...)"
command -v curl >/dev/null || die "curl is not installed"
command -v setsid >/dev/null || die "setsid is not installed (util-linux)"
for p in "${HTTP[@]}" "${CLUSTER[@]}"; do
  if command -v ss >/dev/null && [ -n "$(ss -Htln "sport = :$p")" ]; then
    die "port $p is already in use (set HTTP_PORTS / CLUSTER_PORTS)"
  fi
done
mkdir -p "$BASE_DIR"
BASE_DIR=$(cd "$BASE_DIR" && pwd)

PIDS=(0 0 0)
stop_all() {
  trap - EXIT INT TERM
  local i pid status
  for i in 2 1 0; do
    pid=${PIDS[$i]}
    [ "$pid" != 0 ] || continue
    if kill -0 "$pid" 2>/dev/null; then
      say "stopping node$((i + 1)) (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then
        say "node$((i + 1)) did not stop within 30 s of SIGTERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
    status=0
    wait "$pid" 2>/dev/null || status=$?
    say "node$((i + 1)) exited with status $status"
    PIDS[$i]=0
  done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

start_node() {  # index 0..2
  local i=$1 n=$(($1 + 1)) seeds=() j
  for j in 0 1 2; do
    [ "$j" = "$i" ] || seeds+=("127.0.0.1:${CLUSTER[$j]}")
  done
  local args=(--config="$ROOT/configs/cluster-node$n.conf"
              --data-dir="$BASE_DIR/node$n/data"
              --http="127.0.0.1:${HTTP[$i]}"
              --cluster="127.0.0.1:${CLUSTER[$i]}"
              --log-level="$LOG_LEVEL")
  # node1 starts the cluster: no seeds (see configs/cluster-node1.conf).
  [ "$i" = 0 ] || args+=(--seeds="$(IFS=,; echo "${seeds[*]}")")
  mkdir -p "$BASE_DIR/node$n"
  # In a session of its own: a Ctrl-C in the terminal reaches this script
  # only, which then stops the nodes one at a time.
  setsid "$QUOTAD" "${args[@]}" >>"$BASE_DIR/node$n/quotad.log" 2>&1 </dev/null &
  PIDS[$i]=$!
  say "node$n: pid ${PIDS[$i]}, http 127.0.0.1:${HTTP[$i]}, cluster 127.0.0.1:${CLUSTER[$i]}, log $BASE_DIR/node$n/quotad.log"
}

alive_or_die() {
  local i
  for i in 0 1 2; do
    if [ "${PIDS[$i]}" != 0 ] && ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
      tail -20 "$BASE_DIR/node$((i + 1))/quotad.log" >&2 || true
      die "node$((i + 1)) exited (log above)"
    fi
  done
}

# One node's view is settled when it lists three members, all up.
view_of() { curl -s --max-time 2 "http://127.0.0.1:${HTTP[$1]}/v1/cluster" || true; }
settled() {
  local i v epochs=""
  for i in 0 1 2; do
    v=$(view_of "$i")
    [ "$(grep -o '"state":"[a-z]*"' <<<"$v" | sort | uniq -c | awk '{$1=$1; print}')" = '3 "state":"up"' ] || return 1
    epochs+="$(sed -n 's/.*"epoch":\([0-9]*\).*/\1/p' <<<"$v") "
  done
  [ "$(tr ' ' '\n' <<<"$epochs" | sed '/^$/d' | sort -u | wc -l)" = 1 ]
}

start_node 0
# node1 first: with an empty data directory it is the cluster the others join.
for _ in $(seq 1 300); do
  alive_or_die
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:${HTTP[0]}/healthz" || true)" = 200 ] && break
  sleep 0.1
done
start_node 1
start_node 2

up=0
for _ in $(seq 1 600); do  # at most 60 s
  alive_or_die
  if settled; then up=1; break; fi
  sleep 0.1
done
if [ "$up" != 1 ]; then
  for i in 0 1 2; do echo "node$((i + 1)): $(view_of "$i")" >&2; done
  die "the nodes did not all come up within 60 s (their views above; logs in $BASE_DIR/node*/quotad.log)"
fi

D1="http://127.0.0.1:${HTTP[0]}" D2="http://127.0.0.1:${HTTP[1]}" D3="http://127.0.0.1:${HTTP[2]}"
AUTH=()
[ -n "${QUOTAD_ADMIN_TOKEN:-}" ] && AUTH=(-H "Authorization: Bearer $QUOTAD_ADMIN_TOKEN")
cat <<EOF

quotad cluster up: three nodes, data in $BASE_DIR
  node1  $D1   (cluster 127.0.0.1:${CLUSTER[0]})
  node2  $D2   (cluster 127.0.0.1:${CLUSTER[1]})
  node3  $D3   (cluster 127.0.0.1:${CLUSTER[2]})

Every front door answers for every client; X-Quotad-Owner names the node that owns it.
  curl -s $D1/v1/cluster
  curl -s -X PUT $D1/v1/clients/alice/quotas -H 'Content-Type: application/json'${QUOTAD_ADMIN_TOKEN:+ -H "Authorization: Bearer \$QUOTAD_ADMIN_TOKEN"} \\
       -d '{"quotas":[{"duration":"DAY","credit_limit":500,"start_date":"2024-01-01T00:00:00"}]}'
  curl -si -X POST $D2/v1/clients/alice/usage${QUOTAD_GATEWAY_TOKEN:+ -H "Authorization: Bearer \$QUOTAD_GATEWAY_TOKEN"}
  curl -si $D3/v1/authorize -H 'X-Client-Id: alice'${QUOTAD_GATEWAY_TOKEN:+ -H "Authorization: Bearer \$QUOTAD_GATEWAY_TOKEN"}
  curl -s $D3/v1/clients/alice/quotas
  curl -s $D1/metrics | grep quotad_cluster

EOF

if [ "$CHECK" = 1 ]; then
  GW=()
  [ -n "${QUOTAD_GATEWAY_TOKEN:-}" ] && GW=(-H "Authorization: Bearer $QUOTAD_GATEWAY_TOKEN")
  code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT "${AUTH[@]}" -H 'Content-Type: application/json' \
    -d '{"quotas":[{"duration":"DAY","credit_limit":1000000,"start_date":"2024-01-01T00:00:00"}]}' \
    "$D1/v1/clients/local-cluster-check/quotas")
  [ "$code" = 200 ] || die "check: PUT quotas answered $code"
  owners=""
  for d in "$D1" "$D2" "$D3"; do
    headers=$(curl -s -D - -o /dev/null -X POST "${GW[@]}" "$d/v1/clients/local-cluster-check/usage")
    grep -q '^HTTP/1.1 200' <<<"$headers" || die "check: a debit through $d answered: $headers"
    owners+="$(sed -n 's/^[Xx]-[Qq]uotad-[Oo]wner: *\([^[:space:]]*\).*/\1/p' <<<"$headers") "
  done
  [ "$(tr ' ' '\n' <<<"$owners" | sed '/^$/d' | sort -u | wc -l)" = 1 ] \
    || die "check: the doors named different owners: $owners"
  say "check: one debit through each door, all answered by ${owners%% *}"
  exit 0
fi

say "running; Ctrl-C stops all three (node3, node2, then node1)"
while true; do
  alive_or_die
  sleep 1
done
