-- Handlers of bench/store.sh inside nginx (OpenResty's LuaJIT, one worker).
--   /empty                  an empty handler (the baseline)
--   /naive                  classify + decide + tracker, policy and tracker
--                           built in the request (as the issue measured it)
--   /once                   the same with policy and tracker built once per worker
--   /parts?n=N              each piece in a loop: microseconds per call
--   /store?kind=K&n=N&pipe=P  decisions per second through a store
--   /mem?n=N                shared-dict bytes per destination
local retry = require "smtpcode.retry"
local smtpcode = require "smtpcode"
local redis = require "nginx.redis"
local ngx = ngx -- luacheck: globals ngx

local M = { port = nil }
local REPLY = "421 4.7.28 Our system has detected an unusual rate of mail from your IP. Try again later."
local DEST = "mx.bench.example"

local policy = retry.policy()
local tracker

local function the_tracker()
  tracker = tracker or retry.tracker{ store = retry.shdict_store(ngx.shared.smtp), clock = ngx.time }
  return tracker
end

local function handle_once()
  local d = policy:decide(REPLY, { attempts = 1 })
  local t = the_tracker()
  t:record(DEST, d)
  return d.action, t:pause(DEST)
end

local function handle_naive()
  local p = retry.policy()
  local t = retry.tracker{ store = retry.shdict_store(ngx.shared.smtp), clock = ngx.time }
  local d = p:decide(REPLY, { attempts = 1 })
  t:record(DEST, d)
  return d.action, t:pause(DEST)
end

local function per_call(n, f)
  ngx.update_time()
  local t0 = ngx.now()
  for i = 1, n do f(i) end
  ngx.update_time()
  return (ngx.now() - t0) * 1e6 / n
end

local function resty_client()
  local red = redis:new()
  red:set_timeout(1000)
  assert(red:connect("127.0.0.1", M.port))
  return red
end

function M.handle(what)
  local a = ngx.req.get_uri_args()
  local n = tonumber(a.n) or 20000
  if what == "empty" then
    ngx.say("ok")
  elseif what == "once" then
    ngx.say(handle_once())
  elseif what == "naive" then
    ngx.say(handle_naive())
  elseif what == "parts" then
    local classify = smtpcode.classify
    local res = classify(REPLY)
    local t = the_tracker()
    local dec = policy:decide(res, { attempts = 1 })
    local rows = {
      { "classify(text)", function() classify(REPLY) end },
      { "policy:decide(text) (classify inside)", function() policy:decide(REPLY, { attempts = 1 }) end },
      { "policy:decide(result)", function() policy:decide(res, { attempts = 1 }) end },
      { "tracker:record (shared dict)", function() t:record(DEST, dec) end },
      { "tracker:pause (shared dict)", function() t:pause(DEST) end },
      { "retry.policy()", function() retry.policy() end },
      { "retry.tracker{ shdict_store }", function()
          retry.tracker{ store = retry.shdict_store(ngx.shared.smtp), clock = ngx.time } end },
      { "whole handler, built once", handle_once },
      { "whole handler, built per request", handle_naive },
    }
    for _, r in ipairs(rows) do
      per_call(math.min(n, 2000), r[2])  -- warm up (JIT)
      ngx.say(string.format("%-40s %8.2f us", r[1], per_call(n, r[2])))
    end
  elseif what == "store" then
    -- n decisions, each a pause check and a failure record, over 1000
    -- destinations; Redis with pipe = P: P steps per round trip
    local kind, pipe = a.kind, tonumber(a.pipe) or 0
    local dec = policy:decide(REPLY, { attempts = 1 })
    local dests = {}
    for i = 1, 1000 do dests[i] = "d" .. i .. ".bench.example" end
    local us
    if kind == "redis" and tonumber(a.many) then
      -- pause checks only, through the store: tracker:pause_many
      local m = tonumber(a.many)
      local t = retry.tracker{ store = retry.redis_store(resty_client(), { timeout = 1000 }),
                               clock = ngx.time }
      local batch = {}
      for i = 1, m do batch[i] = dests[i] end
      us = per_call(n / m, function() t:pause_many(batch) end) / m
      ngx.say(string.format("redis tracker:pause_many by %d: %.2f us per pause check, %.0f checks/s",
        m, us, 1e6 / us))
      return
    end
    if kind == "redis" and pipe > 0 then
      -- the store's own steps, batched: HGET (pause) + EVALSHA (record)
      local red = resty_client()
      local R = require "smtpcode.retry_redis"
      red:script("load", R.SCRIPT)
      local lad = { "900", "1800", "3600" }
      us = per_call(n / pipe, function(i)
        red:init_pipeline(pipe * 2)
        for j = 1, pipe do
          local key = "smtpcode:{" .. dests[(i * pipe + j) % 1000 + 1] .. "}"
          red:hget(key, "u")
          red:evalsha(R.SHA, 1, key, tostring(ngx.time()), "14400", "rate_limited",
            lad[1], lad[2], lad[3])
        end
        assert(red:commit_pipeline())
      end) / pipe
      red:set_keepalive()
    else
      local store
      if kind == "redis" then
        store = retry.redis_store(resty_client(), { timeout = 1000 })
      elseif kind == "shdict" then
        store = retry.shdict_store(ngx.shared.smtp)
      else
        store = retry.memory_store()
      end
      local t = retry.tracker{ store = store, clock = ngx.time }
      us = per_call(n, function(i)
        local dest = dests[i % 1000 + 1]
        t:pause(dest)
        t:record(dest, dec)
      end)
    end
    ngx.say(string.format("%s pipe=%d: %.2f us per decision, %.0f decisions/s", kind, pipe, us, 1e6 / us))
  elseif what == "mem" then
    local dict = ngx.shared.smtp
    dict:flush_all(); dict:flush_expired()
    collectgarbage(); collectgarbage()
    local free0 = dict:free_space()
    local t = retry.tracker{ store = retry.shdict_store(dict), clock = ngx.time }
    local dec = policy:decide(REPLY, { attempts = 1 })
    for i = 1, n do t:record("d" .. i .. ".mem.example", dec) end
    local free1 = dict:free_space()
    ngx.say(string.format("shdict: %.0f bytes per paused destination (%d destinations, free_space %d -> %d)",
      (free0 - free1) / n, n, free0, free1))
  end
end

return M
