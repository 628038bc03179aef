--- tcfaceid: a client for Tencent Cloud FaceID (人脸核身, API 2018-03-01) — docs/lua.md.
--
-- The C core (tcfaceid.core) signs, builds, parses, validates and decides; this module gives it
-- a Lua face: tables in, tables out; bad argument types raise, failures return nil, err (err has
-- kind, code, message, request_id, http_status, retryable and __tostring).
--
--   local tcfaceid = require("tcfaceid")
--   local client = assert(tcfaceid.client{ endpoint = "http://127.0.0.1:8455" })  -- the emulator
--   local session = assert(client:detect_auth{ rule_id = "1", id_card = "...", name = "..." })
--   -- ... the person verifies at session.url ...
--   local verdict = assert(client:detect_result(session))
--   if verdict.passed then ... end

local core = require("tcfaceid.core")
local flows = require("tcfaceid.flows")

local type, error, setmetatable, pairs, floor = type, error, setmetatable, pairs, math.floor

local M = {
    _VERSION = core.version(),
    core = core,
    flows = flows,
    null = core.null,
    array_mt = core.array_mt,
    error_mt = core.error_mt,
    json_encode = core.json_encode,
    json_decode = core.json_decode,
    sign = core.sign,
    check_id_card = core.check_id_card,
    normalize_name = core.normalize_name,
    check_phone = core.check_phone,
    phone_carrier = core.phone_carrier,
    check_bank_card = core.check_bank_card,
    check_redirect_url = core.check_redirect_url,
    check_validity_date = core.check_validity_date,
    parse_redirect = core.parse_redirect,
    errcode_meaning = core.errcode_meaning,
    session_from_json = flows.session_from_json,
    verdict = flows.verdict,
    phone_recent_range = core.phone_recent_range,
    outcome_mt = core.outcome_mt,
    SIM_THRESHOLD = core.SIM_THRESHOLD,       -- LivenessRecognition, LivenessCompare, ImageRecognitionV2
    SIM_V1_FAR_1E3 = core.SIM_V1_FAR_1E3,     -- ImageRecognition (V1): 1/1,000 false accepts
    SIM_V1_FAR_1E4 = core.SIM_V1_FAR_1E4,     -- ImageRecognition (V1): 1/10,000 false accepts
    VIDEO_BASE64_MAX = core.VIDEO_BASE64_MAX, -- bytes of VideoBase64
    IMAGE_BASE64_MAX = core.IMAGE_BASE64_MAX, -- bytes of ImageBase64
}

--- Marks t (or a new table) as a JSON array, so that an empty one encodes as [].
function M.array(t)
    return setmetatable(t or {}, core.array_mt)
end

--- Reads an HTTP response from the service (for your own transport): the Response table without
-- RequestId, plus the RequestId | nil, err.
function M.parse(status, headers, body)
    local data, request_id = core.parse(status, headers, body)
    if data == nil then
        return nil, request_id
    end
    local resp, err = core.json_decode(data)
    if resp == nil then
        return nil, err
    end
    return resp, request_id
end

--- Decrypts GetEidResult's EidInfo (DesKey, UserInfo) with the merchant's SM2 private key (PEM):
-- {name = ..., idtype = ..., idnum = ...} | nil, err ("state" when DesKey/UserInfo are empty:
-- identity return not enabled for the merchant, or the flow did not complete).
function M.decrypt_eid_info(eid_info, sm2_private_key_pem)
    if eid_info ~= nil and eid_info ~= core.null and type(eid_info) ~= "table" then
        error("decrypt_eid_info: eid_info must be the EidInfo table", 2)
    end
    if type(sm2_private_key_pem) ~= "string" then
        error("decrypt_eid_info: sm2_private_key_pem must be a string", 2)
    end
    local info = type(eid_info) == "table" and eid_info or {}
    local des = type(info.DesKey) == "string" and info.DesKey or ""
    local user = type(info.UserInfo) == "string" and info.UserInfo or ""
    local text, err = core.eid_decrypt(des, user, sm2_private_key_pem)
    if text == nil then
        return nil, err
    end
    return core.json_decode(text)
end

-- ---------------------------------------------------------------------------------------------
-- Validators, carrier routing, prices and outcomes (docs/checks.md); pure, in every build

--- An ID number checked (GB 11643 check character, birth date not after today, residence permits
-- 81/82/83; 15-digit numbers refused) and normalised (a final x becomes X): the number | nil, err.
-- today: Unix seconds (default now; 0 skips the birth-date check).
function M.validate_id_card(id, today)
    if type(id) ~= "string" then
        error("validate_id_card: id must be a string, got " .. type(id), 2)
    end
    if today ~= nil and type(today) ~= "number" then
        error("validate_id_card: today must be a number of Unix seconds or nil", 2)
    end
    return core.normalize_id_card(id, floor(today or core.time()))
end

