package org.jmapauthproxy.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.jmapauthproxy.credential.CachedCredentialStore;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The proxy's own Prometheus metrics, all under {@code authproxy_}. Tags are bounded enumerations
 * (outcome, status class, pool): never a path, a user or a session.
 */
public final class ProxyMetrics {

    private final MeterRegistry registry;
    private final Map<String, Timer> requestTimers = new ConcurrentHashMap<>();
    private final Timer lookup;
    private final Timer firstByte;
    private final Counter storeErrors;
    private final AtomicInteger openStreams = new AtomicInteger();
    private final AtomicInteger openWebSockets = new AtomicInteger();
    private final List<Meter> registered = new CopyOnWriteArrayList<>();

    public ProxyMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.lookup = keep(Timer.builder("authproxy.credential.lookup")
                .description("Session store lookup and unsealing, per request")
                .publishPercentileHistogram().register(registry));
        this.firstByte = keep(Timer.builder("authproxy.origin.first.byte")
                .description("From the client request to the origin's response headers")
                .publishPercentileHistogram().register(registry));
        this.storeErrors = keep(Counter.builder("authproxy.store.errors")
                .description("Session store (Redis) lookups that failed or timed out").register(registry));
        keep(Gauge.builder("authproxy.event.streams.open", openStreams, AtomicInteger::get)
                .description("Event streams relayed right now").register(registry));
        keep(Gauge.builder("authproxy.websockets.open", openWebSockets, AtomicInteger::get)
                .description("WebSockets relayed right now").register(registry));
        registerJmapLimits();
    }

    /** The JMAP limits the proxy enforces (a bounded tag: these names only). */
    private static final List<String> JMAP_LIMITS = List.of("maxConcurrentRequests", "maxSizeRequest",
            "maxConcurrentUpload", "maxSizeUpload");
    private final Map<String, Counter> jmapLimitRefusals = new java.util.HashMap<>();

    private void registerJmapLimits() {
        for (String limit : JMAP_LIMITS) {
            jmapLimitRefusals.put(limit, keep(Counter.builder("authproxy.jmap.limit.refusals")
                    .description("Requests refused for a limit of the JMAP session (RFC 8620 §3.6.1)")
                    .tag("limit", limit).register(registry)));
        }
    }

    /** Counts a request refused for the JMAP limit {@code limit}. */
    public void jmapLimitRefused(String limit) {
        Counter counter = jmapLimitRefusals.get(limit);
        if (counter != null) {
            counter.increment();
        }
    }

    private <M extends Meter> M keep(M meter) {
        registered.add(meter);
        return meter;
    }

    /**
     * Removes this instance's meters. The registry can outlive the application (Quarkus tests restart
     * the application in one JVM); left behind, old gauges would keep reporting a stopped instance.
     */
    public void close() {
        registered.forEach(registry::remove);
        registered.clear();
    }

    /** Records one finished request. */
    public void requestEnded(String outcome, int status, long durationNanos) {
        String statusClass = (status / 100) + "xx";
        requestTimers.computeIfAbsent(outcome + '|' + statusClass, k -> keep(Timer.builder("authproxy.requests")
                        .description("Client requests by outcome and status class, with their duration")
                        .tag("outcome", outcome)
                        .tag("status_class", statusClass)
                        .publishPercentileHistogram()
                        .register(registry)))
                .record(durationNanos, TimeUnit.NANOSECONDS);
    }

    public void lookupTook(long nanos) {
        lookup.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void firstByteAfter(long nanos) {
        firstByte.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void storeError() {
        storeErrors.increment();
    }

    public AtomicInteger openStreams() {
        return openStreams;
    }

    public AtomicInteger openWebSockets() {
        return openWebSockets;
    }

    /** Registers the session cache's hit and miss counts, its size and its evictions. */
    public void credentialCache(CachedCredentialStore cache) {
        keep(FunctionCounter.builder("authproxy.session.cache.lookups", cache,
                        CachedCredentialStore::hits)
                .description("Session lookups answered from memory (hit) or by Redis (miss)")
                .tag("result", "hit").register(registry));
        keep(FunctionCounter.builder("authproxy.session.cache.lookups", cache,
                        CachedCredentialStore::misses)
                .tag("result", "miss").register(registry));
        keep(Gauge.builder("authproxy.session.cache.feed.connected", cache,
                        c -> c.feedConnected() ? 1 : 0)
                .description("1 while the Redis invalidation feed is connected (cache in use)").register(registry));
        keep(Gauge.builder("authproxy.session.cache.entries", cache, CachedCredentialStore::size)
                .description("Sessions remembered now").register(registry));
        keep(FunctionCounter.builder("authproxy.session.cache.evictions", cache, CachedCredentialStore::evictions)
                .description("Sessions dropped from memory to make room or for their age").register(registry));
    }

    /** Registers the counter of access lines dropped. */
    public void accessLog(AccessLog access) {
        keep(FunctionCounter.builder("authproxy.access.lines.dropped", access.dropped(), AtomicLong::get)
                .description("Access lines dropped because standard output did not keep up").register(registry));
    }

    /** Registers a gauge of requests in flight on one origin pool. */
    public void originPool(String pool, AtomicInteger inFlight) {
        keep(Gauge.builder("authproxy.origin.requests.active", inFlight, AtomicInteger::get)
                .description("Requests using an origin connection, per pool")
                .tag("pool", pool).register(registry));
    }
}
