-- tcfaceid.client (libcurl) against the emulator the pytest driver started: calls, errors and the
-- SaaS and E-ID flows end to end. The emulator's control API is driven with the curl command.
-- Pending without a transport (the OpenResty build) or without TCF_TEST_ENDPOINT.

local tcfaceid = require("tcfaceid")
local core = tcfaceid.core

local ENDPOINT = os.getenv("TCF_TEST_ENDPOINT")
local SECRET_ID = os.getenv("TCF_TEST_SECRET_ID")
local SECRET_KEY = os.getenv("TCF_TEST_SECRET_KEY")
local MERCHANT = os.getenv("TCF_TEST_MERCHANT_ID")
local SM2_KEY = os.getenv("TCF_TEST_SM2_KEY")
local RSA_PUB = os.getenv("TCF_TEST_RSA_PUB") -- the emulator's field-encryption public keys
local SM2_PUB = os.getenv("TCF_TEST_SM2_PUB")
local ID_NO, NAME = "110101199003071233", "张三"

local usable = core.has_transport and ENDPOINT ~= nil and SECRET_ID ~= nil

local control_at = require("emulator_control")
local function control(path, body)
    return control_at(ENDPOINT, path, body)
end

local function new_client(opts)
    opts = opts or {}
    opts.secret_id = opts.secret_id or SECRET_ID
    opts.secret_key = opts.secret_key or SECRET_KEY
    opts.endpoint = opts.endpoint or ENDPOINT
    opts.proxy = ""
    opts.timeout = 10
    return assert(tcfaceid.client(opts))
end

local describe_emulator = usable and describe or pending

