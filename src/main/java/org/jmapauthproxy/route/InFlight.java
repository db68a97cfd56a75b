package org.jmapauthproxy.route;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Requests the proxy is answering right now, and whether it still takes new ones. At shutdown,
 * once the drain delay is over, new requests get 503 while those in flight finish.
 */
public final class InFlight {

    private final AtomicInteger count = new AtomicInteger();
    private volatile boolean draining;
    private volatile boolean closing;

    /**
     * Counts a request in; {@code false} (and not counted) once shutdown has begun. Counted before
     * the check, so that a drain that has seen zero requests cannot miss one that got in.
     */
    public boolean enter() {
        count.incrementAndGet();
        if (closing) {
            count.decrementAndGet();
            return false;
        }
        return true;
    }

    public void leave() {
        count.decrementAndGet();
    }

    public int count() {
        return count.get();
    }

    /** From now on {@link #enter()} refuses. */
    public void close() {
        draining = true;
        closing = true;
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
