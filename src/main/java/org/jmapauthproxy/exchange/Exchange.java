package org.jmapauthproxy.exchange;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One client exchange on the proxy port: the request, its response, its {@link RequestState}, and
 * what runs when the response head is written, when the client's connection closes, when the
 * exchange ends, or when it fails.
 *
 * <p>This is all the proxy used of Vert.x Web's routing context, which it had around a single
 * catch-all route: a router per request meant a context, a request wrapper, a body holder, a data
 * map and handler lists on every request, and a route iteration, for nothing the proxy needed.
 *
 * <p>Handlers run on the exchange's event loop. As with the routing context, the head and end
 * handlers run in the reverse order of their registration, so the first one registered runs last.
 */
public final class Exchange {

    private static final Logger LOG = Logger.getLogger(Exchange.class);

    private final HttpServerRequest request;
    private final HttpServerResponse response;
    private final RequestState state;
    private final Handler<Exchange> failureHandler;
    private List<Runnable> headHandlers;
    private List<Runnable> closeHandlers;
    private List<Runnable> endHandlers;
    private boolean ended;
    private boolean closed;
    private Throwable failure;

    /**
     * Takes the response's head, end, exception and close handlers for itself: other code registers
     * with {@link #onHeadersEnd}, {@link #onClose} and {@link #onEnd} instead.
     *
     * @param failureHandler answers a failed exchange (see {@link #fail}); it may be called more than once
     */
    public Exchange(HttpServerRequest request, RequestState state, Handler<Exchange> failureHandler) {
        this.request = request;
        this.response = request.response();
        this.state = Objects.requireNonNull(state);
        this.failureHandler = failureHandler;
        response.headersEndHandler(v -> runReversed(headHandlers));
        response.endHandler(v -> end());
        response.exceptionHandler(e -> end());
        response.closeHandler(v -> closed());
    }

    public HttpServerRequest request() {
        return request;
    }

    public HttpServerResponse response() {
        return response;
    }

    public RequestState state() {
        return state;
    }

    /** Runs just before the response head is written, whoever writes it. */
    public void onHeadersEnd(Runnable handler) {
        headHandlers = add(headHandlers, handler);
    }

    /**
     * Runs once, when the client's connection closes while Vert.x still tracks the exchange (the
     * response, or the request's body, unfinished), or when the exchange is {@link #cut}; at once
     * when that has happened already.
     */
    public void onClose(Runnable handler) {
        if (closed) {
            handler.run();
        } else {
            closeHandlers = add(closeHandlers, handler);
        }
    }

    /**
     * Runs once, when the response has ended or the exchange was cut before that; at once when that
     * has happened already.
     */
    public void onEnd(Runnable handler) {
        if (ended) {
            handler.run();
        } else {
            endHandlers = add(endHandlers, handler);
        }
    }

    /**
     * Resets the response, which closes the client's connection: the only honest end of a response
     * whose head is out but whose body cannot be completed. Vert.x reports nothing for a response it
     * was told to reset, so the close and end handlers run here.
     */
    public void cut() {
        response.reset();
        closed();
    }

    /**
     * Hands the exchange to the failure handler, which answers with a problem document when it still
     * can. Should the failure handler itself fail, the exchange is cut.
     */
    public void fail(Throwable cause) {
        failure = cause != null ? cause : new IllegalStateException("failed without a cause");
        try {
            failureHandler.handle(this);
        } catch (RuntimeException unexpected) {
            LOG.error("answering a failed exchange failed; closing its connection", unexpected);
            cut();
        }
    }

    /** What the exchange last failed with; {@code null} while it has not. */
    public Throwable failure() {
        return failure;
    }

    private void closed() {
        if (!closed) {
            closed = true;
            runReversed(closeHandlers);
        }
        end();
    }

    private void end() {
        if (!ended) {
            ended = true;
            runReversed(endHandlers);
        }
    }

    private static List<Runnable> add(List<Runnable> handlers, Runnable handler) {
        List<Runnable> list = handlers == null ? new ArrayList<>(4) : handlers;
        list.add(handler);
        return list;
    }

    private static void runReversed(List<Runnable> handlers) {
        if (handlers != null) {
            for (int i = handlers.size() - 1; i >= 0; i--) {
                handlers.get(i).run();
            }
        }
    }
}
