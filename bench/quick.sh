#!/usr/bin/env bash
# A short single-debit run against a fresh node, for comparing two builds or
# two settings back to back:
#
#   bench/quick.sh [SECONDS] [quotad options...]
#   RATE=9000 bench/quick.sh 5 --http-threads=1
#
# Starts build/quotad on free loopback ports with a fresh data directory,
# sets DAY quotas for client-0..client-999, runs
# `wrk -t2 -c64 -d<SECONDS>s -s bench/debit.lua` (paced when RATE is set),
# prints wrk's BENCH line and the node's VmRSS, then stops the node and
# removes its data.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
shift || true
[ -x build/quotad ] || { echo "build/quotad is missing: run tools/build.sh first" >&2; exit 1; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http_port=$(free_port)
cluster_port=$(free_port)
data=$(mktemp -d)
./build/quotad --http="127.0.0.1:$http_port" --cluster="127.0.0.1:$cluster_port" \
  --data-dir="$data" --log-level=warn "$@" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$http_port/readyz" >/dev/null && break
  sleep 0.1
done
/usr/bin/python3 - "$http_port" <<'PY'
import http.client, json, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
body = json.dumps({"quotas": [{"duration": "DAY", "credit_limit": 1000000000, "start_date": "2022-01-01"}]})
for i in range(1000):
    conn.request("PUT", f"/v1/clients/client-{i}/quotas", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    assert response.status == 200, response.status
PY
RATE=${RATE:-0} wrk -t2 -c64 -d"${seconds}s" -s bench/debit.lua "http://127.0.0.1:$http_port" | grep '^BENCH'
grep VmRSS "/proc/$pid/status"