--- A mobile number checked (11 digits starting with 1): {carrier = "CMCC" | "CUCC" | "CTCC" | nil
-- (a range of no known carrier), recent_range = true when the number is in a recently opened
-- range (19x: new numbers need days before the carriers' checks know them)} | nil, err.
function M.validate_phone(phone)
    if type(phone) ~= "string" then
        error("validate_phone: phone must be a string, got " .. type(phone), 2)
    end
    local ok, err = core.check_phone(phone)
    if not ok then
        return nil, err
    end
    return { carrier = core.phone_carrier(phone), recent_range = core.phone_recent_range(phone) == true }
end

--- A bank card number checked (12-19 digits, Luhn): the number | nil, err.
function M.validate_bank_card(card)
    if type(card) ~= "string" then
        error("validate_bank_card: card must be a string, got " .. type(card), 2)
    end
    local ok, err = core.check_bank_card(card)
    if not ok then
        return nil, err
    end
    return card
end

--- The action phone_verify{route = "auto"} sends for this number: "PhoneVerificationCMCC" /
-- "PhoneVerificationCTCC" / "PhoneVerificationCUCC" when that carrier's check is cheaper, else
-- "PhoneVerification" (always with detailed = true).
function M.phone_route(phone, detailed)
    if type(phone) ~= "string" then
        error("phone_route: phone must be a string, got " .. type(phone), 2)
    end
    return core.phone_route(phone, detailed and true or false)
end

--- The documented price of calls calls of action (detailed: PhoneVerification's detailed mode):
-- {action, calls, per_call, postpaid, best (CNY strings "1.10"), per_call_fen, postpaid_fen,
-- best_fen (integers), packages = {{size, count, price, price_fen}...} (largest first),
-- postpaid_calls} | nil, err (an action with no documented price, calls out of range).
function M.estimate_cost(action, calls, detailed)
    if type(action) ~= "string" then
        error("estimate_cost: action must be a string, got " .. type(action), 2)
    end
    if type(calls) ~= "number" then
        error("estimate_cost: calls must be an integer, got " .. type(calls), 2)
    end
    return core.estimate_cost(action, calls, detailed and true or false)
end

--- The outcome of a recorded response of action (JSON text of the Response object or of the
-- {"Response": ...} envelope, or its decoded table) | nil, err.
function M.check_outcome(action, response)
    if type(action) ~= "string" then
        error("check_outcome: action must be a string, got " .. type(action), 2)
    end
    if type(response) == "table" then
        response = core.json_encode(response)
    elseif type(response) ~= "string" then
        error("check_outcome: response must be JSON text or a table, got " .. type(response), 2)
    end
    return core.check_outcome(action, response)
end

-- ---------------------------------------------------------------------------------------------
-- The client (libcurl; not in the OpenResty build — use tcfaceid.resty there)

local Client = {}
Client.__index = flows.client_index(Client)

local CLIENT_OPTIONS = {
    secret_id = true, secret_key = true, token = true, region = true, endpoint = true, language = true,
    connect_timeout = true, timeout = true, proxy = true, ca_bundle = true, verify = true, log = true,
    request_client = true, retry = true, qps = true, encrypt = true, encryption = true,
}

--- A client: opts secret_id, secret_key, token (or none: the environment, then
-- ~/.tencentcloud/credentials), region, endpoint, language, connect_timeout, timeout (seconds),
-- proxy, ca_bundle, verify, log (function(level, line): lines are already redacted), clock
-- (function returning Unix seconds; dates sessions, default the system time), retry, qps,
-- encrypt (true: every call encrypts its action's sensitive fields; responses come back
-- decrypted), encryption ({algorithm = "AES-256-CBC" | "SM4-GCM", rsa_public_key_pem,
-- sm2_public_key_pem, whole_body}) | nil, err.
function M.client(opts)
    if opts ~= nil and type(opts) ~= "table" then
        error("tcfaceid.client: expected a table of options", 2)
    end
    opts = opts or {}
    if not core.has_transport then
        error("tcfaceid.client: this build has no HTTP transport (OpenResty: use tcfaceid.resty)", 2)
    end
    local copts = {}
    for k, v in pairs(opts) do
        if k ~= "clock" then
            if not CLIENT_OPTIONS[k] then
                error("tcfaceid.client: unknown option '" .. tostring(k) .. "'", 2)
            end
            copts[k] = v
        end
    end
    local clock = opts.clock or core.time
    if type(clock) ~= "function" then
        error("tcfaceid.client: clock must be a function", 2)
    end
    local handle, err = core.client(copts)
    if handle == nil then
        return nil, err
    end
    local self = { _handle = handle }
    local engine = {
        send = function(action, body)
            local data, request_id = handle:call(action, body)
            if data == nil then
                self.last_request_id = request_id and request_id.request_id or nil
                return nil, request_id
            end
            self.last_request_id = request_id
            return data, request_id
        end,
        now = clock,
        sleep = core.sleep,
        monotonic = core.monotonic,
    }
    self._flows = flows.new(engine)
    return setmetatable(self, Client)
end

--- Any action: params a table or JSON text; opts (optional) {encrypt = true | false (nil: the
-- client's default), retry = {...} (this call's retry options)}. The decoded Response (without
-- RequestId, decrypted when it was encrypted) | nil, err.
function Client:call(action, params, opts)
    if opts == nil then
        return self._flows:call(action, params)
    end
    if type(opts) ~= "table" then
        error("call: opts must be a table or nil, got " .. type(opts), 2)
    end
    if type(action) ~= "string" then
        error("call: action must be a string", 2)
    end
    local body
    if params == nil then
        body = "{}"
    elseif type(params) == "table" then
        body = core.json_encode(params)
    elseif type(params) == "string" then
        body = params
    else
        error("call: params must be a table or a JSON string, got " .. type(params), 2)
    end
    local data, request_id = self._handle:call(action, body, opts)
    if data == nil then
        self.last_request_id = request_id and request_id.request_id or nil
        return nil, request_id
    end
    self.last_request_id = request_id
    return core.json_decode(data)
end

-- ---------------------------------------------------------------------------------------------
-- Element checks and PaaS calls: one C call each (tcf_check: validation, body, retries, QPS,
-- encryption, daily limits, carrier routing, the typed outcome)

local CALL_OPTIONS = { retry = true, encrypt = true }

local function finish(self, o, err)
    if o == nil then
        self.last_request_id = err and err.request_id or nil
        return nil, err
    end
    self.last_request_id = o.request_id
    return o
end

--- client:id_card_verify{id_card =, name =}, client:phone_verify{phone =, id_card =, name =,
-- detailed =, route = "auto"}, client:liveness_recognition{id_card =, name =, liveness_type =,
-- validate_data =, video = <bytes> | video_path = | video_base64 = | video_url =, ...}, ...
-- (flows.CHECK_METHODS; docs/lua.md): the outcome {action, status, matched, result, billed,
-- meaning, sim, sim_threshold, request_id, response} | nil, err. Per call: retry = {...},
-- encrypt = true | false.
for name, action in pairs(flows.CHECK_METHODS) do
    Client[name] = function(self, t)
        if type(t) ~= "table" then
            error(name .. ": expected a table of parameters, got " .. type(t), 2)
        end
        return finish(self, self._handle:check(action, t, name))
    end
end

--- Any element check or PaaS action by name (as the methods above).
function Client:check(action, t)
    if type(action) ~= "string" then
        error("check: action must be a string", 2)
    end
    if t ~= nil and type(t) ~= "table" then
        error("check: expected a table of parameters, got " .. type(t), 2)
    end
    return finish(self, self._handle:check(action, t or {}, "check"))
end

local function simple_call(self, fname, action, opts, decide)
    if opts ~= nil then
        if type(opts) ~= "table" then
            error(fname .. ": opts must be a table or nil, got " .. type(opts), 3)
        end
        for k in pairs(opts) do
            if not CALL_OPTIONS[k] then
                error(fname .. ": unknown option '" .. tostring(k) .. "'", 3)
            end
        end
    end
    local data, request_id = self._handle:call(action, "{}", opts)
    if data == nil then
        self.last_request_id = request_id and request_id.request_id or nil
        return nil, request_id
    end
    self.last_request_id = request_id
    local value, err = decide(data)
    if value == nil and type(err) == "table" and err.request_id == nil then
        err.request_id = request_id
    end
    return value, err
end

--- GetLiveCode: the 4 digits for LIP liveness | nil, err. opts: {retry =, encrypt =}.
function Client:get_live_code(opts)
    return simple_call(self, "get_live_code", "GetLiveCode", opts, core.live_code)
end

--- GetActionSequence: the sequence ("2,1") for ACTION liveness | nil, err.
function Client:get_action_sequence(opts)
    return simple_call(self, "get_action_sequence", "GetActionSequence", opts, core.action_sequence)
end

--- Builds and signs a request without sending it: {method, url, headers = {{name, value}...}, body}.
function Client:prepare(action, params, timestamp)
    local body = params
    if params == nil then
        body = "{}"
    elseif type(params) == "table" then
        body = core.json_encode(params)
    elseif type(params) ~= "string" then
        error("prepare: params must be a table or a JSON string", 2)
    end
    return self._handle:prepare(action, body, timestamp or core.time())
end

function Client:endpoint()
    return self._handle:endpoint()
end

--- Releases the connections; idempotent (also on garbage collection and <close>).
function Client:close()
    self._handle:close()
end

Client.__close = function(self)
    self._handle:close()
end

Client.__tostring = function(self)
    return "tcfaceid.client(" .. self._handle:endpoint() .. ")"
end

return M
