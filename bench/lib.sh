# Shell helpers shared by the benchmark scripts (sourced, not run).

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "-- $*" >&2; }

USED_PORTS=" "
free_port() {  # sets PORT to a free TCP port on 127.0.0.1
  local p
  for _ in $(seq 1 500); do
    p=$((20000 + RANDOM % 40000))
    case "$USED_PORTS" in *" $p "*) continue ;; esac
    if [ -z "$(ss -Htan "sport = :$p")" ]; then
      USED_PORTS+="$p "
      PORT=$p
      return 0
    fi
  done
  die "found no free port"
}

wait_http() {  # url pid: waits until url answers 200, while pid lives
  local url=$1 pid=$2
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || return 1
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

field() {  # name line: the value of name=... in a BENCH line
  sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"
}

median() {
  [ "$#" -gt 0 ] || { echo n/a; return; }
  printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1}
    END { if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

median_of() {  # "a b c": the median of a space-separated list
  local -a v
  read -ra v <<<"$1"
  median "${v[@]}"
}

fmt() { LC_ALL=C awk -v v="$1" -v d="${2:-0}" 'BEGIN { if (v == "n/a" || v == "") print "n/a"; else printf "%.*f\n", d, v }'; }
pair_ratios() {  # "a1 a2 ..." "b1 b2 ...": a1/b1 a2/b2 ...
  LC_ALL=C awk -v a="$1" -v b="$2" 'BEGIN {
    n = split(a, x, " "); split(b, y, " ")
    if (n == 0) { print "n/a"; exit }
    for (i = 1; i <= n; i++) printf "%.2f ", (y[i] > 0 ? x[i] / y[i] : 0)
    print ""
  }'
}

ratio() { LC_ALL=C awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b == 0) print "n/a"; else printf "%.2f\n", a / b }'; }
diff_us() { LC_ALL=C awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a") print "n/a"; else printf "%d\n", a - b }'; }
