package org.jmapauthproxy.support;

import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * The SDK's in-memory span exporter as a CDI bean, which Quarkus's OpenTelemetry picks up as an
 * exporter. It only receives spans in tests whose profile switches the SDK on
 * ({@code quarkus.otel.sdk.disabled=false}); elsewhere tracing is off and it stays empty.
 */
@ApplicationScoped
public class InMemorySpans {

    @Produces
    @Singleton
    InMemorySpanExporter exporter() {
        return InMemorySpanExporter.create();
    }
}
