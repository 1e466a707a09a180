-- wrk script: POST `compliance` for a different person each request, as an
-- admin, so that the server's cache of recent facts is mostly cold: the
-- employee number is drawn at random from the file EMPLOYED names, one per
-- line (everyone still employed on 2026-03-31: someone who left before is
-- refused, not evaluated). TOKEN (an admin's) and EMPLOYED come from the
-- environment (scripts/bench-load.sh).
local token = os.getenv("TOKEN")
local employed = {}
for line in io.lines(os.getenv("EMPLOYED")) do
  employed[#employed + 1] = line
end
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
  local employee = employed[math.random(1, #employed)]
  return wrk.format(nil, nil, nil, string.format(query, employee))
end

-- Every employee number sent is someone employed, so any error is one.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk-checks.lua")
