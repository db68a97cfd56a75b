package org.jmapauthproxy.route;

import io.quarkus.runtime.annotations.RegisterForReflection;
import io.quarkus.vertx.http.runtime.filters.QuarkusRequestWrapper;
import io.vertx.core.http.HttpServerRequest;
import org.jboss.logging.Logger;

import java.lang.reflect.Method;

/**
 * Tells Quarkus that an upgraded (WebSocket) request is over.
 *
 * <p>Quarkus's graceful shutdown counts a request as in flight until its HTTP response ends or its
 * connection closes. After an upgrade to WebSocket neither happens to the HTTP exchange (Vert.x
 * hands the connection to the WebSocket), so every WebSocket that ever passed would hold each later
 * shutdown for the whole {@code quarkus.shutdown.timeout}. The wrapper's completion method is not
 * public; it is idempotent, so calling it when the socket closes is safe.
 */
@RegisterForReflection(targets = QuarkusRequestWrapper.class, methods = true)
public final class UpgradedRequests {

    private static final Logger LOG = Logger.getLogger(UpgradedRequests.class);
    private static final Method DONE = lookup();

    private UpgradedRequests() {
    }

    private static Method lookup() {
        try {
            Method done = QuarkusRequestWrapper.class.getDeclaredMethod("done");
            done.setAccessible(true);
            return done;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("cannot reach Quarkus's request completion; WebSockets will delay shutdown to its timeout");
            return null;
        }
    }

    /** Marks the upgraded request as finished for Quarkus's in-flight request count. */
    public static void finished(HttpServerRequest request) {
        QuarkusRequestWrapper wrapper = QuarkusRequestWrapper.get(request);
        if (DONE == null || wrapper == null) {
            return;
        }
        try {
            DONE.invoke(wrapper);
        } catch (ReflectiveOperationException e) {
            LOG.debug("request completion failed", e);
        }
    }
}
