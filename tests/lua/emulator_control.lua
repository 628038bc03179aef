-- The emulator's control API for the specs (the emulator at TCF_TEST_ENDPOINT, started by
-- tests/lua/test_lua.py): control(endpoint, path, body) POSTs body (a table, JSON-encoded; GET for
-- "stats" without a body) to endpoint/_emulator/path and returns the decoded answer.
local core = require("tcfaceid.core")

return function(endpoint, path, body)
    local cmd
    if body == nil and path == "stats" then
        cmd = ("curl -s -S --noproxy '*' '%s/_emulator/%s'"):format(endpoint, path)
    else
        local payload = core.json_encode(body or {})
        assert(not payload:find("'", 1, true), "payload with a quote")
        cmd = ("curl -s -S --noproxy '*' -X POST -H 'Content-Type: application/json' --data '%s' '%s/_emulator/%s'")
            :format(payload, endpoint, path)
    end
    local p = assert(io.popen(cmd, "r"))
    local out = p:read("*a")
    p:close()
    return core.json_decode(out)
end
