-- wrk script: batch debits, POST /v1/usage:batch with BATCH items of
-- {"client_id":"<prefix><n>","credits":1}, covering CLIENTS clients.
--
--   wrk -t2 -c8 -d10s -s bench/batch.lua http://127.0.0.1:PORT
--
-- Environment:
--   CLIENTS        number of distinct clients (default 1000)
--   CLIENT_PREFIX  client id prefix (default "client-")
--   BATCH          items per request (default 1000, the API's maximum)
--
-- Each thread builds its request once; thread t starts its items at client
-- t*CLIENTS/nthreads so that the threads do not walk the clients in step.
-- At the end it prints one parseable line:
--   BENCH script=batch requests=... rps=... items_per_request=... items_per_s=...

local clients = tonumber(os.getenv("CLIENTS") or "") or 1000
local prefix = os.getenv("CLIENT_PREFIX") or "client-"
local batch = tonumber(os.getenv("BATCH") or "") or 1000
local nthreads = tonumber(os.getenv("WRK_THREADS") or "") or 2

local next_thread_id = 0
function setup(thread)
   thread:set("thread_id", next_thread_id)
   next_thread_id = next_thread_id + 1
end

local req = nil

function init(args)
   local id = thread_id or 0
   local start = math.floor(id * clients / nthreads)
   local items = {}
   for i = 0, batch - 1 do
      items[#items + 1] = string.format('{"client_id":"%s%d","credits":1}',
                                        prefix, (start + i) % clients)
   end
   local body = '{"requests":[' .. table.concat(items, ",") .. ']}'
   req = wrk.format("POST", "/v1/usage:batch", { ["Content-Type"] = "application/json" }, body)
end

function request()
   return req
end

function done(summary, latency, requests)
   local secs = summary.duration / 1e6
   local e = summary.errors
   local rps = summary.requests / secs
   io.write(string.format(
      "BENCH script=batch requests=%d duration_s=%.3f rps=%.1f items_per_request=%d items_per_s=%.0f " ..
      "p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d " ..
      "errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d\n",
      summary.requests, secs, rps, batch, rps * batch,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout))
end
