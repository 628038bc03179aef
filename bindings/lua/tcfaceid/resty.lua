--- tcfaceid.resty: the FaceID client for OpenResty / nginx-lua (docs/openresty.md).
--
-- The C core (tcfaceid.core, built for LuaJIT without libcurl) signs, builds and parses; the HTTP
-- exchange is an nginx subrequest (ngx.location.capture) to an internal location that proxies
-- it to the FaceID endpoint over nginx's own upstream connections (keep-alive, TLS verified).
-- Nothing here blocks the worker: while a call waits for FaceID (or between retries, slept with
-- ngx.sleep), the worker serves other requests. The flows and verdicts are tcfaceid.flows, the
-- retry rules the core's (core.retry_decide), as in the plain Lua client.
--
--   local faceid = assert(require("tcfaceid.resty").new{ location = "/tcfaceid_upstream" })
--   local session, err = faceid:detect_auth{ rule_id = "1", id_card = ..., name = ...,
--                                            redirect_url = ... }
--   local verdict, err = faceid:detect_result(session)
--   local outcome, err = faceid:id_card_verify{ id_card = ..., name = ... }   -- element checks and
--                                      -- PaaS calls: tcfaceid.flows (core.check_body, check_outcome)
--
-- The internal location (docs/openresty.md has it in full):
--
--   location = /tcfaceid_upstream {
--       internal;
--       set $tcf_host ""; ... set $tcf_server_name "";     (every variable of VARS below)
--       rewrite_by_lua_block { require("tcfaceid.resty").upstream_request() }
--       header_filter_by_lua_block { require("tcfaceid.resty").upstream_response() }
--       proxy_pass https://<upstream>/; proxy_pass_request_headers off;
--       proxy_set_header Host $tcf_host; ... proxy_pass_header Date; ...
--   }

local core = require("tcfaceid.core")
local flows = require("tcfaceid.flows")

local ngx = ngx
local type, pairs, ipairs, pcall, tostring, error, setmetatable, rawget =
    type, pairs, ipairs, pcall, tostring, error, setmetatable, rawget
local floor = math.floor

local M = { _VERSION = core.version() }

-- The request headers tcf_build makes -> the nginx variables the internal location sends them
-- from (proxy_set_header NAME $var; an empty variable sends no header).
local VARS = {
    ["Host"] = "tcf_host",
    ["Content-Type"] = "tcf_content_type",
    ["X-TC-Action"] = "tcf_action",
    ["X-TC-Version"] = "tcf_version",
    ["X-TC-Timestamp"] = "tcf_timestamp",
    ["X-TC-Region"] = "tcf_region",
    ["X-TC-Token"] = "tcf_token",
    ["X-TC-Language"] = "tcf_language",
    ["X-TC-RequestClient"] = "tcf_request_client",
    ["Authorization"] = "tcf_authorization",
}
-- the host name for SNI and certificate verification (proxy_ssl_name $tcf_server_name)
local SERVER_NAME_VAR = "tcf_server_name"
M.VARS, M.SERVER_NAME_VAR = VARS, SERVER_NAME_VAR

-- the keys of the subrequest's ngx.ctx (the table passed as capture's ctx option)
local CTX_REQUEST, CTX_RESPONSE = "tcfaceid_request", "tcfaceid_response"

local OPTIONS = {
    secret_id = true, secret_key = true, token = true, region = true, endpoint = true, language = true,
    request_client = true, location = true, retry = true,
}
local RETRY_OPTIONS = { max_attempts = true, retry_billable = true }

-- The clock offset (service minus ngx.time(), seconds) learned per endpoint from
-- AuthFailure.SignatureExpire answers; per worker process.
local skews = {}

-- An error table like the core's (core.error: metatable core.error_mt), for one attempt.
local function new_error(kind, message, fields)
    fields = fields or {}
    if fields.attempts == nil then
        fields.attempts = 1
    end
    return core.error(kind, message, fields)
end

-- "a, b : c" ($upstream_* with several tries or internal redirects) -> "c"
local function last_value(v)
    if type(v) ~= "string" or v == "" then
        return nil
    end
    return v:match("([^,:%s]+)%s*$")
end

-- ---------------------------------------------------------------------------------------------
-- The two handlers of the internal location (they run in the subrequest)

--- rewrite_by_lua in the internal location: copies the signed headers into the variables.
function M.upstream_request()
    local vars = ngx.ctx[CTX_REQUEST]
    if type(vars) ~= "table" then -- not a tcfaceid.resty subrequest
        return ngx.exit(ngx.HTTP_NOT_FOUND)
    end
    local var = ngx.var
    for name, value in pairs(vars) do
        var[name] = value
    end
end

