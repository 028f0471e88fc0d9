-- wrk script: single debits, POST /v1/clients/<prefix><n>/usage with body
-- {"credits":1}, spread over CLIENTS clients, on keep-alive connections.
--
--   wrk -t2 -c64 -d10s -s bench/debit.lua http://127.0.0.1:PORT
--
-- Environment:
--   CLIENTS        number of distinct clients (default 1000)
--   CLIENT_PREFIX  client id prefix (default "client-")
--   RATE           aggregate target in requests/s; 0 or unset = as fast as
--                  the server answers. With RATE, each thread paces its
--                  requests on a fixed schedule through wrk's delay() hook.
--   WRK_THREADS    the -t given to wrk (default 2); needed to split RATE.
--
-- At the end it prints one parseable line:
--   BENCH script=debit requests=... duration_s=... rps=... p50_us=... ...

local clients = tonumber(os.getenv("CLIENTS") or "") or 1000
local prefix = os.getenv("CLIENT_PREFIX") or "client-"
local rate = tonumber(os.getenv("RATE") or "") or 0
local nthreads = tonumber(os.getenv("WRK_THREADS") or "") or 2

-- Runs in the main script state, once per thread, before the thread starts.
local next_thread_id = 0
function setup(thread)
   thread:set("thread_id", next_thread_id)
   next_thread_id = next_thread_id + 1
end

-- Per-thread state (each wrk thread has its own Lua state).
local requests = {}
local counter = 0

function init(args)
   local id = thread_id or 0
   -- Thread t walks clients t, t+nthreads, t+2*nthreads, ... so that the
   -- threads together cycle over every client evenly.
   local body = '{"credits":1}'
   for i = 0, clients - 1 do
      local headers = { ["Content-Type"] = "application/json" }
      requests[i] = wrk.format("POST", "/v1/clients/" .. prefix .. i .. "/usage", headers, body)
   end
   counter = id
end

function request()
   local r = requests[counter % clients]
   counter = counter + nthreads
   return r
end

if rate > 0 then
   local ffi = require("ffi")
   ffi.cdef [[
      typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
      int clock_gettime(int clk_id, bench_timespec *tp);
   ]]
   local ts = ffi.new("bench_timespec")
   local CLOCK_MONOTONIC = 1
   local function now_ms()
      ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
      return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
   end

   -- Each call claims the thread's next send slot; slots are interval_ms
   -- apart, so the thread sends rate/nthreads requests per second whatever
   -- the answers' latency, as long as it has idle connections.
   local interval_ms = 1000 * nthreads / rate
   local next_slot = nil
   function delay()
      local now = now_ms()
      if next_slot == nil or next_slot < now - 100 then
         -- first call, or more than 100 ms behind: restart the schedule
         -- rather than firing a burst to catch up.
         next_slot = now
      end
      local slot = next_slot
      next_slot = next_slot + interval_ms
      local wait = slot - now
      if wait <= 0 then return 0 end
      return math.floor(wait + 0.5)
   end
end

function done(summary, latency, requests)
   local secs = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      "BENCH script=debit requests=%d duration_s=%.3f rps=%.1f items_per_request=1 target_rate=%d " ..
      "p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d " ..
      "errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d\n",
      summary.requests, secs, summary.requests / secs, rate,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout))
end
