--- The SaaS and E-ID verification flows, written once over an "engine" (docs/lua.md).
--
-- Every decision is the C core's (tcfaceid.core): request bodies and their validation, sessions
-- and their lifetimes, which result calls to make, the verdict, what a poller does after an
-- error. This module only sequences the calls, so that the plain Lua client (libcurl) and the
-- OpenResty client (nginx subrequests) behave the same. An engine is a table:
--
--   send(action, body)  -> response_json, request_id | nil, err   (the Response object text)
--   now()               -> Unix seconds (the clock that dates sessions)
--   sleep(seconds)
--   monotonic()         -> seconds, for timeouts
--
-- Failures are returned as nil, err (err: a table with kind, code, message, request_id, ...,
-- and __tostring); wrong argument types raise.

local core = require("tcfaceid.core")

local json_encode, json_decode, null = core.json_encode, core.json_decode, core.null
local floor, concat, type, pairs, ipairs, setmetatable, tostring, error, next =
    math.floor, table.concat, type, pairs, ipairs, setmetatable, tostring, error, next

local M = {}

local STATUS = { "PASSED", "FAILED", "PENDING", "EXPIRED" }

-- InfoType digit -> the part's name, for verdict.part_errors
local PART_NAMES = {
    ["0"] = "all", ["1"] = "text", ["2"] = "id_card", ["3"] = "best_frame", ["4"] = "video",
    ["5"] = "intention_verify", ["6"] = "intention_result",
}

-- what the verdict reads (the media are not re-encoded for it)
local VERDICT_KEYS = {
    "Text", "IsVerifyIntention", "IntentionVerifyType", "IntentionVerifyData",
    "IntentionQuestionResult", "IntentionActionResult",
}

local function new_error(kind, message)
    return setmetatable({ kind = kind, code = kind, message = message, retryable = false, attempts = 0 },
        core.error_mt)
end

local function fail(kind, message)
    return nil, new_error(kind, message)
end

M.new_error = new_error

-- ---------------------------------------------------------------------------------------------
-- Sessions

local Session = {}
Session.__index = Session

local function mask(token)
    if #token > 8 then
        return token:sub(1, 8) .. "..."
    end
    return "..."
end

Session.__tostring = function(s)
    if s.kind == "eid" then
        return ("EidSession(eid_token=%s, merchant_id=%s, expires_at=%d)"):format(
            mask(s.eid_token), s.merchant_id, s.expires_at)
    end
    return ("Session(biz_token=%s, rule_id=%s, expires_at=%d)"):format(mask(s.biz_token), s.rule_id,
        s.expires_at)
end

--- The session as JSON text, to store it (read it back with tcfaceid.session_from_json).
function Session:to_json()
    return self._json
end

--- Whether the user can still start the verification (now defaults to the current time).
function Session:can_start(now)
    return (now or core.time()) <= self.expires_at
end

local function session_from(t)
    local s = {
        kind = t.kind, url = t.url, extra = t.extra, created_at = t.created_at,
        expires_at = t.expires_at, results_until = t.results_until, _json = t.json,
    }
    if t.kind == "eid" then
        s.eid_token, s.merchant_id = t.token, t.owner
    else
        s.biz_token, s.rule_id = t.token, t.owner
    end
    return setmetatable(s, Session)
end

--- A session from its JSON text (SaaS or E-ID) | nil, err.
function M.session_from_json(text)
    if type(text) ~= "string" then
        error("session_from_json: expected a JSON string, got " .. type(text), 2)
    end
    local t, err = core.session_load(text)
    if not t then
        return nil, err
    end
    return session_from(t)
end

function M.is_session(v)
    return type(v) == "table" and getmetatable(v) == Session
end

-- ---------------------------------------------------------------------------------------------
-- Verdicts

