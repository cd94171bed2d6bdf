-- smtpcode.explain: say in a few lines, for a person, what an SMTP reply (or
-- a log line, an exception message) means, whose side must act and what to do.
--
--   local explain = require "smtpcode.explain"   -- or smtpcode.explain
--   local text, c = explain("451 4.7.1 Greylisting in action, please come back later")
--   print(text)      -- four short lines: headline, meaning, who acts, what to do
--   -- c is the classify() table the text was made from
--
-- Pure Lua (common subset of 5.1-5.4 and LuaJIT). The reason, severity,
-- bounce and retry come from smtpcode.classify; code titles from
-- smtpcode.describe. The per-reason sentences (a transient and a permanent
-- variant) come from the core (data/reasons.tsv); the rows below are for the
-- success replies and for enhanced codes whose meaning is more precise than
-- the reason. All text is written for this project.

local type, error, tostring, setmetatable, pcall = type, error, tostring, setmetatable, pcall
local ipairs, rawget = ipairs, rawget
local format = string.format
local concat = table.concat
local require = require

-- {======================================================
-- Data
-- =======================================================

local M = {}

--- Per reason: `label` (short name for the headline), and per severity
-- (`transient` = a retry can work, `permanent` = it cannot) `who` and
-- `todo`; `nocode` is used instead when the text has no code at all (an
-- exception message of a mail program). What happened comes from classify.
-- Built from the core's records (smtpcode.reasons(), data/reasons.tsv).
M.reasons = {}
for _, r in ipairs(require("smtpcode").reasons()) do
  M.reasons[r.name] = {
    label = r.label,
    transient = { who = r.who_transient, todo = r.todo_transient },
    permanent = { who = r.who_permanent, todo = r.todo_permanent },
    nocode = r.who_nocode and { who = r.who_nocode, todo = r.todo_nocode } or nil,
  }
end

--- Non-failure replies (2yz, 3yz): what each common code means. Codes
-- not listed here use describe()'s title and description.
M.success = {
  [220] = "The server is ready: this is its greeting at the start of a session.",
  [221] = "The server closed the session normally (usually after QUIT). This is not an error, " ..
    "even when a program shows it as \"smtp error\".",
  [235] = "The login (SMTP AUTH) worked.",
  [250] = "The server accepted the command or the message.",
  [251] = "The recipient is not hosted here, but the server accepted the message and will forward it.",
  [252] = "The server cannot check the address but accepts the message and will try to deliver it.",
  [334] = "The server is in the middle of a login exchange and waits for the next step.",
  [354] = "The server waits for the message body; the client sends it next.",
}

--- Enhanced codes whose meaning is more precise than their reason's; used
-- only when classify's reason is the one given here (the text may decide
-- otherwise: Microsoft's 5.1.10 RecipientNotFound is user_unknown).
M.enhanced = {
  ["1.8"] = { reason = "sender_rejected",
    meaning = "The domain of the sender address was not found: it does not exist or does not " ..
      "resolve in DNS, so the receiver refuses mail from it." },
  ["1.10"] = { reason = "host_unknown",
    meaning = "The recipient's domain publishes a null MX: it declares that it accepts no mail at all." },
  ["4.7"] = { reason = "expired",
    meaning = "The sending server gave up: the message stayed in its queue longer than allowed." },
  ["7.26"] = { reason = "sender_auth",
    meaning = "The message failed the receiver's sender authentication (DMARC, SPF or DKIM)." },
  ["7.25"] = { reason = "sender_auth",
    meaning = "The sending IP address has no valid reverse DNS (PTR) record." },
  ["7.23"] = { reason = "sender_auth",
    meaning = "The sending IP address is not allowed by the sender domain's SPF record." },
}

local SEVERITY_WORD = {
  success = "success", intermediate = "in progress",
  transient = "temporary failure", permanent = "permanent failure",
}

-- }======================================================

local classify, describe, status

local function load()
  local smtpcode = require "smtpcode"
  classify, describe, status = smtpcode.classify, smtpcode.describe, smtpcode.status
end

-- A classify result table has advice and description; parse and find
-- results do not. Tables are read raw (metatables ignored), as the C
-- functions read them.
local function is_verdict(t)
  return type(rawget(t, "advice")) == "string" and type(rawget(t, "description")) == "string"
    and type(rawget(t, "severity")) == "string"
end

local SEVERITIES = { success = true, intermediate = true, transient = true,
  permanent = true, unknown = true }

local function badfield(k, why)
  error(format("bad argument #1 to 'explain' (classify result with a bad '%s' field: %s)",
    k, why), 0)
end

local function optfield(t, k, want)
  local v = rawget(t, k)
  if v ~= nil and type(v) ~= want then
    badfield(k, format("%s or nil expected, got %s", want, type(v)))
  end
  return v
end

-- The fields of a classify result this module reads, checked, in a table
-- of their own.
local function checked(t)
  local c = {
    severity = rawget(t, "severity"), description = rawget(t, "description"),
    advice = rawget(t, "advice"),
    code = optfield(t, "code", "number"), enhanced = optfield(t, "enhanced", "string"),
    reason = optfield(t, "reason", "string"), bounce = optfield(t, "bounce", "string"),
    retry = optfield(t, "retry", "boolean"), matched = optfield(t, "matched", "string"),
    delayed = optfield(t, "delayed", "boolean"),
    by = optfield(t, "by", "string"),
  }
  if not SEVERITIES[c.severity] then
    badfield("severity", "not a severity")
  end
  local code = c.code
  if code and not (code >= 200 and code <= 599 and code % 1 == 0) then
    badfield("code", "not a reply code (200-599)")
  end
  if c.enhanced and not status(c.enhanced) then
    badfield("enhanced", "not an enhanced status code")
  end
  return c
