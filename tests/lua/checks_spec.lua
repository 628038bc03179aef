-- Element checks and PaaS calls (docs/checks.md): validators, carrier routing, prices, outcomes
-- of recorded responses and bodies (pure: Lua 5.4 and LuaJIT); the same methods over an engine
-- of our own (the code path of tcfaceid.resty: both interpreters); and every helper of the
-- libcurl client against the emulator the pytest driver started (Lua 5.4 build only).

local tcfaceid = require("tcfaceid")
local flows = require("tcfaceid.flows")
local core = tcfaceid.core

local ENDPOINT = os.getenv("TCF_TEST_ENDPOINT")
local SECRET_ID = os.getenv("TCF_TEST_SECRET_ID")
local SECRET_KEY = os.getenv("TCF_TEST_SECRET_KEY")
local RSA_PUB = os.getenv("TCF_TEST_RSA_PUB")
local SM2_PUB = os.getenv("TCF_TEST_SM2_PUB")

-- the emulator's library (bindings/python/tcfaceid/emulator/identity.py)
local ZHANG = { id_card = "110101199003071233", name = "张三", phone = "13800138000", -- CMCC
    bank_card = "6212261000000000017" }
local LI = { id_card = "440304198512010027", name = "李四", phone = "18612345678", -- CUCC
    bank_card = "6228480000000000026" }
local ABDULLA = { id_card = "650102197806154350", name = "阿卜杜拉·买买提", phone = "13312345678" } -- CTCC

local METHODS = {
    "id_card_verify", "id_card_ocr_verify", "check_id_name_date", "phone_verify", "phone_verify_cmcc",
    "phone_verify_ctcc", "phone_verify_cucc", "check_phone_and_name", "mobile_status",
    "mobile_network_time_verify", "bank_card_2e_verify", "bank_card_verify", "bank_card_4e_verify",
    "check_bank_card_information", "liveness_recognition", "liveness_compare", "image_recognition_v2",
}

local function check_outcome_shape(o, action)
    assert.is_table(o)
    assert.are.equal(core.outcome_mt, getmetatable(o))
    if action then
        assert.are.equal(action, o.action)
    end
    assert.is_string(o.status)
    assert.is_string(o.result)
    assert.is_string(o.meaning)
    assert.is_true(o.matched == nil or type(o.matched) == "boolean")
    assert.is_true(o.billed == nil or type(o.billed) == "boolean")
    assert.is_true(o.sim == nil or type(o.sim) == "number")
    assert.is_table(o.response)
end

local function check_invalid(r, err, pattern)
    assert.is_nil(r)
    assert.is_table(err, "expected an error")
    assert.are.equal(core.error_mt, getmetatable(err))
    assert.are.equal("invalid_argument", err.kind, tostring(err))
    if pattern then
        assert.is_truthy(err.message:find(pattern), err.message)
    end
end

describe("checks: validators", function()
    it("validates and normalises ID numbers", function()
        assert.are.equal(ZHANG.id_card, tcfaceid.validate_id_card(ZHANG.id_card))
        assert.are.equal("81000019920101003X", tcfaceid.validate_id_card("81000019920101003x"))
        check_invalid(tcfaceid.validate_id_card("110101199003071234")) -- check character
        check_invalid(tcfaceid.validate_id_card("110101900307123")) -- 15-digit legacy
        check_invalid(tcfaceid.validate_id_card("110101209903071238", 1700000000)) -- born in the future
        assert.has_error(function() tcfaceid.validate_id_card(110101199003071233) end)
    end)

    it("validates phone numbers with their carrier and range", function()
        assert.are.same({ carrier = "CMCC", recent_range = false }, tcfaceid.validate_phone(ZHANG.phone))
        assert.are.same({ carrier = "CUCC", recent_range = false }, tcfaceid.validate_phone(LI.phone))
        assert.are.same({ carrier = "CTCC", recent_range = false }, tcfaceid.validate_phone(ABDULLA.phone))
        local recent = assert(tcfaceid.validate_phone("19012345678"))
        assert.is_true(recent.recent_range)
        check_invalid(tcfaceid.validate_phone("2380013800"))
        check_invalid(tcfaceid.validate_phone("1380013800a"))
        assert.has_error(function() tcfaceid.validate_phone(nil) end)
    end)

    it("validates bank cards and names", function()
        assert.are.equal(ZHANG.bank_card, tcfaceid.validate_bank_card(ZHANG.bank_card))
        check_invalid(tcfaceid.validate_bank_card("6212261000000000018")) -- Luhn
        check_invalid(tcfaceid.validate_bank_card("12345"))
        assert.are.equal("阿卜杜拉·买买提", tcfaceid.normalize_name(" 阿卜杜拉•买买提 "))
        check_invalid(tcfaceid.normalize_name("张3"))
    end)
end)

