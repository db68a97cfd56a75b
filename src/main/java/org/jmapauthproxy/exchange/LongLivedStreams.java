package org.jmapauthproxy.exchange;

import org.jboss.logging.Logger;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Event streams and WebSockets that are open right now, so that shutdown can end them cleanly.
 *
 * <p>Such exchanges never finish by themselves; left alone they would hold a terminating pod for the
 * whole shutdown timeout and then be cut. When the shutdown delay (the drain period during which
 * readiness is DOWN) has passed, each is ended the way its protocol expects: the event stream's
 * response is completed, so EventSource clients reconnect (to another instance), and WebSockets are
 * closed with 1001 (going away). The proxy's lifecycle calls {@link #closeAll()} then.
 */
public final class LongLivedStreams {

    private static final Logger LOG = Logger.getLogger(LongLivedStreams.class);

    private final Set<Runnable> closers = ConcurrentHashMap.newKeySet();
    private volatile boolean ended;

    /**
     * Registers how to end one stream; the returned handle unregisters it when the stream ends. A
     * stream that opens after the streams were ended (its request was already under way) is ended
     * at once, so that it does not hold the shutdown until its timeout.
     */
    public Runnable register(Runnable closer) {
        if (ended) {
            closer.run();
            return () -> { };
        }
        closers.add(closer);
        if (ended && closers.remove(closer)) {
            closer.run();
        }
        return () -> closers.remove(closer);
    }

    public int open() {
        return closers.size();
    }

    /** Ends every stream registered, and from now on every new one at once. */
    public void closeAll() {
        ended = true;
        if (!closers.isEmpty()) {
            LOG.infof("shutting down: ending %d open event streams and WebSockets", closers.size());
        }
        for (Runnable closer : Set.copyOf(closers)) {
            closers.remove(closer);
            try {
                closer.run();
            } catch (RuntimeException e) {
                LOG.debug("stream already gone", e);
            }
        }
    }
}
