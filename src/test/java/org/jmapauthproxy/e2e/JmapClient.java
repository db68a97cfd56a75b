package org.jmapauthproxy.e2e;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a browser JMAP client does, over HTTP/1.1 and only through the proxy: discovers the session
 * from {@code /.well-known/jmap}, then uses nothing but the URLs the session gives it. Every response
 * is checked for headers that belong to Cyrus's own hop.
 */
final class JmapClient {

    static final String CORE = "urn:ietf:params:jmap:core";
    static final String MAIL = "urn:ietf:params:jmap:mail";

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();
    private final String proxyBase;
    private final String token;
    private JsonObject session;

    /**
     * @param proxyBase {@code http://host:port} of the proxy, without a trailing slash
     * @param token     the session token sent as {@code Authorization: Bearer}, or null to send none
     */
    JmapClient(String proxyBase, String token) {
        this.proxyBase = proxyBase;
        this.token = token;
    }

    String proxyBase() {
        return proxyBase;
    }

    /** The session token, for tests that speak raw HTTP; never printed. */
    String token() {
        return token;
    }

    /** Sends with the session token (if any) and checks that no Cyrus hop header came along. */
    HttpResponse<byte[]> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<byte[]> response = http.send(request.timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertNoOriginHopHeaders(response);
        return response;
    }

    HttpResponse<byte[]> get(String url, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).GET();
        if (headers.length > 0) {
            request.headers(headers);
        }
        return send(request);
    }

    /**
     * Cyrus answers every HTTP/1.1 request with {@code Connection: Upgrade}, {@code Upgrade: h2c} and
     * {@code Alt-Svc: h2c=":port"}: offers for its own port that a client of the proxy must never act on.
     */
    static void assertNoOriginHopHeaders(HttpResponse<?> response) {
        String where = response.request().method() + " " + response.uri() + " -> " + response.statusCode();
        assertTrue(response.headers().firstValue("Upgrade").isEmpty(), "Upgrade reached the client: " + where);
        assertTrue(response.headers().firstValue("Alt-Svc").isEmpty(), "Alt-Svc reached the client: " + where);
        for (String connection : response.headers().allValues("Connection")) {
            assertFalse(connection.toLowerCase(Locale.ROOT).contains("upgrade"), "Connection: Upgrade reached the client: " + where);
        }
    }

    /**
     * RFC 8620 §2.2: {@code /.well-known/jmap} redirects to the session resource. The redirect must
     * point at the proxy (Cyrus builds it from its own host and port); the client follows it.
     */
    JsonObject discover() throws IOException, InterruptedException {
        HttpResponse<byte[]> redirect = get(proxyBase + "/.well-known/jmap");
        assertTrue(redirect.statusCode() == 301 || redirect.statusCode() == 302 || redirect.statusCode() == 307
                || redirect.statusCode() == 308, "well-known answered " + redirect.statusCode());
        String location = redirect.headers().firstValue("Location").orElse(null);
        assertNotNull(location, "redirect without Location");
        assertEquals(proxyBase + "/jmap", location, "the redirect must lead to the proxy, not to Cyrus");
        HttpResponse<byte[]> response = get(location, "Accept", "application/json");
        assertEquals(200, response.statusCode(), text(response));
        session = new JsonObject(text(response));
        return session;
    }

    JsonObject session() {
        assertNotNull(session, "discover() first");
        return session;
    }

    /** The user's primary mail account (RFC 8621 §1.6.1). */
    String mailAccount() {
        return session().getJsonObject("primaryAccounts").getString(MAIL);
    }

    /** POSTs a JMAP request to the session's {@code apiUrl} and returns the parsed response. */
    JsonObject call(JsonArray methodCalls) throws IOException, InterruptedException {
        JsonObject body = new JsonObject().put("using", new JsonArray().add(CORE).add(MAIL)).put("methodCalls", methodCalls);
        HttpResponse<byte[]> response = send(HttpRequest.newBuilder(URI.create(session().getString("apiUrl")))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.encode())));
        assertEquals(200, response.statusCode(), text(response));
        return new JsonObject(text(response));
    }

    /** The arguments of the one method response named {@code name} with call id {@code callId}. */
    static JsonObject result(JsonObject response, String name, String callId) {
        for (Object entry : response.getJsonArray("methodResponses")) {
            JsonArray invocation = (JsonArray) entry;
            if (callId.equals(invocation.getString(2))) {
                assertEquals(name, invocation.getString(0), "method error: " + invocation.encode());
                return invocation.getJsonObject(1);
            }
        }
        throw new AssertionError("no response for call " + callId + " in " + response.encode());
    }

    static JsonArray invocation(String name, JsonObject arguments, String callId) {
        return new JsonArray().add(name).add(arguments).add(callId);
    }

    /** Uploads through the session's {@code uploadUrl} template (RFC 8620 §6.1). */
    HttpResponse<byte[]> upload(String accountId, byte[] body, String type) throws IOException, InterruptedException {
        String url = expand(session().getString("uploadUrl"), Map.of("accountId", accountId));
        return send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", type)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    /** As {@link #upload}, but with no length known in advance: the body goes out chunked. */
    HttpResponse<byte[]> uploadChunked(String accountId, byte[] body, String type) throws IOException, InterruptedException {
        String url = expand(session().getString("uploadUrl"), Map.of("accountId", accountId));
        return send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", type)
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))));
    }

    /** Downloads through the session's {@code downloadUrl} template (RFC 8620 §6.2). */
    HttpResponse<byte[]> download(String accountId, String blobId, String name, String type)
            throws IOException, InterruptedException {
        String url = expand(session().getString("downloadUrl"),
                Map.of("accountId", accountId, "blobId", blobId, "name", name, "type", type));
        return get(url);
    }

    /** RFC 6570 level 1 (simple string expansion), all the JMAP URL templates use. */
    static String expand(String template, Map<String, String> values) {
        String url = template;
        for (Map.Entry<String, String> value : values.entrySet()) {
            url = url.replace("{" + value.getKey() + "}",
                    URLEncoder.encode(value.getValue(), StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return url;
    }

    static String text(HttpResponse<byte[]> response) {
        return new String(response.body(), StandardCharsets.UTF_8);
    }
}