local function cny(fen)
    return ("%d.%02d"):format(math.floor(fen / 100), fen % 100)
end

describe("checks: routing and prices", function()
    it("routes one number of each carrier", function()
        -- CTCC and CUCC are cheaper than PhoneVerification (0.7 vs 1.1 CNY), CMCC is dearer
        assert.are.equal("PhoneVerification", tcfaceid.phone_route(ZHANG.phone))
        assert.are.equal("PhoneVerificationCUCC", tcfaceid.phone_route(LI.phone))
        assert.are.equal("PhoneVerificationCTCC", tcfaceid.phone_route(ABDULLA.phone))
        -- detailed mode: only PhoneVerification gives ResultDetail
        assert.are.equal("PhoneVerification", tcfaceid.phone_route(LI.phone, true))
        assert.are.equal("PhoneVerification", tcfaceid.phone_route("not a phone"))
    end)

    it("estimates costs from the documented prices", function()
        local e = assert(tcfaceid.estimate_cost("PhoneVerification", 1))
        assert.are.equal("1.10", e.per_call)
        assert.are.equal(110, e.per_call_fen)
        assert.are.equal("1.20", assert(tcfaceid.estimate_cost("PhoneVerification", 1, true)).per_call)
        assert.are.equal("0.70", assert(tcfaceid.estimate_cost("PhoneVerificationCTCC", 1)).per_call)
        assert.are.equal("1.30", assert(tcfaceid.estimate_cost("PhoneVerificationCMCC", 1)).per_call)
        e = assert(tcfaceid.estimate_cost("IdCardVerification", 1234567))
        assert.are.equal(1234567, e.calls)
        assert.are.equal(e.per_call_fen * 1234567, e.postpaid_fen)
        assert.is_true(e.best_fen <= e.postpaid_fen)
        local covered = e.postpaid_calls
        local fen = e.postpaid_calls * e.per_call_fen
        for _, p in ipairs(e.packages) do
            covered = covered + p.size * p.count
            fen = fen + p.price_fen * p.count
            assert.are.equal(cny(p.price_fen), p.price)
        end
        assert.is_true(covered >= 1234567)
        assert.are.equal(e.best_fen, fen)
        assert.are.equal(cny(e.best_fen), e.best)
        e = assert(tcfaceid.estimate_cost("BankCard4EVerification", 0))
        assert.are.equal(0, e.best_fen)
        check_invalid(tcfaceid.estimate_cost("LivenessRecognition", 10))
        check_invalid(tcfaceid.estimate_cost("IdCardVerification", -1))
        assert.has_error(function() tcfaceid.estimate_cost("IdCardVerification", "10") end)
    end)
end)

