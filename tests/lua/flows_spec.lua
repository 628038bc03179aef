-- tcfaceid.flows over a scripted engine (no network): the sequencing of result calls, merging,
-- part errors, the automatic intention fetch, local refusals, wait_eid's error tolerance.
-- Runs under Lua 5.4 and LuaJIT (it needs no transport).

local core = require("tcfaceid.core")
local flows = require("tcfaceid.flows")
local tcfaceid = require("tcfaceid")

local json_encode, json_decode = core.json_encode, core.json_decode

local NOW = 1700000000

-- An engine answering from a script: script[action] is a list of answers, each a table (the
-- Response, JSON-encoded for the flow), a string (raw JSON) or {err = {kind=..., ...}}.
local function engine(script, opts)
    opts = opts or {}
    local e = { calls = {}, slept = 0, t = opts.now or NOW, mono = 0 }
    e.send = function(action, body)
        e.calls[#e.calls + 1] = { action = action, body = json_decode(body) }
        local list = script[action]
        assert(list and #list > 0, "unexpected call " .. action)
        local answer = table.remove(list, 1)
        if type(answer) == "table" and answer.err then
            return nil, setmetatable(answer.err, core.error_mt)
        end
        if type(answer) == "table" then
            return json_encode(answer), "req-" .. #e.calls
        end
        return answer, "req-" .. #e.calls
    end
    e.now = function() return e.t end
    e.sleep = function(s) e.slept = e.slept + s; e.mono = e.mono + s end
    e.monotonic = function() return e.mono end
    return e
end

local function err(kind, retryable, message)
    return { err = { kind = kind, code = kind, message = message or kind, retryable = retryable or false,
        attempts = 1 } }
end

local PASS_TEXT = {
    ErrCode = 0, ErrMsg = "成功", IdCard = "110101199003071233", Name = "张三", Extra = "x",
    LivenessDetail = {
        { Errcode = 1002, Livestatus = 1002, Comparestatus = core.null, Sim = core.null, ReqTime = "1700000000000",
          IsNeedCharge = true },
        { Errcode = 0, Livestatus = 0, Comparestatus = 0, Sim = "91.25", ReqTime = "1700000001000",
          IsNeedCharge = true },
    },
}

local function saas_session(f, e)
    e = e or f.engine
    local s = assert(f:detect_auth({ rule_id = "1", id_card = "110101199003071233", name = "张三" }))
    return s
end

describe("tcfaceid.flows (scripted engine)", function()
    it("detect_auth validates before sending and returns a session", function()
        local e = engine({ DetectAuth = { { BizToken = "TOK-1", Url = "https://h5/verify?token=TOK-1" } } })
        local f = flows.new(e)
        local s, e2 = f:detect_auth({ rule_id = "1", id_card = "110101199003071234" })
        assert.is_nil(s)
        assert.are.equal("invalid_argument", e2.kind)
        assert.is_nil(e2.message:find("110101199003071234", 1, true))
        assert.are.equal(0, #e.calls)
        s = assert(f:detect_auth({ rule_id = "1", id_card = "11010519491231002x", name = "阿卜杜拉•买买提",
            extra = "order-1" }))
        assert.are.equal(1, #e.calls)
        assert.are.same({ RuleId = "1", IdCard = "11010519491231002X", Name = "阿卜杜拉·买买提", Extra = "order-1" },
            e.calls[1].body)
        assert.are.equal("TOK-1", s.biz_token)
        assert.are.equal("1", s.rule_id)
        assert.are.equal(NOW, s.created_at)
        assert.are.equal(NOW + 7200, s.expires_at)
        assert.are.equal(NOW + 259200, s.results_until)
        assert.are.equal("order-1", s.extra)
        assert.is_nil(tostring(s):find("TOK-1", 1, true))
        local back = assert(tcfaceid.session_from_json(s:to_json()))
        assert.are.equal(s:to_json(), back:to_json())
        assert.are.equal("TOK-1", back.biz_token)
        assert.is_true(s:can_start(NOW + 7200))
        assert.is_false(s:can_start(NOW + 7201))
        assert.has_error(function() f:detect_auth("1") end)
    end)

    it("fetches the text first, then each part alone, and merges them", function()
        local e = engine({
            DetectAuth = { { BizToken = "TOK-1" } },
            GetDetectInfoEnhanced = {
                { Text = PASS_TEXT, BestFrame = core.null, VideoData = core.null, IsVerifyIntention = false },
                { Text = core.null, BestFrame = { BestFrame = "iVBORw==" }, IsVerifyIntention = false },
                { Text = core.null, VideoData = { LivenessVideo = "AAAA" }, IsVerifyIntention = false },
            },
        })
        local f = flows.new(e)
        local s = saas_session(f)
        local v = assert(f:detect_result(s, { parts = { "video", "text", "best_frame" }, best_frames = 2 }))
        local infos = {}
        for i = 2, #e.calls do infos[#infos + 1] = e.calls[i].body.InfoType end
        assert.are.same({ "1", "3", "4" }, infos)
        assert.are.equal(2, e.calls[3].body.BestFramesCount)
        assert.is_nil(e.calls[2].body.BestFramesCount)
        assert.are.equal("1", e.calls[2].body.RuleId)
        assert.are.equal("PASSED", v.status)
        assert.is_true(v.passed)
        assert.are.equal(0, v.code)
        assert.are.equal(true, v.billed)
        assert.are.equal(2, #v.attempts)
        assert.are.equal(1002, v.attempts[1].errcode)
        assert.is_nil(v.attempts[1].comparestatus)
        assert.are.equal(91.25, v.attempts[2].sim)
        assert.are.equal("张三", v.text.Name)
        assert.are.equal("iVBORw==", v.response.BestFrame.BestFrame)
        assert.are.equal("AAAA", v.response.VideoData.LivenessVideo)
        assert.is_nil(next(v.part_errors))
        assert.is_nil(tostring(v):find("张三", 1, true))
    end)

    it("keeps the verdict when a media call fails, and raises nothing", function()
        local e = engine({
            DetectAuth = { { BizToken = "TOK-1" } },
            GetDetectInfoEnhanced = { { Text = PASS_TEXT }, err("transport", true) },
        })
        local f = flows.new(e)
        local v = assert(f:detect_result(saas_session(f), { parts = "text,video" }))
        assert.are.equal("PASSED", v.status)
        assert.are.equal("transport", v.part_errors.video.kind)
    end)

    it("returns the text call's failure, and EXPIRED for an expired token", function()
        local e = engine({
            DetectAuth = { { BizToken = "TOK-1" } },
            GetDetectInfoEnhanced = { err("invalid_parameter", false, "非法BizToken。"), err("token_expired") },
        })
        local f = flows.new(e)
        local s = saas_session(f)
        local v, e2 = f:detect_result(s)
        assert.is_nil(v)
        assert.are.equal("invalid_parameter", e2.kind)
        v = assert(f:detect_result(s))
        assert.are.equal("EXPIRED", v.status)
        assert.is_false(v.passed)
    end)

    it("refuses locally: another RuleId, results older than 3 days, a bare token without RuleId", function()
        local e = engine({ DetectAuth = { { BizToken = "TOK-1" } } })
        local f = flows.new(e)
        local s = saas_session(f)
        local v, e2 = f:detect_result(s, { rule_id = "2" })
        assert.is_nil(v)
        assert.are.equal("invalid_argument", e2.kind)
        e.t = NOW + 259201
        v = assert(f:detect_result(s))
        assert.are.equal("EXPIRED", v.status)
        v, e2 = f:detect_result("TOK-1")
        assert.is_nil(v)
        assert.are.equal("invalid_argument", e2.kind)
        v, e2 = f:detect_result(s, { parts = "text", best_frames = 2 })
        assert.are.equal(1, #e.calls) -- only DetectAuth was ever sent
        assert.has_error(function() f:detect_result(42) end)
    end)

    it("fetches the intention result the verdict needs", function()
        local e = engine({
            DetectAuth = { { BizToken = "TOK-1" } },
            GetDetectInfoEnhanced = {
                { Text = { ErrCode = 0 }, IsVerifyIntention = true, IntentionVerifyType = "0",
                  IntentionQuestionResult = core.null },
                { Text = core.null, IsVerifyIntention = true, IntentionVerifyType = "0",
                  IntentionQuestionResult = { FinalResultDetailCode = -301 } },
            },
        })
        local f = flows.new(e)
        local v = assert(f:detect_result(saas_session(f)))
        assert.are.equal("6", e.calls[3].body.InfoType)
        assert.are.equal("FAILED", v.status)
        assert.are.equal(-301, v.intention_code)
        assert.are.equal("the intention was not confirmed", v.meaning)
    end)

    it("gives ErrCode 2018 (the identity's daily limit) a retry_at: the next 00:00 in Shanghai", function()
        local e = engine({
            DetectAuth = { { BizToken = "TOK-1" } },
            GetDetectInfoEnhanced = { { Text = { ErrCode = 2018 } }, { Text = { ErrCode = 0 } } },
        })
        local f = flows.new(e)
        local s = saas_session(f)
        local v = assert(f:detect_result(s))
        assert.are.equal("FAILED", v.status)
        -- NOW = 2023-11-14T22:13:20Z = 06:13:20 on the 15th in Shanghai: the reset is 16:00Z on the 15th
        assert.are.equal(1700064000, v.retry_at)
        v = assert(f:detect_result(s))
        assert.is_nil(v.retry_at)
    end)

    it("maps every verdict outcome with documented meanings", function()
        local v = assert(flows.verdict({ Text = { ErrCode = 2006 } }))
        assert.are.equal("FAILED", v.status)
        assert.are.equal(true, v.billed)
        assert.are.equal("the name and ID number do not match", v.meaning)
        v = assert(flows.verdict('{"Text":{"ErrCode":null}}'))
        assert.are.equal("PENDING", v.status)
        assert.is_nil(v.code)
        assert.is_nil(v.billed)
        local bad, e2 = flows.verdict('{"Text":{"ErrCode":"0"}}')
        assert.is_nil(bad)
        assert.are.equal("bad_json", e2.kind)
    end)

    it("runs the E-ID flow: token body, status, waiting, result with EidInfo", function()
        local e = engine({
            GetEidToken = { { EidToken = "EID-1", Url = "https://eid/x" } },
            CheckEidTokenStatus = { { Status = "init" }, err("transport", true), err("throttled", true),
                { Status = "doing" }, { Status = "finished" } },
            GetEidResult = { { Text = { ErrCode = 0 } }, { Text = { ErrCode = 0 }, EidInfo = { DesKey = "k",
                UserInfo = "u", EidCode = "c" } } },
        })
        local f = flows.new(e)
        local s = assert(f:get_eid_token({ merchant_id = "M1", input_type = 4, id_card = "110101199003071233",
            name = "张三" }))
        assert.are.same({ MerchantId = "M1", IdCard = "110101199003071233", Name = "张三",
            Config = { InputType = "4" } }, e.calls[1].body)
        assert.are.equal("EID-1", s.eid_token)
        assert.are.equal(NOW + 600, s.expires_at)
        assert.are.equal("finished", f:wait_eid(s, { interval = 0.5 }))
        assert.are.equal(2.0, e.slept) -- 4 waits between 5 polls
        local v = assert(f:eid_result(s, { parts = { "text", "eid_info" } }))
        local n = #e.calls
        assert.are.equal("1", e.calls[n - 1].body.InfoType)
        assert.are.equal("0", e.calls[n].body.InfoType)
        assert.is_nil(e.calls[n].body.RuleId)
        assert.are.equal("PASSED", v.status)
        assert.are.equal("k", v.response.EidInfo.DesKey)
        local bad, e2 = f:eid_result(s, { parts = "video" })
        assert.is_nil(bad)
        assert.are.equal("invalid_argument", e2.kind)
    end)

    it("wait_eid gives up on the third error in a row, and at once on a lasting one", function()
        local e = engine({ CheckEidTokenStatus = { err("transport", true), err("timeout", true),
            err("http_status", true, "HTTP 503") } })
        local f = flows.new(e)
        local st, e2 = f:wait_eid("EID-1", { interval = 0 })
        assert.is_nil(st)
        assert.are.equal("http_status", e2.kind)
        e = engine({ CheckEidTokenStatus = { err("auth_failure", false) } })
        st, e2 = flows.new(e):wait_eid("EID-1")
        assert.is_nil(st)
        assert.are.equal("auth_failure", e2.kind)
        e = engine({ CheckEidTokenStatus = { err("token_expired") } })
        assert.are.equal("timeout", flows.new(e):wait_eid("EID-1"))
        e = engine({ CheckEidTokenStatus = { { Status = "timeout" } } })
        assert.are.equal("timeout", flows.new(e):wait_eid("EID-1"))
    end)

    it("wait_eid times out", function()
        local e = engine({ CheckEidTokenStatus = { { Status = "doing" }, { Status = "doing" }, { Status = "doing" } } })
        local st, e2 = flows.new(e):wait_eid("EID-1", { interval = 1, timeout = 2.5 })
        assert.is_nil(st)
        assert.are.equal("timeout", e2.kind)
        assert.is_truthy(tostring(e2):find("did not finish", 1, true))
    end)

    it("call encodes tables and decodes the answer", function()
        local e = engine({ GetLiveCode = { '{"LiveCode":"1234"}' } })
        local f = flows.new(e)
        local r = assert(f:call("GetLiveCode", {}))
        assert.are.equal("1234", r.LiveCode)
        assert.are.same({}, e.calls[1].body)
        assert.has_error(function() f:call("GetLiveCode", 5) end)
        assert.has_error(function() flows.new({ send = function() end }) end)
    end)
end)
