package org.jmapauthproxy.upstream;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.net.PemTrustOptions;
import org.jmapauthproxy.config.ProxyConfig;

import java.net.URI;

/**
 * The origin server and the pooled keep-alive connections to it.
 *
 * <p>Two pools: one for ordinary requests and one for event streams. An EventSource response holds
 * its connection for as long as the client listens; were both kinds to share a pool, a few hundred
 * open streams would leave no connection for API calls.
 */
public final class Origin {

    private final String host;
    private final int port;
    private final boolean ssl;
    private final String basePath;
    private final HttpClient requests;
    private final HttpClient streams;
    private final WebSocketClient webSockets;

    public Origin(Vertx vertx, ProxyConfig.Origin config) {
        URI url = URI.create(config.url().orElseThrow());
        this.ssl = "https".equalsIgnoreCase(url.getScheme());
        this.host = url.getHost();
        this.port = url.getPort() > 0 ? url.getPort() : ssl ? 443 : 80;
        String path = url.getRawPath() == null ? "" : url.getRawPath();
        this.basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        this.requests = client(vertx, config, config.maxConnections());
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

    private HttpClient client(Vertx vertx, ProxyConfig.Origin config, int size) {
        return vertx.httpClientBuilder()
                .with(clientOptions(config))
                .with(new PoolOptions().setHttp1MaxSize(size).setMaxWaitQueueSize(config.maxWaitQueue()))
                .withConnectHandler(ProcessingFilter::install)
                .build();
    }

    private HttpClientOptions clientOptions(ProxyConfig.Origin config) {
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

    /** Pool for ordinary requests. */
    public HttpClient requests() {
        return requests;
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
        requests.close();
        streams.close();
        webSockets.close();
    }
}
