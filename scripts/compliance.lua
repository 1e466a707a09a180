-- wrk script: POST one person's `compliance` query with a bearer token.
-- TOKEN and EMPLOYEE come from the environment (see scripts/bench-load.sh).
local token = os.getenv("TOKEN")
local employee = os.getenv("EMPLOYEE") or "D0000002"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.body = '{"query":"{ compliance(employeeNo: \\"' .. employee ..
  '\\", year: 2026, asOf: \\"2026-03-31\\") { status lines { facet requiredHours countedHours shortfallHours } } }"}'

local errors = 0
response = function(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"') then
    errors = errors + 1
    if errors == 1 then io.stderr:write("bad response: " .. status .. " " .. body .. "\n") end
  end
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_s=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
