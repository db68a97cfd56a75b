package org.jmapauthproxy.jmap;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class SessionRewriterTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "/jmap/|/jmap/",
            "wss:/jmap/ws/|/jmap/ws/",
            "http://cyrus.internal:8008/jmap/upload/{accountId}/|/jmap/upload/{accountId}/",
            "https://cyrus|/",
            "//cyrus/jmap/|/jmap/",
            "/jmap/download/{accountId}/{blobId}/{name}?accept={type}|/jmap/download/{accountId}/{blobId}/{name}?accept={type}"})
    void pathOfEveryFormCyrusWrites(String url, String path) {
        assertEquals(path, SessionRewriter.pathOf(url));
    }

    @Test
    void rebaseTurnsEveryUrlAbsoluteAndTheWebSocketUrlIntoWss() {
        JsonObject session = new JsonObject()
                .put("apiUrl", "/jmap/")
                .put("eventSourceUrl", "/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}")
                .put("capabilities", new JsonObject().put("urn:ietf:params:jmap:websocket", new JsonObject().put("url", "wss:/jmap/ws/")));
        SessionRewriter.rebase(session, "https://mail.example");
        assertEquals("https://mail.example/jmap/", session.getString("apiUrl"));
        assertEquals("https://mail.example/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}",
                session.getString("eventSourceUrl"));
        assertEquals("wss://mail.example/jmap/ws/",
                session.getJsonObject("capabilities").getJsonObject("urn:ietf:params:jmap:websocket").getString("url"));
        SessionRewriter.rebase(session, "http://127.0.0.1:8080");
        assertEquals("ws://127.0.0.1:8080/jmap/ws/",
                session.getJsonObject("capabilities").getJsonObject("urn:ietf:params:jmap:websocket").getString("url"));
    }

    @ParameterizedTest
    @CsvSource({"gzip", "deflate", "identity"})
    void codingsRoundTrip(String coding) throws Exception {
        byte[] body = "{\"apiUrl\":\"/jmap/\"}".repeat(50).getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(body, SessionRewriter.decode(SessionRewriter.encode(body, coding), coding));
    }
}
