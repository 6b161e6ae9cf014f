#!/usr/bin/env bash
# Failover time of an application grain: three silos on a private PostgreSQL (scripts/cluster.sh), the
# silo holding the grain of application "hot" is killed with SIGKILL, and a survivor is asked for that
# application once every 50 ms until it answers 204 again. Prints, per trial, the seconds from the kill to
# the first 503 and to the first 204 after it, and how many 503s came in between (never a 500, never a hang
# past Lookout:Cluster:CallTimeout). Knobs: TRIALS (3), and any Lookout__Cluster__* setting to compare
# membership timings (e.g. Lookout__Cluster__ProbeTimeout=00:00:05 Lookout__Cluster__MissedProbesLimit=3
# for Orleans' defaults).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TRIALS=${TRIALS:-3}
dotnet build src/Lookout.Api -c Release -v q -nologo >/dev/null
export LOOKOUT_CLUSTER_DIR=$(mktemp -d /tmp/lookout-failover.XXXXXX)
export LOOKOUT_CLUSTER_SILOS=3 LOOKOUT_CLUSTER_TOKEN=failover-token-0123456789
ports=$(python3 -c "
import socket
held = [socket.socket() for _ in range(10)]
for s in held: s.bind(('127.0.0.1', 0))
print(' '.join(str(s.getsockname()[1]) for s in held))")
read -r h1 h2 h3 s1 s2 s3 g1 g2 g3 lb <<<"$ports"
export LOOKOUT_CLUSTER_PORTS="$h1 $h2 $h3" LOOKOUT_CLUSTER_SILO_PORTS="$s1 $s2 $s3" LOOKOUT_CLUSTER_GATEWAY_PORTS="$g1 $g2 $g3" LOOKOUT_CLUSTER_LB_PORT=$lb
trap 'scripts/cluster.sh clean >/dev/null 2>&1 || true' EXIT
scripts/cluster.sh start >/dev/null
http=($h1 $h2 $h3)
orleans=($s1 $s2 $s3)
report='{"csp-report":{"document-uri":"https://hot.example/","blocked-uri":"https://cdn.example/x.js","violated-directive":"script-src-elem"}}'
post() { curl -s -o /dev/null -w '%{http_code}' -m 30 -X POST -H 'Content-Type: application/csp-report' --data "$report" "http://127.0.0.1:$1/r/hot"; }

for trial in $(seq 1 "$TRIALS"); do
  post "${http[0]}" >/dev/null || true
  silo=$(curl -fsS -H "Authorization: Bearer $LOOKOUT_CLUSTER_TOKEN" "http://127.0.0.1:${http[0]}/api/apps/hot/activation" | python3 -c 'import json,sys; print(json.load(sys.stdin)["silo"])')
  victim=0
  for i in 0 1 2; do [[ "$silo" == *":${orleans[$i]}@"* ]] && victim=$((i + 1)); done
  [ "$victim" -gt 0 ] || { echo "grain on unknown silo $silo" >&2; exit 1; }
  survivor=$(( victim % 3 ))
  start=$(date +%s.%N)
  scripts/cluster.sh kill "$victim"
  first503="" unavailable=0 other=""
  while true; do
    code=$(post "${http[$survivor]}" || echo 000)
    now=$(date +%s.%N)
    if [ "$code" = 204 ]; then break; fi
    if [ "$code" = 503 ]; then unavailable=$((unavailable + 1)); [ -z "$first503" ] && first503=$now; else other+=" $code"; fi
    sleep 0.05
  done
  python3 -c "
import sys
start, first503, ok = float(sys.argv[1]), sys.argv[2], float(sys.argv[3])
f = f'{float(first503) - start:.1f} s' if first503 else 'none'
print(f'trial $trial: killed silo $victim; first 503 after {f}, answering again after {ok - start:.1f} s; $unavailable answers 503 in between; other answers:${other:- none}')" "$start" "$first503" "$now"
  scripts/cluster.sh restart "$victim" >/dev/null
  sleep 3
done
