#!/usr/bin/env bash
# A/B ingest benchmark: this checkout against another commit, alternately, so that the drift of a shared
# VM (±15 % in req/s from one run to the next here) falls on both sides alike.
# Usage: bench/ab.sh BASE_COMMIT [ROUNDS=3] [TARGET=postgres|sqlite|apps]
# Each round runs bench/run.sh for TARGET on BASE_COMMIT, then on this checkout, and prints its line;
# the means come at the end. Knobs of bench/run.sh (DURATION, WARMUP, CONNECTIONS, …) pass through.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
base=${1:?usage: bench/ab.sh BASE_COMMIT [ROUNDS] [TARGET]}
rounds=${2:-3}
target=${3:-postgres}
tree=$(mktemp -d /tmp/lookout-ab.XXXXXX)
cleanup() { git worktree remove --force "$tree" >/dev/null 2>&1 || rm -rf "$tree"; }
trap cleanup EXIT
git worktree add --detach "$tree" "$base" >/dev/null 2>&1
# The npm packages the build copies (uap-core, Chart.js) are the same: reuse them instead of fetching.
[ -d node_modules ] && ln -s "$PWD/node_modules" "$tree/node_modules"
lines=()
for round in $(seq 1 "$rounds"); do
  for side in base this; do
    dir=.; [ "$side" = base ] && dir=$tree
    line=$(TARGETS=$target LOOKOUT_DIR=$dir bench/run.sh 2>&1 | grep '^Lookout, ' | head -n 1)
    echo "round $round, $side: $line"
    lines+=("$side|$line")
  done
done
printf '%s\n' "${lines[@]}" | python3 -c '
import re, sys
sides = {}
for row in sys.stdin:
    side, line = row.rstrip("\n").split("|", 1)
    rps = re.search(r": (\d+) req/s", line)
    cpu = re.search(r"machine busy: (\d+) / (\d+) / (\d+)", line)
    if rps and cpu:
        sides.setdefault(side, []).append((int(rps.group(1)), int(cpu.group(1)), int(cpu.group(2))))
for side, runs in sides.items():
    n = len(runs)
    print(f"{side}: mean {sum(r[0] for r in runs) / n:.0f} req/s, Lookout {sum(r[1] for r in runs) / n:.0f} µs/request, "
          f"PostgreSQL {sum(r[2] for r in runs) / n:.0f} µs/request over {n} runs")
'
