-- examples/openresty-bounce.lua: an OpenResty endpoint that takes a raw
-- bounce message (POST body) and answers with the suppression decision of
-- every recipient, as JSON, read with smtpcode.bounce.
--
--   location = /bounce {
--       client_max_body_size 10m;
--       content_by_lua_block { require("openresty-bounce").handle() }
--   }
--
-- Answer (200): {"format": "dsn", "mta": "postfix", "recipients": [
--   {"recipient": "bob@example.com", "action": "failed", "decision":
--    "suppress", "reason": "user_unknown", "status": "5.1.1", "code": 550}]}
-- decision is
--   "suppress"  a hard bounce or a complaint: stop mailing the address;
--   "pause"     the destination throttles or blocks the sender (scope
--               destination, greylisting aside);
--   "retry"     a delay, or a failure worth another try later;
--   "keep"      any other failure; "none" for delivered/relayed/expanded.
-- Not a bounce: 422 {"error": "not_bounce"}; malformed: 400; over the size
-- limit: 413. `make test` runs it in a real nginx
-- (spec/integration/bounce-nginx.sh).

local smtpcode = require "smtpcode"

local M = {}

function M.decision(r)
  if r.action == "complained" then return "suppress" end
  if r.action ~= "failed" and r.action ~= "delayed" then return "none" end
  if r.bounce == "hard" and r.action == "failed" then return "suppress" end
  if r.scope == "destination" and r.reason ~= "greylisted" then return "pause" end
  if r.action == "delayed" or r.retry then return "retry" end
  return "keep"
end

-- The answer for a raw message: status, table (for cjson).
function M.decide(raw)
  local b, err, code = smtpcode.bounce(raw)
  if not b then
    local status = code == "not_bounce" and 422 or code == "too_long" and 413 or 400
    return status, { error = code, message = err }
  end
  local out = { format = b.format, mta = b.mta, recipients = {} }
  for _, r in ipairs(b.recipients) do
    out.recipients[#out.recipients + 1] = {
      recipient = r.recipient, action = r.action, decision = M.decision(r),
      reason = r.reason, status = r.status, code = r.code,
    }
  end
  if b.original then out.message_id = b.original.message_id end
  return 200, out
end

function M.handle()
  local ngx = ngx -- luacheck: ignore 113 (OpenResty's global)
  local cjson = require "cjson.safe"
  ngx.req.read_body()
  local raw = ngx.req.get_body_data()
  if not raw then
    local f = ngx.req.get_body_file()
    if f then
      local fh = io.open(f, "rb")
      if fh then raw = fh:read("*a") fh:close() end
    end
  end
  local status, t = M.decide(raw or "")
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  if t.recipients and #t.recipients == 0 then t.recipients = cjson.empty_array end
  ngx.say(cjson.encode(t))
end

return M
