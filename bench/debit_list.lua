-- wrk script: single debits like bench/debit.lua, but over the client ids
-- listed in a file (one a line), e.g. only clients that one node owns:
--
--   CLIENT_FILE=owned-by-node1.txt WRK_THREADS=2 \
--     wrk -t2 -c64 -d10s -s bench/debit_list.lua http://127.0.0.1:PORT
--
-- Each request is POST /v1/clients/<id>/usage with body {"credits":1}, on
-- keep-alive connections; the threads together cycle over every listed id.
--
-- Environment:
--   CLIENT_FILE   the file of client ids (required)
--   WRK_THREADS   the -t given to wrk (default 2)
--
-- At the end it prints one parseable line, like debit.lua's:
--   BENCH script=debit_list requests=... rps=... p50_us=... p99_us=... ...

local file = os.getenv("CLIENT_FILE")
local nthreads = tonumber(os.getenv("WRK_THREADS") or "") or 2

local next_thread_id = 0
function setup(thread)
   thread:set("thread_id", next_thread_id)
   next_thread_id = next_thread_id + 1
end

local requests = {}
local count = 0
local counter = 0

function init(args)
   assert(file, "set CLIENT_FILE to a file of client ids")
   local headers = { ["Content-Type"] = "application/json" }
   for line in io.lines(file) do
      local id = line:match("^%s*(.-)%s*$")
      if id ~= "" then
         requests[count] = wrk.format("POST", "/v1/clients/" .. id .. "/usage", headers, '{"credits":1}')
         count = count + 1
      end
   end
   assert(count > 0, "no client ids in " .. file)
   counter = thread_id or 0
end

function request()
   local r = requests[counter % count]
   counter = counter + nthreads
   return r
end

function done(summary, latency, requests)
   local secs = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      "BENCH script=debit_list requests=%d duration_s=%.3f rps=%.1f items_per_request=1 target_rate=0 " ..
      "p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d " ..
      "errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d\n",
      summary.requests, secs, summary.requests / secs,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout))
end
