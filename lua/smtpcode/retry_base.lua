--- smtpcode.retry_base: what the retry modules share (smtpcode.retry is
-- the front; retry_policy, retry_store and retry_tracker the parts): the
-- reason vocabulary of classify, the back-off formula and argument checks.

local type, error = type, error
local rawget, io = rawget, io
local ipairs = ipairs
local pcall, require = pcall, require
local mmin, huge = math.min, math.huge
local format = string.format
local sort = table.sort

local _M = {}

-- The reason vocabulary of `classify`, from the core's records
-- (smtpcode.reasons(), data/reasons.tsv): the scope used when a result
-- carries none, and whether a permanent failure is "hard". Without the C
-- core (a policy with its own opts.classify) both are empty: results must
-- then carry their scope and bounce.
local SCOPE_OF, HARD = {}, {}
_M.reasons = {}
do
  local ok, sc = pcall(require, "smtpcode")
  if ok and type(sc) == "table" and type(sc.reasons) == "function" then
    for _, r in ipairs(sc.reasons()) do
      SCOPE_OF[r.name], HARD[r.name] = r.scope, r.hard
      _M.reasons[#_M.reasons + 1] = r.name
    end
  end
end
sort(_M.reasons)
--- The scope of each reason, for a result that carries none.
_M.SCOPE_OF = SCOPE_OF
--- Whether a permanent failure of each reason is a hard bounce.
_M.HARD = HARD

local function argerror(n, fname, msg)
  error(format("bad argument #%d to '%s' (%s)", n, fname, msg), 0)
end

local function typename(v)
  return type(v)
end

local function isnum(v)
  return type(v) == "number" and v == v and v > -huge and v < huge
end

-- The back-off formula, the one place it is written: the length after the
-- n-th failure in a row of a schedule or pause row { first, factor, max }.
local function backoff(first, factor, max, n)
  return mmin(max, first * factor ^ (n - 1))
end

--- argerror(n, fname, msg): raise "bad argument #n to 'fname' (msg)".
_M.argerror = argerror

-- Where a store reports what it could not do: nginx's error log (warn)
-- inside nginx, stderr elsewhere.
function _M.log_warn(msg)
  local ngx = rawget(_G, "ngx")
  if type(ngx) == "table" and type(ngx.log) == "function" and ngx.WARN then
    ngx.log(ngx.WARN, msg)
  else
    io.stderr:write(msg, "\n")
  end
end
--- typename(v): the type of v for an error message.
_M.typename = typename
--- isnum(v): v is a finite number.
_M.isnum = isnum
--- backoff(first, factor, max, n): the one back-off formula.
_M.backoff = backoff

return _M
