-- Shared by the load scripts: the data file reader, per-status counting in each
-- thread, and one JSON line of results printed by done() for bench/load.py to parse.
local M = {}

local threads = {}

-- Each thread's Lua state has its own copy of these globals; done() reads them back.
statuses = {}
thread_id = 0

function M.setup(thread)
   thread:set("thread_id", #threads)
   table.insert(threads, thread)
end

-- Lines of tab-separated fields; "T<TAB>token" lines define the bearer tokens
-- (a token of "-" sends none) and return them as header tables by position.
function M.read(path)
   local headers, rows = {}, {}
   for line in io.lines(path) do
      local fields = {}
      for field in string.gmatch(line, "[^\t]+") do
         fields[#fields + 1] = field
      end
      if fields[1] == "T" then
         if fields[2] == "-" then
            headers[#headers + 1] = {}
         else
            headers[#headers + 1] = { ["Authorization"] = "Bearer " .. fields[2] }
         end
      elseif #fields > 0 then
         rows[#rows + 1] = fields
      end
   end
   return headers, rows
end

function M.seed()
   math.randomseed(os.time() * 1000 + thread_id * 7919)
   for _ = 1, 10 do
      math.random()
   end
end

function M.count(status)
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
end

-- ``extra``: names of numeric globals of the threads to add up and report too.
function M.done(summary, latency, extra)
   local total = {}
   local sums = {}
   for _, thread in ipairs(threads) do
      local counts = thread:get("statuses")
      for code, n in pairs(counts) do
         total[code] = (total[code] or 0) + n
      end
      for _, name in ipairs(extra or {}) do
         sums[name] = (sums[name] or 0) + (thread:get(name) or 0)
      end
   end
   local more = {}
   for name, n in pairs(sums) do
      more[#more + 1] = string.format(',"%s":%d', name, n)
   end
   local parts = {}
   for code, n in pairs(total) do
      parts[#parts + 1] = string.format('"%s":%d', code, n)
   end
   local e = summary.errors
   io.write(string.format(
      'LOAD_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,'
         .. '"timeout":%d,"status_errors":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,'
         .. '"mean_us":%.1f,"statuses":{%s}%s}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout, e.status,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
      table.concat(parts, ","), table.concat(more)
   ))
end

return M
