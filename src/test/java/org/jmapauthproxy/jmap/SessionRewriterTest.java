package org.jmapauthproxy.jmap;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    @Test
    void rewrittenDocumentsAreRememberedByExactBytesCodingAndBase() throws Exception {
        SessionRewriter rewriter = new SessionRewriter(new PublicBase(Optional.empty(), false), new JmapLimits());
        byte[] alice = "{\"apiUrl\":\"/jmap/\",\"username\":\"alice\"}".getBytes(StandardCharsets.UTF_8);
        byte[] bob = "{\"apiUrl\":\"/jmap/\",\"username\":\"bob\"}".getBytes(StandardCharsets.UTF_8);
        byte[] first = rewriter.rewritten(alice.clone(), "identity", "https://a.example").body();
        assertEquals("https://a.example/jmap/", new JsonObject(new String(first, StandardCharsets.UTF_8)).getString("apiUrl"));
        assertSame(first, rewriter.rewritten(alice.clone(), "identity", "https://a.example").body(), "same input: remembered");
        JsonObject other = new JsonObject(new String(rewriter.rewritten(bob, "identity", "https://a.example").body(), StandardCharsets.UTF_8));
        assertEquals("bob", other.getString("username"), "another document is never answered from the memo");
        JsonObject rebased = new JsonObject(new String(rewriter.rewritten(alice, "identity", "http://b.example:8080").body(),
                StandardCharsets.UTF_8));
        assertEquals("http://b.example:8080/jmap/", rebased.getString("apiUrl"), "another base is another entry");
        byte[] gzipped = SessionRewriter.encode(alice, "gzip");
        byte[] gzipOut = rewriter.rewritten(gzipped, "gzip", "https://a.example").body();
        assertEquals("https://a.example/jmap/", new JsonObject(new String(SessionRewriter.decode(gzipOut, "gzip"),
                StandardCharsets.UTF_8)).getString("apiUrl"), "the coding is part of the key");
    }

    @Test
    void aLongBaseIsNotRemembered() throws Exception {
        SessionRewriter rewriter = new SessionRewriter(new PublicBase(Optional.empty(), false), new JmapLimits());
        String base = "https://" + "h".repeat(SessionRewriter.MEMO_MAX_BASE) + ".example";
        byte[] doc = "{\"apiUrl\":\"/jmap/\"}".getBytes(StandardCharsets.UTF_8);
        byte[] first = rewriter.rewritten(doc, "identity", base).body();
        assertEquals(base + "/jmap/", new JsonObject(new String(first, StandardCharsets.UTF_8)).getString("apiUrl"));
        assertEquals(0, rewriter.memoSize(), "a Host-derived base of any length must not fill the memo");
    }

    @Test
    void theMemoStaysBounded() throws Exception {
        SessionRewriter rewriter = new SessionRewriter(new PublicBase(Optional.empty(), false), new JmapLimits());
        for (int i = 0; i < SessionRewriter.MEMO_ENTRIES * 3; i++) {
            rewriter.rewritten(("{\"apiUrl\":\"/jmap/\",\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8), "identity",
                    "https://a.example");
            assertTrue(rewriter.memoSize() <= SessionRewriter.MEMO_ENTRIES);
        }
    }

    @Test
    void largeDocumentsAreHeldToTheMemoByteBound() throws Exception {
        SessionRewriter rewriter = new SessionRewriter(new PublicBase(Optional.empty(), false), new JmapLimits());
        String padding = "x".repeat(SessionRewriter.MEMO_MAX_BYTES - 100);
        int remembered = 0;
        for (int i = 0; i < 300; i++) {
            byte[] doc = ("{\"apiUrl\":\"/jmap/\",\"n\":" + i + ",\"p\":\"" + padding + "\"}").getBytes(StandardCharsets.UTF_8);
            rewriter.rewritten(doc, "identity", "https://a.example");
            remembered = Math.max(remembered, (int) rewriter.memoSize());
        }
        // Each entry holds the origin's document and the rewritten one: twice MEMO_MAX_BYTES, roughly.
        assertTrue(remembered > 0, "nothing remembered");
        assertTrue(remembered <= SessionRewriter.MEMO_MAX_TOTAL / (2L * padding.length()), "documents remembered: " + remembered);
    }
}
