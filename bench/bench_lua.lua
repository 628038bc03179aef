-- The Lua 5.4 side of `make bench` (bench/run.py): calls/s of tcfaceid.client:call on one
-- client (one keep-alive connection), QPS limits off.
--   lua5.4 bench/bench_lua.lua <endpoint> <calls> <action> <json>
-- (package.path / package.cpath: bindings/lua and build/lua/5.4, set by run.py). One JSON line.
local tcfaceid = require("tcfaceid")
local core = require("tcfaceid.core")

local endpoint, calls, action, json = arg[1], tonumber(arg[2]), arg[3], arg[4]
local client = assert(tcfaceid.client{
    endpoint = endpoint,
    secret_id = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
    secret_key = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
    qps = false,
})
local warm = calls // 10 + 10
local t0
for i = -warm, calls - 1 do
    if i == 0 then
        t0 = core.monotonic()
    end
    local r, err = client:call(action, json)
    if r == nil then
        error("call failed: " .. tostring(err and err.code))
    end
end
local t = core.monotonic() - t0
io.write(string.format('{"calls": %d, "seconds": %.6f, "rate": %.1f}\n', calls, t, calls / t))
client:close()