--- header_filter_by_lua in the internal location: records whether the answer came from FaceID
-- or from nginx itself (no connection, TLS failure, timeout).
function M.upstream_response()
    local ctx = ngx.ctx
    if type(ctx[CTX_REQUEST]) ~= "table" then
        return
    end
    local var = ngx.var
    ctx[CTX_RESPONSE] = {
        status = var.upstream_status,
        header_time = var.upstream_header_time,
        bytes_sent = var.upstream_bytes_sent,
    }
end

-- ---------------------------------------------------------------------------------------------
-- The engine

local function response_headers(h)
    local list = {}
    for name, value in pairs(h or {}) do
        if type(value) == "table" then
            for _, v in ipairs(value) do
                list[#list + 1] = { name, tostring(v) }
            end
        else
            list[#list + 1] = { name, tostring(value) }
        end
    end
    return list
end

-- One signed POST through the internal location: data, request_id, server_time | nil, err
-- (nil, err, true when it failed before anything was sent).
local function exchange(self, action, body, timestamp)
    local req, err = self.config:prepare(action, body, timestamp)
    if not req then
        return nil, err, true
    end
    local vars = { [SERVER_NAME_VAR] = self.server_name }
    for _, h in ipairs(req.headers) do
        local var = VARS[h[1]]
        if var == nil then
            return nil, new_error("error", "tcfaceid.resty does not know the request header " .. h[1],
                { attempts = 0 }), true
        end
        vars[var] = h[2]
    end
    local ctx = { [CTX_REQUEST] = vars }
    local ok, res = pcall(ngx.location.capture, self.location,
        { method = ngx.HTTP_POST, body = req.body, ctx = ctx })
    if not ok then
        return nil, new_error("state", "ngx.location.capture is not available here (tcfaceid.resty "
            .. "works in rewrite, access and content handlers): " .. tostring(res), { attempts = 0 }), true
    end
    local up = ctx[CTX_RESPONSE]
    if up == nil then
        return nil, new_error("state", ("the location %s did not proxy the request (status %d): see "
            .. "docs/openresty.md for its configuration"):format(self.location, res.status))
    end
    if last_value(up.header_time) == nil or last_value(up.header_time) == "-" then
        -- nginx answered itself: no connection, TLS refused, or no answer in time
        local status = last_value(up.status)
        local nothing_sent = last_value(up.bytes_sent) == "0"
        if status == "504" then
            return nil, new_error("timeout", "no answer from the FaceID endpoint in time (" ..
                self.endpoint_url .. "; proxy_read_timeout)", { retryable = nothing_sent })
        end
        return nil, new_error("transport", "no answer from the FaceID endpoint (" .. self.endpoint_url ..
            "): connection, TLS or DNS failure; the nginx error log has the cause",
            { retryable = nothing_sent })
    end
    if res.truncated then
        return nil, new_error("transport", "the connection to the FaceID endpoint closed in the "
            .. "middle of the answer; the request may have been processed", { http_status = res.status })
    end
    local data, request_id, server_time = core.parse(res.status, response_headers(res.header), res.body)
    if data == nil then
        return nil, request_id
    end
    return data, request_id, server_time
end

-- An element check whose Result is its "daily identity limit" code: the rate_limited error the
-- libcurl client gives (retry_at: the next 00:00 Asia/Shanghai). Only small answers with a
-- Result member are decoded.
local function daily_limit(action, data, server_time, now)
    if #data > 65536 or not data:find('"Result"', 1, true) then
        return nil
    end
    local resp = core.json_decode(data)
    local result = type(resp) == "table" and resp.Result
    if type(result) ~= "string" or not core.daily_limit_result(action, result) then
        return nil
    end
    return new_error("rate_limited", ("%s answered Result %s: the daily identity limit was reached; "
        .. "it resets at 00:00 Asia/Shanghai"):format(action, result),
        { http_status = 200, retry_at = core.next_shanghai_midnight(server_time or now) })
end

local Client = {}

Client.__index = flows.client_index(Client)

Client.__tostring = function(obj)
    return "tcfaceid.resty(" .. obj.endpoint_url .. " via " .. obj.location .. ")"
end

--- A client: opts secret_id, secret_key, token (or none: the environment, which nginx passes to
-- its workers only with `env TENCENTCLOUD_SECRET_ID;` etc.), region, endpoint, language,
-- request_client, location (the internal location, default "/tcfaceid_upstream"), retry =
-- {max_attempts = 3, retry_billable = false} | nil, err.
-- Make it once per worker (init_by_lua or a module's upvalue), not per request.
function M.new(opts)
    if opts ~= nil and type(opts) ~= "table" then
        error("tcfaceid.resty.new: expected a table of options", 2)
    end
    opts = opts or {}
    local copts = {}
    for k, v in pairs(opts) do
        if not OPTIONS[k] then
            error("tcfaceid.resty.new: unknown option '" .. tostring(k) .. "'", 2)
        end
        if k ~= "location" and k ~= "retry" then
            copts[k] = v
        end
    end
    local location = opts.location or "/tcfaceid_upstream"
    if type(location) ~= "string" or location:sub(1, 1) ~= "/" then
        error("tcfaceid.resty.new: location must be a URI path such as \"/tcfaceid_upstream\"", 2)
    end
    local retry = opts.retry or {}
    if type(retry) ~= "table" then
        error("tcfaceid.resty.new: retry must be a table", 2)
    end
    for k in pairs(retry) do
        if not RETRY_OPTIONS[k] then
            error("tcfaceid.resty.new: unknown retry option '" .. tostring(k) .. "'", 2)
        end
    end
    local max_attempts = retry.max_attempts or 3
    if type(max_attempts) ~= "number" or max_attempts < 1 or max_attempts % 1 ~= 0 then
        error("tcfaceid.resty.new: retry.max_attempts must be a positive integer", 2)
    end
    local retry_billable = retry.retry_billable and true or false
    local config, err = core.config(copts)
    if config == nil then
        return nil, err
    end
    local endpoint = config:endpoint()
    local host = config:host()
    -- "host:port" -> "host"; "[v6]:port" -> "v6"
    local server_name = host:match("^%[(.*)%]") or host:match("^([^:]+)") or host
    local self = {
        config = config,
        location = location,
        endpoint_url = endpoint,
        server_name = server_name,
        last_request_id = nil,
    }
    if skews[endpoint] == nil then
        skews[endpoint] = 0
    end

    local engine = {}
    function engine.now()
        return ngx.time() + skews[endpoint]
    end
    function engine.sleep(seconds)
        return ngx.sleep(seconds)
    end
    function engine.monotonic()
        ngx.update_time()
        return ngx.now()
    end
    -- One call: attempts by the core's retry policy (core.retry_decide: reads after transient
    -- failures; anything when throttled or certainly not sent; never a DetectAuth or a billable
    -- request that may have run — "ambiguous"), ngx.sleep between them; AuthFailure.
    -- SignatureExpire re-signed once with the service's clock.
    function engine.send(action, body)
        local attempt, resigned = 0, false
        while true do
            attempt = attempt + 1
            local data, request_id, server_time = exchange(self, action, body, ngx.time() + skews[endpoint])
            if data == nil and server_time == true then -- refused locally: nothing was sent
                return nil, request_id
            end
            if data ~= nil then
                local limited = daily_limit(action, data, server_time, ngx.time() + skews[endpoint])
                if limited then
                    limited.request_id, limited.attempts = request_id, attempt
                    self.last_request_id = request_id
                    return nil, limited
                end
                self.last_request_id = request_id
                return data, request_id
            end
            local err = request_id
            err.attempts = attempt
            self.last_request_id = err.request_id
            if err.kind == "clock_skew" and err.server_time and not resigned then
                -- nothing was executed: learn the service's clock from its Date header
                local skew = floor(err.server_time - ngx.time())
                ngx.log(ngx.NOTICE, "tcfaceid: the FaceID clock differs from this host's by ", skew,
                    " s; signing with the corrected time")
                skews[endpoint] = skew
                resigned = true
            else
                local decision = core.retry_decide(action, err, retry_billable)
                if decision == "ambiguous" then
                    return nil, new_error("ambiguous", ("%s may have been executed (and billed) but no "
                        .. "usable answer arrived, so it was not retried: %s"):format(action:sub(1, 64),
                        err.message), { http_status = err.http_status, request_id = err.request_id,
                        server_time = err.server_time, attempts = attempt })
                end
                if decision ~= "yes" or attempt >= max_attempts then
                    return nil, err
                end
                local delay = core.retry_delay(attempt, err.kind == "throttled", math.random())
                ngx.log(ngx.INFO, "tcfaceid: ", action, " attempt ", attempt, " failed (", err.code,
                    "); retrying in ", delay, " s")
                ngx.sleep(delay)
            end
        end
    end
    self._engine = engine
    self._flows = flows.new(engine)
    return setmetatable(self, Client)
end

--- The base URL of the endpoint.
function Client:endpoint()
    return self.endpoint_url
end

--- The clock the sessions are dated with: ngx.time() plus the learned skew.
function Client:now()
    return self._engine.now()
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
    return self.config:prepare(action, body, timestamp or self._engine.now())
end

--- Nothing to release (nginx owns the connections); for symmetry with the plain client.
function Client:close()
end

return M
