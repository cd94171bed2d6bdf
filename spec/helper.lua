-- Shared by the specs: where the repository and the shared material are,
-- and a TSV reader. Load with `local helper = dofile("spec/helper.lua")`
-- (busted runs from the repository root) or through the path of the spec.

local H = {}

local function dirname(p) return (p:gsub("[/\\][^/\\]*$", "")) end
local here = debug.getinfo(1, "S").source:gsub("^@", "")
H.specdir = here:find("[/\\]") and dirname(here) or "."
H.root = dirname(H.specdir)
if H.root == H.specdir then H.root = "." end

function H.readable(p)
  local f = io.open(p, "rb")
  if f then f:close() return true end
  return false
end

-- The bytes of the file at path, or nil when it cannot be opened.
function H.read(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- CI keeps the shared material beside the clone; fall back to /work/shared.
for _, d in ipairs { H.root .. "/../shared", "/work/shared" } do
  if H.readable(d .. "/reference/provider-replies.tsv") then H.shared = d break end
end

-- Read a TSV file with the reader of the generators (data/tsv.lua): '#'
-- lines and blank lines are skipped, the first other line is the header.
-- Rows are keyed by column name; an empty or missing field is "" (or nil
-- with opts.empty_nil). Returns nil when the file cannot be opened.
local reader = dofile(H.root .. "/data/tsv.lua")

function H.tsv(path, opts)
  return (reader.read(path, { empty = not (opts and opts.empty_nil) and "" or false }))
end

-- Run fn(name) once on every backend of the module m ("capi", and "ffi"
-- where there is one), then switch back to the backend in use before.
function H.each_backend(m, fn)
  local prev = m._BACKEND
  for _, b in ipairs(m._backends()) do
    m._set_backend(b)
    fn(b)
  end
  m._set_backend(prev)
end

-- Run fn(backend, line) for every line of the list on every backend of m;
-- the label "backend: line" for assertion messages is fn's third argument.
function H.each_line(m, list, fn)
  H.each_backend(m, function(b)
    for _, line in ipairs(list) do fn(b, line, b .. ": " .. line) end
  end)
end

-- The interpreter that runs busted (lua5.1 .. lua5.4, luajit): the first
-- argument before the script (busted's arg[-1] and below), else the name
-- that matches this Lua. The specs of bin/smtpcode run the CLI with it.
function H.interpreter()
  local i, lua = -1, nil
  while arg and arg[i] do
    lua = arg[i]
    i = i - 1
  end
  if lua then return lua end
  if jit then return "luajit" end
  return "lua" .. _VERSION:match("%d+%.%d+")
end

-- s in single quotes for /bin/sh.
function H.q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Run bin/smtpcode (from the repository root) with the arguments (a list),
-- an optional stdin text (else /dev/null) and an optional prefix of
-- environment assignments. Returns stdout, stderr, exit status; the status
-- comes through the shell, as io.popen's close gives none on 5.1.
function H.cli(args, stdin, env)
  local q = H.q
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = q(a) end
  local errf = os.tmpname()
  local inf
  local cmd = (env or "") .. " " .. q(H.interpreter()) .. " bin/smtpcode " .. table.concat(quoted, " ")
  if stdin then
    inf = os.tmpname()
    local fh = assert(io.open(inf, "wb"))
    fh:write(stdin)
    fh:close()
    cmd = cmd .. " < " .. q(inf)
  else
    cmd = cmd .. " < /dev/null"
  end
  local p = assert(io.popen(cmd .. " 2> " .. q(errf) .. "; echo \"exit=$?\""))
  local out = p:read("*a")
  p:close()
  local fh = assert(io.open(errf, "rb"))
  local err = fh:read("*a")
  fh:close()
  os.remove(errf)
  if inf then os.remove(inf) end
  local status = tonumber(out:match("exit=(%d+)\n$"))
  out = out:gsub("exit=%d+\n$", "")
  return out, err, status
end

return H
