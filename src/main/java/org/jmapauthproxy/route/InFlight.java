package org.jmapauthproxy.route;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Requests the proxy is answering right now, and whether it still takes new ones. At shutdown,
 * once the drain delay is over, new requests get 503 while those in flight finish.
 */
public final class InFlight {

    private final AtomicInteger count = new AtomicInteger();
    private volatile boolean closing;

    /** Counts a request in; {@code false} (and not counted) once shutdown has begun. */
    public boolean enter() {
        if (closing) {
            return false;
        }
        count.incrementAndGet();
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
        closing = true;
    }

    public boolean closing() {
        return closing;
    }
}
