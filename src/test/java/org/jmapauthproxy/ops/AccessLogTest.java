package org.jmapauthproxy.ops;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The trace id in both layouts of the access line, and no trace field at all without one. */
class AccessLogTest {

    static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

    @Test
    void jsonLineHasTheTraceIdAsAFieldOnlyWhenThereIsOne() {
        List<String> lines = written(true);
        JsonObject traced = new JsonObject(lines.get(0));
        assertEquals(TRACE, traced.getString("traceId"));
        assertEquals("r1", traced.getString("requestId"));
        assertTrue(traced.getString("message").endsWith("request_id=r1 trace_id=" + TRACE), traced.getString("message"));
        JsonObject untraced = new JsonObject(lines.get(1));
        assertFalse(untraced.containsKey("traceId"), lines.get(1));
        assertTrue(untraced.getString("message").endsWith("request_id=r2"), untraced.getString("message"));
    }

    @Test
    void textLineHasTheTraceIdAfterTheRequestIdOnlyWhenThereIsOne() {
        List<String> lines = written(false);
        assertTrue(lines.get(0).endsWith("outcome=proxied request_id=r1 trace_id=" + TRACE), lines.get(0));
        assertTrue(lines.get(1).endsWith("outcome=no_token request_id=r2"), lines.get(1));
    }

    private static List<String> written(boolean json) {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try (AccessLog log = new AccessLog(json, 60_000, 1 << 20)) {
            log.request("GET", "/jmap/", 200, 2_100_000, 10, "proxied", "r1", TRACE, null);
            log.request("GET", "/jmap/", 401, 100_000, 10, "no_token", "r2", null, null);
            log.flush();
        } finally {
            System.setOut(original);
        }
        List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(2, lines.size(), String.join("\n", lines));
        return lines;
    }
}
