-- tcfaceid.core, the C module: signing vectors, JSON mapping, validators, error tables, the
-- sans-IO parse/prepare, the flow helpers, and (when the build has a transport and the pytest
-- driver started an emulator: TCF_TEST_ENDPOINT) client:call and every error class.
-- Runs under Lua 5.4 and LuaJIT (tests/lua/test_lua.py).

local core = require("tcfaceid.core")

local IS_54 = math.type ~= nil and _VERSION == "Lua 5.4"
local ENDPOINT = os.getenv("TCF_TEST_ENDPOINT")
local SECRET_ID = os.getenv("TCF_TEST_SECRET_ID") or "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
local SECRET_KEY = os.getenv("TCF_TEST_SECRET_KEY") or "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
local VECTORS = os.getenv("TCF_VECTORS") or "../shared/vectors/tc3.json"
local ID_NO, NAME = "110101199003071233", "张三"
local SECRETS = { SECRET_KEY, ID_NO, NAME }

local KINDS = {
    invalid_argument = true, bad_json = true, no_credentials = true, auth_failure = true,
    clock_skew = true, throttled = true, service_error = true, invalid_parameter = true,
    token_expired = true, transport = true, timeout = true, tls = true, http_status = true,
    crypto = true, state = true, ambiguous = true, rate_limited = true, error = true,
}

