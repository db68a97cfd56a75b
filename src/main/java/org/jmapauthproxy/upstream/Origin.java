package org.jmapauthproxy.upstream;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.net.PemTrustOptions;

import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The origin server and the pooled keep-alive connections to it.
 *
 * <p>Two pools: one for ordinary requests and one for event streams. An EventSource response holds
 * its connection for as long as the client listens; were both kinds to share a pool, a few hundred
 * open streams would leave no connection for API calls.
 *
 * <p>The ordinary pool is split by event loop. A Vert.x pool hands out whichever idle connection
 * came back last, whatever event loop it lives on; when that is not the loop of the client's
 * request, every write and every response crosses threads (a task queue and a wake-up each way).
 * Under load on one CPU that was over one context switch per request. Each event loop (up to
 * {@code max-connections} of them) therefore gets a pool of its own, whose connections are opened
 * on that loop; the pools' sizes add up to {@code max-connections}.
 */
public final class Origin {

    private final String host;
    private final int port;
    private final boolean ssl;
    private final String basePath;
    private final HttpClient[] requests;
    private final AtomicInteger loopsAssigned = new AtomicInteger();
    private final ThreadLocal<HttpClient> loopRequests = ThreadLocal.withInitial(this::nextLoopPool);
    private final HttpClient streams;
    private final WebSocketClient webSockets;

    /** @param eventLoops how many event loops serve clients: one ordinary pool each (at most) */
    public Origin(Vertx vertx, OriginSettings config, int eventLoops) {
        URI url = URI.create(config.url());
        this.ssl = "https".equalsIgnoreCase(url.getScheme());
        this.host = url.getHost();
        this.port = url.getPort() > 0 ? url.getPort() : ssl ? 443 : 80;
        String path = url.getRawPath() == null ? "" : url.getRawPath();
        this.basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        this.requests = loopPools(vertx, config, eventLoops);
        this.streams = client(vertx, config, config.maxEventStreams());
        WebSocketClientOptions webSocketOptions = new WebSocketClientOptions()
                .setDefaultHost(host)
                .setDefaultPort(port)
                .setSsl(ssl)
                .setVerifyHost(config.verifyHost());
        config.trustCertificates().ifPresent(pem -> webSocketOptions.setTrustOptions(new PemTrustOptions().addCertPath(pem)));
        this.webSockets = vertx.createWebSocketClient(webSocketOptions
                .setConnectTimeout((int) config.connectTimeout().toMillis())
                .setIdleTimeout((int) config.idleTimeout().toSeconds())
                .setMaxFrameSize(MAX_WEBSOCKET_FRAME)
                .setMaxMessageSize(MAX_WEBSOCKET_MESSAGE)
                .setMaxConnections(config.maxEventStreams()));
    }

    /** Largest body chunk the HTTP decoders hand over at once, on both hops. */
    public static final int MAX_CHUNK = 64 * 1024;

    /** JMAP over WebSocket carries whole API requests in one message; Vert.x's 64 KiB default is too small. */
    public static final int MAX_WEBSOCKET_FRAME = 16 * 1024 * 1024;
    public static final int MAX_WEBSOCKET_MESSAGE = 64 * 1024 * 1024;

    /** One pool per event loop (at most one per connection allowed); sizes and queues add up to the totals. */
    private HttpClient[] loopPools(Vertx vertx, OriginSettings config, int loops) {
        int total = config.maxConnections();
        int pools = Math.max(1, Math.min(loops, total));
        HttpClient[] clients = new HttpClient[pools];
        for (int i = 0; i < pools; i++) {
            int queue = config.maxWaitQueue();
            // A queue of 0 means "none"; a pool whose share rounds down to 0 still gets one place.
            clients[i] = client(vertx, config, share(total, pools, i), queue > 0 ? Math.max(1, share(queue, pools, i)) : queue);
        }
        return clients;
    }

    /** Part {@code i} of {@code total} split into {@code parts} near-equal parts; negative means unbounded. */
    static int share(int total, int parts, int i) {
        if (total < 0) {
            return total;
        }
        return total / parts + (i < total % parts ? 1 : 0);
    }

    private HttpClient nextLoopPool() {
        return requests[Math.floorMod(loopsAssigned.getAndIncrement(), requests.length)];
    }

    private HttpClient client(Vertx vertx, OriginSettings config, int size) {
        return client(vertx, config, size, config.maxWaitQueue());
    }

    private HttpClient client(Vertx vertx, OriginSettings config, int size, int waitQueue) {
        return vertx.httpClientBuilder()
                .with(clientOptions(config))
                .with(new PoolOptions().setHttp1MaxSize(size).setMaxWaitQueueSize(waitQueue))
                .withConnectHandler(ProcessingFilter::install)
                .build();
    }

    private HttpClientOptions clientOptions(OriginSettings config) {
        HttpClientOptions options = new HttpClientOptions();
        config.trustCertificates().ifPresent(pem -> options.setTrustOptions(new PemTrustOptions().addCertPath(pem)));
        return options
                .setDefaultHost(host)
                .setDefaultPort(port)
                .setSsl(ssl)
                .setVerifyHost(config.verifyHost())
                // Netty's default cuts bodies into 8 KiB chunks: one write (syscall) per 8 KiB
                // towards the client. 64 KiB chunks carry a download with an eighth of the writes.
                .setMaxChunkSize(MAX_CHUNK)
                .setKeepAlive(true)
                .setConnectTimeout((int) config.connectTimeout().toMillis())
                .setIdleTimeout((int) config.idleTimeout().toSeconds())
                // Cyrus answers on its own terms; the proxy forwards whatever it sends, compressed or not.
                .setDecompressionSupported(false)
                .setTcpNoDelay(true);
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public boolean ssl() {
        return ssl;
    }

    /** The origin URL's path without a trailing slash ({@code ""} when none), prefixed to every request. */
    public String basePath() {
        return basePath;
    }

    /**
     * Pool for ordinary requests: the calling event loop's own, so that the exchange stays on the
     * thread of the client's connection. Off an event loop, the first pool.
     */
    public HttpClient requests() {
        return Context.isOnEventLoopThread() ? loopRequests.get() : requests[0];
    }

    /** How many pools the ordinary requests are spread over. */
    int requestPools() {
        return requests.length;
    }

    /** Pool for long-lived event streams. */
    public HttpClient streams() {
        return streams;
    }

    /** Client for WebSocket connections to the origin (each holds its own connection). */
    public WebSocketClient webSockets() {
        return webSockets;
    }

    public void close() {
        for (HttpClient client : requests) {
            client.close();
        }
        streams.close();
        webSockets.close();
    }
}
