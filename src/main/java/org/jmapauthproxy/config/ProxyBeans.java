package org.jmapauthproxy.config;

import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.impl.VertxInternal;
import io.vertx.ext.web.Router;
import io.vertx.redis.client.Redis;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jmapauthproxy.credential.CachedCredentialStore;
import org.jmapauthproxy.credential.CredentialService;
import org.jmapauthproxy.credential.CredentialStore;
import org.jmapauthproxy.credential.CyrusTokenMinter;
import org.jmapauthproxy.credential.RedisCredentialStore;
import org.jmapauthproxy.credential.RedisInvalidations;
import org.jmapauthproxy.credential.SealedCredential;
import org.jmapauthproxy.credential.SessionChannels;
import org.jmapauthproxy.exchange.OpenChannels;
import org.jmapauthproxy.exchange.Tracing;
import org.jmapauthproxy.jmap.PublicBase;
import org.jmapauthproxy.jmap.SessionRewriter;
import org.jmapauthproxy.jmap.JmapLimits;
import org.jmapauthproxy.jmap.LocationRebaser;
import org.jmapauthproxy.ops.AccessLog;
import org.jmapauthproxy.ops.LongLivedStreams;
import org.jmapauthproxy.ops.ProxyMetrics;
import org.jmapauthproxy.ops.RequestLog;
import org.jmapauthproxy.route.Cors;
import org.jmapauthproxy.route.FrontDoor;
import org.jmapauthproxy.route.InFlight;
import org.jmapauthproxy.route.ProxyRoute;
import org.jmapauthproxy.route.ProxyServer;
import org.jmapauthproxy.route.WebSocketServerOptions;
import org.jmapauthproxy.token.TokenExtractor;
import org.jmapauthproxy.token.TokenVerifier;
import org.jmapauthproxy.upstream.Forwarder;
import org.jmapauthproxy.upstream.Origin;
import org.jmapauthproxy.upstream.WebSocketRelay;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The one place where the request pipeline is assembled from the configuration. The first bean
 * asked for validates the whole configuration ({@link ConfigCheck}), so a bad setting stops the
 * process before the HTTP port opens.
 */
@ApplicationScoped
public class ProxyBeans {

    private final ProxyConfig config;

    ProxyBeans(ProxyConfig config, @ConfigProperty(name = "quarkus.redis.hosts") Optional<String> redisHosts) {
        ConfigCheck.verify(config, redisHosts);
        this.config = config;
    }

    /** Dev mode only ({@code authproxy.http.direct=false}): the route is served by Quarkus's listener. */
    void installRoute(@Observes Router router, ProxyRoute route) {
        if (!config.http().direct()) {
            route.install(router);
        }
    }

    /** Opens the proxy port once everything else is up (the configuration was checked on the way). */
    void startServer(@Observes StartupEvent event, ProxyServer server,
                     @ConfigProperty(name = "quarkus.http.host-enabled", defaultValue = "true") boolean quarkusListener,
                     @ConfigProperty(name = "quarkus.http.host", defaultValue = "0.0.0.0") String host,
                     @ConfigProperty(name = "quarkus.http.port", defaultValue = "8080") int port) {
        if (config.http().direct() == quarkusListener) {
            // Both listeners would share the port (and Quarkus's would have no route), or none would listen.
            throw new ConfigCheck.InvalidConfig(List.of(config.http().direct()
                    ? "authproxy.http.direct=true needs quarkus.http.host-enabled=false (the proxy opens the port itself)"
                    : "authproxy.http.direct=false needs quarkus.http.host-enabled=true (Quarkus's listener serves the port)"));
        }
        if (config.http().direct()) {
            try {
                server.start();
            } catch (Exception e) {
                Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
                String message = "jmap-auth-proxy cannot start: cannot open the proxy port " + host + ":" + port
                        + " (quarkus.http.host/quarkus.http.port): " + NATIVE_PREFIX.matcher(
                                String.valueOf(cause.getMessage())).replaceFirst("");
                // Console logging is asynchronous and the process exits right after a failed start,
                // so the message also goes to standard error directly, before the exception unwinds.
                System.err.println(message);
                System.err.flush();
                throw new IllegalStateException(message, cause);
            }
        }
    }

    /** What the epoll transport puts before the system's message, e.g. {@code bind(..) failed with error(-98): }. */
    private static final Pattern NATIVE_PREFIX = Pattern.compile("^\\w+\\(\\.\\.\\) failed with error\\(-?\\d+\\): ");

    /** The drain delay begins: keep serving, but send HTTP/1.1 clients elsewhere after each response. */
    void drainStarts(@Observes ShutdownDelayInitiatedEvent event, InFlight inFlight) {
        inFlight.drain();
    }

