#!/usr/bin/env bash
# Write benchmark: storage alone, without HTTP, on SQLite and on a throwaway durable PostgreSQL (fsync on):
# cost per stored report through the group-commit path, peeled down to the floor (see WriteCost.cs).
# Argument: reports per variant (default 30 000).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/throwaway-postgres.sh
unset LOOKOUT_TEST_POSTGRES
LOOKOUT_PG_DURABLE=1 start_throwaway_postgres >/dev/null
trap stop_throwaway_postgres EXIT
dotnet build bench/Lookout.Benchmarks -c Release -v q -nologo >/dev/null
dll=bench/Lookout.Benchmarks/bin/Release/net10.0/Lookout.Benchmarks.dll
# Fully optimized code from the start: with tiered compilation, its background recompiles of the counter
# path landed in the measured part and doubled this process's CPU per report even after a warm-up.
export DOTNET_TieredCompilation=0
dotnet "$dll" write sqlite "${1:-30000}"
echo
LOOKOUT_BENCH_POSTGRES="$LOOKOUT_TEST_POSTGRES" dotnet "$dll" write postgres "${1:-30000}"
