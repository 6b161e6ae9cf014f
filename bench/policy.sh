#!/usr/bin/env bash
# Policy tools benchmark: suggest and simulate over one application's 100 000 and 1 000 000 CSP reports,
# on SQLite (the embedded default) and on a throwaway PostgreSQL. `bench/policy.sh postgres 1000000` runs one;
# `bench/policy.sh sqlite shuffled 1000000` seeds out of time order (the worst layout for a scan by time).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dotnet build bench/Lookout.Benchmarks -c Release -v q -nologo >/dev/null
bench=bench/Lookout.Benchmarks/bin/Release/net10.0/Lookout.Benchmarks.dll
providers=("${1:-sqlite postgres}")
shift || true
for provider in ${providers[@]}; do
  if [ "$provider" = postgres ]; then
    . scripts/throwaway-postgres.sh
    unset LOOKOUT_TEST_POSTGRES
    start_throwaway_postgres
    LOOKOUT_BENCH_POSTGRES="$LOOKOUT_TEST_POSTGRES" dotnet "$bench" policy postgres "$@" || { stop_throwaway_postgres; exit 1; }
    stop_throwaway_postgres
  else
    dotnet "$bench" policy sqlite "$@"
  fi
done
