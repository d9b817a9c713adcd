-- POST /api/v1/cases for a random worker of a random steward, with a fresh
-- Idempotency-Key each time. Data lines: "T<TAB>token", "I<TAB>item id",
-- "<token index><TAB><worker id>" (the worker's steward's token).
-- wrk ... -s create.lua <url> -- <data file> <run tag>
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "?.lua;" .. package.path
local common = require("common")

local channels = { "phone", "website", "wechat", "platform", "in_person" }
local titles = {
   "Help with a residence permit for a spouse",
   "School place for a child in the district",
   "Talent housing application",
   "Moving a personnel archive",
   "Medical green channel appointment",
}
local headers, workers, items, tag
local sent = 0

setup = common.setup

function init(args)
   common.seed()
   local rows
   headers, rows = common.read(args[1])
   tag = args[2]
   workers, items = {}, {}
   for _, row in ipairs(rows) do
      if row[1] == "I" then
         items[#items + 1] = row[2]
      else
         workers[#workers + 1] = row
      end
   end
end

function request()
   sent = sent + 1
   local worker = workers[math.random(#workers)]
   local h = {}
   for k, v in pairs(headers[tonumber(worker[1])]) do
      h[k] = v
   end
   h["Content-Type"] = "application/json"
   h["Idempotency-Key"] = string.format("load-%s-%d-%d-%d", tag, thread_id, sent, math.random(1000000000))
   local body = string.format(
      '{"worker_id":"%s","item_id":"%s","title":"%s","channel":"%s"}',
      worker[2], items[math.random(#items)], titles[math.random(#titles)], channels[math.random(#channels)]
   )
   return wrk.format("POST", "/api/v1/cases", h, body)
end

function response(status)
   common.count(status)
end

function done(summary, latency)
   common.done(summary, latency)
end
