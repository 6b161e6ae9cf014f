#!/usr/bin/env bash
# Ingest benchmark on one machine, loopback only: (a) a bare ASP.NET Core endpoint (the HTTP ceiling),
# (b) Lookout on SQLite, (c) Lookout on PostgreSQL, (c2) "naive": the collector a user would write in an
# afternoon (bench/NaiveCollector: parse, one awaited INSERT per request, 204 after the commit) on the same
# PostgreSQL, all loaded the same way with wrk and bench/wrk/ingest.lua.
# Afterwards it checks that what Lookout stored matches what it acknowledged, and prints requests/s,
# reports/s, p50/p99 latency, peak RSS and every Lookout figure as a ratio of (a).
# It also prints, per target, the CPU each component used per request during the measured run (Lookout
# or the bare endpoint, PostgreSQL's processes, wrk) and how busy the machine was: where the time goes.
# Knobs: LOOKOUT_BENCH_MIX=legacy (every request one legacy CSP report instead of the mix), DURATION (s, default 20), WARMUP (s, 20: a 5 s warm-up left the JIT's tiering running into the
# measurement; round 6 found it still compiling 40-70 s in, so its final round used 40), CONNECTIONS (16), APPS (50), RSS_APPS (1000),
# TARGETS (default "bare naive sqlite postgres apps": which of (a)-(f) to run; "hot" and "cluster" run only when
# named), LOOKOUT_DIR (the checkout whose Lookout is measured, default this one; bench/ab.sh points it at
# another commit). (e) "hot": one application takes all the load on one silo (one grain activation);
# HOT_APP_LIMIT=on keeps the per-application rate limit there.
# (f) "cluster": three silos on one PostgreSQL behind nginx (scripts/cluster.sh of LOOKOUT_DIR), so two
# requests in three reach a silo that does not hold the application's grain; CPU and RSS are the silos' sum.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-20}
CONNECTIONS=${CONNECTIONS:-16}
APPS=${APPS:-50}
RSS_APPS=${RSS_APPS:-1000}
TARGETS=${TARGETS:-bare naive sqlite postgres apps}
LOOKOUT_DIR=${LOOKOUT_DIR:-.}
want() { [[ " $TARGETS " == *" $1 "* ]]; }

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
. scripts/throwaway-postgres.sh
# Always a fresh, durable server of our own, never a test server from the environment.
unset LOOKOUT_TEST_POSTGRES
# PG_STATEMENTS=1: pg_stat_statements is loaded and each PostgreSQL target prints its costliest statements.
[ "${PG_STATEMENTS:-0}" = 1 ] && export LOOKOUT_PG_OPTIONS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
LOOKOUT_PG_DURABLE=1 start_throwaway_postgres
work=$(mktemp -d /tmp/lookout-bench.XXXXXX)
pid=""
cluster_env=()
cleanup() {
  [ -n "$pid" ] && kill $pid 2>/dev/null
  [ ${#cluster_env[@]} -gt 0 ] && env "${cluster_env[@]}" bash "$LOOKOUT_DIR/scripts/cluster.sh" clean >/dev/null 2>&1
  stop_throwaway_postgres; rm -rf "$work"
}
trap cleanup EXIT

dotnet build bench/BareEndpoint -c Release -v q -nologo >/dev/null
dotnet build bench/NaiveCollector -c Release -v q -nologo >/dev/null
dotnet build "$LOOKOUT_DIR/src/Lookout.Api" -c Release -v q -nologo >/dev/null
lookout="$LOOKOUT_DIR/src/Lookout.Api/bin/Release/net10.0/Lookout.Api.dll"
port=$(free_port)
url="http://127.0.0.1:$port"

wait_ready() {
  for _ in $(seq 1 200); do
    curl -s -o /dev/null -X POST --data '{}' "$url/r/ready" && return 0
    sleep 0.1
  done
  echo "target did not start" >&2; exit 1
}

start() { # name, then the command; environment comes from the caller
  "${@:2}" --urls "$url" >"$work/$1.log" 2>&1 &
  pid=$!
  wait_ready
}

stop() {
  kill -TERM $pid; wait $pid 2>/dev/null || true; pid=""
}

load() { # seconds, apps, [rate]: prints the BENCH json line
  LOOKOUT_BENCH_APPS=$2 LOOKOUT_BENCH_RATE=${3:-0} LOOKOUT_BENCH_CONNECTIONS=$CONNECTIONS \
    wrk -t"$CONNECTIONS" -c"$CONNECTIONS" -d"$1"s -s bench/wrk/ingest.lua "$url" | sed -n 's/^BENCH //p'
}

# CPU ticks (user + system) a set of processes has used so far.
cpu_of() { local t=0 p; for p in "$@"; do [ -r "/proc/$p/stat" ] && t=$(( t + $(awk '{ print $14 + $15 }' "/proc/$p/stat") )); done; echo "$t"; }
# "pid ticks" lines for every PostgreSQL process, and the ticks used since such a snapshot: processes
# started since count whole, processes that ended since are lost (autovacuum workers; small).
pg_snapshot() { local p; for p in $(pgrep -x postgres || true); do echo "$p $(cpu_of "$p")"; done; }
pg_since() { pg_snapshot | awk 'NR == FNR { before[$1] = $2; next } { used += $2 - ($1 in before ? before[$1] : 0) } END { print used + 0 }' <(echo "$1") -; }
busy_ticks() { head -1 /proc/stat | awk '{ idle = $5 + $6; total = 0; for (i = 2; i <= 9; i++) total += $i; print total - idle, total }'; }

# N distinct loopback ports nothing listens on right now (the kernel's choice).
ephemeral_ports() { python3 -c "
import socket, sys
held = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in held: s.bind(('127.0.0.1', 0))
print(' '.join(str(s.getsockname()[1]) for s in held))" "$1"; }

psql_in() { "${PG_RUN_AS[@]}" "$PG_BIN/psql" -tA -F ' | ' -h "$PG_TMP" -p "$pg_port" -U postgres -d "$1" -c "$2"; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

# Every page of /api/apps (1 000 at a time): the 1 000-application run needs them all.
stored() { python3 - "$url" <<'PY'
import json, os, sys, urllib.request
base, after, total = sys.argv[1], "", 0
while True:
    request = urllib.request.Request(f"{base}/api/apps?limit=1000" + (f"&after={after}" if after else ""))
    # Behind nginx the read side wants the cluster's token.
    if os.environ.get("BENCH_TOKEN"): request.add_header("Authorization", "Bearer " + os.environ["BENCH_TOKEN"])
    page = json.load(urllib.request.urlopen(request))
    total += sum(a["total"] for a in page["apps"])
    after = page.get("next")
    if not after: break
print(total)
PY
}

# Summed over the target's processes (the silos of a cluster).
peak_rss_mb() { local p t=0; for p in $pid; do t=$(( t + $(awk '/VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$p/status") )); done; echo "$t"; }

results=()
measure() { # name, apps, verify(0/1, or "rows": count the naive collector's rows), [PostgreSQL database: also count its raw rows]
  local warm main acked inflight
  warm=$(load "$WARMUP" "$2")
  [ "${PG_STATEMENTS:-0}" = 1 ] && [ -n "${4:-}" ] && psql_in "$4" "create extension if not exists pg_stat_statements; select pg_stat_statements_reset()" >/dev/null
  local pg0 target0 busy0 total0 target1 pg_used busy1 total1 wrk_cpu timing
  pg0=$(pg_snapshot); target0=$(cpu_of $pid); read -r busy0 total0 < <(busy_ticks)
  timing=$(mktemp)
  { TIMEFORMAT='%U %S'; time load "$DURATION" "$2" >"$timing.out"; } 2>"$timing"
  main=$(cat "$timing.out")
  target1=$(cpu_of $pid); pg_used=$(pg_since "$pg0"); read -r busy1 total1 < <(busy_ticks)
  wrk_cpu=$(tail -n 1 "$timing" | awk '{ print $1 + $2 }'); rm -f "$timing" "$timing.out"
  local rps reports p50 p99 rss
  rps=$(python3 -c "import json,sys; m=json.loads(sys.argv[1]); print(round(m['requests'] / (m['duration_us'] / 1e6)))" "$main")
  reports=$(python3 -c "import json,sys; m=json.loads(sys.argv[1]); print(round(m['acked_reports'] / (m['duration_us'] / 1e6)))" "$main")
  p50=$(python3 -c "import json,sys; print(round(json.loads(sys.argv[1])['p50_us'] / 1000, 2))" "$main")
  p99=$(python3 -c "import json,sys; print(round(json.loads(sys.argv[1])['p99_us'] / 1000, 2))" "$main")
  local check="-"
  if [ "$3" = 1 ] || [ "$3" = rows ]; then
    sleep 2
    acked=$(( $(field "$warm" acked_reports) + $(field "$main" acked_reports) ))
    inflight=$(( $(field "$warm" inflight_reports) + $(field "$main" inflight_reports) ))
    local have rows=""
    if [ "$3" = rows ]; then
      # The naive collector has no read API: its rows are what it stored (wait_ready's probe excluded).
      have=$(psql_in "$4" "select count(*) from naive_reports where app <> 'ready'")
      set -- "$1" "$2" "$3"
    else
      have=$(stored)
    fi
    # The counted total and, on PostgreSQL, the raw events themselves: a gap between the two is a
    # counting fault, a gap to what wrk acknowledged is a loss (or the load's own bookkeeping).
    [ -n "${4:-}" ] && rows=", $(psql_in "$4" "select count(*) from lookout_reports") raw rows"
    if [ "$have" -ge "$acked" ] && [ "$have" -le $(( acked + inflight )) ]; then check="ok: $have stored$rows, $acked acknowledged, $inflight in flight at the end"
    else check="MISMATCH: $have stored$rows, $acked acknowledged, $inflight in flight"; fi
  fi
  if [ "${PG_STATEMENTS:-0}" = 1 ] && [ -n "${4:-}" ]; then
    echo "$1: PostgreSQL statements by total time during the measured run (ms total, calls, rows, ms per call):" >&2
    psql_in "$4" "select round(total_exec_time::numeric, 0), calls, rows, round((total_exec_time / calls)::numeric, 3), left(regexp_replace(query, '\\s+', ' ', 'g'), 110) from pg_stat_statements order by total_exec_time desc limit 20" >&2
  fi
  # Latency at half of this target's maximum request rate.
  local half half_p99 half_rps
  half=$(( rps / 2 ))
  half=$(load 10 "$2" "$half")
  half_rps=$(python3 -c "import json,sys; m=json.loads(sys.argv[1]); print(round(m['requests'] / (m['duration_us'] / 1e6)))" "$half")
  half_p99=$(python3 -c "import json,sys; print(round(json.loads(sys.argv[1])['p99_us'] / 1000, 2))" "$half")
  rss=$(peak_rss_mb)
  local hz requests cpu_split
  hz=$(getconf CLK_TCK)
  requests=$(field "$main" requests)
  # Issue 14's measure: server and PostgreSQL CPU together, per report acknowledged in the measured run.
  cpu_split=$(python3 -c "
t, p, w, n, r, hz = $(( target1 - target0 )), $pg_used, $wrk_cpu, $requests, $(field "$main" acked_reports), $hz
busy = ($busy1 - $busy0) / max($total1 - $total0, 1)
print(f'{t / hz / n * 1e6:.0f} / {p / hz / n * 1e6:.0f} / {w / n * 1e6:.0f} / {(t + p) / hz / max(r, 1) * 1e6:.0f} | {busy:.0%}')")
  results+=("$1|$rps|$reports|$p50|$p99|$half_rps|$half_p99|$rss|$check|$cpu_split")
  echo "$1: $rps req/s, $reports reports/s, p50 $p50 ms, p99 $p99 ms; at $half_rps req/s p99 $half_p99 ms; peak RSS $rss MB; $check; CPU µs/request target / PostgreSQL / wrk, µs per report (target + PostgreSQL), machine busy: $cpu_split" >&2
}

# wrk sends everything from one loopback address: the per-client rate limit would refuse the load.
# The per-application limit stays on (its cost is part of Lookout's); the mix stays far below it.
export Lookout__RateLimits__PerClient__Enabled=false
# The load creates its applications at once (1 000 in the apps run): no new-application rate.
export Lookout__Apps__MaxNewPerMinute=0

# (a) the HTTP ceiling
if want bare; then
  start bare dotnet bench/BareEndpoint/bin/Release/net10.0/BareEndpoint.dll
  measure "bare endpoint" "$APPS" 0
  stop
fi

# (b) Lookout on SQLite (synchronous=FULL, WAL)
if want sqlite; then
  mkdir -p "$work/sqlite"
  Lookout__Storage__ConnectionString="Data Source=$work/sqlite/lookout.db" start sqlite dotnet "$lookout"
  measure "Lookout, SQLite" "$APPS" 1
  stop
fi

pg_port=$(echo "$LOOKOUT_TEST_POSTGRES" | sed 's/.*Port=\([0-9]*\).*/\1/')
# (c) Lookout on PostgreSQL (durable defaults: fsync on, synchronous_commit on)
if want postgres; then
  "${PG_RUN_AS[@]}" "$PG_BIN/psql" -q -h "$PG_TMP" -p "$pg_port" -U postgres -c "create database bench" >/dev/null
  Lookout__Storage__Provider=postgres Lookout__Storage__ConnectionString="${LOOKOUT_TEST_POSTGRES/Database=postgres/Database=bench}" start postgres dotnet "$lookout"
  measure "Lookout, PostgreSQL" "$APPS" 1 bench
  stop
fi

# (c2) the naive collector on the same PostgreSQL: parse, one awaited INSERT per request, 204 after the commit
if want naive; then
  "${PG_RUN_AS[@]}" "$PG_BIN/psql" -q -h "$PG_TMP" -p "$pg_port" -U postgres -c "create database bench_naive" >/dev/null
  NAIVE_PG="${LOOKOUT_TEST_POSTGRES/Database=postgres/Database=bench_naive}" start naive dotnet bench/NaiveCollector/bin/Release/net10.0/NaiveCollector.dll
  measure "naive collector, PostgreSQL" "$APPS" rows bench_naive
  stop
fi

# (d) memory with many applications active at once
if want apps; then
  "${PG_RUN_AS[@]}" "$PG_BIN/psql" -q -h "$PG_TMP" -p "$pg_port" -U postgres -c "create database bench_apps" >/dev/null
  Lookout__Storage__Provider=postgres Lookout__Storage__ConnectionString="${LOOKOUT_TEST_POSTGRES/Database=postgres/Database=bench_apps}" start postgres-apps dotnet "$lookout"
  measure "Lookout, PostgreSQL, $RSS_APPS apps" "$RSS_APPS" 1 bench_apps
  stop
fi

# (e) a hot application: every request for one application, so one grain activation takes all of it
if want hot; then
  "${PG_RUN_AS[@]}" "$PG_BIN/psql" -q -h "$PG_TMP" -p "$pg_port" -U postgres -c "create database bench_hot" >/dev/null
  # Without the per-application limit (2 000 reports/s by default): the run measures the one activation,
  # not how fast a full bucket answers 429. HOT_APP_LIMIT=on keeps it (most requests are then refused).
  Lookout__RateLimits__PerApp__Enabled=$([ "${HOT_APP_LIMIT:-off}" = on ] && echo true || echo false) \
  Lookout__Storage__Provider=postgres Lookout__Storage__ConnectionString="${LOOKOUT_TEST_POSTGRES/Database=postgres/Database=bench_hot}" start postgres-hot dotnet "$lookout"
  measure "Lookout, PostgreSQL, 1 hot app" 1 1 bench_hot
  stop
fi

# (f) three silos on one PostgreSQL behind nginx
if want cluster; then
  command -v nginx >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }
  "${PG_RUN_AS[@]}" "$PG_BIN/psql" -q -h "$PG_TMP" -p "$pg_port" -U postgres -c "create database bench_cluster" >/dev/null
  export BENCH_TOKEN=bench-cluster-token-0123456789
  cluster_env=(LOOKOUT_CLUSTER_DIR="$work/cluster" LOOKOUT_CLUSTER_SILOS=3 LOOKOUT_CLUSTER_LB_PORT="$port"
    LOOKOUT_CLUSTER_PORTS="$(ephemeral_ports 3)" LOOKOUT_CLUSTER_SILO_PORTS="$(ephemeral_ports 3)" LOOKOUT_CLUSTER_GATEWAY_PORTS="$(ephemeral_ports 3)" LOOKOUT_CLUSTER_DLL="$lookout" LOOKOUT_CLUSTER_TOKEN="$BENCH_TOKEN"
    LOOKOUT_CLUSTER_PG="${LOOKOUT_TEST_POSTGRES/Database=postgres/Database=bench_cluster}")
  env "${cluster_env[@]}" bash "$LOOKOUT_DIR/scripts/cluster.sh" start >"$work/cluster.log" 2>&1 || { cat "$work/cluster.log" >&2; exit 1; }
  pid=$(cat "$work"/cluster/silo*.pid | tr '\n' ' ')
  measure "Lookout, 3 silos on PostgreSQL" "$APPS" 1
  env "${cluster_env[@]}" bash "$LOOKOUT_DIR/scripts/cluster.sh" stop >/dev/null 2>&1
  pid=""
fi

# Ratios need the bare endpoint in the same run.
bare_rps=""
want bare && bare_rps=$(echo "${results[0]}" | cut -d'|' -f2)
echo
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); wrk -t$CONNECTIONS -c$CONNECTIONS, ${DURATION}s after ${WARMUP}s warm-up, $APPS apps"
echo
echo "| Target | req/s | ratio to bare | reports/s | p50 ms | p99 ms | p99 ms at half rate (req/s) | peak RSS MB | stored vs acknowledged |"
echo "|---|---|---|---|---|---|---|---|---|"
for r in "${results[@]}"; do
  IFS='|' read -r name rps reports p50 p99 half_rps half_p99 rss check _ _ <<<"$r"
  ratio=-
  [ -n "$bare_rps" ] && ratio=$(python3 -c "print(f'{$rps / $bare_rps:.0%}')")
  echo "| $name | $rps | $ratio | $reports | $p50 | $p99 | $half_p99 ($half_rps) | $rss | $check |"
done
echo
echo "CPU per request during the measured run (user + system, µs):"
echo
echo "| Target | server (bare endpoint or Lookout) | PostgreSQL | wrk | server + PostgreSQL per report acknowledged | machine busy |"
echo "|---|---|---|---|---|---|"
for r in "${results[@]}"; do
  IFS='|' read -r name _ _ _ _ _ _ _ _ split busy <<<"$r"
  IFS='/' read -r server pg wrk per_report <<<"$split"
  echo "| $name | ${server// /} | ${pg// /} | ${wrk// /} | ${per_report// /} | ${busy// /} |"
done
