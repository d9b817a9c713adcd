-- One move per request: POST /api/v1/cases/{id}/transitions with If-Match, on
-- cases that are in progress or awaiting materials, alternating request_materials
-- and receive_materials. The ETag (and so the version) comes from the previous
-- answer for the same case; the first one from the data file. Each thread takes
-- every n-th case, so no two threads move the same case.
-- Data lines: "T<TAB>token", "<token index><TAB><case id><TAB><version><TAB><status>".
-- wrk ... -s move.lua <url> -- <data file> <threads>
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "?.lua;" .. package.path
local common = require("common")

local REQUEST = '{"action":"request_materials","materials":"A copy of the employment contract"}'
local RECEIVE = '{"action":"receive_materials"}'

local headers
local cases = {}   -- id -> {token index, version, status}
local ready = {}   -- a queue of ids not in flight
local head, tail = 1, 0
lost = 0
starved = 0
local health_in_flight = 0

setup = common.setup

function init(args)
   common.seed()
   local rows
   headers, rows = common.read(args[1])
   local nthreads = tonumber(args[2]) or 1
   for i, row in ipairs(rows) do
      if (i - 1) % nthreads == thread_id then
         cases[row[2]] = { tonumber(row[1]), tonumber(row[3]), row[4] }
         tail = tail + 1
         ready[tail] = row[2]
      end
   end
end

function request()
   if head > tail then
      -- Every case is in flight or lost: a harmless read keeps the connection busy,
      -- counted apart (bench/load.py reports it; a larger pool avoids it).
      starved = starved + 1
      health_in_flight = health_in_flight + 1
      return wrk.format("GET", "/health")
   end
   local id = ready[head]
   ready[head] = nil
   head = head + 1
   local case = cases[id]
   local h = {}
   for k, v in pairs(headers[case[1]]) do
      h[k] = v
   end
   h["Content-Type"] = "application/json"
   h["If-Match"] = string.format('"%s.%d"', id, case[2])
   local body = case[3] == "in_progress" and REQUEST or RECEIVE
   return wrk.format("POST", "/api/v1/cases/" .. id .. "/transitions", h, body)
end

function response(status, hdrs)
   local etag = hdrs["ETag"] or hdrs["etag"]
   if etag == nil and status == 200 and health_in_flight > 0 then
      health_in_flight = health_in_flight - 1
      common.count("health")
      return
   end
   common.count(status)
   if status ~= 200 or etag == nil then
      lost = lost + 1
      return
   end
   local id, version = string.match(etag, '"([%x%-]+)%.(%d+)"')
   local case = id and cases[id]
   if not case then
      lost = lost + 1
      return
   end
   case[2] = tonumber(version)
   case[3] = case[3] == "in_progress" and "awaiting_materials" or "in_progress"
   tail = tail + 1
   ready[tail] = id
end

function done(summary, latency)
   common.done(summary, latency, { "lost", "starved" })
end
