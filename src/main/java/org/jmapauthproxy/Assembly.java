package org.jmapauthproxy;

import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.prometheus.client.exemplars.ExemplarSampler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.impl.VertxInternal;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import jakarta.annotation.Priority;
import jakarta.enterprise.inject.Alternative;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import jakarta.interceptor.Interceptor;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.jmapauthproxy.config.ConfigCheck;
import org.jmapauthproxy.config.ProxyConfig;
import org.jmapauthproxy.credential.CachedCredentialStore;
import org.jmapauthproxy.credential.CredentialService;
import org.jmapauthproxy.credential.CredentialStore;
import org.jmapauthproxy.credential.CyrusTokenMinter;
import org.jmapauthproxy.credential.RedisCredentialStore;
import org.jmapauthproxy.credential.RedisInvalidations;
import org.jmapauthproxy.credential.SealedCredential;
import org.jmapauthproxy.credential.SessionChannels;
import org.jmapauthproxy.exchange.LongLivedStreams;
import org.jmapauthproxy.exchange.OpenChannels;
import org.jmapauthproxy.exchange.Tracing;
import org.jmapauthproxy.jmap.JmapLimits;
import org.jmapauthproxy.jmap.LocationRebaser;
import org.jmapauthproxy.jmap.PublicBase;
import org.jmapauthproxy.jmap.SessionRewriter;
import org.jmapauthproxy.ops.AccessLog;
import org.jmapauthproxy.ops.ProxyMetrics;
import org.jmapauthproxy.ops.RequestLog;
import org.jmapauthproxy.route.Cors;
import org.jmapauthproxy.route.FrontDoor;
import org.jmapauthproxy.route.InFlight;
import org.jmapauthproxy.route.ProxyRoute;
import org.jmapauthproxy.route.ProxyServer;
import org.jmapauthproxy.route.WebSocketServerOptions;
import org.jmapauthproxy.token.JwtSettings;
import org.jmapauthproxy.token.TokenExtractor;
import org.jmapauthproxy.token.TokenVerifier;
import org.jmapauthproxy.upstream.Forwarder;
import org.jmapauthproxy.upstream.Origin;
import org.jmapauthproxy.upstream.OriginSettings;
import org.jmapauthproxy.upstream.WebSocketRelay;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The one place where the request's way is built from the configuration: each step gets the
 * settings it needs, and nothing below this class reads {@link ProxyConfig}. The first bean asked
 * for validates the whole configuration ({@link ConfigCheck}, with the problems only a step can
 * see added to the same list), so a bad setting stops the process before the port opens;
 * {@link Lifecycle} asks for this bean first, before any Quarkus bean the pipeline needs (an
 * unconfigured Redis client would fail on its own, without the list).
 * Start, drain and stop are {@link Lifecycle}'s.
 */
@Singleton
public class Assembly {

    private static final Logger LOG = Logger.getLogger(Assembly.class);
    /** Characters of access lines that may wait for standard output (some 0.5 s at 30 k req/s). */
    private static final int ACCESS_LOG_BUFFER = 4 * 1024 * 1024;

    private final ProxyConfig config;
    private RedisInvalidations invalidations;
    private SessionChannels channels;

    Assembly(ProxyConfig config, @ConfigProperty(name = "quarkus.redis.hosts") Optional<String> redisHosts,
             @ConfigProperty(name = "quarkus.http.host-enabled", defaultValue = "true") boolean quarkusListener) {
        List<String> more = new ArrayList<>();
        if (quarkusListener) {
            more.add("quarkus.http.host-enabled must be false: the proxy serves quarkus.http.port itself");
        }
        cyrusKeyProblem(config).ifPresent(more::add);
        ConfigCheck.verify(config, redisHosts, more);
        this.config = config;
    }

    /** A Cyrus key file that is there but not in the format Cyrus writes. */
    private static Optional<String> cyrusKeyProblem(ProxyConfig config) {
        Optional<String> file = config.origin().jwtKeyFile();
        if (config.origin().auth() != ProxyConfig.OriginAuth.CYRUS_JWT || file.isEmpty()
                || !Files.isReadable(Path.of(file.get()))) {
            return Optional.empty();
        }
        try {
            CyrusTokenMinter.readKeyFile(Path.of(file.get()));
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("authproxy.origin.jwt-key-file cannot be used: " + e.getMessage());
        }
    }

    /**
     * The event loops of Quarkus's Vert.x: as many proxy listeners and origin pools as that. Vert.x
     * 4.5 has no public accessor for the count; {@code VertxInternal#getEventLoopGroup} is the one
     * way short of guessing Quarkus's default ({@code quarkus.vertx.event-loops-pool-size}).
     */
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
    InFlight inFlight() {
        return new InFlight();
    }

