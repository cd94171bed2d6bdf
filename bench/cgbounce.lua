-- bench/cgbounce.lua: smtpcode.bounce over the corpus's maildir/bsd messages,
-- ROUNDS times, for callgrind: the binding's cost per message is
-- (instructions at 3 rounds - at 1 round) / (2 * messages), minus the C
-- walk's own count (build/bench/cbounce, make bench-bounce).
--
--   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.1 \
--     env LUA_PATH='lua/?.lua;;' LUA_CPATH='build/5.4/?.so;;' lua5.4 bench/cgbounce.lua 1
--   (again with 3; the summary lines differ by two rounds)
--
-- Each round reads every message and touches the result as a caller
-- would: every recipient's fields, no lazy headers.
local smtpcode = require "smtpcode"
local rounds = tonumber(arg and arg[1] or "") or 1
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local dir = os.getenv("BENCH_CORPUS") or (here .. "/../../shared/corpus/emails")
local msgs = {}
local p = io.popen('ls -1 "' .. dir .. '/maildir/bsd"')
for name in p:lines() do
  local f = io.open(dir .. "/maildir/bsd/" .. name, "rb")
  if f then
    msgs[#msgs + 1] = f:read("*a")
    f:close()
  end
end
p:close()
assert(#msgs > 0, "no messages under " .. dir .. "/maildir/bsd")
local bounce, n = smtpcode.bounce, 0
for _ = 1, rounds do
  for i = 1, #msgs do
    local b = bounce(msgs[i])
    if b then
      local r = b.recipients
      for j = 1, #r do
        if r[j].reason then n = n + 1 end
      end
    end
  end
end
print(("messages %d rounds %d recipients %d"):format(#msgs, rounds, n))
