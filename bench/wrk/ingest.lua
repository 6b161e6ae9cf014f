-- A realistic report mix for wrk: legacy CSP and Reporting API batches of 1-10 reports, many
-- applications, a few thousand document and blocked URLs, real user agents, about 10% noise.
-- One connection per thread (wrk -t N -c N): responses then come back in request order, so each
-- thread knows exactly how many reports every 2xx acknowledged. done() prints one JSON line.
local apps = tonumber(os.getenv("LOOKOUT_BENCH_APPS") or "50")
-- LOOKOUT_BENCH_MIX=legacy: every request one legacy CSP report (issue 14's per-report cost load).
local legacy_only = os.getenv("LOOKOUT_BENCH_MIX") == "legacy"
local agents = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.53 Mobile Safari/537.36",
  "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/77.0.3865.116 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0",
  "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0",
  "Mozilla/5.0 (Android 14; Mobile; rv:126.0) Gecko/126.0 Firefox/126.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 OPR/110.0.0.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_7_3) AppleWebKit/534.55.3 (KHTML, like Gecko) Version/5.1.5 Safari/534.55.3",
  "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko",
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/125.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.88 Safari/537.36",
}
local directives = { "script-src-elem", "style-src-elem", "img-src", "connect-src", "font-src", "frame-src", "script-src", "style-src-attr" }
local keywords = { "inline", "eval", "data" }

local function doc()
  return string.format("https://site%d.example/p/%d?q=%d", math.random(50), math.random(40), math.random(1000))
end

local function blocked()
  local r = math.random(100)
  if r <= 10 then return "chrome-extension" end            -- noise
  if r <= 30 then return keywords[math.random(#keywords)] end
  return string.format("https://cdn%d.example/lib/%d.js", math.random(200), math.random(15))
end

local function legacy()
  return string.format('{"csp-report":{"document-uri":"%s","referrer":"","blocked-uri":"%s","violated-directive":"%s","effective-directive":"%s","original-policy":"default-src \'self\'; report-uri /r","disposition":"enforce","status-code":200}}',
    doc(), blocked(), directives[math.random(#directives)], directives[math.random(#directives)])
end

local function reporting(n)
  local items = {}
  for i = 1, n do
    if math.random(10) <= 8 then
      items[i] = string.format('{"type":"csp-violation","age":%d,"url":"%s","user_agent":"%s","body":{"documentURL":"%s","blockedURL":"%s","effectiveDirective":"%s","disposition":"report","statusCode":200,"sample":""}}',
        math.random(60000), doc(), agents[math.random(#agents)], doc(), blocked(), directives[math.random(#directives)])
    else
      items[i] = string.format('{"type":"network-error","age":%d,"url":"%s","user_agent":"%s","body":{"type":"http.error","phase":"application","status_code":502,"elapsed_time":%d,"sampling_fraction":1}}',
        math.random(60000), doc(), agents[math.random(#agents)], math.random(30000))
    end
  end
  return "[" .. table.concat(items, ",") .. "]"
end

local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + id * 7919)
  queue, head, tail = {}, 1, 0       -- reports per request awaiting its response
  acked, failed, sent = 0, 0, 0      -- reports acknowledged (2xx), refused, sent
  acked_requests, other = 0, 0
end

function request()
  local app = "/r/app-" .. math.random(apps)
  local body, n, ctype
  if legacy_only or math.random(10) <= 6 then
    body, n, ctype = legacy(), 1, "application/csp-report"
  else
    n = math.random(10)
    body, ctype = reporting(n), "application/reports+json"
  end
  tail = tail + 1
  queue[tail] = n
  sent = sent + n
  return wrk.format("POST", app, { ["Content-Type"] = ctype, ["User-Agent"] = agents[math.random(#agents)] }, body)
end

function response(status, headers, body)
  local n = queue[head]
  queue[head] = nil
  head = head + 1
  if status >= 200 and status < 300 then
    acked = acked + n
    acked_requests = acked_requests + 1
  else
    failed = failed + n
    other = other + 1
  end
end

function done(summary, latency, requests)
  local acked_all, inflight, sent_all, ok_requests, other_requests = 0, 0, 0, 0, 0
  for _, t in ipairs(threads) do
    acked_all = acked_all + t:get("acked")
    sent_all = sent_all + t:get("sent")
    ok_requests = ok_requests + t:get("acked_requests")
    other_requests = other_requests + t:get("other")
    local q, h, tl = t:get("queue"), t:get("head"), t:get("tail")
    for i = h, tl do inflight = inflight + (q[i] or 0) end
  end
  io.write(string.format('BENCH {"requests":%d,"ok_requests":%d,"other_requests":%d,"acked_reports":%d,"inflight_reports":%d,"sent_reports":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"socket_errors":%d}\n',
    summary.requests, ok_requests, other_requests, acked_all, inflight, sent_all, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end

-- LOOKOUT_BENCH_RATE (requests/s over all threads) paces the load for latency-at-a-given-rate runs.
local rate = tonumber(os.getenv("LOOKOUT_BENCH_RATE") or "0")
local connections = tonumber(os.getenv("LOOKOUT_BENCH_CONNECTIONS") or "1")
if rate > 0 then
  function delay()
    return math.floor(1000 * connections / rate)
  end
end
