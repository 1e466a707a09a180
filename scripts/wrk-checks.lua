-- What both wrk scripts share: every response must be a 200 without GraphQL
-- errors (wrk's own counts miss errors that come with status 200), the first
-- bad one is printed to stderr, and the summary is one RESULT line for
-- scripts/bench-load.sh. Loaded with dofile from the scripts beside it.
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
