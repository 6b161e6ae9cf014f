#!/usr/bin/env bash
# Search benchmark (issue 14): the example query and a host wildcard over one application's N stored reports
# (default 1 000 000) on a throwaway durable PostgreSQL, and how soon a committed report is findable.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/throwaway-postgres.sh
unset LOOKOUT_TEST_POSTGRES
LOOKOUT_PG_DURABLE=1 start_throwaway_postgres >/dev/null
trap stop_throwaway_postgres EXIT
dotnet build bench/Lookout.Benchmarks -c Release -v q -nologo >/dev/null
LOOKOUT_BENCH_POSTGRES="$LOOKOUT_TEST_POSTGRES" dotnet bench/Lookout.Benchmarks/bin/Release/net10.0/Lookout.Benchmarks.dll search "$@"
