-- examples/rspamd-dsn.lua: an Rspamd rule that reads delivery status
-- notifications (RFC 3464 bounces) with smtpcode.bounce.
--
-- For each failed or delayed recipient of a bounce it adds
--   SMTPCODE_DSN_HARD   the address is bad: stop mailing it
--   SMTPCODE_DSN_SOFT   any other failure (mailbox full, blocklisted, ...)
-- with options "reason", "code enhanced" and the recipient, e.g.
--   SMTPCODE_DSN_HARD(0.00)[user_unknown, 550 5.1.1, bob@example.com]
-- smtpcode.bounce reads the whole message (MIME parts, DSN field groups,
-- free-text reports), so codes are found even when Postfix writes an
-- "X-Postfix;" diagnostic beside "Status: 5.1.1". For one symbol per kind
-- (hard, soft, delayed, feedback) see examples/rspamd-bounce.lua.
--
-- Use: put smtpcode on Rspamd's Lua paths (it runs on LuaJIT; build with
-- `make lib-jit` or install with LuaRocks for 5.1), then load this file
-- from $LOCAL_CONFDIR/rspamd.local.lua:
--   dofile("/path/to/smtpcode/examples/rspamd-dsn.lua")
-- `make test` runs it in a real Rspamd (.ci/smoke-rspamd.sh).

local smtpcode = require "smtpcode"

local function check(task)
  local raw = task:get_content()
  local b = smtpcode.bounce(raw and tostring(raw) or "")
  if not b then return end
  for _, r in ipairs(b.recipients) do
    if r.bounce and (r.action == "failed" or r.action == "delayed") then
      local codes = (r.code and tostring(r.code) or "-") .. " " .. (r.status or "-")
      task:insert_result(r.bounce == "hard" and "SMTPCODE_DSN_HARD" or "SMTPCODE_DSN_SOFT",
        1.0, { r.reason or "unknown", codes, r.recipient })
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
