-- examples/bounce-webhook.lua: turn ESP bounce webhooks into suppression
-- decisions with smtpcode, for an OpenResty (nginx + Lua) handler.
--
--   local webhook = require "bounce-webhook"
--   local decisions = webhook.decide(cjson.decode(body))
--
-- Accepts the payload shapes of common providers, one event or a list:
--   Amazon SES (SNS message): bounce.bouncedRecipients[].{emailAddress,
--     diagnosticCode, status}, and delivery delays;
--   SendGrid events: [{event = "bounce"|"deferred"|"dropped", email, reason, status}];
--   Mailgun: {"event-data": {event = "failed", severity, recipient,
--     "delivery-status": {code, message, description}}};
--   Postmark: {RecordType = "Bounce", Email, Details, Description}.
-- Each recipient gives { email, action, reason, code, enhanced, scope,
-- matched }, where action is
--   "suppress"  a hard bounce: the address is bad, stop mailing it;
--   "pause"     the destination throttles or blocks us (scope destination,
--               greylisting aside);
--   "keep"      any other failure: keep the address, the message failed.
-- The nginx wiring is at the end of this file; `make test` runs it in a real
-- nginx (.ci/smoke-nginx.sh).

local smtpcode = require "smtpcode"

local M = {}

local function verdict(email, evidence)
  local c = smtpcode.classify(evidence or "")
  local action = "keep"
  if c.bounce == "hard" then
    action = "suppress"
  elseif c.scope == "destination" and c.reason ~= "greylisted" then
    action = "pause" -- greylisting asks each sender/recipient pair to retry: no pause
  end
  return { email = email, action = action, reason = c.reason or "unknown",
           code = c.code, enhanced = c.enhanced, scope = c.scope,
           matched = c.matched }
end

-- The reply text of one event: the most specific field that is there.
local function join(...)
  local t = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if type(v) == "string" and v ~= "" then t[#t + 1] = v end
  end
  return table.concat(t, " ")
end

local function one(ev, out)
  if type(ev) ~= "table" then return end
  -- Amazon SES (the SNS "Message", already decoded)
  if type(ev.bounce) == "table" then
    for _, r in ipairs(ev.bounce.bouncedRecipients or {}) do
      out[#out + 1] = verdict(r.emailAddress, r.diagnosticCode or
        (r.status and ("Status: " .. r.status)))
    end
    return
  end
  -- Mailgun
  local ed = ev["event-data"]
  if type(ed) == "table" and type(ed["delivery-status"]) == "table" then
    local ds = ed["delivery-status"]
    local code = tonumber(ds.code)
    local text = join(ds.message, ds.description)
    if code and not text:find(tostring(code), 1, true) then text = code .. " " .. text end
    out[#out + 1] = verdict(ed.recipient, text)
    return
  end
  -- Postmark
  if ev.RecordType == "Bounce" or (ev.Email and ev.Details) then
    out[#out + 1] = verdict(ev.Email, join(ev.Details, ev.Description))
    return
  end
  -- SendGrid
  if ev.event == "bounce" or ev.event == "deferred" or ev.event == "dropped"
      or ev.event == "blocked" then
    local text = ev.reason or ev.response or ""
    if ev.status and not text:find(ev.status, 1, true) then
      text = text .. " (" .. ev.status .. ")"
    end
    out[#out + 1] = verdict(ev.email, text)
  end
end

--- Decisions for a decoded webhook payload (one event or a list of events).
function M.decide(payload)
  local out = {}
  if type(payload) ~= "table" then return out end
  if payload[1] ~= nil then
    for _, ev in ipairs(payload) do one(ev, out) end
  else
    one(payload, out)
  end
  return out
end

return M

--[[ nginx wiring:

http {
    lua_package_path  "/path/to/smtpcode/lua/?.lua;/path/to/smtpcode/examples/?.lua;;";
    lua_package_cpath "/path/to/smtpcode/build/jit/?.so;;";
    server {
        location = /bounces {
            content_by_lua_block {
                local cjson = require "cjson.safe"
                ngx.req.read_body()
                local payload = cjson.decode(ngx.req.get_body_data() or "")
                if not payload then return ngx.exit(400) end
                local decisions = require("bounce-webhook").decide(payload)
                -- store: for _, d in ipairs(decisions) do if d.action == "suppress" ... end
                ngx.header.content_type = "application/json"
                ngx.say(cjson.encode(decisions))
            }
        }
    }
}
]]
