-- The plain-Lua "machine" of spec/integration/redis.sh: redis-lua (Debian
-- lua-redis) over LuaSocket. Usage: plain.lua PORT record|pause DEST
-- [REASON [NOW]]. Prints the same "pause=... failures=..." line as the
-- nginx handlers, and the store's counters.
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
local wait
if cmd == "record" then
  wait = t:record(dest, { action = "retry", reason = reason or "rate_limited",
                          scope = "destination" }, now)
else
  wait = t:pause(dest, now)
end
local s = t:stats()
print(("pause=%d failures=%d errors=%d skipped=%d"):format(wait, t:failures(dest), s.errors, s.skipped))