-- An error table as the contract describes it, of the kind wanted, that says nothing secret.
local function check_err(err, kind, also_secret)
    assert.is_table(err)
    assert.are.equal(core.error_mt, getmetatable(err))
    assert.is_true(KINDS[err.kind] ~= nil, "unknown kind " .. tostring(err.kind))
    if kind then
        assert.are.equal(kind, err.kind, tostring(err))
    end
    assert.is_string(err.code)
    assert.is_string(err.message)
    assert.is_true(#err.message > 0)
    assert.is_boolean(err.retryable)
    assert.are.equal("number", type(err.attempts))
    assert.is_true(err.request_id == nil or (type(err.request_id) == "string" and #err.request_id > 0))
    assert.is_true(err.http_status == nil or type(err.http_status) == "number")
    assert.is_true(err.server_time == nil or type(err.server_time) == "number")
    local text = tostring(err)
    assert.is_true(text:find(err.message, 1, true) ~= nil, text)
    for _, secret in ipairs(SECRETS) do
        assert.is_nil(text:find(secret, 1, true), "secret in " .. text)
    end
    if also_secret then
        assert.is_nil(text:find(also_secret, 1, true), "secret in " .. text)
    end
    return err
end

-- nil, err of the kind
local function fails(kind, v, err, ...)
    assert.is_nil(v, "expected a failure, got " .. tostring(v))
    return check_err(err, kind, ...)
end

local function raises(pattern, fn, ...)
    local ok, e = pcall(fn, ...)
    assert.is_false(ok, "did not raise")
    if pattern then
        assert.is_truthy(tostring(e):find(pattern), tostring(e))
    end
    return e
end

local function read_file(path)
    local f = assert(io.open(path, "rb"))
    local text = f:read("*a")
    f:close()
    return text
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64decode(s)
    local out, bits, nbits = {}, 0, 0
    for i = 1, #s do
        local c = s:sub(i, i)
        if c == "=" then
            break
        end
        local v = B64:find(c, 1, true)
        if v then
            bits = bits * 64 + (v - 1)
            nbits = nbits + 6
            if nbits >= 8 then
                nbits = nbits - 8
                local byte = math.floor(bits / 2 ^ nbits)
                out[#out + 1] = string.char(byte)
                bits = bits - byte * 2 ^ nbits
            end
        end
    end
    return table.concat(out)
end

local function deep_equal(a, b)
    if type(a) ~= type(b) then
        return false
    end
    if type(a) ~= "table" then
        if IS_54 and type(a) == "number" and math.type(a) ~= math.type(b) then
            return false
        end
        return a == b
    end
    if getmetatable(a) ~= getmetatable(b) then
        return false
    end
    for k, v in pairs(a) do
        if not deep_equal(v, b[k]) then
            return false
        end
    end
    for k in pairs(b) do
        if a[k] == nil then
            return false
        end
    end
    return true
end

local function array(t)
    return setmetatable(t, core.array_mt)
end

describe("tcfaceid.core module", function()
    it("has a version and says whether it has a transport", function()
        assert.is_truthy(core.version():match("^%d+%.%d+%.%d+$"))
        assert.are.equal(core.version(), core._VERSION)
        assert.is_boolean(core.has_transport)
        if os.getenv("TCF_LUA") == "jit" then
            assert.is_false(core.has_transport)
            raises("no transport", core.client, {})
        elseif os.getenv("TCF_LUA") == "5.4" then
            assert.is_true(core.has_transport)
        end
        assert.are.equal("userdata", type(core.null))
        assert.is_table(core.array_mt)
        assert.is_table(core.error_mt)
    end)

    it("tells time and sleeps", function()
        local t0, m0 = core.time(), core.monotonic()
        assert.is_true(math.abs(t0 - os.time()) <= 2)
        core.sleep(0.02)
        local elapsed = core.monotonic() - m0
        assert.is_true(elapsed >= 0.019 and elapsed < 1, tostring(elapsed))
        core.sleep(0)
        raises("seconds", core.sleep, -1)
        raises(nil, core.sleep, "x")
    end)
end)

describe("core.sign", function()
    local doc = assert(core.json_decode(read_file(VECTORS)))
    local vectors = doc.vectors
    local INPUTS = { "algorithm", "secret_id", "secret_key", "token", "service", "host", "region", "action",
        "version", "language", "timestamp", "method", "path", "content_type", "canonical_query",
        "unsigned_payload", "signed_headers" }

    local function inputs(v)
        local t = {}
        for _, k in ipairs(INPUTS) do
            t[k] = v[k] -- core.null (JSON null) counts as absent
        end
        if v.body_utf8 ~= nil then
            t.body = v.body_utf8
        elseif v.body_base64 ~= nil then
            t.body = b64decode(v.body_base64)
        end
        if v.params_raw ~= nil then
            t.params = v.params_raw
        end
        return t
    end

    it("has the 27 vectors", function()
        assert.are.equal(27, #vectors)
    end)

    for i = 1, #vectors do
        local v = vectors[i]
        it("reproduces vector " .. v.id .. " byte for byte", function()
            local out = core.sign(inputs(v))
            local n = 0
            for key, want in pairs(v.expected) do
                assert.are.equal(want, out[key], v.id .. " " .. key)
                n = n + 1
            end
            for key in pairs(out) do
                assert.is_not_nil(v.expected[key], "extra key " .. key)
                n = n - 1
            end
            assert.are.equal(0, n)
        end)
    end

    it("raises an error table for bad inputs, naming the field, never the value", function()
        local base
        for _, v in ipairs(vectors) do
            if v.id == "V01" then
                base = inputs(v)
            end
        end
        for _, case in ipairs({ { "secret_key", "SECRETVALUE with space" }, { "secret_id", "AKID SECRETVALUE" },
            { "secret_key", "SECRETVALUE\twith-tab" } }) do
            local t = {}
            for k, val in pairs(base) do
                t[k] = val
            end
            t[case[1]] = case[2]
            local e = raises(nil, core.sign, t)
            check_err(e, "invalid_argument", "SECRETVALUE")
            assert.is_truthy(e.message:find(case[1], 1, true), e.message)
        end
        local t = {}
        for k, val in pairs(base) do
            t[k] = val
        end
        t.timestamp = nil
        check_err(raises(nil, core.sign, t), "invalid_argument")
        t.timestamp = 1
        t.signed_headers = "content-type;host;x-tc-bogus"
        check_err(raises(nil, core.sign, t), "invalid_argument")
        raises("unknown option 'body_utf8'", core.sign, { body_utf8 = "{}" })
        raises("must be", core.sign, { timestamp = "1" })
        raises(nil, core.sign, "x")
    end)

    it("hashes binary bodies as they are", function()
        local out = core.sign({ secret_id = SECRET_ID, secret_key = SECRET_KEY, service = "faceid", host = "h",
            method = "POST", content_type = "application/octet-stream", timestamp = 1700000000,
            body = "\0\255\254{\"a\":\0}" })
        assert.are.equal(64, #out.hashed_payload)
        local empty = core.sign({ secret_id = SECRET_ID, secret_key = SECRET_KEY, service = "faceid", host = "h",
            method = "POST", content_type = "application/json", timestamp = 1700000000 })
        -- sha256("")
        assert.are.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", empty.hashed_payload)
    end)
end)

describe("JSON mapping", function()
    local enc, dec = core.json_encode, core.json_decode

    it("encodes objects, arrays and scalars compactly with sorted keys", function()
        assert.are.equal("{}", enc({}))
        assert.are.equal("[]", enc(array({})))
        assert.are.equal("[1,2,3]", enc({ 1, 2, 3 }))
        assert.are.equal("[1,2,3]", enc(array({ 1, 2, 3 })))
        assert.are.equal('{"a":2,"b":1,"c":{"d":[true,false,null]}}',
            enc({ b = 1, a = 2, c = { d = { true, false, core.null } } }))
        assert.are.equal('{"A":1,"B":2,"a":3,"b":4}', enc({ b = 4, a = 3, B = 2, A = 1 }))
        assert.are.equal("null", enc(core.null))
        assert.are.equal('"x"', enc("x"))
        assert.are.equal("true", enc(true))
        assert.are.equal('{"e":[],"o":{}}', enc({ e = array({}), o = {} }))
    end)

    it("escapes strings and keeps UTF-8", function()
        assert.are.equal('"q\\"b\\\\n\\nt\\tc\\u0001z\\u0000"', enc('q"b\\n\nt\tc\1z\0'))
        assert.are.equal('"é中😀"', enc("é中😀"))
        assert.are.equal('{"键":"值"}', enc({ ["键"] = "值" }))
    end)

    it("maps numbers", function()
        assert.are.equal("3", enc(3))
        assert.are.equal("-7", enc(-7))
        assert.are.equal("0.1", enc(0.1))
        assert.are.equal("95.51", enc(95.51))
        assert.are.equal(IS_54 and "9007199254740992.0" or "9007199254740992", enc(2 ^ 53))
        local third = dec(enc(1 / 3))
        assert.are.equal(1 / 3, third)
        if IS_54 then
            assert.are.equal("3.0", enc(3.0))
            assert.are.equal("9223372036854775807", enc(math.maxinteger))
            assert.are.equal("[1,2.5]", enc({ 1, 2.5 }))
        else
            assert.are.equal("3", enc(3.0))
            assert.are.equal("1e300", enc(1e300))
        end
    end)

    it("refuses what JSON cannot hold", function()
        raises("NaN", enc, 0 / 0)
        raises("NaN or infinite", enc, math.huge)
        raises("NaN or infinite", enc, { a = -math.huge })
        raises("a function", enc, print)
        raises("a function", enc, { f = print })
        raises("a coroutine", enc, coroutine.create(print))
        raises("userdata", enc, io.stdout)
        raises("mixes", enc, { 1, a = 2 })
        raises("mixes", enc, array({ a = 1 }))
        raises("holes", enc, { [1] = 1, [3] = 3 })
        raises("holes", enc, { [2] = 1 })
        raises("positive integer", enc, { [0] = 1 })
        raises("positive integer", enc, { [1.5] = 1 })
        raises("neither", enc, { [true] = 1 })
        raises("UTF%-8", enc, "\255")
        raises("UTF%-8", enc, { ["\192\128"] = 1 })
        raises("UTF%-8", enc, "\237\160\128") -- a surrogate
        raises("nil", enc, nil)
        raises(nil, enc)
        local t = {}
        t.self = t
        raises("cycle", enc, t)
        local deep, inner = {}, nil
        inner = deep
        for _ = 1, 63 do
            inner[1] = {}
            inner = inner[1]
        end
        assert.is_string(enc(deep)) -- 64 levels
        inner[1] = {}
        raises("deeper than 64", enc, deep) -- 65
    end)

    it("decodes with arrays marked, null, integers and floats", function()
        local v = dec('{"a":[1,2.5,"x",null,true,false],"o":{},"e":[],"n":{"k":"v"}}')
        assert.are.equal(core.array_mt, getmetatable(v.a))
        assert.are.equal(core.array_mt, getmetatable(v.e))
        assert.is_nil(getmetatable(v.o))
        assert.is_nil(getmetatable(v))
        assert.are.equal(1, v.a[1])
        assert.are.equal(2.5, v.a[2])
        assert.are.equal(core.null, v.a[4])
        assert.is_true(v.a[5])
        assert.is_false(v.a[6])
        assert.are.equal("v", v.n.k)
        assert.are.equal(core.null, dec("null"))
        assert.are.equal("é😀", dec('"\\u00e9\\ud83d\\ude00"'))
        assert.are.equal("a\0b", dec('"a\\u0000b"'))
        if IS_54 then
            assert.are.equal("integer", math.type(v.a[1]))
            assert.are.equal("float", math.type(dec("1.0")))
            assert.are.equal(4611686018427387904, dec("4611686018427387904"))
            assert.are.equal("integer", math.type(dec("-9223372036854775808")))
        else
            assert.are.equal(2 ^ 62, dec("4611686018427387904"))
        end
    end)

    it("returns bad_json for broken text", function()
        for _, text in ipairs({ "", "  ", "{", "[1,", '{"a":1,"a":2}', '{"a":1} x', "NaN", '"\255"',
            '{"a":"\192\128"}', "nan", "01", "{'a':1}", "99999999999999999999999" }) do
            local v, err = dec(text)
            fails("bad_json", v, err)
            assert.is_false(err.retryable)
        end
        local deep64 = string.rep("[", 64) .. string.rep("]", 64)
        assert.is_table(dec(deep64))
        local deep65 = string.rep("[", 65) .. string.rep("]", 65)
        fails("bad_json", dec(deep65))
        raises(nil, dec, nil)
        raises(nil, dec, {})
    end)

    it("round-trips", function()
        for _, text in ipairs({ '{"a":[1,2,{"b":null}],"c":"é","d":{}}', "[]", "{}", '[[],{},[{}]]',
            '{"x":-0.5,"y":1e-7,"z":123456789012}', '"\\u0000"' }) do
            assert.are.equal(text, enc(dec(text)))
        end
        local values = {
            { a = { 1, 2, 3 }, b = { c = "d", e = core.null }, f = array({}), g = {} },
            array({ "x", array({}), { y = 0.25 } }),
        }
        for _, value in ipairs(values) do
            local back = dec(enc(value))
            -- plain arrays come back marked with array_mt
            assert.are.equal(enc(value), enc(back))
        end
    end)
end)

describe("validators", function()
    it("check_id_card", function()
        assert.is_true(core.check_id_card(ID_NO))
        assert.is_true(core.check_id_card(ID_NO, 1700000000))
        fails("invalid_argument", core.check_id_card("110101199003071234"))
        fails("invalid_argument", core.check_id_card("11010119900307123"))
        -- born 2090: in the future of today, fine when today is 0
        fails("invalid_argument", core.check_id_card(ID_NO, 600000000))
        fails("invalid_argument", core.check_id_card(ID_NO .. "\0"))
        raises(nil, core.check_id_card, 110101)
        raises(nil, core.check_id_card, ID_NO, "today")
    end)

    it("normalize_name", function()
        assert.are.equal(NAME, core.normalize_name("  " .. NAME .. " "))
        assert.are.equal("张·三", core.normalize_name("张•三"))
        fails("invalid_argument", core.normalize_name("Zhang San"))
        fails("invalid_argument", core.normalize_name("张"))
        raises(nil, core.normalize_name)
    end)

    it("phones, bank cards, redirect URLs, validity dates", function()
        assert.is_true(core.check_phone("13800138000"))
        fails("invalid_argument", core.check_phone("1380013800"))
        assert.are.equal("CMCC", core.phone_carrier("13800138000"))
        assert.are.equal("CUCC", core.phone_carrier("13000138000"))
        assert.are.equal("CTCC", core.phone_carrier("13300138000"))
        assert.is_nil(core.phone_carrier("12"))
        assert.is_true(core.check_bank_card("4111111111111111"))
        fails("invalid_argument", core.check_bank_card("4111111111111112"))
        assert.is_true(core.check_redirect_url("https://example.com/done?x=1"))
        fails("invalid_argument", core.check_redirect_url("ftp://example.com"))
        fails("invalid_argument", core.check_redirect_url("https://exa mple.com"))
        assert.is_true(core.check_validity_date("20301231"))
        assert.is_true(core.check_validity_date("00000000"))
        assert.is_true(core.check_validity_date("00000000", true))
        fails("invalid_argument", core.check_validity_date("00000000", false))
        fails("invalid_argument", core.check_validity_date("20230230"))
        raises(nil, core.check_validity_date, "20301231", "yes")
    end)
end)

describe("error tables", function()
    it("print code, message and request id", function()
        local _, err = core.parse(200, nil,
            '{"Response":{"Error":{"Code":"InternalError","Message":"boom"},"RequestId":"rid-9"}}')
        check_err(err, "service_error")
        assert.are.equal("InternalError: boom (RequestId rid-9)", tostring(err))
        assert.are.equal("InternalError", err.code)
        assert.are.equal("rid-9", err.request_id)
        assert.are.equal(200, err.http_status)
        assert.is_true(err.retryable)
        local _, local_err = core.check_phone("1")
        assert.are.equal("invalid_argument: " .. local_err.message, tostring(local_err))
        assert.is_nil(local_err.request_id)
        assert.is_nil(local_err.http_status)
        assert.is_nil(local_err.server_time)
        assert.are.equal(0, local_err.attempts)
    end)

    it("are made by core.error with the defaults", function()
        local e = core.error("state", "the session is closed")
        check_err(e, "state")
        assert.are.equal("state", e.code)
        assert.is_false(e.retryable)
        assert.are.equal("state: the session is closed", tostring(e))
        e = core.error("throttled", "slow down", { code = "RequestLimitExceeded", retryable = true, request_id = "r" })
        assert.are.equal("RequestLimitExceeded: slow down (RequestId r)", tostring(e))
        assert.is_true(e.retryable)
        assert.are.equal("auth_failure", core.error("clock_skew", "x").code)
        raises(nil, core.error, "bogus_kind", "x")
        assert.are.equal("x: y", tostring(setmetatable({ code = "x", message = "y" }, core.error_mt)))
    end)
end)

describe("core.parse", function()
    local DATE = "Wed, 29 Nov 2023 10:00:00 GMT"
    local DATE_UNIX = 1701252000

    local function body(err_code, message)
        return ('{"Response":{"Error":{"Code":"%s","Message":"%s"},"RequestId":"rid-1"}}'):format(err_code,
            message or "m")
    end

    it("returns the Response without RequestId, the request id and the server time", function()
        local json, rid, server_time = core.parse(200, { Date = DATE },
            '{"Response":{"LiveCode":"1234","RequestId":"rid-0","N":null,"F":1.50}}')
        assert.are.equal('{"LiveCode":"1234","N":null,"F":1.50}', json)
        assert.are.equal("rid-0", rid)
        assert.are.equal(DATE_UNIX, server_time)
        json, rid, server_time = core.parse(200, { { "Content-Type", "application/json" }, { "date", DATE } },
            '{"Response":{"A":1}}')
        assert.are.equal('{"A":1}', json)
        assert.is_nil(rid)
        assert.are.equal(DATE_UNIX, server_time)
        json, rid, server_time = core.parse(200, nil, '{"Response":{"A":1,"RequestId":"r"}}')
        assert.are.equal('{"A":1}', json)
        assert.is_nil(server_time)
    end)

    it("classifies every error", function()
        local cases = {
            { 200, body("AuthFailure.SignatureFailure"), "auth_failure", false },
            { 200, body("AuthFailure.SecretIdNotFound"), "auth_failure", false },
            { 200, body("AuthFailure.SignatureExpire"), "clock_skew", false },
            { 200, body("RequestLimitExceeded"), "throttled", true },
            { 200, body("InternalError"), "service_error", true },
            { 200, body("InvalidAction"), "service_error", false },
            { 200, body("InvalidParameterValue"), "invalid_parameter", false },
            { 200, body("MissingParameter"), "invalid_parameter", false },
            { 200, body("UnknownParameter"), "invalid_parameter", false },
            { 200, body("InvalidParameterValue.BizTokenExpired", "BizToken过期。"), "token_expired", false },
            { 200, body("FailedOperation.IdentityAuthLimitExceeded"), "rate_limited", false },
            { 502, "<html>bad gateway</html>", "http_status", true },
            { 404, "<html>not found</html>", "http_status", false },
            { 200, "<html>not json</html>", "bad_json", nil },
            { 200, '{"Response":{"A":1}', "bad_json", nil },
        }
        for _, c in ipairs(cases) do
            local v, err = core.parse(c[1], { Date = DATE }, c[2])
            fails(c[3], v, err)
            assert.are.equal(c[1], err.http_status)
            if c[4] ~= nil then
                assert.are.equal(c[4], err.retryable, c[3])
            end
            if c[2]:find("rid-1", 1, true) then
                assert.are.equal("rid-1", err.request_id)
                assert.are.equal(DATE_UNIX, err.server_time)
                assert.is_truthy(tostring(err):find("(RequestId rid-1)", 1, true))
            end
        end
        local _, err = core.parse(200, nil, body("InvalidParameterValue.BizTokenExpired", "BizToken过期。"))
        assert.are.equal("BizToken过期。", err.message)
        assert.are.equal("InvalidParameterValue.BizTokenExpired", err.code)
    end)

    it("raises on wrong argument types", function()
        raises(nil, core.parse, "200", nil, "{}")
        raises(nil, core.parse, 200, "Date: x", "{}")
        raises(nil, core.parse, 200, { { "Date" } }, "{}")
        raises(nil, core.parse, 200, { Date = 1 }, "{}")
        raises(nil, core.parse, 200, nil, nil)
        fails("invalid_argument", core.parse(2 ^ 40, nil, "{}"))
    end)
end)

describe("core.config", function()
    local OPTS = { secret_id = SECRET_ID, secret_key = SECRET_KEY, endpoint = "http://127.0.0.1:8455",
        region = "ap-guangzhou" }

    local function header(req, name)
        local found
        for _, h in ipairs(req.headers) do
            if h[1]:lower() == name:lower() then
                assert.is_nil(found, "header given twice")
                found = h[2]
            end
        end
        return found
    end

    it("prepares signed requests that match core.sign", function()
        local cfg = assert(core.config(OPTS))
        assert.are.equal("http://127.0.0.1:8455", cfg:endpoint())
        assert.are.equal("127.0.0.1:8455", cfg:host())
        local req = assert(cfg:prepare("DetectAuth", { RuleId = "1", Name = NAME }, 1700000000))
        assert.are.equal("POST", req.method)
        assert.are.equal("http://127.0.0.1:8455/", req.url)
        assert.are.equal('{"Name":"张三","RuleId":"1"}', req.body)
        assert.are.equal(core.array_mt, getmetatable(req.headers))
        assert.are.equal("Host", req.headers[1][1])
        assert.are.equal("DetectAuth", header(req, "X-TC-Action"))
        assert.are.equal("1700000000", header(req, "X-TC-Timestamp"))
        assert.are.equal("ap-guangzhou", header(req, "X-TC-Region"))
        assert.are.equal("2018-03-01", header(req, "X-TC-Version"))
        assert.is_nil(header(req, "X-TC-Token"))
        assert.is_truthy(header(req, "X-TC-RequestClient"):find(IS_54 and "lua-5.4" or "luajit", 1, true))
        local sig = core.sign({ secret_id = SECRET_ID, secret_key = SECRET_KEY, service = "faceid",
            host = "127.0.0.1:8455", method = "POST", content_type = "application/json",
            timestamp = 1700000000, body = req.body })
        assert.are.equal(sig.authorization, header(req, "Authorization"))
        -- a JSON string is sent as is; nil is {}; a fractional timestamp is cut
        local raw = '{ "RuleId" : "1" }'
        assert.are.equal(raw, cfg:prepare("DetectAuth", raw, 1700000000).body)
        assert.are.equal("{}", cfg:prepare("GetLiveCode", nil, 1700000000.9).body)
        assert.are.equal("1700000000", header(cfg:prepare("GetLiveCode", nil, 1700000000.9), "X-TC-Timestamp"))
        -- the secret key never shows
        assert.is_nil(tostring(cfg):find(SECRET_KEY, 1, true))
        for _, h in ipairs(req.headers) do
            assert.is_nil(h[2]:find(SECRET_KEY, 1, true))
        end
    end)

    it("returns nil, err for invalid values and bad parameters", function()
        local cfg = assert(core.config(OPTS))
        fails("invalid_argument", cfg:prepare("detect auth", nil, 1))
        fails("bad_json", cfg:prepare("GetLiveCode", "[1]", 1))
        fails("bad_json", cfg:prepare("GetLiveCode", '{"a":1,"a":2}', 1))
        fails("invalid_argument", core.config({ secret_id = SECRET_ID }))
        fails("invalid_argument", core.config({ token = "t" }))
        local c1, e1 = core.config({ secret_id = SECRET_ID, secret_key = "with space" })
        fails("invalid_argument", c1, e1, "with space")
        fails("invalid_argument", core.config({ secret_id = SECRET_ID, secret_key = SECRET_KEY, endpoint = "ftp://x" }))
        fails("invalid_argument", core.config({ secret_id = SECRET_ID, secret_key = SECRET_KEY, language = "fr-FR" }))
        fails("invalid_argument", core.config({ secret_id = SECRET_ID, secret_key = SECRET_KEY .. "\0" }))
        raises("unknown option 'location'", core.config, { location = "/x" })
        raises("must be", core.config, { secret_id = 1 })
        raises(nil, cfg.prepare, cfg, "GetLiveCode", nil, "now")
        raises(nil, cfg.prepare, cfg, "GetLiveCode", 42, 1)
        raises("cannot encode", cfg.prepare, cfg, "GetLiveCode", { f = print }, 1)
        -- JSON null counts as absent
        assert.is_truthy(core.config({ secret_id = SECRET_ID, secret_key = SECRET_KEY, region = core.null }))
    end)

    it("reads the environment when no keys are given", function()
        local cfg, err = core.config({ endpoint = "http://127.0.0.1:1" })
        if os.getenv("TENCENTCLOUD_SECRET_ID") then
            assert.is_truthy(cfg)
        elseif os.getenv("TCF_TEST_NO_CREDENTIALS") then
            fails("no_credentials", cfg, err)
        end
    end)

    it("closes idempotently", function()
        local cfg = assert(core.config(OPTS))
        cfg:close()
        cfg:close()
        fails("state", cfg:prepare("GetLiveCode", nil, 1))
        fails("state", cfg:endpoint())
        assert.are.equal("tcfaceid.config (closed)", tostring(cfg))
        cfg = nil
        collectgarbage()
        collectgarbage()
    end)
end)

describe("flow helpers", function()
    it("detect_auth_body", function()
        local body = assert(core.detect_auth_body({ rule_id = "1", id_card = "11010519491231002x", name = " " .. NAME,
            redirect_url = "https://example.com/done", extra = "订单-1", intention_verify_text = "我同意",
            speed = 2 }, 1700000000))
        local t = core.json_decode(body)
        assert.are.equal("1", t.RuleId)
        assert.are.equal("11010519491231002X", t.IdCard)
        assert.are.equal(NAME, t.Name)
        assert.are.equal("订单-1", t.Extra)
        assert.are.equal(2, t.Config.Speed)
        local q = core.json_decode(assert(core.detect_auth_body({ rule_id = "1",
            intention_questions = { { question = "您是本人吗", answers = { "是", "是的" } } },
            intention_recognition = true, mouth_open_recognition = false })))
        assert.are.equal("您是本人吗", q.IntentionQuestions[1].Question)
        assert.are.equal("是的", q.IntentionQuestions[1].Answers[2])
        local act = core.json_decode(assert(core.detect_auth_body({ rule_id = "1", intention_actions = { "点头" } })))
        assert.are.equal("点头", act.IntentionActions[1].Text)
        assert.are.equal("AQID", core.json_decode(core.detect_auth_body({ rule_id = "1", image = "\1\2\3" })).ImageBase64)
        assert.are.equal("AQID", core.json_decode(core.detect_auth_body({ rule_id = "1",
            image_base64 = "data:image/png;base64,AQID" })).ImageBase64)
        fails("invalid_argument", core.detect_auth_body({ rule_id = "1", speed = -1 }))
        fails("invalid_argument", core.detect_auth_body({ rule_id = "1", intention_type = -2 }))
        fails("invalid_argument", core.detect_auth_body({ rule_id = "1", id_card = "110101199003071234" }))
        fails("invalid_argument", core.detect_auth_body({ rule_id = "1", image = "" }))
        fails("invalid_argument", core.detect_auth_body({ rule_id = "1", intention_questions = {} }))
        fails("invalid_argument", core.detect_auth_body({ rule_id = "1", redirect_url = "ftp://x" }))
        raises("rule_id is required", core.detect_auth_body, {})
        raises("unknown option", core.detect_auth_body, { rule_id = "1", RuleId = "1" })
        raises(nil, core.detect_auth_body, { rule_id = "1", intention_recognition = "yes" })
        raises(nil, core.detect_auth_body, { rule_id = "1", intention_actions = "点头" })
        raises(nil, core.detect_auth_body, "1")
    end)

    it("eid_token_body", function()
        local t = core.json_decode(assert(core.eid_token_body({ merchant_id = "M1", input_type = 4,
            id_card = ID_NO, name = NAME, intention_actions = { "点头" }, speed = 0 })))
        assert.are.equal("M1", t.MerchantId)
        assert.are.equal("4", t.Config.InputType)
        assert.are.equal(true, t.Config.UseIntentionVerify)
        assert.are.equal("3", t.Config.IntentionMode)
        assert.are.equal("点头", t.Config.IntentionActions[1].Text)
        fails("invalid_argument", core.eid_token_body({ merchant_id = "M1", input_type = 0 }))
        fails("invalid_argument", core.eid_token_body({ merchant_id = "M1", intention_mode = 0 }))
        fails("invalid_argument", core.eid_token_body({ merchant_id = "M1", speed = -3 }))
        raises("merchant_id is required", core.eid_token_body, {})
    end)

    it("sessions", function()
        local s = assert(core.session_new("saas", '{"BizToken":"tok-1","Url":"https://x/y","RequestId":"r"}', "1",
            "ex", 1700000000))
        assert.are.equal("saas", s.kind)
        assert.are.equal("tok-1", s.token)
        assert.are.equal("1", s.owner)
        assert.are.equal("https://x/y", s.url)
        assert.are.equal("ex", s.extra)
        assert.are.equal(1700000000 + 7200, s.expires_at)
        assert.are.equal(1700000000 + 3 * 86400, s.results_until)
        assert.is_true(deep_equal(s, assert(core.session_load(s.json))))
        local e = assert(core.session_new("eid", '{"EidToken":"etok","Url":"https://e"}', "M1", nil, 1700000000))
        assert.are.equal("eid", e.kind)
        assert.are.equal("M1", e.owner)
        assert.is_nil(e.extra)
        assert.are.equal(1700000000 + 600, e.expires_at)
        assert.is_true(core.session_check(s.json, "1", 1700000001))
        assert.is_true(core.session_check(s.json, nil, 1700000001))
        fails("invalid_argument", core.session_check(s.json, "2", 1700000001))
        fails("token_expired", core.session_check(s.json, nil, s.results_until + 1))
        fails("bad_json", core.session_new("saas", '{"Url":"x"}', "1", nil, 1))
        fails("bad_json", core.session_load('{"v":2}'))
        fails("bad_json", core.session_load("not json"))
        raises(nil, core.session_new, "paas", "{}", "1", nil, 1)
    end)

    it("result plans and bodies", function()
        assert.are.equal("123456", core.result_plan("saas", "all"))
        assert.are.equal("13", core.result_plan("saas", "best_frame,text"))
        assert.are.equal("10", core.result_plan("eid", "text,eid_info"))
        fails("invalid_argument", core.result_plan("eid", "video"))
        fails("invalid_argument", core.result_plan("saas", "bogus"))
        local b = core.json_decode(assert(core.result_body("saas", "tok", "1", "3", 2, nil, nil)))
        assert.are.equal("tok", b.BizToken)
        assert.are.equal("1", b.RuleId)
        assert.are.equal("3", b.InfoType)
        assert.are.equal(2, b.BestFramesCount)
        assert.are.equal('{"EidToken":"tok","InfoType":"0"}', core.result_body("eid", "tok", nil, "0"))
        fails("invalid_argument", core.result_body("saas", "tok", "1", "3", -1))
        fails("invalid_argument", core.result_body("eid", "tok", "1", "0"))
        raises(nil, core.result_body, "saas", "tok", "1", "3", nil, "yes")
    end)

    it("E-ID status, poll actions, redirects", function()
        assert.are.equal("doing", core.eid_status('{"Status":"doing","RequestId":"r"}'))
        assert.are.equal("finished", core.eid_status('{"Status":"finished"}'))
        fails("bad_json", core.eid_status('{"Status":"x"}'))
        fails("bad_json", core.eid_status("{"))
        local transient = core.error("transport", "reset", { retryable = true })
        assert.are.equal(1, core.eid_poll_after_error(transient, 1))
        assert.are.equal(1, core.eid_poll_after_error(transient, 2))
        assert.are.equal(3, core.eid_poll_after_error(transient, 3))
        assert.are.equal(2, core.eid_poll_after_error(core.error("token_expired", "gone"), 1))
        assert.are.equal(3, core.eid_poll_after_error(core.error("auth_failure", "no"), 1))
        local _, throttled = core.parse(200, nil,
            '{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"m"},"RequestId":"r"}}')
        assert.are.equal(1, core.eid_poll_after_error(throttled, 1))
        raises(nil, core.eid_poll_after_error, "transport", 1)
        assert.are.equal("abc-DEF_1", core.parse_redirect("https://a/b?x=1&token=abc-DEF_1#f"))
        assert.are.equal("tok", core.parse_redirect("token=tok"))
        fails("invalid_argument", core.parse_redirect("https://a/b"))
        fails("invalid_argument", core.parse_redirect("https://a/b?token=a&token=b"))
    end)

    it("verdicts", function()
        local v = assert(core.verdict('{"Text":{"ErrCode":0,"LivenessDetail":[{"Errcode":0,"Livestatus":0,' ..
            '"Comparestatus":0,"Sim":"95.50","ReqTime":"1700000000000","IsNeedCharge":true}]},"IsVerifyIntention":false}'))
        assert.are.equal(1, v.status)
        assert.are.equal(0, v.code)
        assert.are.equal(1, v.billed)
        assert.is_nil(v.intention_code)
        assert.is_nil(v.missing_part)
        assert.is_string(v.reason)
        assert.are.equal(core.array_mt, getmetatable(v.attempts))
        local a = v.attempts[1]
        assert.are.equal(0, a.errcode)
        assert.are.equal(95.5, a.sim)
        assert.are.equal(1700000000000, a.req_time_ms)
        assert.is_true(a.is_need_charge)
        local failed = assert(core.verdict('{"Text":{"ErrCode":1001,"LivenessDetail":[{"Errcode":1001,' ..
            '"Livestatus":1001,"Comparestatus":null,"Sim":null,"ReqTime":null,"IsNeedCharge":null}]}}'))
        assert.are.equal(2, failed.status)
        assert.are.equal(1001, failed.code)
        assert.is_nil(failed.attempts[1].comparestatus)
        assert.is_nil(failed.attempts[1].sim)
        assert.is_nil(failed.attempts[1].is_need_charge)
        local pending = assert(core.verdict('{"Text":{"ErrCode":null}}'))
        assert.are.equal(3, pending.status)
        assert.is_nil(pending.code)
        assert.are.equal(-1, pending.billed)
        assert.are.equal("[]", core.json_encode(pending.attempts))
        local missing = assert(core.verdict('{"Text":{"ErrCode":0},"IsVerifyIntention":true,' ..
            '"IntentionVerifyType":"2","IntentionVerifyData":null}'))
        assert.are.equal("5", missing.missing_part)
        local qa = assert(core.verdict('{"Text":{"ErrCode":0},"IsVerifyIntention":true,"IntentionVerifyType":"0"}'))
        assert.are.equal("6", qa.missing_part)
        fails("bad_json", core.verdict("[]"))
        fails("bad_json", core.verdict('{"Text":{"ErrCode":"0"}}'))
    end)

    it("errcode meanings", function()
        assert.are.equal("success", core.errcode_meaning(0))
        assert.is_string(core.errcode_meaning(1001))
        assert.is_nil(core.errcode_meaning(999999))
        assert.is_nil(core.errcode_meaning(2 ^ 40))
        assert.is_string(core.errcode_meaning(-1, "0"))
        assert.is_string(core.errcode_meaning(-1, "1"))
        assert.are_not.equal(core.errcode_meaning(-1, "0"), core.errcode_meaning(-1, "2"))
        raises(nil, core.errcode_meaning, "0")
    end)

    it("eid_decrypt refuses bad inputs", function()
        fails("state", core.eid_decrypt("", "", "x"))
        fails("invalid_argument", core.eid_decrypt("AAAA", "AAAA", "not a key"))
        fails("invalid_argument", core.eid_decrypt("AAAA", "AAAA", "-----BEGIN\0"))
        local pem = os.getenv("TCF_TEST_SM2_KEY")
        if pem then
            fails("crypto", core.eid_decrypt("AAAA", "AAAA", pem))
        end
        raises(nil, core.eid_decrypt, "AAAA", "AAAA", nil)
    end)
end)

-- ---------------------------------------------------------------------------------------------
-- The libcurl client against the emulator
-- ---------------------------------------------------------------------------------------------

local describe_client = (core.has_transport and ENDPOINT) and describe or pending

local control_at = require("emulator_control")
local function control(path, body)
    return control_at(ENDPOINT, path, body)
end

local function new_client(opts)
    local o = { secret_id = SECRET_ID, secret_key = SECRET_KEY, endpoint = ENDPOINT, proxy = "", timeout = 10 }
    for k, v in pairs(opts or {}) do
        o[k] = v
    end
    return core.client(o)
end

describe_client("core.client against the emulator", function()
    local DETECT = { RuleId = "1", IdCard = ID_NO, Name = NAME }

    before_each(function()
        control("reset")
    end)

    it("calls, with the request id, JSON nulls kept", function()
        local cl = assert(new_client())
        assert.are.equal(ENDPOINT, cl:endpoint())
        local data, rid = cl:call("GetLiveCode")
        assert.is_string(data)
        assert.is_truthy(rid:match("^[0-9a-f-]+$"))
        assert.is_truthy(core.json_decode(data).LiveCode:match("^%d%d%d%d$"))
        data = assert(cl:call("DetectAuth", DETECT))
        local token = core.json_decode(data).BizToken
        data = assert(cl:call("GetDetectInfoEnhanced", core.json_encode({ BizToken = token, RuleId = "1", InfoType = "1" })))
        local info = core.json_decode(data)
        assert.is_nil(info.RequestId)
        assert.are.equal(core.null, info.Text.ErrCode)
        control("complete", { token = token, scenario = "pass" })
        info = core.json_decode(assert(cl:call("GetDetectInfoEnhanced", { BizToken = token, RuleId = "1", InfoType = "1" })))
        assert.are.equal(0, info.Text.ErrCode)
        assert.are.equal(1, assert(core.verdict(core.json_encode(info))).status)
        -- prepare on a client is the config's
        local req = assert(cl:prepare("GetLiveCode", nil, 1700000000))
        assert.are.equal(ENDPOINT .. "/", req.url)
        cl:close()
    end)

    it("returns each error class", function()
        local cl = assert(new_client())
        -- the service's answers
        fails("invalid_parameter", cl:call("DetectAuth", { RuleId = "1" }))
        fails("invalid_parameter", cl:call("GetLiveCode", { Bogus = 1 }))
        local _, err = cl:call("GetLiveCode2")
        fails("service_error", _, err)
        assert.are.equal("InvalidAction", err.code)
        assert.is_string(err.request_id)
        control("faults", { kind = "internal_error", count = 5, action = "DetectAuth" })
        _, err = cl:call("DetectAuth", DETECT)
        fails("service_error", _, err)
        assert.are.equal("InternalError", err.code)
        assert.is_true(err.retryable)
        control("faults", { clear = true })
        control("faults", { kind = "http_5xx", status = 502, count = 5, action = "DetectAuth" })
        _, err = cl:call("DetectAuth", DETECT)
        fails("http_status", _, err)
        assert.are.equal(502, err.http_status)
        control("faults", { clear = true })
        control("faults", { kind = "not_json", count = 5, action = "DetectAuth" })
        fails("bad_json", cl:call("DetectAuth", DETECT))
        control("faults", { clear = true })
        -- refused locally: nothing sent
        fails("bad_json", cl:call("GetLiveCode", "[1]"))
        fails("invalid_argument", cl:call("Get/LiveCode"))
        fails("invalid_argument", cl:call("GetLive\0Code"))
        raises(nil, cl.call, cl, "GetLiveCode", 42)
        cl:close()
        -- wrong key
        local bad = assert(new_client({ secret_key = "WrongKeyBindingTest0123456789abcdefEXAMPL" }))
        _, err = bad:call("GetLiveCode")
        fails("auth_failure", _, err, "WrongKeyBindingTest")
        assert.are.equal("AuthFailure.SignatureFailure", err.code)
        bad:close()
        -- nobody listening
        local refused = assert(new_client({ endpoint = "http://127.0.0.1:1" }))
        _, err = refused:call("GetLiveCode")
        fails("transport", _, err)
        assert.is_nil(err.http_status)
        refused:close()
    end)

    it("times out", function()
        control("faults", { kind = "latency", seconds = 1.0, count = 5, action = "DetectAuth" })
        local cl = assert(new_client({ timeout = 0.3 }))
        local t0 = core.monotonic()
        fails("timeout", cl:call("DetectAuth", DETECT))
        assert.is_true(core.monotonic() - t0 < 0.95)
        cl:close()
        control("faults", { clear = true })
    end)

    it("validates options", function()
        fails("invalid_argument", new_client({ timeout = 0 }))
        fails("invalid_argument", new_client({ connect_timeout = -1 }))
        fails("invalid_argument", new_client({ timeout = 0 / 0 }))
        local c1, e1 = new_client({ secret_key = "with space" })
        fails("invalid_argument", c1, e1, "with space")
        raises("verify", new_client, { verify = "no" })
        raises("log", new_client, { log = "print" })
        raises("unknown option", new_client, { bogus = 1 })
    end)

    it("logs through the log function, without secrets", function()
        local lines = {}
        local cl = assert(new_client({ log = function(level, line)
            lines[#lines + 1] = { level, line }
        end }))
        assert(cl:call("GetLiveCode"))
        assert.is_true(#lines >= 1)
        assert.are.equal(20, lines[#lines][1])
        assert.is_truthy(lines[#lines][2]:find("action=GetLiveCode", 1, true))
        for _, l in ipairs(lines) do
            assert.is_nil(l[2]:find(SECRET_KEY, 1, true))
        end
        -- a failing log function does not break the call
        local noisy = assert(new_client({ log = function() error("log failed") end }))
        assert(noisy:call("GetLiveCode"))
        noisy:close()
        -- closing the client from its own log function: the call still completes
        local selfclose
        selfclose = assert(new_client({ log = function() selfclose:close() end }))
        assert.is_string((selfclose:call("GetLiveCode")))
        fails("state", selfclose:call("GetLiveCode"))
        cl:close()
    end)

    it("closes idempotently (close, __gc, __close)", function()
        local cl = assert(new_client())
        cl:close()
        cl:close()
        local _, err = cl:call("GetLiveCode")
        fails("state", _, err)
        fails("state", cl:prepare("GetLiveCode", nil, 1))
        fails("state", cl:endpoint())
        assert.are.equal("tcfaceid.client (closed)", tostring(cl))
        -- garbage collected open and closed clients
        for _ = 1, 20 do
            local c = assert(new_client())
            if _ % 2 == 0 then
                c:close()
            end
        end
        collectgarbage()
        collectgarbage()
        if IS_54 then
            local chunk = assert(load([[
                local core, new_client = ...
                local kept
                do
                    local c <close> = assert(new_client())
                    kept = c
                    assert(c:call("GetLiveCode"))
                end
                local _, err = kept:call("GetLiveCode")
                return err
            ]]))
            local err2 = chunk(core, new_client)
            fails("state", nil, err2)
        end
    end)
end)
