-- tsv.lua: the one TSV reader of the data generators (data/gen_*.lua) and
-- the specs (spec/helper.lua).
--
--   local tsv = dofile("data/tsv.lua")
--   local rows, err = tsv.read(path, opts)
--
-- '#' lines and blank lines are skipped (a CR before the line end is
-- dropped); the first other line is the header. Each row is keyed by
-- column name. opts (all optional):
--   name     what error messages call the file (default: path)
--   empty    the value of an empty or missing field: "" (default) or false
--            for nil
--   lines    true: each row also has _line (its line number) and _file
--   columns  "exact": every line has as many fields as the header;
--            "most": no more than the header; nil: any number
--   want     column names the header must have
-- Returns the rows, or nil and a message ("cannot open X", "X:N: ...").

local M = {}

function M.read(path, opts)
  opts = opts or {}
  local name = opts.name or path
  local empty = opts.empty
  if empty == nil then empty = "" elseif empty == false then empty = nil end
  local f = io.open(path, "rb")
  if not f then return nil, "cannot open " .. path end
  local rows, header, n = {}, nil, 0
  for line in f:lines() do
    n = n + 1
    line = line:gsub("\r$", "")
    if line ~= "" and not line:find("^#") then
      local fields = {}
      for x in (line .. "\t"):gmatch("([^\t]*)\t") do fields[#fields + 1] = x end
      if not header then
        header = fields
        for _, w in ipairs(opts.want or {}) do
          local found = false
          for _, h in ipairs(header) do if h == w then found = true end end
          if not found then
            f:close()
            return nil, string.format("%s: missing column %s", name, w)
          end
        end
      else
        local bad = (opts.columns == "exact" and #fields ~= #header)
          or (opts.columns == "most" and #fields > #header)
        if bad then
          f:close()
          return nil, string.format("%s:%d: %d fields, header has %d", name, n, #fields, #header)
        end
        local row = {}
        if opts.lines then row._line, row._file = n, name end
        for i, h in ipairs(header) do
          local v = fields[i]
          if v == nil or v == "" then v = empty end
          row[h] = v
        end
        rows[#rows + 1] = row
      end
    end
  end
  f:close()
  return rows
end

return M
