package org.jmapauthproxy.exchange;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.vertx.core.MultiMap;

/**
 * The request's spans (OpenTelemetry): one server span per request, and under it the token
 * verification, the session lookup and the origin exchange.
 *
 * <p>Spans are made here rather than by Quarkus's Vert.x instrumentation (switched off in
 * application.properties): that one records the query ({@code url.query}, {@code url.full}), which
 * the proxy keeps out of every record (queries can hold ids), and names the server span after a
 * route the catch-all route does not have. Parents are passed explicitly, never through the current
 * context, so that a span never depends on which Vert.x context a callback happens to run on.
 *
 * <p>With tracing off ({@link #OFF}, {@code quarkus.otel.sdk.disabled=true}, the default) every
 * span is {@link Span#getInvalid()}: no allocation, no trace id, nothing sent.
 *
 * <p>Attributes hold the method, the path without query, statuses and the outcome reason; never a
 * token, a cookie, a credential, a session id, and the user only when {@code authproxy.log.user} is on.
 */
public final class Tracing {

    /** Tracing off. */
    public static final Tracing OFF = new Tracing(OpenTelemetry.noop(), false, false);

    public static final String REQUEST = "jmap-auth-proxy request";
    public static final String TOKEN = "token.verify";
    public static final String LOOKUP = "session.lookup";
    public static final String ORIGIN = "origin";

    public static final AttributeKey<String> METHOD = AttributeKey.stringKey("http.request.method");
    public static final AttributeKey<String> PATH = AttributeKey.stringKey("url.path");
    public static final AttributeKey<Long> STATUS = AttributeKey.longKey("http.response.status_code");
    public static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("authproxy.outcome");
    public static final AttributeKey<String> USER = AttributeKey.stringKey("enduser.id");
    public static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
    public static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");

    private static final TextMapGetter<MultiMap> GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(MultiMap carrier) {
            return carrier.names();
        }

        @Override
        public String get(MultiMap carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };
    private static final TextMapSetter<MultiMap> SETTER = (carrier, key, value) -> {
        if (carrier != null) {
            carrier.set(key, value);
        }
    };

    private final Tracer tracer;
    private final TextMapPropagator propagator;
    private final boolean on;
    private final boolean withUser;

    /**
     * @param on       whether to make spans at all ({@code false}: {@link #OFF}'s behaviour)
     * @param withUser whether the token's {@code sub} may be recorded ({@code authproxy.log.user})
     */
    public Tracing(OpenTelemetry openTelemetry, boolean on, boolean withUser) {
        this.tracer = openTelemetry.getTracer("jmap-auth-proxy");
        this.propagator = openTelemetry.getPropagators().getTextMapPropagator();
        this.on = on;
        this.withUser = withUser;
    }

    public boolean on() {
        return on;
    }

    /**
     * The request's server span, continuing the client's trace when it sent a {@code traceparent}.
     *
     * @param path the path without query
     */
    public Span request(MultiMap headers, String method, String path) {
        if (!on) {
            return Span.getInvalid();
        }
        return tracer.spanBuilder(REQUEST)
                .setParent(propagator.extract(Context.root(), headers, GETTER))
                .setSpanKind(SpanKind.SERVER)
                .setAttribute(METHOD, method)
                .setAttribute(PATH, path)
                .startSpan();
    }

    /** A step of the request inside the proxy ({@link #TOKEN}, {@link #LOOKUP}). */
    public Span step(Span parent, String name) {
        if (!on || !parent.getSpanContext().isValid()) {
            return Span.getInvalid();
        }
        return tracer.spanBuilder(name).setParent(Context.root().with(parent)).setSpanKind(SpanKind.INTERNAL)
                .startSpan();
    }

    /** The origin exchange, a client span (its first byte is an event, its end the body's end). */
    public Span origin(Span parent, String method, String path, String host, int port) {
        if (!on || !parent.getSpanContext().isValid()) {
            return Span.getInvalid();
        }
        return tracer.spanBuilder(ORIGIN).setParent(Context.root().with(parent)).setSpanKind(SpanKind.CLIENT)
                .setAttribute(METHOD, method)
                .setAttribute(PATH, path)
                .setAttribute(SERVER_ADDRESS, host)
                .setAttribute(SERVER_PORT, (long) port)
                .startSpan();
    }

    /** Sets {@code traceparent} (W3C) of {@code span} on the origin request's headers. */
    public void inject(Span span, MultiMap headers) {
        if (span.getSpanContext().isValid()) {
            propagator.inject(Context.root().with(span), headers, SETTER);
        }
    }

    /** Records the user on the request span, when the operator allowed it. */
    public void user(Span span, String user) {
        if (withUser && user != null && span.isRecording()) {
            span.setAttribute(USER, user);
        }
    }

    /** Ends a step: {@code reason} is the refusal's label, or {@code null} when the step succeeded. */
    public static void endStep(Span span, String reason) {
        if (!span.getSpanContext().isValid()) {
            return;
        }
        if (reason != null) {
            span.setAttribute(OUTCOME, reason);
            span.setStatus(StatusCode.ERROR, reason);
        }
        span.end();
    }

    /** Ends the request span with its status and outcome ({@code proxied}, {@code aborted} or a reason). */
    public static void endRequest(Span span, int status, String outcome) {
        if (!span.getSpanContext().isValid()) {
            return;
        }
        span.setAttribute(STATUS, (long) status);
        span.setAttribute(OUTCOME, outcome);
        if (status >= 500 || "aborted".equals(outcome)) {
            span.setStatus(StatusCode.ERROR, outcome);
        }
        span.end();
    }

    /** The span's trace id (32 hex digits), or {@code null} when there is no trace. */
    public static String traceId(Span span) {
        return span.getSpanContext().isValid() ? span.getSpanContext().getTraceId() : null;
    }
}
