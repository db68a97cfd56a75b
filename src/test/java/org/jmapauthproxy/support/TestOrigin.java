package org.jmapauthproxy.support;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;

/**
 * A real HTTP origin on loopback for the integration tests, shaped after what Cyrus does where it
 * matters (session document, well-known redirect, its extra hop headers, 401 with a Basic challenge).
 * Most paths echo what arrived, as JSON, so a test can assert on what the origin really received.
 */
public final class TestOrigin {

    private final Vertx vertx = Vertx.vertx();
    private final TestWebSocketOrigin webSockets = new TestWebSocketOrigin();
    private HttpServer server;
    private volatile String jwtKeyPemBody;
    private final java.util.concurrent.atomic.AtomicInteger openEventStreams = new java.util.concurrent.atomic.AtomicInteger();
    private final Map<String, AtomicLong> bytesSent = new ConcurrentHashMap<>();
    private final java.util.Queue<HttpServerRequest> stalled = new java.util.concurrent.ConcurrentLinkedQueue<>();

    public int start() throws Exception {
        server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0)
                        .setMaxWebSocketFrameSize(4 << 20).setMaxWebSocketMessageSize(16 << 20)
                        .setWebSocketSubProtocols(java.util.List.of("jmap")))
                .requestHandler(this::handle)
                .listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return server.actualPort();
    }

    public void stop() {
        vertx.close();
    }

    private void handle(HttpServerRequest request) {
        String path = request.path();
        if (path.equals("/origin-log")) {
            originLog(request);
            return;
        }
        if ("websocket".equalsIgnoreCase(request.getHeader("Upgrade"))) {
            // Upgraded here rather than by a server-wide WebSocket handler: Vert.x hands upgrades to
            // that handler only while its stream has demand, which a restart of the app between
            // test classes was seen to leave otherwise (the upgrade then reached the echo as a GET).
            if (!path.startsWith("/jmap/ws")) {
                request.response().setStatusCode(404).end();
            } else {
                request.toWebSocket().onSuccess(webSockets::handle);
            }
            return;
        }
        if (path.equals("/origin-await-held")) {
            awaitHeld(request, Integer.parseInt(request.getParam("count")));
            return;
        }
        if (path.equals("/origin-release")) {
            release(request);
            return;
        }
        if (path.equals("/origin-resume")) {
            resumeStalled(request);
            return;
        }
        JsonObject entry = record(request);
        if (request.params().contains("stall")) {
            // Reads nothing of the body until /origin-resume, then echoes it.
            request.pause();
            echo(request, entry);
            stalled.add(request);
        } else if (request.params().contains("hold")) {
            hold(request, entry);
        } else if (path.startsWith("/bytes/")) {
            bytes(request, Long.parseLong(path.substring("/bytes/".length())));
        } else if (path.startsWith("/cut/")) {
            cut(request, Integer.parseInt(path.substring("/cut/".length())));
        } else if (path.startsWith("/chunked/")) {
            // The same bytes without a declared length: chunked coding, as Cyrus sends most bodies.
            long n = Long.parseLong(path.substring("/chunked/".length()));
            HttpServerResponse response = request.response().setChunked(true);
            for (long sent = 0; sent < n; sent += 16 * 1024) {
                response.write(Buffer.buffer(pattern(sent, (int) Math.min(16 * 1024, n - sent))));
            }
            response.end();

        } else if (path.equals("/set-cookies")) {
            request.response()
                    .putHeader("Set-Cookie", (Iterable<String>) java.util.List.of("a=1; Path=/", "b=2; Path=/", "c=3; HttpOnly"))
                    .putHeader("Connection", "X-Origin-Private")
                    .putHeader("X-Origin-Private", "secret-hop")
                    .putHeader("Keep-Alive", "timeout=5")
                    .putHeader("Upgrade", "h2c")
                    .putHeader("Alt-Svc", "h2c=\":8008\"")
                    .putHeader("X-Kept", "yes")
                    .end("ok");
        } else if (path.equals("/status/401")) {
            request.response().setStatusCode(401).putHeader("WWW-Authenticate", "Basic realm=\"cyrus\"").end("denied");
        } else if (path.startsWith("/slow/")) {
            long ms = Long.parseLong(path.substring("/slow/".length()));
            vertx.setTimer(ms, id -> request.response().end("late"));
        } else if (path.equals("/jmap/") && request.method() == io.vertx.core.http.HttpMethod.POST) {
            api(request, entry);
        } else if (path.equals("/jmap") || path.equals("/jmap/")) {
            session(request);
        } else if (path.equals("/origin-cors")) {
            // Cyrus's own CORS answer, which the proxy must replace.
            request.response().putHeader("Access-Control-Allow-Origin", "*")
                    .putHeader("Access-Control-Allow-Methods", "GET")
                    .putHeader("Access-Control-Expose-Headers", "X-Origin-Only")
                    .putHeader("Vary", "Accept-Encoding")
                    .putHeader("Content-Type", "application/json").end("{\"ok\":true}");
        } else if (path.equals("/.well-known/jmap")) {
            request.response().setStatusCode(301)
                    .putHeader("Location", "http://" + request.getHeader("Host") + "/jmap")
                    .end();
        } else if (path.equals("/.well-known/caldav") || path.equals("/.well-known/carddav")) {
            // Like Cyrus (any method, GET or PROPFIND): 301 to its own absolute URL, built from Host.
            request.response().setStatusCode(301)
                    .putHeader("Location", "http://" + request.getHeader("Host")
                            + (path.endsWith("caldav") ? "/dav/calendars" : "/dav/addressbooks"))
                    .end();
        } else if (path.equals("/redirect")) {
            redirect(request);
        } else if (path.startsWith("/jmap/eventsource")) {
            eventSource(request);
        } else if (path.equals("/origin-stats")) {
            String tag = request.getParam("tag");
            AtomicLong sent = tag == null ? null : bytesSent.get(tag);
            request.response().end(new JsonObject().put("openEventStreams", openEventStreams.get())
                    .put("bytesSent", sent == null ? 0 : sent.get()).encode());
        } else if (path.startsWith("/processing/")) {
            processing(request, Integer.parseInt(path.substring("/processing/".length())));
        } else if (path.equals("/verify-bearer")) {
            verifyBearer(request);
        } else {
            echo(request, entry);
        }
    }

    /**
     * Every request that reached this origin, in order: method, raw URI, Host, bytes of body received
     * and whether the request arrived whole. Lets a test check what got past the proxy (nothing, or
     * exactly one well-framed request with its whole body), not only what the client was answered.
     */
    private final java.util.List<JsonObject> received = new java.util.concurrent.CopyOnWriteArrayList<>();

    private JsonObject record(HttpServerRequest request) {
        JsonObject entry = new JsonObject()
                .put("method", request.method().name())
                .put("uri", request.uri())
                .put("host", request.getHeader("Host"))
                .put("bodyLength", 0L)
                .put("complete", false);
        received.add(entry);
        request.endHandler(v -> entry.put("complete", true));
        return entry;
    }

    /** {@code GET /origin-log}: what reached the origin since the last {@code ?clear}. */
    private void originLog(HttpServerRequest request) {
        JsonArray all = new JsonArray();
        received.forEach(all::add);
        if (request.query() != null && request.query().contains("clear")) {
            received.clear();
        }
        request.response().putHeader("Content-Type", "application/json").end(all.encode());
    }

    /** Requests answered only on {@code /origin-release}, and long-polls waiting for their number. */
    private final java.util.List<HttpServerRequest> held = new java.util.ArrayList<>();
    private final java.util.List<Runnable> heldWaiters = new java.util.ArrayList<>();

    /** {@code ?hold}: the body is read whole, then the request waits for {@code /origin-release}. */
    private void hold(HttpServerRequest request, JsonObject entry) {
        long[] length = {0};
        request.handler(chunk -> {
            length[0] += chunk.length();
            entry.put("bodyLength", length[0]);
        });
        request.endHandler(v -> {
            entry.put("complete", true);
            // The head and a first byte go out at once, so the proxy's first-byte timeout does not
            // run while the test holds the exchange; the body ends on release.
            request.response().setChunked(true).putHeader("Content-Type", "application/json").write("{");
            synchronized (held) {
                held.add(request);
                new java.util.ArrayList<>(heldWaiters).forEach(Runnable::run);
            }
        });
    }

    /** {@code /origin-resume}: the stalled requests start being read; answers how many there were. */
    private void resumeStalled(HttpServerRequest request) {
        int resumed = 0;
        for (HttpServerRequest stalledRequest = stalled.poll(); stalledRequest != null; stalledRequest = stalled.poll()) {
            stalledRequest.resume();
            resumed++;
        }
        request.response().end(Integer.toString(resumed));
    }

    /** {@code /origin-await-held?count=N}: answers once N requests are held (no sleeping in tests). */
    private void awaitHeld(HttpServerRequest request, int count) {
        synchronized (held) {
            Runnable[] check = new Runnable[1];
            check[0] = () -> {
                if (held.size() >= count) {
                    heldWaiters.remove(check[0]);
                    request.response().end(Integer.toString(held.size()));
                }
            };
            heldWaiters.add(check[0]);
            check[0].run();
        }
    }

    /** {@code /origin-release}: answers every held request 200 and says how many there were. */
    private void release(HttpServerRequest request) {
        java.util.List<HttpServerRequest> released;
        synchronized (held) {
            released = new java.util.ArrayList<>(held);
            held.clear();
        }
        // With ?cut the origin breaks the held bodies off instead: it drops their connections.
        boolean cut = request.params().contains("cut");
        for (HttpServerRequest r : released) {
            if (cut) {
                r.connection().close();
            } else {
                r.response().end("\"released\":true}");
            }
        }
        request.response().end(Integer.toString(released.size()));
    }

    /** Echoes method, raw URI, headers and a SHA-256 of the streamed body. */
    private void echo(HttpServerRequest request, JsonObject entry) {
        MessageDigest sha = sha256();
        long[] length = {0};
        request.handler(chunk -> {
            sha.update(chunk.getBytes());
            length[0] += chunk.length();
            entry.put("bodyLength", length[0]);
        });
        request.endHandler(v -> {
            entry.put("complete", true);
            JsonObject headers = new JsonObject();
            request.headers().forEach(h -> {
                String name = h.getKey().toLowerCase(java.util.Locale.ROOT);
                JsonArray values = headers.getJsonArray(name);
                if (values == null) {
                    headers.put(name, values = new JsonArray());
                }
                values.add(h.getValue());
            });
            request.response().putHeader("Content-Type", "application/json").end(new JsonObject()
                    .put("method", request.method().name())
                    .put("uri", request.uri())
                    .put("headers", headers)
                    .put("bodyLength", length[0])
                    .put("bodySha256", HexFormat.of().formatHex(sha.digest()))
                    .encode());
        });
    }

    /**
     * Streams {@code n} bytes of {@link #pattern}, honouring backpressure; with
     * {@code ?tag=T}, how many have been handed to the connection so far is kept under T for
     * {@code /origin-stats?tag=T}.
     */
    private void bytes(HttpServerRequest request, long n) {
        HttpServerResponse response = request.response();
        response.putHeader("Content-Length", Long.toString(n)).putHeader("Content-Type", "application/octet-stream");
        String tag = request.getParam("tag");
        AtomicLong counted = tag == null ? new AtomicLong() : bytesSent.computeIfAbsent(tag, t -> new AtomicLong());
        long[] sent = {0};
        Runnable[] pump = new Runnable[1];
        pump[0] = () -> {
            while (sent[0] < n && !response.writeQueueFull()) {
                int size = (int) Math.min(64 * 1024, n - sent[0]);
                response.write(Buffer.buffer(pattern(sent[0], size)));
                sent[0] += size;
                counted.set(sent[0]);
            }
            if (sent[0] >= n) {
                response.end();
            } else {
                response.drainHandler(v -> pump[0].run());
            }
        };
        pump[0].run();
    }

    /**
     * An origin that breaks off: declares twice {@code n} bytes (or, with {@code ?chunked}, sends
     * chunks with no declared length), sends the first {@code n} of them, then closes the connection.
     */
    private void cut(HttpServerRequest request, int n) {
        HttpServerResponse response = request.response();
        if (request.params().contains("chunked")) {
            response.setChunked(true);
        } else {
            response.putHeader("Content-Length", Long.toString(2L * n));
        }
        response.write(Buffer.buffer(pattern(0, n))).onComplete(written -> request.connection().close());
    }

    /** The SHA-256, in hex, of the first {@code size} bytes of {@link #pattern}. */
    public static String patternSha256(long size) {
        MessageDigest expected = sha256();
        for (long offset = 0; offset < size; offset += 1 << 20) {
            expected.update(pattern(offset, (int) Math.min(1 << 20, size - offset)));
        }
        return HexFormat.of().formatHex(expected.digest());
    }

    /** How many bytes a body had and their SHA-256 in hex. */
    public record BodyDigest(long length, String sha256) {
    }

    /** Reads {@code in} to its end or to {@code limit} bytes, whichever comes first, and digests what it read. */
    public static BodyDigest digest(java.io.InputStream in, long limit) throws IOException {
        MessageDigest received = sha256();
        byte[] buffer = new byte[1 << 16];
        long total = 0;
        while (total < limit) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, limit - total));
            if (n < 0) {
                break;
            }
            received.update(buffer, 0, n);
            total += n;
        }
        return new BodyDigest(total, HexFormat.of().formatHex(received.digest()));
    }

    /** The byte at offset i of a download is (i * 31 + i / 4096) & 0xff: cheap and not periodic in 256. */
    public static byte[] pattern(long offset, int size) {
        byte[] out = new byte[size];
        for (int i = 0; i < size; i++) {
            long at = offset + i;
            out[i] = (byte) (at * 31 + at / 4096);
        }
        return out;
    }

    private void session(HttpServerRequest request) {
        // ?maxSizeRequest=N&maxConcurrentRequests=N&...: a session advertising these limits.
        JsonObject core = new JsonObject().put("maxSizeUpload", 1073741824);
        for (String limit : new String[]{"maxSizeRequest", "maxConcurrentRequests", "maxSizeUpload", "maxConcurrentUpload"}) {
            String value = request.getParam(limit);
            if (value != null) {
                core.put(limit, Long.parseLong(value));
            }
        }
        JsonObject session = new JsonObject()
                .put("capabilities", new JsonObject()
                        .put("urn:ietf:params:jmap:core", core)
                        .put("urn:ietf:params:jmap:websocket", new JsonObject()
                                .put("url", "wss:/jmap/ws/").put("supportsPush", true)))
                .put("accounts", new JsonObject())
                .put("username", "alice")
                .put("apiUrl", "/jmap/")
                .put("downloadUrl", "/jmap/download/{accountId}/{blobId}/{name}?accept={type}")
                .put("uploadUrl", "/jmap/upload/{accountId}/")
                .put("eventSourceUrl", "/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}")
                .put("state", "0");
        byte[] body = session.encode().getBytes(StandardCharsets.UTF_8);
        HttpServerResponse response = request.response()
                .putHeader("Content-Type", "application/json; charset=utf-8")
                .putHeader("Connection", "Upgrade")
                .putHeader("Upgrade", "h2c")
                .putHeader("Alt-Svc", "h2c=\":8008\"")
                .putHeader("ETag", "\"origin-etag\"");
        String accept = request.getHeader("Accept-Encoding");
        if (accept != null && accept.contains("br")) {
            // Like Cyrus: prefers a coding the proxy cannot rewrite when the client offers it.
            response.putHeader("Content-Encoding", "br");
        } else if (accept != null && accept.contains("gzip")) {
            response.putHeader("Content-Encoding", "gzip");
            body = gzip(body);
        }
        response.end(Buffer.buffer(body));
    }

    /**
     * {@code /redirect?status=N&location=L&content-location=C&self=PATH}: answers N with the given
     * headers; {@code self=PATH} makes the location this origin's own absolute URL of PATH (from the
     * Host received), the way Cyrus builds its DAV redirects.
     */
    private void redirect(HttpServerRequest request) {
        HttpServerResponse response = request.response()
                .setStatusCode(Integer.parseInt(java.util.Objects.requireNonNullElse(request.getParam("status"), "302")));
        String self = request.getParam("self");
        if (self != null) {
            response.headers().add("Location", "http://" + request.getHeader("Host") + self);
        }
        for (String location : request.params().getAll("location")) {
            response.headers().add("Location", location);
        }
        for (String location : request.params().getAll("content-location")) {
            response.headers().add("Content-Location", location);
        }
        response.putHeader("Content-Type", "text/plain").end("moved");
    }

    /**
     * The JMAP API URL ({@code POST /jmap/}): answers each method call with a fixed result, naming the
     * bytes received, so a test can see that a JSON request passed whole.
     */
    private void api(HttpServerRequest request, JsonObject entry) {
        Buffer body = Buffer.buffer();
        request.handler(chunk -> {
            body.appendBuffer(chunk);
            entry.put("bodyLength", (long) body.length());
        });
        request.endHandler(v -> {
            entry.put("complete", true);
            JsonArray responses = new JsonArray();
            try {
                JsonArray calls = new JsonObject(body).getJsonArray("methodCalls", new JsonArray());
                for (Object call : calls) {
                    JsonArray c = (JsonArray) call;
                    responses.add(new JsonArray().add(c.getString(0)).add(new JsonObject().put("accountId", "alice")
                            .put("list", new JsonArray().add(new JsonObject().put("id", "inbox").put("name", "Inbox"))))
                            .add(c.getString(2)));
                }
            } catch (RuntimeException e) {
                request.response().setStatusCode(400).putHeader("Content-Type", "application/json")
                        .end("{\"type\":\"urn:ietf:params:jmap:error:notJSON\"}");
                return;
            }
            request.response().putHeader("Content-Type", "application/json")
                    .end(new JsonObject().put("methodResponses", responses).put("sessionState", "0")
                            .put("receivedBytes", body.length()).encode());
        });
    }

    /** text/event-stream: the Last-Event-ID received, then one event every 100 ms until the client leaves. */
    private void eventSource(HttpServerRequest request) {
        HttpServerResponse response = request.response()
                .setChunked(true)
                .putHeader("Content-Type", "text/event-stream")
                .putHeader("Cache-Control", "no-cache");
        String lastId = request.getHeader("Last-Event-ID");
        response.write("event: hello\ndata: last-event-id=" + lastId + "\n\n");
        int[] n = {0};
        openEventStreams.incrementAndGet();
        long timer = vertx.setPeriodic(100, id -> {
            n[0]++;
            response.write("id: " + n[0] + "\nevent: state\ndata: {\"n\":" + n[0] + "}\n\n");
        });
        boolean[] closed = {false};
        Runnable onClose = () -> {
            if (!closed[0]) {
                closed[0] = true;
                vertx.cancelTimer(timer);
                openEventStreams.decrementAndGet();
            }
        };
        response.closeHandler(v -> onClose.run());
        request.connection().closeHandler(v -> onClose.run());
    }

    /**
     * Like Cyrus on a long request: {@code count} interim {@code 102 Processing} responses, 200 ms
     * apart, then the final answer. Vert.x has no API for a 102, so it is written on the channel.
     */
    private void processing(HttpServerRequest request, int count) {
        io.netty.channel.Channel channel = ((io.vertx.core.net.impl.ConnectionBase) request.connection()).channel();
        int[] sent = {0};
        vertx.setPeriodic(200, id -> {
            if (sent[0]++ < count) {
                channel.writeAndFlush(new io.netty.handler.codec.http.DefaultFullHttpResponse(
                        io.netty.handler.codec.http.HttpVersion.HTTP_1_1, io.netty.handler.codec.http.HttpResponseStatus.PROCESSING));
            } else {
                vertx.cancelTimer(id);
                request.response().putHeader("Content-Type", "application/json").end("{\"methodResponses\":[]}");
            }
        });
    }

    /**
     * Verifies a bearer the way Cyrus's http_jwt does: header exactly {"alg":"HS256","typ":"JWT"},
     * HMAC-SHA256 with the configured key, claims only sub/iat/exp/nbf. Answers the user name.
     */
    private void verifyBearer(HttpServerRequest request) {
        request.resume();
        String auth = request.getHeader("Authorization");
        String user = CyrusJwtCheck.verify(auth, jwtKeyPemBody);
        if (user == null) {
            request.response().setStatusCode(401).putHeader("WWW-Authenticate", "Bearer").end();
        } else {
            request.response().end(new JsonObject().put("user", user).encode());
        }
    }

    /** The base64 key the bearer check uses (the body of the PEM file given to the proxy). */
    public void jwtKey(String base64Key) {
        this.jwtKeyPemBody = base64Key;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] gzip(byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }
}
