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

return H
