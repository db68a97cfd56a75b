package org.jmapauthproxy.upstream;

import io.vertx.core.MultiMap;
import org.jmapauthproxy.exchange.Forwarded;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
