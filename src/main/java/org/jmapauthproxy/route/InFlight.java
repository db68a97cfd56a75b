package org.jmapauthproxy.route;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Requests the proxy is answering right now, and whether it still takes new ones. At shutdown,
 * once the drain delay is over, new requests get 503 while those in flight finish.
 */
public final class InFlight {

    private final AtomicInteger count = new AtomicInteger();
    private volatile boolean draining;
    private volatile boolean closing;
    /** Completed when the last request has left after {@link #close()}. */
    private final CompletableFuture<Void> idle = new CompletableFuture<>();

    /**
     * Counts a request in; {@code false} (and not counted) once shutdown has begun. Counted before
     * the check, so that a drain that has seen zero requests cannot miss one that got in.
     */
    public boolean enter() {
        count.incrementAndGet();
        if (closing) {
            leave();
            return false;
        }
        return true;
    }

    public void leave() {
        if (count.decrementAndGet() == 0 && closing) {
            idle.complete(null);
        }
    }

    public int count() {
        return count.get();
    }

    /** From now on {@link #enter()} refuses. */
    public void close() {
        draining = true;
        closing = true;
        if (count.get() == 0) {
            idle.complete(null);
        }
    }

    /**
     * Waits, after {@link #close()}, until no request is in flight or {@code timeoutMillis} have
     * passed; returns whether none is left.
     */
    public boolean awaitIdle(long timeoutMillis) {
        try {
            idle.get(timeoutMillis, TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The drain delay has begun: requests are still served, but each HTTP/1.1 connection is closed
     * after its response, so that clients reconnect to another instance.
     */
    public void drain() {
        draining = true;
    }

    public boolean draining() {
        return draining;
    }

    public boolean closing() {
        return closing;
    }
}
