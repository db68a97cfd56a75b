package org.jmapauthproxy.ops;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The trace id in both layouts of the access line, and no trace field at all without one; the bytes
 * written are UTF-8 whatever a path or a user name holds, and lines survive the reuse of the buffers.
 */
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

    @Test
    void encodedBytesAreThoseOfTheJdkForAnyTextAndAnyPieceSize() throws Exception {
        Random random = new Random(20261207);
        // Characters from every UTF-8 length, and surrogates alone, in pairs and in the wrong order.
        char[] alphabet = {'a', '/', '\n', '\u007f', '\u00e9', '\u07ff', '\u0800', '\u5c71', '\uffff',
                '\ud83d', '\ude00', '\udbff', '\udfff', '\ud800', '\udc00'};
        for (int round = 0; round < 20_000; round++) {
            StringBuilder text = new StringBuilder();
            int length = random.nextInt(40);
            for (int i = 0; i < length; i++) {
                text.append(alphabet[random.nextInt(alphabet.length)]);
            }
            int chunk = 2 + random.nextInt(9);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            AccessLog.writeUtf8(out, text, new byte[3 * chunk], chunk);
            assertArrayEquals(text.toString().getBytes(StandardCharsets.UTF_8), out.toByteArray(),
                    "text " + text.codePoints().mapToObj(Integer::toHexString).toList() + ", pieces of " + chunk);
        }
    }

    @Test
    void linesLongerThanOnePieceAndManyBatchesArriveWholeAndInOrder() {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        String longPath = "/dav/" + "\u5c71\ud83d\ude00x".repeat(AccessLog.CHUNK / 2);
        try (AccessLog log = new AccessLog(false, 60_000, 1 << 22)) {
            for (int batch = 0; batch < 3; batch++) {
                for (int i = 0; i < 500; i++) {
                    log.request("GET", batch == 1 && i == 7 ? longPath : "/jmap/" + i, 200, 0, 0, "proxied",
                            "b" + batch + "r" + i, null, "Zo\u00eb");
                }
                log.flush();
            }
        } finally {
            System.setOut(original);
        }
        List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(1500, lines.size());
        for (int batch = 0; batch < 3; batch++) {
            for (int i = 0; i < 500; i++) {
                String line = lines.get(batch * 500 + i);
                assertTrue(line.contains(" INFO  [authproxy.access] GET " + (batch == 1 && i == 7 ? longPath : "/jmap/" + i)
                        + " status=200 "), line.length() > 200 ? line.substring(0, 200) : line);
                assertTrue(line.endsWith(" request_id=b" + batch + "r" + i + " user=Zo\u00eb"), line);
            }
        }
    }
}
