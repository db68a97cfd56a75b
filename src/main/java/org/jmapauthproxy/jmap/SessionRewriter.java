package org.jmapauthproxy.jmap;

import com.github.benmanes.caffeine.cache.Cache;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import org.jmapauthproxy.exchange.Exchange;
import org.jmapauthproxy.exchange.BoundedCache;
import org.jmapauthproxy.exchange.ProxyFailure.Reason;
import org.jmapauthproxy.exchange.ProxyFailure;
import org.jmapauthproxy.exchange.ResponseInterceptor;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.CRC32C;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.InflaterInputStream;

/**
 * Makes the JMAP session document (RFC 8620 §2) usable through the proxy.
 *
 * <p>Cyrus 3.6 emits {@code apiUrl}, {@code downloadUrl}, {@code uploadUrl} and
 * {@code eventSourceUrl} as host-relative paths and the WebSocket URL (RFC 8887) as
 * {@code wss:/jmap/ws/}; browser-style clients reject both. They are rebased onto the proxy's public
 * URL, leaving RFC 6570 template braces untouched. Cyrus gzips the document for clients that ask,
 * so it is decoded, rewritten and encoded again with a correct length.
 */
public final class SessionRewriter implements ResponseInterceptor {

    /** Session documents are a few KiB; anything far larger is not one and is refused, not buffered. */
    static final int MAX_SESSION_BYTES = 1 << 20;

    private static final String WEBSOCKET_CAPABILITY = "urn:ietf:params:jmap:websocket";
    private static final String[] URL_PROPERTIES = {"apiUrl", "downloadUrl", "uploadUrl", "eventSourceUrl"};

    /** Documents up to this size have their rewritten form remembered. */
    static final int MEMO_MAX_BYTES = 16 * 1024;
    /** Rewritten documents remembered at most (some 2 KiB each for Cyrus). */
    static final int MEMO_ENTRIES = 1024;
    /** Bytes (keys and values) the memo may hold. */
    static final long MEMO_MAX_TOTAL = 4L * 1024 * 1024;
    /**
     * Bases longer than this are not remembered: without {@code authproxy.public-url} the base comes
     * from the client's {@code Host}, and a client varying a long one must not fill the heap.
     */
    static final int MEMO_MAX_BASE = 256;

    private final PublicBase publicBase;
    private final JmapLimits limits;
    private final Cache<Original, Rewritten> memo = BoundedCache.builder(MEMO_ENTRIES, MEMO_MAX_TOTAL,
            (Original original, Rewritten rewritten) -> original.bytes() + rewritten.body().length).build();

    /** @param limits where the limits each user's session advertises are recorded */
    public SessionRewriter(PublicBase publicBase, JmapLimits limits) {
        this.publicBase = publicBase;
        this.limits = limits;
    }

    /** A document as the client gets it, and the limits it advertises ({@code null}: none). */
    record Rewritten(byte[] body, JmapLimits.Limits limits) {
    }

    static boolean isSessionRequest(HttpServerRequest request) {
        String path = request.path();
        return request.method() == HttpMethod.GET && ("/jmap".equals(path) || "/jmap/".equals(path));
    }

    /**
     * Browsers offer {@code br} and {@code zstd}, which Cyrus then uses for the session document and
     * the proxy cannot decode to rewrite. Only the codings the proxy can re-encode are offered.
     */
    @Override
    public void outgoing(HttpServerRequest clientRequest, MultiMap originHeaders) {
        if (!isSessionRequest(clientRequest)) {
            return;
        }
        String offered = originHeaders.get(HttpHeaders.ACCEPT_ENCODING);
        if (offered == null) {
            return;
        }
        StringBuilder kept = new StringBuilder();
        for (String coding : offered.split(",")) {
            String name = coding.split(";")[0].trim().toLowerCase(Locale.ROOT);
            if (name.equals("gzip") || name.equals("x-gzip") || name.equals("deflate") || name.equals("identity")) {
                if (!kept.isEmpty()) {
                    kept.append(", ");
                }
                kept.append(coding.trim());
            }
        }
        if (kept.isEmpty()) {
            originHeaders.remove(HttpHeaders.ACCEPT_ENCODING);
        } else {
            originHeaders.set(HttpHeaders.ACCEPT_ENCODING, kept.toString());
        }
    }