local Verdict = {}
Verdict.__index = Verdict
Verdict.__tostring = function(v)
    return ("Verdict(status=%s, code=%s, attempts=%d)"):format(v.status, tostring(v.code), #v.attempts)
end

local function meaning_of(v, response)
    if v.code == nil then
        return nil
    end
    local kind = response and response.IntentionVerifyType
    if v.code == 0 and v.intention_code ~= nil and v.intention_code ~= 0 and type(kind) == "string" then
        return core.errcode_meaning(v.intention_code, kind)
    end
    return core.errcode_meaning(v.code)
end

local function verdict_from(raw, response, part_errors)
    local v = {
        status = STATUS[raw.status] or "PENDING",
        code = raw.code,
        intention_code = raw.intention_code,
        reason = raw.reason,
        missing_part = raw.missing_part,
        response = response,
        part_errors = part_errors or {},
        attempts = {},
    }
    if raw.billed == 1 then
        v.billed = true
    elseif raw.billed == 0 then
        v.billed = false
    end
    for i, a in ipairs(raw.attempts or {}) do
        v.attempts[i] = a
    end
    local text = response and response.Text
    if type(text) == "table" then
        v.text = text
    end
    v.passed = v.status == "PASSED"
    v.meaning = meaning_of(v, response)
    return setmetatable(v, Verdict)
end

--- The verdict of a Response (a table, or its JSON text) | nil, err.
function M.verdict(response)
    local text, resp = response, response
    if type(response) == "table" then
        text = json_encode(response)
    elseif type(response) == "string" then
        local err
        resp, err = json_decode(response)
        if resp == nil then
            return nil, err
        end
    else
        error("verdict: expected a table or a JSON string, got " .. type(response), 2)
    end
    local raw, err = core.verdict(text)
    if not raw then
        return nil, err
    end
    return verdict_from(raw, resp)
end

local function expired(reason)
    return setmetatable({
        status = "EXPIRED", reason = reason, attempts = {}, part_errors = {}, passed = false,
    }, Verdict)
end

M.expired = expired

-- ---------------------------------------------------------------------------------------------
-- The flows over an engine

local Flows = {}
Flows.__index = Flows

function M.new(engine)
    for _, name in ipairs({ "send", "now", "sleep", "monotonic" }) do
        if type(engine) ~= "table" or type(engine[name]) ~= "function" then
            error("tcfaceid.flows.new: the engine needs a function " .. name, 2)
        end
    end
    return setmetatable({ engine = engine }, Flows)
end

local function now_seconds(self)
    return floor(self.engine.now())
end

-- Sends and decodes; nil, err on failure.
local function call_json(self, action, body)
    local data, request_id = self.engine.send(action, body)
    if data == nil then
        return nil, request_id
    end
    return data
end

--- Any action: params a table or JSON text; the decoded Response (without RequestId) | nil, err.
function Flows:call(action, params)
    if type(action) ~= "string" then
        error("call: action must be a string", 2)
    end
    local body
    if params == nil then
        body = "{}"
    elseif type(params) == "table" then
        body = json_encode(params)
    elseif type(params) == "string" then
        body = params
    else
        error("call: params must be a table or a JSON string, got " .. type(params), 2)
    end
    local data, err = call_json(self, action, body)
    if data == nil then
        return nil, err
    end
    return json_decode(data)
end

local function check_table(fname, t)
    if type(t) ~= "table" then
        error(fname .. ": expected a table of parameters, got " .. type(t), 3)
    end
end

--- DetectAuth: a SaaS session | nil, err (bad values are refused locally, before any request).
function Flows:detect_auth(t)
    check_table("detect_auth", t)
    local now = now_seconds(self)
    local body, err = core.detect_auth_body(t, now)
    if not body then
        return nil, err
    end
    local data
    data, err = call_json(self, "DetectAuth", body)
    if not data then
        return nil, err
    end
    local s
    s, err = core.session_new("saas", data, t.rule_id, t.extra, now)
    if not s then
        return nil, err
    end
    return session_from(s)
end

--- GetEidToken: an E-ID session | nil, err.
function Flows:get_eid_token(t)
    check_table("get_eid_token", t)
    local now = now_seconds(self)
    local body, err = core.eid_token_body(t, now)
    if not body then
        return nil, err
    end
    local data
    data, err = call_json(self, "GetEidToken", body)
    if not data then
        return nil, err
    end
    local s
    s, err = core.session_new("eid", data, t.merchant_id, t.extra, now)
    if not s then
        return nil, err
    end
    return session_from(s)
end

local function parts_text(parts)
    if parts == nil then
        return "text"
    elseif type(parts) == "string" then
        return parts
    elseif type(parts) == "table" then
        return concat(parts, ",")
    end
    error("parts must be a string or a list of strings", 3)
end

local function part_name(digit, kind)
    if digit == "0" and kind == "eid" then
        return "eid_info"
    end
    return PART_NAMES[digit] or digit
end

local function merge(merged, data)
    local resp, err = json_decode(data)
    if type(resp) ~= "table" then
        return nil, err or new_error("bad_json", "the result is not a JSON object")
    end
    for k, v in pairs(resp) do
        if v ~= null or merged[k] == nil then
            merged[k] = v
        end
    end
    return true
end

local DAILY_LIMIT_ERRCODE = 2018 -- SaaS / E-ID: too many attempts for this identity today

local function decide(self, merged, errors)
    local small = {}
    for _, k in ipairs(VERDICT_KEYS) do
        if merged[k] ~= nil then
            small[k] = merged[k]
        end
    end
    local raw, err = core.verdict(json_encode(small))
    if not raw then
        return nil, err
    end
    local v = verdict_from(raw, merged, errors)
    if v.code == DAILY_LIMIT_ERRCODE then -- resets at 00:00 Asia/Shanghai
        v.retry_at = core.next_shanghai_midnight(now_seconds(self))
    end
    return v
end

-- One result call. Returns "expired" (the first call met an expired token), true, or nil, err
-- (the first call failed otherwise); a later call's failure is recorded in errors.
local function fetch_one(self, action, digit, body, first, merged, errors, kind)
    local data, err = call_json(self, action, body)
    if data == nil then
        if first then
            if err.kind == "token_expired" then
                return "expired", err
            end
            return nil, err
        end
        errors[part_name(digit, kind)] = err
        return true
    end
    local ok
    ok, err = merge(merged, data)
    if not ok then
        if first then
            return nil, err
        end
        errors[part_name(digit, kind)] = err
    end
    return true
end

local function fetch(self, kind, action, token, rule_id, opts)
    local plan, err = core.result_plan(kind, parts_text(opts.parts))
    if not plan then
        return nil, err
    end
    local best, cut, avatar = opts.best_frames, opts.cut_id_card_image, opts.id_card_avatar
    if best ~= nil and not (plan:find("3", 1, true) or plan:find("0", 1, true)) then
        return fail("invalid_argument", "best_frames needs the best_frame part")
    end
    if (cut ~= nil or avatar ~= nil) and not (plan:find("2", 1, true) or plan:find("0", 1, true)) then
        return fail("invalid_argument", "cut_id_card_image / id_card_avatar need the id_card part")
    end
    -- every body is built (and checked) before the first call
    local bodies = {}
    for i = 1, #plan do
        local d = plan:sub(i, i)
        local media_3 = d == "3" or d == "0"
        local media_2 = d == "2" or d == "0"
        local body
        body, err = core.result_body(kind, token, rule_id, d, media_3 and best or nil,
            media_2 and cut or nil, media_2 and avatar or nil)
        if not body then
            return nil, err
        end
        bodies[i] = { d, body }
    end
    local merged, errors = {}, {}
    for i, b in ipairs(bodies) do
        local ok, e = fetch_one(self, action, b[1], b[2], i == 1, merged, errors, kind)
        if ok == "expired" then
            return expired(e.message)
        elseif not ok then
            return nil, e
        end
    end
    local v
    v, err = decide(self, merged, errors)
    if not v then
        return nil, err
    end
    local missing = v.missing_part
    if missing and not plan:find(missing, 1, true) then
        local body
        body, err = core.result_body(kind, token, rule_id, missing)
        if not body then
            return nil, err
        end
        fetch_one(self, action, missing, body, false, merged, errors, kind)
        v, err = decide(self, merged, errors)
        if not v then
            return nil, err
        end
    end
    return v
end

local function check_session(self, session, rule_id)
    local ok, err = core.session_check(session._json, rule_id, now_seconds(self))
    if ok then
        return nil
    end
    if err.kind == "token_expired" then
        return expired(err.message)
    end
    return nil, err
end

--- GetDetectInfoEnhanced: the verdict of a SaaS session (or a BizToken with opts.rule_id).
-- opts: rule_id, parts ("text" by default; a list or a comma-separated string of text, id_card,
-- best_frame, video, intention_verify, intention_result, all, or InfoType digits),
-- best_frames, cut_id_card_image, id_card_avatar.
function Flows:detect_result(session_or_token, opts)
    opts = opts or {}
    if type(opts) ~= "table" then
        error("detect_result: opts must be a table", 2)
    end
    local token, rule_id
    if M.is_session(session_or_token) and session_or_token.kind == "saas" then
        local e, err = check_session(self, session_or_token, opts.rule_id)
        if e or err then
            return e, err
        end
        token, rule_id = session_or_token.biz_token, session_or_token.rule_id
    elseif type(session_or_token) == "string" then
        if opts.rule_id == nil then
            return fail("invalid_argument", "rule_id is required with a bare BizToken")
        end
        token, rule_id = session_or_token, opts.rule_id
    else
        error("detect_result: expected a SaaS session or a BizToken string", 2)
    end
    return fetch(self, "saas", "GetDetectInfoEnhanced", token, rule_id, opts)
end

local function eid_token_of(v, fname)
    if M.is_session(v) and v.kind == "eid" then
        return v.eid_token
    elseif type(v) == "string" then
        return v
    end
    error(fname .. ": expected an E-ID session or an EidToken string", 3)
end

--- GetEidResult: the verdict of an E-ID session (or an EidToken). opts as detect_result, without
-- rule_id and "video", plus the part "eid_info" (verdict.response.EidInfo).
function Flows:eid_result(session_or_token, opts)
    opts = opts or {}
    if type(opts) ~= "table" then
        error("eid_result: opts must be a table", 2)
    end
    local token = eid_token_of(session_or_token, "eid_result")
    if M.is_session(session_or_token) then
        local e, err = check_session(self, session_or_token, nil)
        if e or err then
            return e, err
        end
    end
    return fetch(self, "eid", "GetEidResult", token, nil, opts)
end

--- CheckEidTokenStatus: "init", "doing", "finished" or "timeout" | nil, err.
function Flows:eid_status(session_or_token)
    local token = eid_token_of(session_or_token, "eid_status")
    local data, err = call_json(self, "CheckEidTokenStatus", json_encode({ EidToken = token }))
    if not data then
        return nil, err
    end
    return core.eid_status(data)
end

--- Polls eid_status every opts.interval seconds (1) until "finished" or "timeout" and returns
-- it. Up to 2 transient errors in a row are tolerated (the 3rd is returned), an error that will
-- not go away is returned at once, an expired token gives "timeout". opts.timeout (seconds):
-- by default until the token's lifetime has passed (+30 s); then nil, err(kind "timeout").
function Flows:wait_eid(session_or_token, opts)
    opts = opts or {}
    local interval = opts.interval or 1
    if type(interval) ~= "number" or interval < 0 then
        error("wait_eid: interval must be a non-negative number", 2)
    end
    local timeout = opts.timeout
    if timeout == nil then
        if M.is_session(session_or_token) then
            timeout = session_or_token.expires_at + 30 - self.engine.now()
            if timeout < 0 then
                timeout = 0
            end
        else
            timeout = 630
        end
    end
    local engine = self.engine
    local deadline = engine.monotonic() + timeout
    local errors = 0
    while true do
        local status, err = self:eid_status(session_or_token)
        if status then
            errors = 0
            if status == "finished" or status == "timeout" then
                return status
            end
        else
            errors = errors + 1
            local action = core.eid_poll_after_error(err, errors)
            if action == 2 then
                return "timeout"
            elseif action ~= 1 then
                return nil, err
            end
        end
        if engine.monotonic() + interval > deadline then
            return fail("timeout", ("the E-ID verification did not finish within %.1f s"):format(timeout))
        end
        engine.sleep(interval)
    end
end

-- ---------------------------------------------------------------------------------------------
-- Element checks and PaaS calls (docs/checks.md): the method names of the Python client

--- method name -> action
M.CHECK_METHODS = {
    id_card_verify = "IdCardVerification",
    id_card_ocr_verify = "IdCardOCRVerification",
    check_id_name_date = "CheckIdNameDate",
    phone_verify = "PhoneVerification",
    phone_verify_cmcc = "PhoneVerificationCMCC",
    phone_verify_ctcc = "PhoneVerificationCTCC",
    phone_verify_cucc = "PhoneVerificationCUCC",
    check_phone_and_name = "CheckPhoneAndName",
    mobile_status = "MobileStatus",
    mobile_network_time_verify = "MobileNetworkTimeVerification",
    bank_card_2e_verify = "BankCard2EVerification",
    bank_card_verify = "BankCardVerification",
    bank_card_4e_verify = "BankCard4EVerification",
    check_bank_card_information = "CheckBankCardInformation",
    liveness_recognition = "LivenessRecognition",
    liveness_compare = "LivenessCompare",
    image_recognition_v2 = "ImageRecognitionV2",
}

-- The carrier action is not enabled for the account (nothing billed): PhoneVerification instead.
local function carrier_refused(err)
    local code = type(err) == "table" and err.code
    return type(code) == "string" and (code:find("^UnauthorizedOperation") ~= nil or code == "InvalidAction")
end

-- Sends one body; the outcome | nil, err. A PaaS business result that came back as an API error
-- (FailedOperation.CompareLowSimilarity, ...) is an outcome too.
local function check_exchange(self, action, body)
    local data, request_id = self.engine.send(action, body)
    if data == nil then
        local err = request_id
        if type(err) == "table" and (err.kind == "service_error" or err.kind == "invalid_parameter")
            and type(err.code) == "string" then
            local o = core.check_outcome_from_api_error(action, err.code, err.request_id)
            if o then
                return o
            end
        end
        return nil, err
    end
    local o, err = core.check_outcome(action, data)
    if not o then
        if type(err) == "table" and err.request_id == nil then
            err.request_id = request_id
        end
        return nil, err
    end
    if o.request_id == nil then
        o.request_id = request_id
    end
    return o
end

--- One element check or PaaS call over the engine: t the parameters (core.check_body: id_card,
-- name, phone, bank_card, validity_begin, validity_end, liveness_type, validate_data, video /
-- video_path / video_base64 / video_url, image / image_path / image_base64 / image_url,
-- best_frame_num, detailed, extra; route = "auto" | "generic" for PhoneVerification). Every input
-- is validated before anything is sent. The outcome table | nil, err.
function Flows:check(action, t, fname)
    fname = fname or "check"
    if type(action) ~= "string" then
        error(fname .. ": action must be a string", 2)
    end
    if t == nil then
        t = {}
    elseif type(t) ~= "table" then
        error(fname .. ": expected a table of parameters, got " .. type(t), 2)
    end
    if t.retry ~= nil or t.encrypt ~= nil then
        error(fname .. ": retry and encrypt are per-call options of the libcurl client only (here: "
            .. "the client's retry option)", 2)
    end
    local route = t.route
    if route == null then
        route = nil
    end
    if route ~= nil and route ~= "auto" and route ~= "generic" then
        error(fname .. ': route must be "auto" or "generic"', 2)
    end
    if route ~= nil and action ~= "PhoneVerification" then
        error(fname .. ": route is a parameter of phone_verify only", 2)
    end
    local params = t
    if route ~= nil then
        params = {}
        for k, v in pairs(t) do
            if k ~= "route" then
                params[k] = v
            end
        end
    end
    local now = now_seconds(self)
    -- validated as asked: a bad input is refused (nothing sent) whichever action is chosen
    local body, err = core.check_body(action, params, now)
    if not body then
        return nil, err
    end
    if route == "auto" then
        local chosen = core.phone_route(params.phone, params.detailed)
        if chosen ~= action then
            local carrier_body
            carrier_body, err = core.check_body(chosen, params, now)
            if not carrier_body then
                return nil, err
            end
            local o
            o, err = check_exchange(self, chosen, carrier_body)
            if o or not carrier_refused(err) then
                return o, err
            end
        end
    end
    return check_exchange(self, action, body)
end

for name, action in pairs(M.CHECK_METHODS) do
    Flows[name] = function(self, t)
        if type(t) ~= "table" then
            error(name .. ": expected a table of parameters, got " .. type(t), 2)
        end
        return self:check(action, t, name)
    end
end

local function no_params(fname, t)
    if t ~= nil and (type(t) ~= "table" or next(t) ~= nil) then
        error(fname .. ": takes no parameters here", 3)
    end
end

--- GetLiveCode: the 4 digits for LIP liveness | nil, err.
function Flows:get_live_code(t)
    no_params("get_live_code", t)
    local data, err = call_json(self, "GetLiveCode", "{}")
    if not data then
        return nil, err
    end
    return core.live_code(data)
end

--- GetActionSequence: the action sequence ("2,1") for ACTION liveness | nil, err.
function Flows:get_action_sequence(t)
    no_params("get_action_sequence", t)
    local data, err = call_json(self, "GetActionSequence", "{}")
    if not data then
        return nil, err
    end
    return core.action_sequence(data)
end

--- The __index of a client object that keeps its Flows in obj._flows: the client's own methods
-- (methods[key]) first, then the public methods of the flows, called on them.
function M.client_index(methods)
    return function(obj, key)
        local method = methods[key]
        if method ~= nil then
            return method
        end
        local f = rawget(obj, "_flows")[key]
        if type(f) == "function" and key:sub(1, 1) ~= "_" then
            return function(o, ...)
                return f(rawget(o, "_flows"), ...)
            end
        end
        return nil
    end
end

return M
