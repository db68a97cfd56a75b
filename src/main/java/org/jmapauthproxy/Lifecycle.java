package org.jmapauthproxy;

import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.jmapauthproxy.exchange.LongLivedStreams;
import org.jmapauthproxy.ops.AccessLog;
import org.jmapauthproxy.ops.ProxyMetrics;
import org.jmapauthproxy.route.InFlight;
import org.jmapauthproxy.route.ProxyServer;
import org.jmapauthproxy.upstream.Origin;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.regex.Pattern;

/**
 * Start, drain and stop of the proxy, in order, in one place.
 * <ol>
 * <li>Start: the port opens once everything else is up (building the listener builds the whole
 * pipeline through {@link Assembly}, which checks the configuration first).</li>
 * <li>Drain delay (readiness is DOWN): keep serving, but send HTTP/1.1 clients elsewhere after each
 * response; just before the delay ends, end event streams and WebSockets, so their clients
 * reconnect to another instance.</li>
 * <li>Shutdown: answer new requests 503, end what long-lived streams are left, give the requests
 * in flight up to {@code quarkus.shutdown.timeout}, close the port; then the invalidation feed, the
 * origin pools, the metrics and the access log (flushed last, so the last requests are logged).</li>
 * </ol>
 */
@ApplicationScoped
public class Lifecycle {

    private static final Logger LOG = Logger.getLogger(Lifecycle.class);

    /** What the epoll transport puts before the system's message, e.g. {@code bind(..) failed with error(-98): }. */
    private static final Pattern NATIVE_PREFIX = Pattern.compile("^\\w+\\(\\.\\.\\) failed with error\\(-?\\d+\\): ");

    /** Streams are ended this long before the drain delay is over, so that they are gone when it is. */
    private static final long STREAMS_END_BEFORE_MILLIS = 100;

    /**
     * First of the start-up observers, before Quarkus's own (the Redis client's among them, which
     * would fail alone on a missing {@code quarkus.redis.hosts}): the assembly is built here, and
     * building it checks the whole configuration, every problem in one list.
     */
    void checkConfiguration(@Observes @Priority(2) StartupEvent event, Assembly assembly) {
        LOG.debugf("configuration checked (%s)", assembly.getClass().getSimpleName());
    }

    void start(@Observes StartupEvent event, Instance<ProxyServer> listeners,
               @ConfigProperty(name = "quarkus.http.host", defaultValue = "0.0.0.0") String host,
               @ConfigProperty(name = "quarkus.http.port", defaultValue = "8080") int port) {
        // The configuration was checked; only now is the pipeline built.
        ProxyServer server = listeners.get();
        try {
            server.start();
        } catch (Exception e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            String message = "jmap-auth-proxy cannot start: cannot open the proxy port " + host + ":" + port
                    + " (quarkus.http.host/quarkus.http.port): " + NATIVE_PREFIX.matcher(
                            String.valueOf(cause.getMessage())).replaceFirst("");
            // Console logging is asynchronous and the process exits right after a failed start,
            // so the message also goes to standard error directly, before the exception unwinds.
            System.err.println(message);
            System.err.flush();
            throw new IllegalStateException(message, cause);
        }
    }

    void drainStarts(@Observes ShutdownDelayInitiatedEvent event, InFlight inFlight, LongLivedStreams longLived,
                     Vertx vertx, @ConfigProperty(name = "quarkus.shutdown.delay") Optional<Duration> delay) {
        inFlight.drain();
        long millis = Math.max(1, delay.orElse(Duration.ZERO).toMillis() - STREAMS_END_BEFORE_MILLIS);
        vertx.setTimer(millis, id -> longLived.closeAll());
    }

    void stop(@Observes ShutdownEvent event, ProxyServer server, LongLivedStreams longLived, Assembly assembly,
              Origin origin, ProxyMetrics metrics, AccessLog access,
              @ConfigProperty(name = "quarkus.shutdown.timeout") Optional<Duration> timeout) {
        server.refuseNewRequests();
        longLived.closeAll();
        server.drain(timeout.orElse(Duration.ofSeconds(30)).toMillis());
        assembly.invalidations().ifPresent(feed -> feed.close());
        origin.close();
        metrics.close();
        access.close();
    }
}