describe("checks: outcomes of recorded responses", function()
    it("reads the same code per action", function()
        -- -4: a billed card problem, a free bad card number, a billed mismatch
        local o = assert(tcfaceid.check_outcome("BankCard2EVerification", '{"Result":"-4","Description":"x"}'))
        check_outcome_shape(o, "BankCard2EVerification")
        assert.are.equal("mismatched", o.status) -- 持卡人信息有误 (billed wrong cardholder data)
        assert.is_true(o.billed)
        o = assert(tcfaceid.check_outcome("BankCardVerification",
            '{"Response":{"Result":"-4","Description":"x","RequestId":"r-1"}}'))
        assert.are.equal("invalid_input", o.status)
        assert.is_false(o.billed)
        assert.are.equal("r-1", o.request_id)
        assert.are.equal("-4", o.response.Result) -- the Response object, not the envelope
        o = assert(tcfaceid.check_outcome("PhoneVerification", { Result = "-4", Isp = "移动",
            ResultDetail = "PhoneNameMismatch" }))
        assert.are.equal("mismatched", o.status)
        assert.is_false(o.matched)
        assert.is_true(o.billed)
        assert.are.equal("PhoneNameMismatch", o.response.ResultDetail)
        o = assert(tcfaceid.check_outcome("IdCardVerification", '{"Result":"0"}'))
        assert.is_true(o.matched)
        assert.are.equal("matched", o.status)
        o = assert(tcfaceid.check_outcome("MobileStatus", '{"Result":"0","StatusCode":1}'))
        assert.are.equal("answered", o.status)
        assert.is_nil(o.matched)
        assert.are.equal(1, o.response.StatusCode)
        o = assert(tcfaceid.check_outcome("IdCardVerification", '{"Result":"-7"}'))
        assert.are.equal("daily_limit", o.status)
        o = assert(tcfaceid.check_outcome("IdCardVerification", '{"Result":"-999"}'))
        assert.are.equal("unknown", o.status)
        assert.is_nil(o.billed)
    end)

    it("reads PaaS results, similarity and thresholds", function()
        assert.are.equal(70, tcfaceid.SIM_THRESHOLD)
        assert.are.equal(70, tcfaceid.SIM_V1_FAR_1E3)
        assert.are.equal(80, tcfaceid.SIM_V1_FAR_1E4)
        assert.are.equal(8 * 1024 * 1024, tcfaceid.VIDEO_BASE64_MAX)
        assert.are.equal(3 * 1024 * 1024, tcfaceid.IMAGE_BASE64_MAX)
        local o = assert(tcfaceid.check_outcome("LivenessRecognition",
            '{"Result":"Success","Sim":"93.5","Description":"成功","BestFrameBase64":"aGk="}'))
        assert.are.equal("matched", o.status)
        assert.are.equal(93.5, o.sim)
        assert.are.equal(70, o.sim_threshold)
        assert.is_nil(tostring(o):find("aGk=", 1, true)) -- __tostring shows no response data
        assert.is_truthy(tostring(o):find("status=matched", 1, true))
        o = assert(tcfaceid.check_outcome("LivenessCompare", '{"Result":"FailedOperation.CompareLowSimilarity","Sim":41}'))
        assert.are.equal("mismatched", o.status)
        assert.are.equal(41, o.sim)
        o = assert(tcfaceid.check_outcome("ImageRecognitionV2", '{"Result":"Success","Sim":null}'))
        assert.is_nil(o.sim)
        -- a business result that arrived as an API error
        o = assert(core.check_outcome_from_api_error("LivenessRecognition", "FailedOperation.CompareLowSimilarity", "r-2"))
        assert.are.equal("mismatched", o.status)
        assert.are.equal("r-2", o.request_id)
        assert.is_false(core.check_outcome_from_api_error("LivenessRecognition", "InternalError", "r-3"))
    end)

    it("refuses what is not an answer", function()
        local r, err = tcfaceid.check_outcome("IdCardVerification", "not json")
        assert.is_nil(r)
        assert.are.equal("bad_json", err.kind)
        r, err = tcfaceid.check_outcome("IdCardVerification", '{"Description":"no result"}')
        assert.is_nil(r)
        assert.are.equal("bad_json", err.kind)
        r, err = tcfaceid.check_outcome("NoSuchAction", '{"Result":"0"}')
        check_invalid(r, err)
        r, err = tcfaceid.check_outcome("IdCardVerification",
            '{"Error":{"Code":"InternalError","Message":"m"},"RequestId":"r-4"}')
        assert.is_nil(r)
        assert.are.equal("InternalError", err.code)
        assert.has_error(function() tcfaceid.check_outcome("IdCardVerification", 5) end)
        assert.are.equal("1234", core.live_code('{"LiveCode":"1234"}'))
        assert.are.equal("2,1", core.action_sequence('{"ActionSequence":"2,1"}'))
        r, err = core.live_code('{"LiveCode":"12"}')
        assert.is_nil(r)
        assert.are.equal("bad_json", err.kind)
    end)
end)

