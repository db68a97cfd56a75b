package org.jmapauthproxy.route;

import io.vertx.core.MultiMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CorsHeadersTest {

    private final Cors cors = new Cors(List.of("https://app.example"), Duration.ofMinutes(10));

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''                                   | authorization, content-type",
            "authorization                        | authorization, content-type",
            "Content-Type, Authorization          | authorization, content-type",
            "depth, x-evil, if-match              | authorization, content-type, depth, if-match",
            "X-Request-Id,Last-Event-ID           | authorization, content-type, x-request-id, last-event-id",
            "cookie, host                         | authorization, content-type",
    })
    void preflightAllowsTheBaseHeadersAndTheRequestedOnesOnTheList(String requested, String expected) {
        assertEquals(expected, Cors.allowedHeaders(List.of(requested)));
    }

    @Test
    void actualResponseToAnAllowedOriginReplacesTheOriginsCorsHeaders() {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap()
                .add("Access-Control-Allow-Origin", "*")
                .add("access-control-expose-headers", "X-Origin-Only")
                .add("Vary", "Accept-Encoding")
                .add("Content-Type", "application/json");
        cors.actual("https://app.example", headers);
        assertEquals(List.of("https://app.example"), headers.getAll("Access-Control-Allow-Origin"));
        assertEquals("true", headers.get("Access-Control-Allow-Credentials"));
        assertTrue(headers.get("Access-Control-Expose-Headers").contains("X-Request-Id"));
        assertFalse(headers.get("Access-Control-Expose-Headers").contains("X-Origin-Only"));
        assertEquals(List.of("Accept-Encoding", "Origin"), headers.getAll("Vary"));
        assertEquals("application/json", headers.get("Content-Type"));
    }

    @Test
    void aDisallowedOriginGetsNoCorsHeaderAtAllButVaryOrigin() {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap()
                .add("Access-Control-Allow-Origin", "*").add("Vary", "origin");
        cors.actual(null, headers);
        assertNull(headers.get("Access-Control-Allow-Origin"));
        assertNull(headers.get("Access-Control-Allow-Credentials"));
        assertEquals(List.of("origin"), headers.getAll("Vary"), "Vary: Origin once, whatever its case");
    }
}
