#!/usr/bin/env bash
# Runs every Lookout test: browsers, restore, build, a throwaway PostgreSQL, all test projects, one summary line.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
. scripts/throwaway-postgres.sh

# End-to-end tests drive Debian's browsers; certutil (libnss3-tools) gives Firefox the test CA.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/firefox-esr ] || missing+=(firefox-esr)
command -v certutil >/dev/null || missing+=(libnss3-tools)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing ${missing[*]} (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "test.sh: ${missing[*]} missing; browser tests will be skipped (they fail when CI=true)"
  fi
fi

start_throwaway_postgres
trap stop_throwaway_postgres EXIT

dotnet restore Lookout.sln
dotnet build Lookout.sln -c Release --no-restore
log=$(mktemp)
status=0
dotnet test Lookout.sln -c Release --no-build 2>&1 | tee "$log" || status=$?
# One closing line for the whole run, summed over the test projects.
awk '/^(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { gsub(",", "", $(i+1)); if ($i == "Passed:") p += $(i+1); if ($i == "Failed:") f += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"
