-- vocab.lua: the reason and scope vocabulary of classify, read from
-- data/reasons.tsv and data/scopes.tsv, for the data generators.
--
--   local vocab = dofile("data/vocab.lua").read(root, fail)
--
-- vocab.reasons   the reason rows in order (reason 1 first), keyed by column
-- vocab.reason    name -> number (1-based, the SMTPCODE_REASON_* value)
-- vocab.scopes    the scope rows in order; vocab.scope: name -> number
-- vocab.special   "(success)" and "(intermediate)" -> their row
-- fail(fmt, ...) is called (and must not return) on a bad file.

local M = {}

local REASON_COLUMNS = {
  "reason", "scope", "hard", "nocode_retry", "label", "description",
  "advice_transient", "advice_permanent", "who_transient", "todo_transient",
  "who_permanent", "todo_permanent", "who_nocode", "todo_nocode",
}
-- Texts every reason row must have.
local REQUIRED = {
  "label", "description", "advice_transient", "advice_permanent",
  "who_transient", "todo_transient", "who_permanent", "todo_permanent",
}

function M.read(root, fail)
  local tsv = dofile(((debug.getinfo(1, "S").source:match("^@(.*)[/\\]")) or ".") .. "/tsv.lua")
  local function readtsv(name, want)
    local rows, err = tsv.read(root .. "/data/" .. name,
      { name = name, lines = true, columns = "exact", want = want })
    if not rows then fail("%s", err) end
    return rows
  end
  local v = { reasons = {}, reason = {}, scopes = {}, scope = {}, special = {} }
  for _, s in ipairs(readtsv("scopes.tsv", { "scope", "description" })) do
    if not s.scope:match("^[a-z][a-z_]*$") then fail("scopes.tsv:%d: bad name %q", s._line, s.scope) end
    if v.scope[s.scope] then fail("scopes.tsv:%d: %s twice", s._line, s.scope) end
    if s.description == "" then fail("scopes.tsv:%d: no description", s._line) end
    v.scopes[#v.scopes + 1] = s
    v.scope[s.scope] = #v.scopes
  end
  if #v.scopes == 0 then fail("scopes.tsv: no scopes") end
  for _, r in ipairs(readtsv("reasons.tsv", REASON_COLUMNS)) do
    local id, at = r.reason, string.format("reasons.tsv:%d", r._line)
    if id == "(success)" or id == "(intermediate)" then
      if v.special[id] then fail("%s: %s twice", at, id) end
      for _, k in ipairs { "description", "advice_transient", "advice_permanent" } do
        if r[k] == "" then fail("%s: %s has no %s", at, id, k) end
      end
      v.special[id] = r
    else
      if not id:match("^[a-z][a-z_]*$") then fail("%s: bad reason name %q", at, id) end
      if v.reason[id] then fail("%s: %s twice", at, id) end
      if not v.scope[r.scope] then fail("%s: unknown scope %q (data/scopes.tsv)", at, r.scope) end
      for _, k in ipairs { "hard", "nocode_retry" } do
        if r[k] ~= "yes" and r[k] ~= "no" then fail("%s: %s must be yes or no", at, k) end
      end
      for _, k in ipairs(REQUIRED) do
        if r[k] == "" then fail("%s: %s has no %s", at, id, k) end
      end
      if (r.who_nocode == "") ~= (r.todo_nocode == "") then
        fail("%s: who_nocode and todo_nocode come together", at)
      end
      v.reasons[#v.reasons + 1] = r
      v.reason[id] = #v.reasons
    end
  end
  for _, k in ipairs { "(success)", "(intermediate)" } do
    if not v.special[k] then fail("reasons.tsv: no row for %s", k) end
  end
  if not v.reason.unknown then fail("reasons.tsv: no row for unknown") end
  if #v.reasons > 250 then fail("reasons.tsv: too many reasons") end
  return v
end

return M
