-- wrk script: POST `compliance` for a different person each request, as an
-- admin, so that the server's cache of recent facts is mostly cold: the
-- employee number is drawn at random from D0000001 .. D<PEOPLE>.
-- TOKEN (an admin's) and PEOPLE come from the environment (scripts/bench-load.sh).
local token = os.getenv("TOKEN")
local people = tonumber(os.getenv("PEOPLE") or "200")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

local query = '{"query":"{ compliance(employeeNo: \\"%s\\", year: 2026, asOf: \\"2026-03-31\\") ' ..
  '{ status lines { facet requiredHours countedHours shortfallHours } } }"}'

-- Each thread draws its own sequence.
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("seed", threads)
end
init = function(args)
  math.randomseed(seed or 1)
end

request = function()
  local employee = string.format("D%07d", math.random(1, people))
  return wrk.format(nil, nil, nil, string.format(query, employee))
end

local errors = 0
response = function(status, headers, body)
  -- A person who has left still has a standing; an unknown number would be
  -- a NOT_FOUND error, which counts as an error here.
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
