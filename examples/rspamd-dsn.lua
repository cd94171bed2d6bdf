-- examples/rspamd-dsn.lua: an Rspamd rule that reads delivery status
-- notifications (RFC 3464 bounces) with smtpcode.
--
-- For each recipient group of a message/delivery-status part it classifies
-- the Diagnostic-Code (or, without one, the Status field) and adds
--   SMTPCODE_DSN_HARD   the address is bad: stop mailing it
--   SMTPCODE_DSN_SOFT   any other failure (mailbox full, blocklisted, ...)
-- with options "reason", "code enhanced" and the recipient, e.g.
--   SMTPCODE_DSN_HARD(0.00)[user_unknown, 550 5.1.1, bob@example.com]
--
-- Use: put smtpcode on Rspamd's Lua paths (it runs on LuaJIT; build with
-- `make lib-jit` or install with LuaRocks for 5.1), then load this file
-- from $LOCAL_CONFDIR/rspamd.local.lua:
--   dofile("/path/to/smtpcode/examples/rspamd-dsn.lua")
-- `make test` runs it in a real Rspamd (.ci/smoke-rspamd.sh).

local smtpcode = require "smtpcode"

-- Per-recipient field groups of a delivery-status body: the groups are
-- separated by blank lines; folded lines are joined (RFC 5322 2.2.3).
local function groups(text)
  text = text:gsub("\r\n", "\n"):gsub("\n[ \t]+", " ")
  local out, cur = {}, nil
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    local k, v = line:match("^([%w%-]+):%s*(.-)%s*$")
    if k then
      cur = cur or {}
      cur[k:lower()] = v
    elseif cur then
      out[#out + 1] = cur
      cur = nil
    end
  end
  if cur then out[#out + 1] = cur end
  return out
end

local function check(task)
  for _, part in ipairs(task:get_parts() or {}) do
    local t, st = part:get_type()
    if t == "message" and (st == "delivery-status" or st == "global-delivery-status") then
      local content = part:get_content()
      for _, g in ipairs(groups(content and tostring(content) or "")) do
        local evidence = g["diagnostic-code"] or (g.status and ("Status: " .. g.status))
        if evidence and (g.action == nil or g.action:lower() == "failed"
                         or g.action:lower() == "delayed") then
          -- "smtp; 550 5.1.1 ..." carries the remote reply; find skips the type
          local c = smtpcode.classify(evidence)
          if c.bounce then
            local rcpt = (g["final-recipient"] or g["original-recipient"] or "")
              :gsub("^[%w%-]+;%s*", "")
            local codes = (c.code and tostring(c.code) or "-") .. " " .. (c.enhanced or "-")
            task:insert_result(c.bounce == "hard" and "SMTPCODE_DSN_HARD" or "SMTPCODE_DSN_SOFT",
              1.0, { c.reason, codes, rcpt })
          end
        end
      end
    end
  end
end

local id = rspamd_config:register_symbol({
  name = "SMTPCODE_DSN_CHECK", type = "callback", callback = check,
  group = "smtpcode", description = "smtpcode: read delivery status notifications",
})
rspamd_config:register_symbol({
  name = "SMTPCODE_DSN_HARD", type = "virtual", parent = id, score = 0.0,
  group = "smtpcode", description = "DSN: hard bounce, the address is bad",
})
rspamd_config:register_symbol({
  name = "SMTPCODE_DSN_SOFT", type = "virtual", parent = id, score = 0.0,
  group = "smtpcode", description = "DSN: soft bounce or delay",
})
