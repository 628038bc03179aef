--- The handlers of examples/openresty/nginx.conf: the FaceID verification loop at the edge.
--
--   GET  /               a form (name, ID number)
--   POST /verify/start   DetectAuth with a RedirectUrl .../verify/return?state=<random>; the
--                        session stored (JSON, keyed by the BizToken) with the state; 303 to the
--                        verification page
--   GET  /verify/return  the RedirectUrl: the token parsed, the session looked up (unknown token or
--                        wrong state: 400, and no request to FaceID), GetDetectInfoEnhanced, the
--                        verdict shown (an X-Verdict header for scripts)
--
-- Input errors are answered 400 with the library's message (nothing was sent), FaceID and network
-- errors 502 (logged with the error code and RequestId only). Nothing logged contains keys, tokens,
-- names or ID numbers. Python has the same app in examples/wsgi_flow.py.

local tcfaceid = require("tcfaceid")
local resty = require("tcfaceid.resty")
local ffi = require("ffi")
local bit = require("bit")

local ngx = ngx
local settings, faceid

local M = {}

--- init_by_lua: the settings (endpoint, rule_id, public_url, location, sessions = the
-- lua_shared_dict's name). The client is made here, once, so that a missing key or a bad
-- endpoint stops nginx at start-up instead of failing every request.
function M.configure(s)
    settings = s
    local err
    faceid, err = resty.new{ endpoint = s.endpoint, location = s.location }
    if not faceid then
        error("faceid_verify: " .. tostring(err))
    end
end

-- -- pieces -------------------------------------------------------------------------------------

-- OpenSSL's RAND_bytes, linked into nginx (pcall: another module may have declared it already)
pcall(ffi.cdef, "int RAND_bytes(unsigned char *buf, int num);")

local function random_state()
    local buf = ffi.new("unsigned char[16]")
    if ffi.C.RAND_bytes(buf, 16) ~= 1 then
        error("RAND_bytes failed")
    end
    local hex = {}
    for i = 0, 15 do
        hex[i + 1] = ("%02x"):format(buf[i])
    end
    return table.concat(hex)
end

-- Compares two strings in time that depends only on their lengths.
local function same(a, b)
    if #a ~= #b then
        return false
    end
    local diff = 0
    for i = 1, #a do
        diff = bit.bor(diff, bit.bxor(a:byte(i), b:byte(i)))
    end
    return diff == 0
end

local ESCAPES = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

local function h(v)
    return (tostring(v):gsub("[&<>\"']", ESCAPES))
end

local function show(v)
    if v == nil or v == tcfaceid.null then
        return "null"
    end
    return h(v)
end

--- Sends a page and ends the request.
local function reply(status, title, body, verdict)
    ngx.status = status
    ngx.header["Content-Type"] = "text/html; charset=utf-8"
    ngx.header["Cache-Control"] = "no-store"
    if verdict then
        ngx.header["X-Verdict"] = verdict
    end
    if status >= 400 then
        body = "<p>" .. h(body) .. "</p>"
    end
    ngx.print("<!doctype html><meta charset=utf-8><title>", h(title), "</title>\n", body, "\n")
    return ngx.exit(status)
end

--- The service or the network failed: log the code and RequestId, never the inputs.
local function unavailable(what, err)
    ngx.log(ngx.WARN, "FaceID call failed (", what, "): ", err.code, " (RequestId ",
        err.request_id or "-", ")")
    return reply(502, "Bad gateway", "The verification service did not answer; please try again.")
end

local ADVICE = {
    PASSED = "Verified.",
    FAILED = "Not verified.",
    PENDING = "The verification is not finished yet. Reload this page in a moment.",
    EXPIRED = "The verification expired. Please start again.",
}

--- The verdict: status, code and its meaning, billed flag, attempts. Never verdict.text
-- (identity data). Decisions use status/code only; the sentences are for people.
local function verdict_html(title, v)
    local rows = {}
    for i, a in ipairs(v.attempts) do
        rows[i] = ("<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>"):format(
            i, show(a.errcode), show(a.livestatus), show(a.comparestatus), show(a.sim))
    end
    local meaning = v.meaning and (" (" .. h(v.meaning) .. ")") or ""
    return table.concat{
        "<h1>", h(title), "</h1>\n",
        "<p id=status>", h(v.status), "</p>\n",
        "<p>", h(ADVICE[v.status] or ""), "</p>\n",
        "<p>Code: ", show(v.code), meaning, "; intention code: ", show(v.intention_code),
        "; billed: ", show(v.billed), ". ", h(v.reason or ""), "</p>\n",
        "<table><tr><th>attempt</th><th>Errcode</th><th>Livestatus</th><th>Comparestatus</th>",
        "<th>Sim</th></tr>", table.concat(rows), "</table>",
    }
end

local INDEX = [[<h1>tcfaceid example (OpenResty)</h1>
<form method=post action=/verify/start><fieldset><legend>Face verification</legend>
<label>Name <input name=name placeholder=张三></label>
<label>ID number <input name=id_card placeholder=110101199003071233></label>
<button>Verify</button></fieldset></form>]]

-- -- the handlers ---------------------------------------------------------------------------------

function M.index()
    if ngx.req.get_method() ~= "GET" then
        return reply(405, "Method not allowed", "Use GET.")
    end
    return reply(200, "tcfaceid example", INDEX)
end

function M.start()
    if ngx.req.get_method() ~= "POST" then
        return reply(405, "Method not allowed", "Use POST.")
    end
    ngx.req.read_body()
    local form, err = ngx.req.get_post_args(10)
    if not form then
        return reply(400, "Bad request", "The form could not be read.")
    end
    local function field(name)
        local v = form[name]
        if type(v) ~= "string" or v == "" then
            return nil
        end
        return v
    end
    local state = random_state()
    -- Validated locally (ID checksum, name, URL, lengths) before the paid call: a bad value
    -- gives err.kind "invalid_argument", naming the field, and nothing is sent.
    local session
    session, err = faceid:detect_auth{
        rule_id = settings.rule_id,
        id_card = field("id_card"),
        name = field("name"),
        redirect_url = settings.public_url .. "/verify/return?state=" .. state,
    }
    if not session then
        if err.kind == "invalid_argument" then
            return reply(400, "Bad request", "Please check your input: " .. err.message)
        end
        return unavailable("DetectAuth", err)
    end
    if not session.url then
        return reply(502, "No page", "This RuleId has no H5 page (a mini-program or App SDK flow).")
    end
    -- Kept until the results are gone (3 days), and a day more to say "expired" rather than
    -- "unknown link".
    local ttl = session.results_until - faceid:now() + 86400
    local ok
    ok, err = ngx.shared[settings.sessions]:set(session.biz_token, tcfaceid.json_encode{
        kind = "saas", session = session:to_json(), state = state,
    }, ttl)
    if not ok then
        ngx.log(ngx.ERR, "cannot store the session: ", err)
        return reply(503, "Unavailable", "The session could not be stored; please try again.")
    end
    ngx.log(ngx.NOTICE, "SaaS verification started")
    return ngx.redirect(session.url, 303)
end

--- The record of the landing's token, or a 400 page. Trusts nothing in the URL.
local function recall(kind)
    local token = tcfaceid.parse_redirect(ngx.var.request_uri)
    if not token then
        return reply(400, "Bad request", "This link has no valid verification token.")
    end
    local text = ngx.shared[settings.sessions]:get(token)
    local record = text and tcfaceid.json_decode(text)
    local state = ngx.req.get_uri_args(10).state
    if type(record) ~= "table" or record.kind ~= kind or type(state) ~= "string"
            or not same(state, record.state) then
        return reply(400, "Bad request", "This link does not belong to a verification started here.")
    end
    return record
end

function M.finish()
    if ngx.req.get_method() ~= "GET" then
        return reply(405, "Method not allowed", "Use GET.")
    end
    local record = recall("saas")
    local session, err = tcfaceid.session_from_json(record.session)
    if not session then
        ngx.log(ngx.ERR, "a stored session does not load: ", err.code)
        return reply(500, "Internal error", "The stored session is damaged.")
    end
    local verdict
    verdict, err = faceid:detect_result(session) -- the same RuleId, the text first
    if not verdict then
        return unavailable("GetDetectInfoEnhanced", err)
    end
    ngx.log(ngx.NOTICE, "SaaS verdict ", verdict.status, " code=", tostring(verdict.code),
        " attempts=", #verdict.attempts)
    return reply(200, "Face verification", verdict_html("Face verification", verdict), verdict.status)
end

return M
