-- wrk script for bench/floor/run: one line of latency percentiles in microseconds, from wrk's own
-- histogram of the load (p50 p90 p99 p99.9 max).
done = function(summary, latency, requests)
  io.write(string.format("p50 %d p90 %d p99 %d p99.9 %d max %d (%d requests)\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, summary.requests))
end