    /**
     * First of the shutdown steps, after the drain delay: end event streams and WebSockets, answer
     * new requests 503, give those in flight the shutdown timeout, close the port.
     */
    void drainServer(@Observes @Priority(1) ShutdownEvent event, ProxyServer server, LongLivedStreams longLived,
                     @ConfigProperty(name = "quarkus.shutdown.timeout") Optional<Duration> timeout) {
        if (config.http().direct()) {
            server.refuseNewRequests();
            longLived.closeAll();
            server.drain(timeout.orElse(Duration.ofSeconds(30)).toMillis());
        }
    }

    @Produces
    @Singleton
    InFlight inFlight() {
        return new InFlight();
    }

    @Produces
    @Singleton
    ProxyServer proxyServer(Vertx vertx, ProxyRoute route, InFlight inFlight, RequestLog log,
                            @ConfigProperty(name = "quarkus.http.host", defaultValue = "0.0.0.0") String host,
                            @ConfigProperty(name = "quarkus.http.port", defaultValue = "8080") int port) {
        ProxyConfig.Http http = config.http();
        HttpServerOptions options = new HttpServerOptions()
                .setHost(host)
                .setPort(port)
                .setIdleTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(1, http.idleTimeout().toMillis())))
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
                .setMaxHeaderSize((int) http.maxHeaderSize().asLongValue())
                // HTTP/1.1 only: Vert.x would answer an h2c upgrade with 101 before the route has checked
                // the token, and its prior-knowledge detection reads bytes before the FrontDoor's
                // decoder is in place. HTTP/2 belongs on the TLS hop in front of the proxy.
                .setHttp2ClearTextEnabled(false)
                .setTcpNoDelay(true)
                .setCompressionSupported(false);
        WebSocketServerOptions.apply(options);
        FrontDoor frontDoor = new FrontDoor(new FrontDoor.Limits(http.keepAliveTimeout(), http.requestHeaderTimeout(),
                http.bodyTimeout(), http.maxConnections()), log::refused, options);
        return new ProxyServer(vertx, route, options, eventLoops(vertx), inFlight, frontDoor);
    }

    /** The event loops of Quarkus's Vert.x: as many proxy listeners and origin pools as that. */
    static int eventLoops(Vertx vertx) {
        int loops = 0;
        if (vertx instanceof VertxInternal internal) {
            for (var ignored : internal.getEventLoopGroup()) {
                loops++;
            }
        }
        return Math.max(1, loops);
    }

    @Produces
    @Singleton
    Clock clock() {
        return Clock.systemUTC();
    }

    @Produces
    @Singleton
    TokenExtractor tokenExtractor() {
        return new TokenExtractor(config.token().cookieName());
    }

    @Produces
    @Singleton
    TokenVerifier tokenVerifier(Clock clock) {
        return new TokenVerifier(config.jwt(), clock);
    }

    /** Stops the refresh of a public key published at a URL. */
    void closeTokenVerifier(@jakarta.enterprise.inject.Disposes TokenVerifier verifier) {
        verifier.close();
    }

    @Produces
    @Singleton
    CredentialStore credentialStore(Redis redis, Vertx vertx, ProxyMetrics metrics,
                                    @ConfigProperty(name = "quarkus.redis.hosts") Optional<String> hosts,
                                    @ConfigProperty(name = "quarkus.redis.client-type", defaultValue = "standalone") String type,
                                    @ConfigProperty(name = "quarkus.redis.password") Optional<String> password) {
        RedisCredentialStore store = new RedisCredentialStore(redis, !"cluster".equals(type));
        ProxyConfig.Credentials credentials = config.credentials();
        if (credentials.cacheSize() <= 0 || !"standalone".equals(type)) {
            // Sentinel and Cluster would need one invalidation feed per node; they go to Redis every time.
            channels = new SessionChannels(vertx, store, () -> false);
            return store;
        }
        CachedCredentialStore cache = new CachedCredentialStore(store, credentials.cacheSize(),
                credentials.cacheMaxAge().toNanos(), System::nanoTime);
        channels = new SessionChannels(vertx, store, cache::leaseValid);
        invalidations = new RedisInvalidations(vertx, hosts.orElseThrow().split(",")[0].trim(), password.orElse(null),
                credentials.keyPrefix().orElse(""), cache, channels, redis);
        invalidations.start();
        metrics.credentialCache(cache);
        return cache;
    }

    private RedisInvalidations invalidations;
    private SessionChannels channels;

    /** The open channels of each session; built with the store (which it re-reads). */
    @Produces
    @Singleton
    OpenChannels openChannels(CredentialStore store) {
        return channels;
    }

    void closeInvalidations(@Observes ShutdownEvent event) {
        if (invalidations != null) {
            invalidations.close();
        }
    }

    @Produces
    @Singleton
    CredentialService credentialService(Vertx vertx, CredentialStore store, Clock clock) {
        CredentialService.Encryption encryption = ConfigCheck.encryption(config);
        SealedCredential sealed = null;
        if (encryption == CredentialService.Encryption.AES_GCM) {
            List<byte[]> keys = new ArrayList<>();
            keys.add(ConfigCheck.aesKey(config.credentials().key().orElseThrow()));
            config.credentials().previousKeys().orElse(List.of()).forEach(k -> keys.add(ConfigCheck.aesKey(k)));
            sealed = new SealedCredential(keys);
        }
        CyrusTokenMinter minter = null;
        ProxyConfig.Origin origin = config.origin();
        if ("cyrus-jwt".equals(origin.auth())) {
            try {
                byte[] key = CyrusTokenMinter.readKeyFile(Path.of(origin.jwtKeyFile().orElseThrow()));
                minter = new CyrusTokenMinter(key, origin.jwtMaxAge(), origin.jwtReuseMargin(), origin.jwtLifetime(),
                        clock, config.jwt().cacheSize());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return new CredentialService(vertx, store, config.credentials().keyPrefix().orElse(""), encryption,
                sealed, minter, config.credentials().timeout());
    }

    @Produces
    @Singleton
    Origin origin(Vertx vertx) {
        return new Origin(vertx, config.origin(), eventLoops(vertx));
    }

    void closeOrigin(@Observes ShutdownEvent event, Origin origin, ProxyMetrics metrics) {
        origin.close();
        metrics.close();
    }

    @Produces
    @Singleton
    ProxyMetrics proxyMetrics(MeterRegistry registry) {
        return new ProxyMetrics(registry);
    }

    @Produces
    @Singleton
    JmapLimits jmapLimits() {
        return new JmapLimits();
    }

    @Produces
    @Singleton
    Forwarder forwarder(Vertx vertx, Origin origin, ProxyMetrics metrics, LongLivedStreams longLived,
                        JmapLimits jmapLimits, OpenChannels channels, Tracing tracing) {
        PublicBase publicBase = new PublicBase(config.publicUrl(), config.trustForwardedHeaders());
        Forwarder forwarder = new Forwarder(vertx, origin, config.origin().timeout().toMillis(), metrics.openStreams(),
                longLived, List.of(new SessionRewriter(publicBase, jmapLimits)),
                List.of(new LocationRebaser(publicBase, origin.host(), origin.port(), origin.basePath())),
                config.maxUploadSize().asLongValue(), channels, Clock.systemUTC(), tracing);
        metrics.originPool("requests", forwarder.requestsInFlight());
        metrics.originPool("streams", forwarder.streamsInFlight());
        return forwarder;
    }

    @Produces
    @Singleton
    WebSocketRelay webSocketRelay(Vertx vertx, Origin origin, Clock clock, ProxyMetrics metrics,
                                  LongLivedStreams longLived, OpenChannels channels) {
        return new WebSocketRelay(vertx, origin, clock, metrics.openWebSockets(), longLived, channels);
    }

    @Produces
    @Singleton
    RequestLog requestLog(ProxyMetrics metrics, AccessLog access) {
        return new RequestLog(metrics, access, config.log().user());
    }

    @Produces
    @Singleton
    AccessLog accessLog(ProxyMetrics metrics,
                        @ConfigProperty(name = "quarkus.log.console.json.enabled", defaultValue = "false") boolean json) {
        AccessLog access = new AccessLog(json, config.log().accessFlushInterval().toMillis(), ACCESS_LOG_BUFFER);
        metrics.accessLog(access);
        return access;
    }

    /** Characters of access lines that may wait for standard output (some 0.5 s at 30 k req/s). */
    private static final int ACCESS_LOG_BUFFER = 4 * 1024 * 1024;

    void closeAccessLog(@Observes ShutdownEvent event, AccessLog access) {
        access.close();
    }

    @Produces
    @Singleton
    ProxyRoute proxyRoute(TokenExtractor extractor, TokenVerifier verifier, CredentialService credentials,
                          Forwarder forwarder, WebSocketRelay webSockets, RequestLog log, InFlight inFlight,
                          JmapLimits jmapLimits, Tracing tracing) {
        return new ProxyRoute(extractor, verifier, credentials, forwarder, webSockets, log, inFlight,
                config.maxUploadSize().asLongValue(), config.trustForwardedHeaders(),
                new Cors(config.cors().allowedOrigins().orElse(List.of()), config.cors().maxAge()), jmapLimits, tracing);
    }

    /**
     * The request spans: Quarkus's OpenTelemetry SDK when {@code quarkus.otel.sdk.disabled=false},
     * else nothing at all ({@link Tracing#OFF}: no span, no trace id, no cost beyond a branch).
     */
    @Produces
    @Singleton
    Tracing tracing(OpenTelemetry openTelemetry,
                    @ConfigProperty(name = "quarkus.otel.sdk.disabled", defaultValue = "false") boolean disabled,
                    @ConfigProperty(name = "quarkus.otel.traces.enabled", defaultValue = "true") boolean traces) {
        return disabled || !traces ? Tracing.OFF : new Tracing(openTelemetry, true, config.log().user());
    }
}
