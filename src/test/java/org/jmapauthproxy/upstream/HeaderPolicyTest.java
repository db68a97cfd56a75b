package org.jmapauthproxy.upstream;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import io.vertx.core.MultiMap;
import io.vertx.core.http.impl.headers.HeadersAdaptor;
import org.jmapauthproxy.exchange.Forwarded;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

class HeaderPolicyTest {

    static final Forwarded HOP = new Forwarded("10.0.0.9", "https", "mail.example", false);

    static MultiMap toOrigin(String name, String value) {
        MultiMap in = MultiMap.caseInsensitiveMultiMap().add(name, value).add("Connection", "x-named");
        MultiMap out = MultiMap.caseInsensitiveMultiMap();
        HeaderPolicy.toOrigin(in, out, "Basic abc", "a=1", HOP, "rid-1");
        return out;
    }

    @ParameterizedTest
    @CsvSource({
            "Connection, close", "Keep-Alive, timeout=5", "Proxy-Authorization, Basic eDp5", "Proxy-Connection, keep-alive",
            "TE, trailers", "Trailer, X-Sum", "Transfer-Encoding, chunked", "Upgrade, h2c", "X-Named, named-in-connection",
            "Host, client.example", "Expect, 100-continue", "Forwarded, for=6.6.6.6"})
    void hopByHopAndReplacedHeadersDoNotReachTheOrigin(String name, String value) {
        assertNull(toOrigin(name, value).get(name), name);
    }

    @ParameterizedTest
    @CsvSource({"Accept, application/json", "Content-Type, application/json", "Content-Length, 12", "Last-Event-ID, 41",
            "Accept-Encoding, gzip", "User-Agent, webmail/1.0", "Origin, https://mail.example"})
    void endToEndHeadersReachTheOriginUnchanged(String name, String value) {
        assertEquals(value, toOrigin(name, value).get(name));
    }

    @Test
    void proxySetsCredentialCookieForwardingAndRequestId() {
        MultiMap in = MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer token").add("Cookie", "Authorization=token; a=1")
                .add("X-Forwarded-For", "6.6.6.6").add("X-Request-Id", "spoofed");
        MultiMap out = MultiMap.caseInsensitiveMultiMap();
        HeaderPolicy.toOrigin(in, out, "Basic abc", "a=1", HOP, "rid-1");
        assertEquals(List.of("Basic abc"), out.getAll("Authorization"));
        assertEquals(List.of("a=1"), out.getAll("Cookie"));
        assertEquals("10.0.0.9", out.get("X-Forwarded-For"));
        assertEquals("https", out.get("X-Forwarded-Proto"));
        assertEquals("mail.example", out.get("X-Forwarded-Host"));
        assertEquals(List.of("rid-1"), out.getAll("X-Request-Id"));
    }

    @ParameterizedTest
    @CsvSource({"Connection, Upgrade", "Upgrade, h2c", "Keep-Alive, timeout=5", "Alt-Svc, h2c=\":8008\"",
            "Transfer-Encoding, chunked", "Proxy-Authenticate, Basic", "X-Private, named"})
    void originHopHeadersDoNotReachTheClient(String name, String value) {
        MultiMap in = MultiMap.caseInsensitiveMultiMap().add(name, value).add("Connection", "X-Private").add("X-Kept", "1");
        MultiMap out = MultiMap.caseInsensitiveMultiMap();
        HeaderPolicy.toClient(in, out);
        assertNull(out.get(name), name);
        assertEquals("1", out.get("X-Kept"));
    }

    @Test
    void repeatedResponseHeadersStayRepeated() {
        MultiMap in = MultiMap.caseInsensitiveMultiMap().add("Set-Cookie", "a=1").add("Set-Cookie", "b=2").add("Vary", "Accept");
        MultiMap out = MultiMap.caseInsensitiveMultiMap();
        HeaderPolicy.toClient(in, out);
        assertEquals(List.of("a=1", "b=2"), out.getAll("Set-Cookie"));
    }

    @ParameterizedTest
    @CsvSource({"X-Real-IP, 6.6.6.6", "X-Forwarded-Port, 443", "X-Forwarded-Prefix, /admin", "X-Forwarded-Server, evil",
            "X-Original-URL, /admin", "X-Rewrite-URL, /admin", "Forwarded, for=6.6.6.6"})
    void clientForwardingClaimsReachTheOriginOnlyFromATrustedHop(String name, String value) {
        assertNull(toOrigin(name, value).get(name), name + " from an untrusted client");
        MultiMap in = MultiMap.caseInsensitiveMultiMap().add(name, value);
        MultiMap out = MultiMap.caseInsensitiveMultiMap();
        HeaderPolicy.toOrigin(in, out, "Basic abc", null,
                new Forwarded("10.0.0.9", "https", "mail.example", true), "rid-1");
        if (!name.equals("Forwarded")) {
            assertEquals(value, out.get(name), name + " from a trusted hop");
        }
    }

