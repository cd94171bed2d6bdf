-- The plain-Lua "machine" of spec/integration/redis.sh: redis-lua (Debian
-- lua-redis) over LuaSocket. Usage: plain.lua PORT record|pause DEST
-- [REASON [NOW]], or plain.lua PORT serve (commands on stdin). Prints the
-- same "pause=... failures=..." line as the nginx handlers, and the
-- store's counters.
local retry = require "smtpcode.retry"
local redis = require "redis"
local port, cmd, dest, reason, now = tonumber(arg[1]), arg[2], arg[3], arg[4], tonumber(arg[5])
now = now or os.time()
local ok, client = pcall(redis.connect, { host = "127.0.0.1", port = port, timeout = 0.2 })
local store
if ok then
  store = retry.redis_store(client, { timeout = 200 })
else
  -- Redis is down at start: a function that tries each time
  store = retry.redis_store(function()
    local ok2, c = pcall(redis.connect, { host = "127.0.0.1", port = port, timeout = 0.2 })
    if ok2 then return c end
    return nil, c
  end, { timeout = 200 })
end
local t = retry.tracker{ store = store }

local function show(wait, d)
  local s = t:stats()
  print(("pause=%d failures=%d errors=%d skipped=%d"):format(wait, t:failures(d), s.errors, s.skipped))
  io.stdout:flush()
end

if cmd == "serve" then
  -- one long-lived client: lines "record DEST REASON NOW" or "pause DEST NOW"
  -- on stdin, one answer line each (the same client across a Redis restart)
  for l in io.stdin:lines() do
    local c, d, x, y = l:match("^(%S+) (%S+) ?(%S*) ?(%S*)")
    if c == "record" then
      show(t:record(d, { action = "retry", reason = x, scope = "destination" }, tonumber(y)), d)
    elseif c == "pauses" then
      local list = {}
      for x1 in d:gmatch("[^,]+") do list[#list + 1] = x1 end
      local w = t:pause_many(list, tonumber(x))
      print(("pauses=%s errors=%d"):format(table.concat(w, ","), t:stats().errors))
      io.stdout:flush()
    elseif c == "pause" then
      show(t:pause(d, tonumber(x)), d)
    elseif c == "sleep" then
      os.execute("sleep " .. d)
      print("slept")
      io.stdout:flush()
    end
  end
  os.exit(0)
end

local wait
if cmd == "record" then
  wait = t:record(dest, { action = "retry", reason = reason or "rate_limited",
                          scope = "destination" }, now)
else
  wait = t:pause(dest, now)
end
local s = t:stats()
print(("pause=%d failures=%d errors=%d skipped=%d"):format(wait, t:failures(dest), s.errors, s.skipped))
