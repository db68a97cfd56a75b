package org.jmapauthproxy.ops;

import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.TimeoutException;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.jmapauthproxy.credential.CredentialStore;

import java.net.ConnectException;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Ready while the session store answers a PING: without it every request would fail. A liveness
 * check would be wrong here, since restarting the proxy does not bring Redis back.
 *
 * <p>One slow answer does not flap readiness: on a busy machine a PING may miss its deadline while
 * requests are served fine, and taking the proxy out of the balancer for it does more harm than the
 * slow answer. So the PING gets the deadline that session lookups get
 * ({@code authproxy.credentials.timeout}), and readiness goes DOWN only after
 * {@value #FAILURES_FOR_DOWN} failed checks in a row, or on a failed check when the last success is
 * older than {@link #STALE} (probes far apart), or before the first success. The first successful
 * check brings it UP again.
 */
@Readiness
@ApplicationScoped
public class StoreReadiness implements AsyncHealthCheck {

    static final int FAILURES_FOR_DOWN = 2;
    static final Duration STALE = Duration.ofSeconds(30);
    static final String NAME = "session-store";

    private final CredentialStore store;
    private final Duration timeout;
    private final String address;
    private final LongSupplier nanoClock;
    private final AtomicInteger failures = new AtomicInteger();
    /** {@code nanoClock} reading of the last success, or {@code null} before the first. */
    private volatile Long lastSuccess;

    @Inject
    StoreReadiness(CredentialStore store,
                   @ConfigProperty(name = "authproxy.credentials.timeout", defaultValue = "2s") Duration timeout,
                   @ConfigProperty(name = "quarkus.redis.hosts") Optional<String> hosts) {
        this(store, timeout, address(hosts.orElse("")), System::nanoTime);
    }

    /** @param address the store's {@code host:port}, as readiness data names it */
    StoreReadiness(CredentialStore store, Duration timeout, String address, LongSupplier nanoClock) {
        this.store = store;
        this.timeout = timeout;
        this.address = address;
        this.nanoClock = nanoClock;
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        return Uni.createFrom().completionStage(() -> store.ping().toCompletionStage())
                .ifNoItem().after(timeout).fail()
                .onItem().transform(v -> succeeded())
                .onFailure().recoverWithItem(this::failed);
    }

    private HealthCheckResponse succeeded() {
        failures.set(0);
        lastSuccess = nanoClock.getAsLong();
        return HealthCheckResponse.named(NAME).up().withData("address", address).build();
    }

    private HealthCheckResponse failed(Throwable e) {
        int inARow = failures.incrementAndGet();
        Long last = lastSuccess;
        boolean down = inARow >= FAILURES_FOR_DOWN || last == null
                || nanoClock.getAsLong() - last > STALE.toNanos();
        return HealthCheckResponse.named(NAME).status(!down)
                .withData("address", address)
                .withData(down ? "error" : "last-check", describe(e))
                .withData("failed-checks-in-a-row", inARow)
                .build();
    }

    /** What went wrong, naming the address tried; never the URL (it may hold the password). */
    String describe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof TimeoutException || t instanceof java.util.concurrent.TimeoutException) {
                return "no answer from " + address + " within " + timeout.toMillis() + " ms";
            }
            if (t instanceof ConnectException) {
                return "connection refused by " + address;
            }
        }
        // Other messages are not echoed: some client errors quote the connection string.
        return "PING to " + address + " failed";
    }

    /** {@code host:port} of the first entry of {@code quarkus.redis.hosts}, without user or password. */
    static String address(String hosts) {
        String first = hosts.split(",")[0].trim();
        try {
            URI uri = URI.create(first);
            if (uri.getHost() != null) {
                return uri.getHost() + ":" + (uri.getPort() > 0 ? uri.getPort() : 6379);
            }
        } catch (IllegalArgumentException e) {
            // not a URL: fall through
        }
        return first.isEmpty() ? "(quarkus.redis.hosts not set)" : "(unparsable quarkus.redis.hosts)";
    }
}
