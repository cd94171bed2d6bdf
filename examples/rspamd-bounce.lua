-- examples/rspamd-bounce.lua: an Rspamd rule that marks incoming bounces
-- (delivery status notifications, feedback reports and the free-text
-- reports of Postfix, Exim, qmail, Exchange, Gmail, ...) read with
-- smtpcode.bounce. One symbol per kind of recipient:
--   SMTPCODE_BOUNCE_HARD      failed, the address is bad: stop mailing it
--   SMTPCODE_BOUNCE_SOFT      failed for another reason (mailbox full,
--                             blocklisted, policy, ...)
--   SMTPCODE_BOUNCE_DELAYED   not delivered yet, still being retried
--   SMTPCODE_BOUNCE_FEEDBACK  a complaint (ARF feedback report)
-- Each carries "recipient reason" options, one per recipient, e.g.
--   SMTPCODE_BOUNCE_HARD(0.00)[bob@example.com user_unknown]
-- and the rule logs the format and the mail system that wrote the report.
--
-- Use: put smtpcode on Rspamd's Lua paths (build/jit or a LuaRocks tree for
-- 5.1), then from $LOCAL_CONFDIR/rspamd.local.lua:
--   dofile("/path/to/smtpcode/examples/rspamd-bounce.lua")
-- Scores are 0: route on the symbols (e.g. a milter header or a
-- force_actions rule) rather than on the score.
-- `make test` runs it in a real Rspamd on corpus messages
-- (spec/integration/bounce-rspamd.sh).

local smtpcode = require "smtpcode"
local rspamd_logger = require "rspamd_logger"

local SYMBOL = {
  hard = "SMTPCODE_BOUNCE_HARD", soft = "SMTPCODE_BOUNCE_SOFT",
  delayed = "SMTPCODE_BOUNCE_DELAYED", feedback = "SMTPCODE_BOUNCE_FEEDBACK",
}

local function kind(r)
  if r.action == "complained" then return "feedback" end
  if r.action == "delayed" then return "delayed" end
  if r.action == "failed" then return r.bounce == "hard" and "hard" or "soft" end
  return nil -- delivered, relayed, expanded: not a failure
end

local function check(task)
  local raw = task:get_content()
  local b, err, code = smtpcode.bounce(raw and tostring(raw) or "")
  if not b then
    if code ~= "not_bounce" then rspamd_logger.infox(task, "smtpcode bounce: %s (%s)", err, code) end
    return
  end
  rspamd_logger.infox(task, "smtpcode bounce: format %s, mta %s, %s recipients",
    b.format, b.mta or "unknown", #b.recipients)
  local opts = {}
  for _, r in ipairs(b.recipients) do
    local k = kind(r)
    if k then
      opts[k] = opts[k] or {}
      table.insert(opts[k], r.recipient .. " " .. (r.reason or (k == "feedback" and
        (b.feedback and b.feedback.type or "abuse")) or "unknown"))
    end
  end
  for k, list in pairs(opts) do task:insert_result(SYMBOL[k], 1.0, list) end
end

local id = rspamd_config:register_symbol({
  name = "SMTPCODE_BOUNCE_CHECK", type = "callback", callback = check,
  group = "smtpcode", description = "smtpcode: read bounce messages",
})
for k, name in pairs(SYMBOL) do
  rspamd_config:register_symbol({
    name = name, type = "virtual", parent = id, score = 0.0, group = "smtpcode",
    description = "smtpcode bounce: " .. k,
  })
end