    @Override
    public boolean takesOver(Exchange ctx, HttpClientResponse origin) {
        if (!isSessionRequest(ctx.request()) || origin.statusCode() != 200) {
            return false;
        }
        String type = origin.getHeader(HttpHeaders.CONTENT_TYPE);
        return type != null && type.toLowerCase(Locale.ROOT).startsWith("application/json")
                && encoding(origin) != null;
    }

    @Override
    public void takeOver(Exchange ctx, HttpClientResponse origin) {
        String length = origin.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length != null && parseLength(length) > MAX_SESSION_BYTES) {
            origin.request().reset();
            ctx.fail(new ProxyFailure(Reason.ORIGIN_UNREACHABLE, "session document too large"));
            return;
        }
        Buffer body = Buffer.buffer();
        origin.handler(chunk -> {
            if (body.length() + chunk.length() > MAX_SESSION_BYTES) {
                origin.request().reset();
                return;
            }
            body.appendBuffer(chunk);
        });
        origin.exceptionHandler(e -> ctx.fail(new ProxyFailure(Reason.ORIGIN_UNREACHABLE, "session read failed")));
        origin.endHandler(v -> {
            try {
                send(ctx, origin, body);
            } catch (IOException | RuntimeException e) {
                ctx.fail(new ProxyFailure(Reason.ORIGIN_UNREACHABLE, "session document unreadable"));
            }
        });
    }

    private void send(Exchange ctx, HttpClientResponse origin, Buffer body) throws IOException {
        Rewritten rewritten = rewritten(body.getBytes(), encoding(origin), publicBase.of(ctx.request()));
        limits.learn(ctx.state().account(), rewritten.limits());
        byte[] out = rewritten.body();
        HttpServerResponse response = ctx.response();
        response.headers().remove(HttpHeaders.ETAG).remove(HttpHeaders.CONTENT_LENGTH);
        // RFC 8620 §2: the session can change at any time; never let a cache answer for the origin.
        response.putHeader(HttpHeaders.CACHE_CONTROL, "no-cache, no-store, must-revalidate");
        response.end(Buffer.buffer(out));
    }

    /**
     * The document as the client gets it, with the limits it advertises. The result depends on nothing but the origin's bytes, their
     * coding and the public base, so it is remembered for small documents: a client fetching its
     * unchanged session again costs a comparison instead of a JSON parse and serialisation (and a
     * gzip round trip). A changed document is a different key. The memo is a {@link BoundedCache}
     * of {@link #MEMO_ENTRIES} documents and {@link #MEMO_MAX_TOTAL} bytes (each entry weighs the
     * origin's bytes, the base and the rewritten bytes, but at least {@code MEMO_MAX_TOTAL /
     * MEMO_ENTRIES}, under a total weight of {@code MEMO_MAX_TOTAL}), evicted by use and size only: an
     * entry never goes stale, since its key is the whole input. It holds nothing that the session
     * document itself does not (no token, no credential).
     */
    Rewritten rewritten(byte[] body, String encoding, String base) throws IOException {
        Original key = body.length <= MEMO_MAX_BYTES && base.length() <= MEMO_MAX_BASE
                ? new Original(base, encoding, body) : null;
        Rewritten out = key == null ? null : memo.getIfPresent(key);
        if (out != null) {
            return out;
        }
        JsonObject session = new JsonObject(Buffer.buffer(decode(body, encoding)));
        JmapLimits.Limits advertised = JmapLimits.Limits.of(session);
        rebase(session, base);
        out = new Rewritten(encode(session.toBuffer().getBytes(), encoding), advertised);
        if (key != null) {
            memo.put(key, out);
        }
        return out;
    }

    long memoSize() {
        return memo.estimatedSize();
    }

    /** What a rewritten document is remembered by: the origin's exact bytes, their coding and the base. */
    private static final class Original {
        private final String base;
        private final String encoding;
        private final byte[] body;
        private final int hash;

        Original(String base, String encoding, byte[] body) {
            this.base = base;
            this.encoding = encoding;
            this.body = body;
            // CRC32C runs on the processor's CRC instruction; Arrays.hashCode is a multiply per
            // byte in a chain, which on JDK 17 was about 5 % of a GET /jmap/'s CPU (JFR).
            CRC32C crc = new CRC32C();
            crc.update(body);
            this.hash = (base.hashCode() * 31 + encoding.hashCode()) * 31 + (int) crc.getValue();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Original other && hash == other.hash && base.equals(other.base)
                    && encoding.equals(other.encoding) && Arrays.equals(body, other.body);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        long bytes() {
            return BoundedCache.bytes(base) + BoundedCache.bytes(encoding) + body.length;
        }
    }

    /** Rebases the session's URLs onto {@code base} ({@code scheme://host[:port]}). */
    static void rebase(JsonObject session, String base) {
        for (String property : URL_PROPERTIES) {
            Object value = session.getValue(property);
            if (value instanceof String url) {
                session.put(property, base + pathOf(url));
            }
        }
        JsonObject capabilities = session.getJsonObject("capabilities");
        JsonObject webSocket = capabilities == null ? null : capabilities.getJsonObject(WEBSOCKET_CAPABILITY);
        if (webSocket != null && webSocket.getValue("url") instanceof String url) {
            webSocket.put("url", PublicBase.webSocketBase(base) + pathOf(url));
        }
    }

    /**
     * The path (with query) of a URL as Cyrus writes them: {@code /jmap/...}, {@code wss:/jmap/ws/}
     * (scheme without authority) or an absolute URL. Template braces are kept as they are.
     */
    static String pathOf(String url) {
        if (url.startsWith("/") && !url.startsWith("//")) {
            return url;
        }
        int colon = url.indexOf(':');
        if (colon > 0 && url.regionMatches(colon, "://", 0, 3)) {
            int slash = url.indexOf('/', colon + 3);
            return slash < 0 ? "/" : url.substring(slash);
        }
        if (colon > 0 && url.startsWith("/", colon + 1)) {
            return url.substring(colon + 1);
        }
        if (url.startsWith("//")) {
            int slash = url.indexOf('/', 2);
            return slash < 0 ? "/" : url.substring(slash);
        }
        return "/" + url;
    }

    /** The content coding, normalised; {@code null} for codings the proxy cannot rewrite (e.g. br). */
    static String encoding(HttpClientResponse origin) {
        String value = origin.getHeader(HttpHeaders.CONTENT_ENCODING);
        if (value == null || value.isBlank()) {
            return "identity";
        }
        String coding = value.trim().toLowerCase(Locale.ROOT);
        return switch (coding) {
            case "identity", "gzip", "x-gzip", "deflate" -> coding;
            default -> null;
        };
    }

    static byte[] decode(byte[] body, String encoding) throws IOException {
        InputStream in = switch (encoding) {
            case "gzip", "x-gzip" -> new GZIPInputStream(new ByteArrayInputStream(body));
            case "deflate" -> new InflaterInputStream(new ByteArrayInputStream(body));
            default -> null;
        };
        if (in == null) {
            return body;
        }
        try (in) {
            byte[] out = in.readNBytes(MAX_SESSION_BYTES + 1);
            if (out.length > MAX_SESSION_BYTES) {
                throw new IOException("session document too large");
            }
            return out;
        }
    }

    static byte[] encode(byte[] body, String encoding) throws IOException {
        if ("identity".equals(encoding)) {
            return body;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(body.length / 2 + 64);
        try (OutputStream out = "deflate".equals(encoding) ? new DeflaterOutputStream(bytes) : new GZIPOutputStream(bytes)) {
            out.write(body);
        }
        return bytes.toByteArray();
    }

    private static long parseLength(String length) {
        try {
            return Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }
}