    @Produces
    @Singleton
    LongLivedStreams longLivedStreams() {
        return new LongLivedStreams();
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

    @Produces
    @Singleton
    TokenExtractor tokenExtractor() {
        return new TokenExtractor(config.token().cookieName());
    }

    @Produces
    @Singleton
    TokenVerifier tokenVerifier(Clock clock) {
        ProxyConfig.Jwt jwt = config.jwt();
        return new TokenVerifier(new JwtSettings(jwt.algorithm().name(), jwt.secret(), jwt.allowShortSecret(),
                jwt.publicKey(), jwt.sessionClaim(), jwt.leeway(), jwt.issuer(), jwt.audience(), jwt.cacheSize(),
                jwt.cacheMaxBytes().asLongValue()), clock);
    }

    /** Stops the refresh of a public key published at a URL. */
    void closeTokenVerifier(@Disposes TokenVerifier verifier) {
        verifier.close();
    }

    @Produces
    @Singleton
    CredentialStore credentialStore(Redis redis, Vertx vertx, ProxyMetrics metrics, RedisClientOptions redisOptions) {
        // Quarkus creates its Redis clients when its Redis extension starts, before any bean of ours.
        RedisOptions options = redisOptions.options().orElseThrow(() ->
                new IllegalStateException("Quarkus created no default Redis client"));
        RedisCredentialStore store = new RedisCredentialStore(redis, options.getType() != RedisClientType.CLUSTER);
        ProxyConfig.Credentials credentials = config.credentials();
        Optional<String> unsupported = RedisInvalidations.unsupported(options);
        if (credentials.cacheSize() <= 0 || unsupported.isPresent()) {
            unsupported.filter(why -> credentials.cacheSize() > 0)
                    .ifPresent(why -> LOG.warnf("session cache off: %s; every request reads Redis", why));
            channels = new SessionChannels(vertx, store, () -> false);
            return store;
        }
        CachedCredentialStore cache = new CachedCredentialStore(store, credentials.cacheSize(),
                credentials.cacheMaxBytes().asLongValue(), credentials.cacheMaxAge().toNanos(), System::nanoTime);
        channels = new SessionChannels(vertx, store, cache::leaseValid);
        invalidations = new RedisInvalidations(vertx, options, credentials.keyPrefix().orElse(""), cache, channels, redis);
        invalidations.start();
        metrics.credentialCache(cache);
        return cache;
    }

    /** The invalidation feed, when the session cache is on; {@link Lifecycle} closes it. */
    Optional<RedisInvalidations> invalidations() {
        return Optional.ofNullable(invalidations);
    }

    /** The open channels of each session; built with the store (which it re-reads). */
    @Produces
    @Singleton
    OpenChannels openChannels(CredentialStore store) {
        return channels;
    }

    @Produces
    @Singleton
    CredentialService credentialService(Vertx vertx, CredentialStore store, Clock clock) {
        ProxyConfig.Credentials credentials = config.credentials();
        SealedCredential sealed = null;
        if (credentials.encryption() == ProxyConfig.Encryption.AES_GCM) {
            List<byte[]> keys = new ArrayList<>();
            keys.add(ConfigCheck.aesKey(credentials.key().orElseThrow()));
            credentials.previousKeys().orElse(List.of()).forEach(k -> keys.add(ConfigCheck.aesKey(k)));
            sealed = new SealedCredential(keys);
        }
        CyrusTokenMinter minter = null;
        ProxyConfig.Origin origin = config.origin();
        if (origin.auth() == ProxyConfig.OriginAuth.CYRUS_JWT) {
            try {
                byte[] key = CyrusTokenMinter.readKeyFile(Path.of(origin.jwtKeyFile().orElseThrow()));
                minter = new CyrusTokenMinter(key, origin.jwtMaxAge(), origin.jwtReuseMargin(), origin.jwtLifetime(),
                        clock, config.jwt().cacheSize(), config.jwt().cacheMaxBytes().asLongValue());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return new CredentialService(vertx, store, credentials.keyPrefix().orElse(""),
                CredentialService.Encryption.valueOf(credentials.encryption().name()), sealed, minter,
                credentials.timeout());
    }

    @Produces
    @Singleton
    Origin origin(Vertx vertx) {
        ProxyConfig.Origin origin = config.origin();
        return new Origin(vertx, new OriginSettings(origin.url().orElseThrow(), origin.connectTimeout(),
                origin.idleTimeout(), origin.maxConnections(), origin.maxEventStreams(), origin.maxWaitQueue(),
                origin.trustCertificates(), origin.verifyHost()), eventLoops(vertx));
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
                        JmapLimits jmapLimits, OpenChannels channels, Tracing tracing, Clock clock) {
        PublicBase publicBase = new PublicBase(config.publicUrl(), config.trustForwardedHeaders());
        Forwarder forwarder = new Forwarder(vertx, origin, config.origin().timeout().toMillis(), metrics.openStreams(),
                longLived, List.of(new SessionRewriter(publicBase, jmapLimits),
                        new LocationRebaser(publicBase, origin.host(), origin.port(), origin.basePath())),
                config.maxUploadSize().asLongValue(), channels, clock, tracing);
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

    /**
     * No exemplar sampler for the Prometheus registry. Quarkus installs its OpenTelemetry one whenever
     * that extension is present, and it looks up the current span on every metric update, three per
     * request, creating the request context's local map to do so. It never found one here, tracing
     * on or off: the proxy makes its spans itself and does not make them current (a scope per step
     * would cost more than the link is worth). A trace is found from the trace id that the access
     * line and problem bodies carry. This alternative takes the place of Quarkus's producer.
     */
    @Produces
    @Alternative
    @Priority(Interceptor.Priority.APPLICATION + 200)
    Optional<ExemplarSampler> noExemplarSampler() {
        return Optional.empty();
    }
}
