-- wrk: every request carries the next of the tokens in $TOKENS, each thread from its own offset,
-- so that the proxy sees as many distinct sessions as the file holds.
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do
  tokens[#tokens + 1] = "Bearer " .. line
end
local thread_count = 0
local i = 0

function setup(thread)
  thread:set("offset", thread_count * 7919)
  thread_count = thread_count + 1
end

function init(args)
  i = (offset or 0) % #tokens
end

function request()
  i = i % #tokens + 1
  return wrk.format("GET", "/jmap/echo", { ["Authorization"] = tokens[i] })
end