describe("checks: bodies", function()
    it("builds validated bodies with media", function()
        local body = assert(core.check_body("IdCardVerification", { id_card = ZHANG.id_card, name = ZHANG.name }))
        assert.are.same({ IdCard = ZHANG.id_card, Name = ZHANG.name }, tcfaceid.json_decode(body))
        body = assert(core.check_body("LivenessRecognition", { id_card = ZHANG.id_card, name = ZHANG.name,
            liveness_type = "SILENT", video = "abc", best_frame_num = 2 }))
        local t = tcfaceid.json_decode(body)
        assert.are.equal("YWJj", t.VideoBase64)
        assert.are.equal("SILENT", t.LivenessType)
        body = assert(core.check_body("LivenessCompare", { liveness_type = "LIP", validate_data = "1234",
            video_base64 = "data:video/mp4;base64,YW\r\nJj", image_url = "https://example.com/a.jpg" }))
        t = tcfaceid.json_decode(body)
        assert.are.equal("YWJj", t.VideoBase64)
        assert.are.equal("https://example.com/a.jpg", t.ImageUrl)
        local path = os.tmpname()
        local f = assert(io.open(path, "wb"))
        f:write("abc")
        f:close()
        body = assert(core.check_body("ImageRecognitionV2", { id_card = ZHANG.id_card, name = ZHANG.name,
            image_path = path, extra = "order-1" }))
        os.remove(path)
        t = tcfaceid.json_decode(body)
        assert.are.equal("YWJj", t.ImageBase64)
        assert.are.equal("order-1", t.Extra)
    end)

    it("refuses bad inputs, naming the rule and never the value", function()
        local r, err = core.check_body("IdCardVerification", { id_card = "110101199003071234", name = ZHANG.name })
        check_invalid(r, err, "id_card")
        assert.is_nil(tostring(err):find("110101199003071234", 1, true))
        check_invalid(core.check_body("IdCardVerification", { id_card = ZHANG.id_card }))
        r, err = core.check_body("IdCardVerification", { id_card = ZHANG.id_card, name = ZHANG.name,
            bank_card = ZHANG.bank_card })
        check_invalid(r, err, "not a parameter")
        check_invalid(core.check_body("LivenessRecognition", { id_card = ZHANG.id_card, name = ZHANG.name,
            liveness_type = "LIP", validate_data = "12a4", video = "abc" }))
        r, err = core.check_body("LivenessRecognition", { id_card = ZHANG.id_card, name = ZHANG.name,
            liveness_type = "SILENT", video = "abc", video_url = "https://example.com/v.mp4" })
        check_invalid(r, err, "only one")
        check_invalid(core.check_body("LivenessCompare", { liveness_type = "SILENT", video = "abc",
            image_base64 = "not base64!" }))
        check_invalid(core.check_body("CheckIdNameDate", { id_card = ZHANG.id_card, name = ZHANG.name,
            validity_begin = "20150101", validity_end = "20151301" }))
        -- the size limit, with the ffmpeg command that shrinks a video
        r, err = core.check_body("LivenessRecognition", { id_card = ZHANG.id_card, name = ZHANG.name,
            liveness_type = "SILENT", video_base64 = string.rep("A", 8 * 1024 * 1024 + 4) })
        check_invalid(r, err, "ffmpeg")
        r, err = core.check_body("LivenessRecognition", { id_card = ZHANG.id_card, name = ZHANG.name,
            liveness_type = "SILENT", video = string.rep("v", 6 * 1024 * 1024 + 3) })
        check_invalid(r, err, "ffmpeg")
        r, err = core.check_body("ImageRecognitionV2", { id_card = ZHANG.id_card, name = ZHANG.name,
            image = string.rep("i", 3 * 1024 * 1024) })
        check_invalid(r, err)
        -- wrong types and unknown keys raise
        assert.has_error(function() core.check_body("IdCardVerification", { id_card = 1, name = ZHANG.name }) end)
        assert.has_error(function() core.check_body("IdCardVerification", { idcard = ZHANG.id_card }) end)
        assert.has_error(function() core.check_body("IdCardVerification", { name = ZHANG.name, retry = {} }) end)
    end)
end)

