-- bench/store.lua: the destination tracker in plain Lua, by store:
-- decisions per second (a pause check and a failure record per decision,
-- over 1000 destinations) and memory per destination, for the in-process
-- store and, when a Redis port is given, Redis through redis-lua with and
-- without pipelining. Run by bench/store.sh (which starts redis-server and
-- nginx for the shared dict and lua-resty-redis figures):
--   LUA_PATH='lua/?.lua;;' luajit bench/store.lua [REDIS_PORT]
local retry = require "smtpcode.retry"
local clock, format = os.clock, string.format

local port = tonumber(arg and arg[1])
local dec = { action = "retry", reason = "rate_limited", scope = "destination" }
local dests = {}
for i = 1, 1000 do dests[i] = "d" .. i .. ".bench.example" end

-- CPU time per call (os.clock): right for in-process work only.
local function per_call(n, f)
  for i = 1, math.min(n, 2000) do f(i) end
  local t0 = clock()
  for i = 1, n do f(i) end
  return (clock() - t0) * 1e6 / n
end

-- Wall time per call (LuaSocket's gettime), for work that waits on Redis.
local function per_call_wall(n, f)
  local socket = require "socket"
  for i = 1, math.min(n, 200) do f(i) end
  local t0 = socket.gettime()
  for i = 1, n do f(i) end
  return (socket.gettime() - t0) * 1e6 / n
end

local function line(what, us)
  print(format("%-44s %8.2f us  %9.0f decisions/s", what, us, 1e6 / us))
end

print("== " .. (rawget(_G, "jit") and jit.version or _VERSION) .. " bench/store.lua")
local t = retry.tracker()
line("memory_store: pause + record", per_call(200000, function(i)
  local d = dests[i % 1000 + 1]
  t:pause(d); t:record(d, dec)
end))

collectgarbage(); collectgarbage()
local kb0 = collectgarbage("count")
local mt = retry.tracker{ max_entries = 100000 }
for i = 1, 10000 do mt:record("d" .. i .. ".mem.example", dec) end
collectgarbage(); collectgarbage()
print(format("memory_store: %.0f bytes per paused destination (10000, Lua heap, key strings included)",
  (collectgarbage("count") - kb0) * 1024 / 10000))

if not port then return end
local ok, redis = pcall(require, "redis")
if not ok then print("# redis-lua (lua-redis) not found: " .. tostring(redis)) return end
local c = redis.connect("127.0.0.1", port)
local rt = retry.tracker{ store = retry.redis_store(c, { timeout = 1000 }) }
line("redis_store (redis-lua): pause + record", per_call_wall(5000, function(i)
  local d = dests[i % 1000 + 1]
  rt:pause(d); rt:record(d, dec)
end))
local batch = {}
for i = 1, 100 do batch[i] = dests[i] end
line("redis_store: tracker:pause_many, 100 per round trip", per_call_wall(500, function()
  rt:pause_many(batch)
end) / 100)
local R = require "smtpcode.retry_redis"
local sha = c:script("load", R.SCRIPT)
for _, pipe in ipairs({ 10, 100 }) do
  line(format("redis-lua, HGET + EVALSHA pipelined by %d", pipe), per_call_wall(5000 / pipe, function(i)
    c:pipeline(function(p)
      for j = 1, pipe do
        local key = "smtpcode:{" .. dests[(i * pipe + j) % 1000 + 1] .. "}"
        p:hget(key, "u")
        p:evalsha(sha, 1, key, tostring(os.time()), "14400", "rate_limited", "900", "1800", "3600")
      end
    end)
  end) / pipe)
end
c:flushdb()
local used0 = tonumber(c:info("memory").memory.used_memory)
for i = 1, 10000 do rt:record("d" .. i .. ".mem.example", dec) end
local used1 = tonumber(c:info("memory").memory.used_memory)
print(format("redis: %.0f bytes per paused destination (INFO used_memory, 10000 destinations; "
  .. "MEMORY USAGE of one: %s)", (used1 - used0) / 10000,
  tostring(c:raw_cmd("MEMORY USAGE smtpcode:{d1.mem.example}\r\n"))))