    @Test
    void everyHeaderNamedInConnectionListsStaysOnItsHop() {
        MultiMap in = MultiMap.caseInsensitiveMultiMap()
                .add("Connection", " keep-alive ,X-One,, close,\tx-two\t")
                .add("Connection", "X-Three")
                .add("X-One", "1").add("x-TWO", "2").add("X-Three", "3").add("X-Kept", "4").add("Close", "5");
        assertEquals(java.util.Set.of("X-One", "x-two", "X-Three"), HeaderPolicy.connectionTokens(in));
        MultiMap out = MultiMap.caseInsensitiveMultiMap();
        HeaderPolicy.toClient(in, out);
        assertEquals(java.util.Set.of("X-Kept", "Close"), java.util.Set.copyOf(out.names()));
    }

    @Test
    void aConnectionHeaderOfHopByHopTokensOnlyNamesNothing() {
        assertEquals(java.util.Set.of(), HeaderPolicy.connectionTokens(
                MultiMap.caseInsensitiveMultiMap().add("Connection", "Keep-Alive").add("Connection", "close, Upgrade")));
        assertEquals(java.util.Set.of(), HeaderPolicy.connectionTokens(MultiMap.caseInsensitiveMultiMap()));
    }

    /** Headers as Netty's decoder makes them: names as byte strings, values as strings. */
    static DefaultHttpHeaders decoded(String... namesAndValues) {
        DefaultHttpHeaders headers = new DefaultHttpHeaders();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            headers.add(new AsciiString(namesAndValues[i]), namesAndValues[i + 1]);
        }
        return headers;
    }

    /**
     * The origin's head as Netty decoded it gives the client what Vert.x's view of it does: the same
     * headers in the same order, repeated ones repeated, every hop header and every header named in
     * {@code Connection} left out.
     */
    @Test
    void theDecodedOriginHeadGivesWhatItsVertxViewGives() {
        DefaultHttpHeaders head = decoded("Content-Type", "application/json", "Set-Cookie", "a=1", "Connection", "X-Private, keep-alive",
                "X-Private", "p", "Keep-Alive", "timeout=5", "Set-Cookie", "b=2", "Alt-Svc", "h2c=\":8008\"", "Upgrade", "h2c",
                "Transfer-Encoding", "chunked", "Connection", "x-two", "X-TWO", "2", "Vary", "Accept", "Content-Length", "12");
        MultiMap fromNetty = MultiMap.caseInsensitiveMultiMap();
        HeaderPolicy.toClient(head, fromNetty);
        MultiMap fromVertx = MultiMap.caseInsensitiveMultiMap();
        HeaderPolicy.toClient(new HeadersAdaptor(head), fromVertx);
        assertEquals(fromVertx.entries().toString(), fromNetty.entries().toString());
        assertEquals("[Content-Type=application/json, Set-Cookie=a=1, Set-Cookie=b=2, Vary=Accept, Content-Length=12]",
                fromNetty.entries().toString());
    }

    /**
     * Names copied from a decoded head stay byte strings, which the HTTP encoder copies whole (a
     * {@code String} it writes character by character); what goes out is the same either way.
     */
    @Test
    void decodedNamesAreCopiedAsByteStringsBothWays() {
        MultiMap toClient = MultiMap.caseInsensitiveMultiMap();
        HeaderPolicy.toClient(decoded("Content-Type", "text/html", "ETag", "\"e1\""), toClient);
        MultiMap request = MultiMap.caseInsensitiveMultiMap();
        ((HttpHeaders) request).add(new AsciiString("Accept"), "application/json");
        ((HttpHeaders) request).add(new AsciiString("Connection"), "X-Gone");
        ((HttpHeaders) request).add(new AsciiString("x-gone"), "1");
        MultiMap toOrigin = MultiMap.caseInsensitiveMultiMap();
        HeaderPolicy.toOrigin(request, toOrigin, "Basic abc", null, HOP, "rid-1");
        for (MultiMap out : List.of(toClient, toOrigin)) {
            Iterator<java.util.Map.Entry<CharSequence, CharSequence>> entries = ((HttpHeaders) out).iteratorCharSequence();
            java.util.Map.Entry<CharSequence, CharSequence> first = entries.next();
            assertInstanceOf(AsciiString.class, first.getKey(), first.toString());
        }
        assertEquals("[Content-Type=text/html, ETag=\"e1\"]", toClient.entries().toString());
        assertEquals("application/json", toOrigin.get("accept"));
        assertNull(toOrigin.get("X-Gone"));
        assertNull(toOrigin.get("Connection"));
    }
}
