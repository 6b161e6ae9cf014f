#!/usr/bin/env bash
# Read benchmark: counts and series latency at 10 000 and 1 000 000 stored reports, on a throwaway PostgreSQL.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/throwaway-postgres.sh
unset LOOKOUT_TEST_POSTGRES
start_throwaway_postgres
trap stop_throwaway_postgres EXIT
dotnet build bench/Lookout.Benchmarks -c Release -v q -nologo >/dev/null
LOOKOUT_BENCH_POSTGRES="$LOOKOUT_TEST_POSTGRES" dotnet bench/Lookout.Benchmarks/bin/Release/net10.0/Lookout.Benchmarks.dll read "$@"