describe_emulator("tcfaceid.client against the emulator", function()
    local client

    before_each(function()
        control("reset")
        client = new_client()
    end)

    after_each(function()
        client:close()
    end)

    it("calls an action and reports the RequestId", function()
        local r = assert(client:call("GetLiveCode"))
        assert.is_string(r.LiveCode)
        assert.is_nil(r.RequestId)
        assert.is_string(client.last_request_id)
        local p = client:prepare("GetLiveCode", {}, 1700000000)
        assert.are.equal("POST", p.method)
    end)

    it("returns nil, err with the service's code, message and RequestId", function()
        local r, err = client:call("DetectAuth", { RuleId = "no-such-rule" })
        assert.is_nil(r)
        assert.are.equal("invalid_parameter", err.kind)
        assert.is_truthy(err.code:find("^InvalidParameter"))
        assert.is_string(err.request_id)
        assert.is_truthy(tostring(err):find(err.request_id, 1, true))
        local bad = new_client({ secret_key = "wrong-key-wrong-key-wrong-key-1234" })
        r, err = bad:call("GetLiveCode")
        assert.is_nil(r)
        assert.are.equal("auth_failure", err.kind)
        assert.is_nil(tostring(err):find("wrong-key", 1, true))
        bad:close()
        bad:close() -- idempotent
        r, err = bad:call("GetLiveCode")
        assert.is_nil(r)
        assert.are.equal("state", err.kind)
    end)

    it("runs a SaaS flow with a retry: two attempts, PASSED", function()
        local s = assert(client:detect_auth({ rule_id = "1", id_card = ID_NO, name = NAME,
            redirect_url = "https://shop.example/back?order=1", extra = "order-1" }))
        assert.is_string(s.url)
        local v = assert(client:detect_result(s))
        assert.are.equal("PENDING", v.status)
        local done = control("complete", { token = s.biz_token, scenario = "retry_then_pass" })
        assert.are.equal(0, done.err_code)
        assert.are.equal(s.biz_token, tcfaceid.parse_redirect(done.redirect))
        local stored = s:to_json()
        local again = assert(tcfaceid.session_from_json(stored))
        v = assert(client:detect_result(again, { parts = { "text", "best_frame" } }))
        assert.are.equal("PASSED", v.status)
        assert.are.equal(2, #v.attempts)
        assert.are.equal(1002, v.attempts[1].errcode)
        assert.are.equal(0, v.attempts[2].errcode)
        assert.is_number(v.attempts[2].sim)
        assert.are.equal("order-1", v.text.Extra)
        assert.is_string(v.response.BestFrame.BestFrame)
    end)

    it("reports a failed comparison with its code, meaning and billing", function()
        local s = assert(client:detect_auth({ rule_id = "1", id_card = ID_NO, name = NAME }))
        control("complete", { token = s.biz_token, scenario = "fail_compare" })
        local v = assert(client:detect_result(s.biz_token, { rule_id = "1" }))
        assert.are.equal("FAILED", v.status)
        assert.are.equal(2016, v.code)
        assert.are.equal(true, v.billed)
        assert.is_truthy(v.meaning:find("similarity", 1, true))
    end)

    it("refuses locally past the results window, with no request", function()
        local offset = 0
        local c = new_client({ clock = function() return os.time() + offset end })
        local s = assert(c:detect_auth({ rule_id = "1", id_card = ID_NO, name = NAME }))
        local before = control("stats").total
        offset = 3 * 86400 + 10
        local v = assert(c:detect_result(s))
        assert.are.equal("EXPIRED", v.status)
        local r, err = c:detect_result(s, { rule_id = "other" })
        assert.is_nil(r)
        assert.are.equal("invalid_argument", err.kind)
        assert.are.equal(before, control("stats").total)
        c:close()
    end)

    it("runs an E-ID flow and decrypts the identity", function()
        local s = assert(client:get_eid_token({ merchant_id = MERCHANT, input_type = 4, id_card = ID_NO,
            name = NAME }))
        assert.are.equal("init", client:eid_status(s))
        control("complete", { token = s.eid_token, scenario = "pass" })
        assert.are.equal("finished", client:wait_eid(s, { interval = 0.05 }))
        local v = assert(client:eid_result(s, { parts = { "text", "eid_info" } }))
        assert.are.equal("PASSED", v.status)
        local who = assert(tcfaceid.decrypt_eid_info(v.response.EidInfo, SM2_KEY))
        assert.are.same({ name = NAME, idtype = "01", idnum = ID_NO }, who)
        local none, err = tcfaceid.decrypt_eid_info({ DesKey = "", UserInfo = "" }, SM2_KEY)
        assert.is_nil(none)
        assert.are.equal("state", err.kind)
    end)

    it("retries reads by the core's policy and reports ambiguous billable failures", function()
        local c = new_client({ retry = { base_delay = 0.001, max_delay = 0.01 }, qps = false })
        control("faults", { kind = "http_5xx", count = 1, action = "GetLiveCode" })
        local before = control("stats").received.GetLiveCode or 0
        assert(c:call("GetLiveCode"))
        assert.are.equal(before + 2, control("stats").received.GetLiveCode)
        control("faults", { kind = "reset", count = 1, action = "IdCardVerification", phase = "after" })
        local r, err = c:call("IdCardVerification", { IdCard = ID_NO, Name = NAME })
        assert.is_nil(r)
        assert.are.equal("ambiguous", err.kind)
        assert.are.equal(1, err.attempts)
        assert.are.equal("yes", tcfaceid.core.retry_decide("GetLiveCode", { kind = "transport" }))
        assert.are.equal("ambiguous", tcfaceid.core.retry_decide("IdCardVerification", { kind = "http_status",
            retryable = true }))
        assert.are.equal("no", tcfaceid.core.retry_decide("DetectAuth", { kind = "service_error" }))
        assert.has_error(function() new_client({ retry = { max_attempts = "3" } }) end)
        local bad, e2 = tcfaceid.client({ retry = { max_attempts = 0 }, secret_id = SECRET_ID,
            secret_key = SECRET_KEY, endpoint = ENDPOINT })
        assert.is_nil(bad)
        assert.are.equal("invalid_argument", e2.kind)
        c:close()
    end)

    it("encrypts fields with encrypt = true and decrypts responses transparently", function()
        assert.is_string(RSA_PUB)
        assert.is_string(SM2_PUB)
        for _, algorithm in ipairs({ "AES-256-CBC", "SM4-GCM" }) do
            local function enc_client(whole_body)
                return new_client({ qps = false, encrypt = true, encryption = { algorithm = algorithm,
                    rsa_public_key_pem = RSA_PUB, sm2_public_key_pem = SM2_PUB, whole_body = whole_body } })
            end
            local c = enc_client(false)
            -- an element check, encrypted: the emulator decrypts it and answers as in clear
            local r = assert(c:call("IdCardVerification", { IdCard = ID_NO, Name = NAME }))
            assert.are.equal("0", r.Result)
            -- the SaaS flow through the flow methods, encrypted end to end
            local s = assert(c:detect_auth({ rule_id = "1", id_card = ID_NO, name = NAME }))
            assert.are.equal(0, control("complete", { token = s.biz_token, scenario = "pass" }).err_code)
            local v = assert(c:detect_result(s))
            assert.are.equal("PASSED", v.status)
            assert.are.equal(ID_NO, v.text.IdCard)
            assert.are.equal(NAME, v.text.Name)
            -- field-level encrypted response, read back in clear
            local params = { BizToken = s.biz_token, RuleId = "1", InfoType = "0" }
            r = assert(c:call("GetDetectInfoEnhanced", params))
            assert.are.equal(ID_NO, r.Text.IdCard)
            assert.is_true(#r.Encryption.EncryptList > 0)
            assert.is_string(c.last_request_id)
            c:close()
            -- whole-body encrypted response
            c = enc_client(true)
            r = assert(c:call("GetDetectInfoEnhanced", params))
            assert.are.equal(ID_NO, r.Text.IdCard)
            assert.are.equal(NAME, r.Text.Name)
            assert.are.equal("", r.EncryptedBody)
            c:close()
            -- the documented (service's) public keys: the emulator cannot decrypt, which proves the
            -- request was encrypted; per call, encrypt = false sends it in clear
            c = new_client({ qps = false, encrypt = true, encryption = { algorithm = algorithm } })
            local none, err = c:call("IdCardVerification", { IdCard = ID_NO, Name = NAME })
            assert.is_nil(none)
            assert.are.equal("FailedOperation.DecryptSystemError", err.code)
            assert.is_nil(tostring(err):find(ID_NO, 1, true))
            assert.is_nil(tostring(err):find(NAME, 1, true))
            r = assert(c:call("IdCardVerification", { IdCard = ID_NO, Name = NAME }, { encrypt = false }))
            assert.are.equal("0", r.Result)
            c:close()
            -- off by default, on per call
            c = new_client({ qps = false, encryption = { algorithm = algorithm, rsa_public_key_pem = RSA_PUB,
                sm2_public_key_pem = SM2_PUB } })
            r = assert(c:call("IdCardVerification", { IdCard = ID_NO, Name = NAME }, { encrypt = true }))
            assert.are.equal("0", r.Result)
            c:close()
        end
        -- per-call retry options
        local c = new_client({ qps = false, retry = { base_delay = 0.001, max_delay = 0.01 } })
        control("faults", { kind = "http_5xx", count = 1, action = "GetLiveCode" })
        local none, err = c:call("GetLiveCode", nil, { retry = { max_attempts = 1 } })
        assert.is_nil(none)
        assert.are.equal(1, err.attempts)
        control("faults", { kind = "http_5xx", count = 1, action = "GetLiveCode" })
        assert(c:call("GetLiveCode", nil, { retry = { max_attempts = 2, base_delay = 0.001 } }))
        -- bad options
        assert.has_error(function() c:call("GetLiveCode", nil, { encrypt = "yes" }) end)
        assert.has_error(function() c:call("GetLiveCode", nil, { colour = 1 }) end)
        assert.has_error(function() c:call("GetLiveCode", nil, 5) end)
        c:close()
        local bad, e2 = tcfaceid.client({ secret_id = SECRET_ID, secret_key = SECRET_KEY, endpoint = ENDPOINT,
            encryption = { algorithm = "DES" } })
        assert.is_nil(bad)
        assert.are.equal("invalid_argument", e2.kind)
        bad, e2 = tcfaceid.client({ secret_id = SECRET_ID, secret_key = SECRET_KEY, endpoint = ENDPOINT,
            encryption = { rsa_public_key_pem = "not a key" } })
        assert.is_nil(bad)
        assert.are.equal("invalid_argument", e2.kind)
    end)

    it("closes with <close> and on garbage collection", function()
        local c = new_client()
        c:close()
        c = nil
        collectgarbage()
        collectgarbage()
    end)
end)
