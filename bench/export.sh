#!/usr/bin/env bash
# RSS of a Release Lookout on SQLite before/after six concurrent full NDJSON exports.
set -e
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dotnet build src/Lookout.Api -c Release >/dev/null
dir=$(mktemp -d)
Lookout__Storage__ConnectionString="Data Source=$dir/l.db" Lookout__RateLimits__PerClient__Enabled=false \
  dotnet src/Lookout.Api/bin/Release/net10.0/Lookout.Api.dll --urls http://127.0.0.1:5199 > $dir/log 2>&1 &
pid=$!
for i in $(seq 1 60); do curl -s -o /dev/null http://127.0.0.1:5199/healthz && break; sleep 0.5; done
python3 - <<'PY'
import json, urllib.request, concurrent.futures
path = "p" * 600
def post(b):
    body = json.dumps([{"type":"csp-violation","age":1,"url":"https://shop.example/","user_agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36","body":{"documentURL":f"https://shop.example/{path}/{b}/{i}","blockedURL":f"https://cdn{i}.example/x.js","effectiveDirective":"script-src-elem","disposition":"report","sample":"x"*200}} for i in range(40)]).encode()
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:5199/r/big", data=body, headers={"Content-Type":"application/reports+json"})).read()
with concurrent.futures.ThreadPoolExecutor(8) as ex: list(ex.map(post, range(420)))
PY
rss() { awk '/VmRSS/ {print $2/1024 " MB"}' /proc/$pid/status; }
echo "after seeding 16800: $(rss)"
for k in 1 2; do
  for j in 1 2 3 4 5 6; do curl -s "http://127.0.0.1:5199/api/apps/big/reports.ndjson" -o $dir/e$j.ndjson & done
  peak=0; while jobs -r | grep -q curl; do r=$(awk '/VmRSS/ {print $2}' /proc/$pid/status); [ $r -gt $peak ] && peak=$r; sleep 0.2; done
  wait $(jobs -p | grep -v $pid) 2>/dev/null || true
  echo "round $k: peak $((peak/1024)) MB, lines $(for j in 1 2 3 4 5 6; do printf "%s " $(wc -l < $dir/e$j.ndjson); done), after: $(rss)"
done
sleep 5; echo "5 s later: $(rss)"
kill $pid; rm -rf $dir