-- The methods over an engine of our own: what tcfaceid.resty runs, with nginx left out.
describe("checks over an engine (the tcfaceid.resty path)", function()
    local sent, answers

    local function engine()
        return {
            send = function(action, body)
                sent[#sent + 1] = { action = action, body = tcfaceid.json_decode(body) }
                local a = answers[action] or answers["*"]
                if type(a) == "function" then
                    return a(action, body)
                end
                return a, "rid-" .. #sent
            end,
            now = function() return 1700000000 end,
            sleep = function() end,
            monotonic = function() return 0 end,
        }
    end

    before_each(function()
        sent, answers = {}, {}
    end)

    it("has every method", function()
        local f = flows.new(engine())
        for _, name in ipairs(METHODS) do
            assert.is_function(f[name], name)
        end
        assert.is_function(f.get_live_code)
        assert.is_function(f.get_action_sequence)
    end)

    it("checks, sends and decides", function()
        local f = flows.new(engine())
        answers.IdCardVerification = '{"Result":"-1","Description":"x"}'
        local o = assert(f:id_card_verify({ id_card = ZHANG.id_card, name = ZHANG.name }))
        check_outcome_shape(o, "IdCardVerification")
        assert.are.equal("mismatched", o.status)
        assert.are.equal("rid-1", o.request_id)
        answers.GetLiveCode = '{"LiveCode":"0042"}'
        assert.are.equal("0042", f:get_live_code())
        answers.GetActionSequence = '{"ActionSequence":"1,2"}'
        assert.are.equal("1,2", f:get_action_sequence())
        -- invalid inputs: nothing sent
        local before = #sent
        check_invalid(f:id_card_verify({ id_card = "110101199003071234", name = ZHANG.name }))
        check_invalid(f:bank_card_verify({ id_card = ZHANG.id_card, name = ZHANG.name, bank_card = "1234" }))
        check_invalid(f:phone_verify({ phone = "123", id_card = ZHANG.id_card, name = ZHANG.name, route = "auto" }))
        assert.are.equal(before, #sent)
        assert.has_error(function() f:id_card_verify() end)
        assert.has_error(function() f:id_card_verify({ id_card = ZHANG.id_card, name = ZHANG.name, retry = {} }) end)
        assert.has_error(function() f:mobile_status({ phone = ZHANG.phone, route = "auto" }) end)
        assert.has_error(function() f:phone_verify({ phone = ZHANG.phone, route = "cheapest" }) end)
    end)

    it("routes by carrier and falls back when the carrier action is not enabled", function()
        local f = flows.new(engine())
        answers["*"] = '{"Result":"0","Isp":"x"}'
        local o = assert(f:phone_verify({ phone = LI.phone, id_card = LI.id_card, name = LI.name, route = "auto" }))
        assert.are.equal("PhoneVerificationCUCC", o.action)
        assert.are.equal("PhoneVerificationCUCC", sent[#sent].action)
        assert.is_nil(sent[#sent].body.VerifyMode)
        o = assert(f:phone_verify({ phone = ZHANG.phone, id_card = ZHANG.id_card, name = ZHANG.name, route = "auto" }))
        assert.are.equal("PhoneVerification", o.action)
        o = assert(f:phone_verify({ phone = LI.phone, id_card = LI.id_card, name = LI.name }))
        assert.are.equal("PhoneVerification", o.action) -- route "generic" by default
        answers.PhoneVerificationCTCC = function()
            return nil, core.error("service_error", "not enabled", { code = "UnauthorizedOperation.Nonactivated",
                request_id = "r-x" })
        end
        local n = #sent
        o = assert(f:phone_verify({ phone = ABDULLA.phone, id_card = ABDULLA.id_card, name = ABDULLA.name,
            route = "auto" }))
        assert.are.equal("PhoneVerification", o.action)
        assert.are.equal(n + 2, #sent)
        assert.are.equal("PhoneVerificationCTCC", sent[n + 1].action)
        assert.are.equal("PhoneVerification", sent[n + 2].action)
    end)

    it("turns PaaS API errors into outcomes and passes other errors", function()
        local f = flows.new(engine())
        answers.LivenessRecognition = function()
            return nil, core.error("service_error", "low", { code = "FailedOperation.CompareLowSimilarity",
                request_id = "r-5" })
        end
        local o = assert(f:liveness_recognition({ id_card = ZHANG.id_card, name = ZHANG.name,
            liveness_type = "SILENT", video = "abc" }))
        assert.are.equal("mismatched", o.status)
        assert.are.equal("r-5", o.request_id)
        answers.ImageRecognitionV2 = function()
            return nil, core.error("rate_limited", "daily", { code = "FailedOperation.IdentityAuthLimitExceeded",
                retry_at = 1700006400 })
        end
        local r, err = f:image_recognition_v2({ id_card = ZHANG.id_card, name = ZHANG.name, image = "abc" })
        assert.is_nil(r)
        assert.are.equal("rate_limited", err.kind)
        assert.are.equal(1700006400, err.retry_at)
    end)
end)

-- ---------------------------------------------------------------------------------------------
-- The libcurl client against the emulator

local usable = core.has_transport and ENDPOINT ~= nil and SECRET_ID ~= nil
local describe_emulator = usable and describe or pending

local control_at = require("emulator_control")
local function control(path, body)
    return control_at(ENDPOINT, path, body)
end

local function new_client(opts)
    opts = opts or {}
    opts.secret_id = SECRET_ID
    opts.secret_key = SECRET_KEY
    opts.endpoint = ENDPOINT
    opts.proxy = ""
    opts.timeout = 10
    opts.qps = false
    return assert(tcfaceid.client(opts))
end

local function received(action)
    return control("stats").received[action] or 0
end

describe_emulator("checks with the libcurl client against the emulator", function()
    local client

    before_each(function()
        control("reset")
        client = new_client({ retry = { base_delay = 0.001, max_delay = 0.01 } })
    end)

    after_each(function()
        client:close()
    end)

    it("runs every helper once", function()
        local z, l = ZHANG, LI
        local png = "\137PNG\r\n\26\nnot really a picture"
        local video = "\0\0\0\24ftypisom a small video"
        local path = os.tmpname()
        local f = assert(io.open(path, "wb"))
        f:write(video)
        f:close()
        local code = assert(client:get_live_code())
        assert.is_truthy(code:match("^%d%d%d%d$"))
        local seq = assert(client:get_action_sequence())
        assert.is_truthy(seq:match("^[12],[12]$"))
        local calls = {
            { "id_card_verify", { id_card = z.id_card, name = z.name }, "matched" },
            { "id_card_ocr_verify", { id_card = z.id_card, name = z.name } },
            { "check_id_name_date", { id_card = z.id_card, name = z.name, validity_begin = "20150101",
                validity_end = "20350101" }, "matched" },
            { "phone_verify", { phone = z.phone, id_card = z.id_card, name = z.name, detailed = true }, "matched" },
            { "phone_verify_cmcc", { phone = z.phone, id_card = z.id_card, name = z.name }, "matched" },
            { "phone_verify_ctcc", { phone = ABDULLA.phone, id_card = ABDULLA.id_card, name = ABDULLA.name }, "matched" },
            { "phone_verify_cucc", { phone = l.phone, id_card = l.id_card, name = "王五" }, "mismatched" },
            { "check_phone_and_name", { phone = z.phone, name = z.name }, "matched" },
            { "mobile_status", { phone = z.phone }, "answered" },
            { "mobile_network_time_verify", { phone = z.phone }, "answered" },
            { "bank_card_2e_verify", { bank_card = z.bank_card, name = z.name }, "matched" },
            { "bank_card_verify", { bank_card = z.bank_card, id_card = z.id_card, name = z.name }, "matched" },
            { "bank_card_4e_verify", { bank_card = z.bank_card, id_card = z.id_card, name = z.name,
                phone = z.phone }, "matched" },
            { "check_bank_card_information", { bank_card = l.bank_card }, "answered" },
            { "liveness_recognition", { id_card = z.id_card, name = z.name, liveness_type = "LIP",
                validate_data = code, video_path = path, best_frame_num = 2 }, "matched" },
            { "liveness_compare", { liveness_type = "ACTION", validate_data = seq, video = video, image = png },
                "matched" },
            { "image_recognition_v2", { id_card = z.id_card, name = z.name, image = png, extra = "o-1" }, "matched" },
        }
        assert.are.equal(#METHODS, #calls)
        for _, c in ipairs(calls) do
            local o, err = client[c[1]](client, c[2])
            assert.is_table(o, c[1] .. ": " .. tostring(err))
            check_outcome_shape(o)
            assert.is_string(o.request_id)
            assert.are.equal(o.request_id, client.last_request_id)
            if c[3] then
                assert.are.equal(c[3], o.status, c[1])
            end
        end
        os.remove(path)
        local o = assert(client:mobile_network_time_verify({ phone = z.phone }))
        assert.are.equal("[24,+)", o.response.Range)
        o = assert(client:check_bank_card_information({ bank_card = l.bank_card }))
        assert.are.equal("中国农业银行", o.response.AccountBank)
        o = assert(client:liveness_recognition({ id_card = z.id_card, name = z.name, liveness_type = "SILENT",
            video = video }))
        assert.is_true(o.sim >= 70)
        assert.are.equal(tcfaceid.SIM_THRESHOLD, o.sim_threshold)
        assert.is_string(o.response.BestFrameBase64)
        -- a PaaS failure set by the emulator's media directive
        o = assert(client:liveness_recognition({ id_card = z.id_card, name = z.name, liveness_type = "SILENT",
            video = "tcfaceid-emulator:result=FailedOperation.CompareLowSimilarity;sim=41.5\n" }))
        assert.are.equal("mismatched", o.status)
        assert.are.equal(41.5, o.sim)
        assert.is_true(o.billed)
        o = assert(client:check("IdCardVerification", { id_card = z.id_card, name = "李四" }))
        assert.are.equal("mismatched", o.status)
    end)

    it("sends nothing for invalid inputs", function()
        local before = control("stats").total
        local png = "\137PNG"
        local bad = {
            { "id_card_verify", { id_card = "110101199003071234", name = ZHANG.name } },
            { "id_card_verify", { id_card = ZHANG.id_card, name = "Zhang San" } },
            { "check_id_name_date", { id_card = ZHANG.id_card, name = ZHANG.name, validity_begin = "20150101",
                validity_end = "2035010" } },
            { "phone_verify", { phone = "1380013800", id_card = ZHANG.id_card, name = ZHANG.name, route = "auto" } },
            { "phone_verify_cucc", { phone = ZHANG.phone, id_card = ZHANG.id_card, name = ZHANG.name } },
            { "mobile_status", { phone = "23800138000" } },
            { "bank_card_verify", { bank_card = "6212261000000000018", id_card = ZHANG.id_card, name = ZHANG.name } },
            { "liveness_recognition", { id_card = ZHANG.id_card, name = ZHANG.name, liveness_type = "LIP",
                validate_data = "1,2", video = "v" } },
            { "liveness_recognition", { id_card = ZHANG.id_card, name = ZHANG.name, liveness_type = "SILENT",
                video_path = "/nonexistent/video.mp4" } },
            { "liveness_compare", { liveness_type = "SILENT", video = "v" } },
            { "image_recognition_v2", { id_card = ZHANG.id_card, name = ZHANG.name, image_url = "https://x.example/a.png" } },
            { "image_recognition_v2", { id_card = ZHANG.id_card, name = ZHANG.name, image = png, extra = "12345678901" } },
        }
        for _, c in ipairs(bad) do
            local o, err = client[c[1]](client, c[2])
            check_invalid(o, err)
        end
        local o, err = client:liveness_recognition({ id_card = ZHANG.id_card, name = ZHANG.name,
            liveness_type = "SILENT", video = string.rep("v", 6 * 1024 * 1024 + 3) })
        check_invalid(o, err, "ffmpeg")
        assert.has_error(function() client:id_card_verify({ id_card = ZHANG.id_card, colour = "red" }) end)
        assert.has_error(function() client:id_card_verify(ZHANG.id_card) end)
        assert.are.equal(before, control("stats").total)
    end)

    it("routes one number of each carrier, and falls back when a carrier action is refused", function()
        local people = { { ZHANG, "PhoneVerification" }, { LI, "PhoneVerificationCUCC" },
            { ABDULLA, "PhoneVerificationCTCC" } }
        for _, p in ipairs(people) do
            local who, action = p[1], p[2]
            local before = received(action)
            local o = assert(client:phone_verify({ phone = who.phone, id_card = who.id_card, name = who.name,
                route = "auto" }))
            assert.are.equal(action, o.action)
            assert.are.equal("matched", o.status)
            assert.are.equal(before + 1, received(action))
        end
        control("faults", { kind = "internal_error", code = "UnauthorizedOperation.Nonactivated",
            action = "PhoneVerificationCUCC" })
        local o = assert(client:phone_verify({ phone = LI.phone, id_card = LI.id_card, name = LI.name, route = "auto" }))
        assert.are.equal("PhoneVerification", o.action)
        assert.are.equal("matched", o.status)
    end)

    it("reports PaaS business errors as outcomes and per-call options", function()
        control("faults", { kind = "internal_error", code = "FailedOperation.CompareLowSimilarity",
            action = "LivenessRecognition" })
        local o = assert(client:liveness_recognition({ id_card = ZHANG.id_card, name = ZHANG.name,
            liveness_type = "SILENT", video = "abc" }))
        assert.are.equal("mismatched", o.status)
        assert.are.equal("FailedOperation.CompareLowSimilarity", o.result)
        assert.is_string(o.request_id)
        -- retry per call: a read is retried, and not when max_attempts = 1
        control("faults", { kind = "http_5xx", count = 1, action = "GetLiveCode" })
        local r, err = client:get_live_code({ retry = { max_attempts = 1 } })
        assert.is_nil(r)
        assert.are.equal(1, err.attempts)
        control("faults", { kind = "http_5xx", count = 1, action = "GetLiveCode" })
        assert(client:get_live_code({ retry = { max_attempts = 2 } }))
        assert.has_error(function() client:get_live_code({ colour = 1 }) end)
        -- encrypt per call
        if RSA_PUB and SM2_PUB then
            local c = new_client({ encryption = { algorithm = "AES-256-CBC", rsa_public_key_pem = RSA_PUB,
                sm2_public_key_pem = SM2_PUB } })
            o = assert(c:id_card_verify({ id_card = ZHANG.id_card, name = ZHANG.name, encrypt = true }))
            assert.are.equal("matched", o.status)
            c:close()
        end
        assert.has_error(function() client:id_card_verify({ id_card = ZHANG.id_card, name = ZHANG.name,
            encrypt = "yes" }) end)
    end)

    it("turns the daily identity limit into a rate_limited error", function()
        -- PaaS: FailedOperation.IdentityAuthLimitExceeded after 15 calls a minute for one ID
        local png = "\137PNG"
        local err
        for _ = 1, 20 do
            local o
            o, err = client:image_recognition_v2({ id_card = LI.id_card, name = LI.name, image = png })
            if o == nil then
                break
            end
        end
        assert.is_table(err)
        assert.are.equal("rate_limited", err.kind, tostring(err))
        assert.is_number(err.retry_at)
        assert.is_true(err.retry_at > os.time())
        -- an element check's daily-limit Result (500 identical checks a day)
        for _ = 1, 600 do
            local o
            o, err = client:mobile_status({ phone = LI.phone })
            if o == nil then
                break
            end
        end
        assert.are.equal("rate_limited", err.kind, tostring(err))
        assert.is_number(err.retry_at)
    end)
end)
