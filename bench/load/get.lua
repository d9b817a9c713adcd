-- GET a random line of the data file: "<token index><TAB><path>", tokens first as
-- "T<TAB>token". Used for case reads, case lists, the lookup and the metrics.
-- wrk ... -s get.lua <url> -- <data file>
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "?.lua;" .. package.path
local common = require("common")

local headers, rows

setup = common.setup

function init(args)
   common.seed()
   headers, rows = common.read(args[1])
end

function request()
   local row = rows[math.random(#rows)]
   return wrk.format("GET", row[2], headers[tonumber(row[1])])
end

function response(status)
   common.count(status)
end

function done(summary, latency)
   common.done(summary, latency)
end