end

local function codes_of(c)
  local s = c.code and format("%d", c.code) or ""
  if c.enhanced then s = (s == "" and "" or s .. " ") .. c.enhanced end
  return s
end

local function title_of(x)
  local d = describe(x)
  return d and d.title
end

-- "550 Mailbox unavailable; 5.1.1 Bad destination mailbox address"
local function titles(c)
  local out = {}
  if c.code then
    local t = title_of(c.code)
    if t then out[#out + 1] = format("%d %s", c.code, t) end
  end
  if c.enhanced and not c.enhanced:find("^%d%.0%.0$") then
    local t = title_of(c.enhanced)
    if t then out[#out + 1] = c.enhanced .. " " .. t end
  end
  if out[1] == nil then return nil end
  return concat(out, "; ")
end

local function explain_ok(c)
  local lines = {}
  local code = c.code
  local meaning = code and M.success[code]
  if not meaning then
    -- a success may carry only an enhanced code ("Status: 2.0.0")
    local d = (code or c.enhanced) and describe(code or c.enhanced)
    meaning = d and d.description or c.description
    -- X.0.0 says only the class: its meaning is the class's
    if d and not code and d.class and c.enhanced:find("^%d%.0%.0$") then
      meaning = d.class.description
    end
  end
  local word = c.severity == "success" and "not an error" or "not an error (in progress)"
  lines[1] = format("%s: %s.", codes_of(c), word)
  lines[2] = "What it means: " .. meaning
  local t = titles(c)
  if t then lines[2] = lines[2] .. " (" .. t .. ")" end
  lines[3] = "Who must act: nobody."
  lines[4] = "What to do: nothing."
  return concat(lines, "\n")
end

local function explain_failure(c)
  local reason = c.reason or "unknown"
  local row = M.reasons[reason] or M.reasons.unknown
  -- a failure is "transient" when a retry can work (no code: classify's retry)
  local transient = c.retry == true
  local side = transient and row.transient or row.permanent
  local head
  if not (c.code or c.enhanced) and row.nocode then side = row.nocode end
  if c.code or c.enhanced then
    head = format("%s: %s, %s", codes_of(c), SEVERITY_WORD[c.severity] or "failure", row.label)
  else
    head = "No SMTP reply code in the text: " .. row.label
  end
  if c.bounce == "hard" then
    head = head .. " (hard bounce: stop mailing this address)"
  end
  if c.delayed then -- a delay notice: not a failure yet
    head = head .. " (delayed: the server is still trying, nothing has bounced)"
  end
  local meaning = c.description
  local enh = c.enhanced
  if enh then
    local e = M.enhanced[enh:match("^%d%.(%d+%.%d+)$") or ""]
    if e and e.reason == reason then meaning = e.meaning end
  end
  -- code titles, unless a text rule decided against what the codes say
  local by_text = c.by == "rule" or c.by == "user"
  local t = titles(c)
  if t and not by_text then meaning = meaning .. " (" .. t .. ")" end
  local retry
  if c.retry == true then
    retry = "Retry: yes, a later attempt can succeed."
  elseif c.retry == false then
    retry = "Retry: no, the same message will fail the same way until the cause is fixed."
  end
  local lines = { head .. ".", "What it means: " .. meaning,
    "Who must act: " .. side.who .. ".", "What to do: " .. side.todo }
  if retry then lines[#lines + 1] = retry end
  return concat(lines, "\n")
end

local function no_code()
  return concat({ "No SMTP reply code and no known failure in the text.",
    "What it means: nothing in it says what happened to a message.",
    "Who must act: unknown.",
    "What to do: look for the server's reply (a three-digit code such as 550) in the full log or bounce message." },
    "\n")
end

--- explain(x): a short text for a person about x (a reply, log line or
-- exception text, or a parse/find/classify result table), and the classify
-- table it was made from.
function M.explain(x)
  local tx = type(x)
  if tx ~= "string" and tx ~= "table" then
    error(format("bad argument #1 to 'explain' (string or table expected, got %s)", tx), 0)
  end
  if not classify then load() end
  local c = x
  if tx == "string" then
    c = classify(x)
    x = c
  elseif not is_verdict(x) then
    -- a parse or find result; classify's complaint about another table is
    -- explain's own
    local ok, r = pcall(classify, x)
    if not ok then
      error((tostring(r):gsub("^bad argument #1 to 'classify'", "bad argument #1 to 'explain'")), 0)
    end
    c = r
    x = c
  end
  c = checked(c)
  local sev = c.severity
  local text
  if sev == "success" or sev == "intermediate" then
    text = explain_ok(c)
  elseif sev == "unknown" and (c.reason == nil or c.reason == "unknown") then
    text = no_code()
  else
    text = explain_failure(c)
  end
  return text, x
end

setmetatable(M, { __call = function(_, x) return M.explain(x) end })

return M
