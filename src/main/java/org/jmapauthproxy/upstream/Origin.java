package org.jmapauthproxy.upstream;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
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

    public Origin(Vertx vertx, ProxyConfig.Origin config) {
        URI url = URI.create(config.url().orElseThrow());
        this.ssl = "https".equalsIgnoreCase(url.getScheme());
        this.host = url.getHost();
        this.port = url.getPort() > 0 ? url.getPort() : ssl ? 443 : 80;
        String path = url.getRawPath() == null ? "" : url.getRawPath();
        this.basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        this.requests = vertx.createHttpClient(clientOptions(config),
                new PoolOptions().setHttp1MaxSize(config.maxConnections()).setMaxWaitQueueSize(config.maxWaitQueue()));
        this.streams = vertx.createHttpClient(clientOptions(config),
                new PoolOptions().setHttp1MaxSize(config.maxEventStreams()).setMaxWaitQueueSize(config.maxWaitQueue()));
    }

    private HttpClientOptions clientOptions(ProxyConfig.Origin config) {
        return new HttpClientOptions()
                .setDefaultHost(host)
                .setDefaultPort(port)
                .setSsl(ssl)
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

    public void close() {
        requests.close();
        streams.close();
    }
}
