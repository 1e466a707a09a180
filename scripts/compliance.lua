-- wrk script: POST one person's `compliance` query with a bearer token.
-- TOKEN and EMPLOYEE come from the environment (see scripts/bench-load.sh).
local token = os.getenv("TOKEN")
local employee = os.getenv("EMPLOYEE") or "D0000002"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.body = '{"query":"{ compliance(employeeNo: \\"' .. employee ..
  '\\", year: 2026, asOf: \\"2026-03-31\\") { status lines { facet requiredHours countedHours shortfallHours } } }"}'

-- Every employee number sent is someone employed, so any error is one.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk-checks.lua")
