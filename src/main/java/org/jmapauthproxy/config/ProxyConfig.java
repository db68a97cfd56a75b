package org.jmapauthproxy.config;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Every setting of jmap-auth-proxy, under the {@code authproxy} prefix. Secrets are {@link Optional}
 * so that {@link ConfigCheck} can list every missing one at once instead of failing on the first.
 */
@ConfigMapping(prefix = "authproxy")
public interface ProxyConfig {

    /** Where the session token is looked for in the client's request. */
    Token token();

    /** Access log settings. */
    Log log();

    /** The proxy's HTTP listener. */
    Http http();

    /** How the session token is verified. */
    Jwt jwt();

    /** Where the user's credentials live and how they are sealed. */
    Credentials credentials();

    /** The origin (Cyrus) that requests are forwarded to. */
    Origin origin();

    /**
     * Public base URL of the proxy as clients see it (scheme, host, optional port, no path), used to
     * make the JMAP session URLs absolute. When unset it is derived from the request.
     */
    Optional<String> publicUrl();

    /**
     * Whether {@code X-Forwarded-For/-Proto/-Host} sent by the client are trusted (set this only behind
     * a load balancer that overwrites them). When false the proxy replaces them with what it sees.
     */
    @WithDefault("false")
    boolean trustForwardedHeaders();

    /**
     * Largest request body a client may declare in {@code Content-Length}; larger ones get 413 before
     * the origin is contacted. Cyrus's own default {@code maxSizeUpload} is 1 GiB.
     */
    @WithDefault("1G")
    MemorySize maxUploadSize();

    /** CORS for browser clients served from other origins; off while no origin is allowed. */
    Cors cors();

    /** CORS, answered by the proxy itself on the proxy port (Quarkus's CORS filter does not serve it). */
    interface Cors {
        /**
         * Origins allowed to call the proxy from a browser, exactly as browsers send them in
         * {@code Origin} ({@code scheme://host[:port]}, lower case, no default port, no path). Not
         * {@code *}: credentials (the token cookie, {@code Authorization}) are allowed. Empty: CORS off.
         */
        Optional<List<String>> allowedOrigins();

        /** How long a browser may remember a preflight answer ({@code Access-Control-Max-Age}). */
        @WithDefault("10m")
        Duration maxAge();
    }

    /** Access log settings. */
    interface Log {
        /** Add the token's {@code sub} to each access line (off by default: it identifies a person). */
        @WithDefault("false")
        boolean user();

        /**
         * Access lines are written to standard output in batches, at most this long after their
         * request ended (sooner under load). Shorter costs more writes; see docs/BENCHMARKS.md.
         */
        @WithDefault("100ms")
        Duration accessFlushInterval();
    }

    /**
     * The proxy port that clients connect to ({@code quarkus.http.host} and {@code quarkus.http.port}),
     * served by the proxy's own Vert.x listeners with their front door; Quarkus's own listener stays
     * off ({@code quarkus.http.host-enabled=false}) in every mode.
     */
    interface Http {
        /** A client connection carrying no bytes for this long is closed; event streams send pings. */
        @WithDefault("30m")
        Duration idleTimeout();

        /** Largest request head (request line and headers) accepted; larger ones get 431. */
        @WithDefault("20K")
        MemorySize maxHeaderSize();

        /**
         * How long a client connection may wait before the first byte of its next request: a new
         * connection, or a kept-alive one after its last response. Then it is closed, without an answer.
         */
        @WithDefault("10s")
        Duration keepAliveTimeout();

        /** How long a request head may take from its first byte to its end; then 408 and close. */
        @WithDefault("20s")
        Duration requestHeaderTimeout();

        /**
         * How long a request body may pause while the proxy is reading it; then the origin exchange is
         * reset and the connection closed (408 when no response has started).
         */
        @WithDefault("60s")
        Duration bodyTimeout();

        /** Client connections open at once; one more is answered 503 and closed. */
        @WithDefault("10000")
        int maxConnections();

    }

    /** Token extraction settings. */
    interface Token {
        /** Name of the cookie that carries the token when no {@code Authorization: Bearer} header is sent. */
        @WithDefault("Authorization")
        String cookieName();
    }

    /** Token verification settings (SmallRye JWT). */
    interface Jwt {
        /** Signature algorithm: {@code HS512} (default), {@code RS256} or {@code ES256}. */
        @WithDefault("HS512")
        JwtAlgorithm algorithm();

        /** HMAC secret for HS512; its UTF-8 bytes are the key. At least 64 bytes. */
        Optional<String> secret();

        /** Accept an HS512 secret shorter than 64 bytes (logs a warning). For legacy deployments only. */
        @WithDefault("false")
        boolean allowShortSecret();

        /** For RS256/ES256: PEM public key, JWK or JWKS, inline or as a location (file:, classpath: or https:). */
        Optional<String> publicKey();

        /** Name of the claim that carries the session id (the Redis key suffix). */
        @WithDefault("sid")
        String sessionClaim();

        /** Clock skew tolerated on {@code exp} and {@code nbf}. */
        @WithDefault("30s")
        Duration leeway();

        /** Expected {@code iss}; enforced only when set. */
        Optional<String> issuer();

        /** Expected {@code aud} (any of); enforced only when set. */
        Optional<List<String>> audience();

        /**
         * How many verified tokens are remembered, so a token is verified once and not on every request.
         * In {@code cyrus-jwt} mode, also how many users' minted origin tokens are remembered.
         */
        @WithDefault("10000")
        int cacheSize();

        /**
         * Bytes the remembered tokens may take at most (an estimate of the heap they hold), besides
         * {@code cache-size}: a token larger than {@code cache-max-bytes / cache-size} counts as that
         * many entries. The same bound applies to the minted origin tokens.
         */
        @WithDefault("16M")
        MemorySize cacheMaxBytes();
    }

    /** Credential store settings. */
    interface Credentials {
        /** Prefix put before the session id to form the Redis key. */
        Optional<String> keyPrefix();

        /** {@code aes-gcm} (default) or {@code none} (value already is base64 of user:password). */
        @WithDefault("aes-gcm")
        Encryption encryption();

        /** Current AES-256 key, standard base64 of 32 bytes. */
        Optional<String> key();

        /** Older AES-256 keys, tried after the current one while entries sealed with them remain. */
        Optional<List<String>> previousKeys();

        /**
         * Sessions (still sealed) remembered between requests; 0 turns the cache off. The cache is used
         * only while Redis's invalidation feed ({@code CLIENT TRACKING}, Redis 6+, standalone) is
         * connected, so a deleted or changed session takes effect at once.
         */
        @WithDefault("10000")
        int cacheSize();

        /**
         * Bytes the remembered sessions may take at most (an estimate of the heap they hold), besides
         * {@code cache-size}: a session larger than {@code cache-max-bytes / cache-size} counts as that
         * many entries.
         */
        @WithDefault("8M")
        MemorySize cacheMaxBytes();

        /** A remembered session is fetched again after this long, even without an invalidation. */
        @WithDefault("60s")
        Duration cacheMaxAge();

        /** How long the Redis lookup may take before the request is answered 503. */
        @WithDefault("2s")
        Duration timeout();
    }

    /** Origin settings. */
    interface Origin {
        /** Base URL of the origin, e.g. {@code http://127.0.0.1:8008}; a path is prefixed to every request. */
        Optional<String> url();

        /**
         * Time allowed from sending the request to the origin's first response byte; for a request
         * with a body, from the last of the body passed on (an upload that keeps flowing is not cut).
         */
        @WithDefault("60s")
        Duration timeout();

        /** Time allowed to open a TCP connection to the origin. */
        @WithDefault("5s")
        Duration connectTimeout();

        /**
         * A connection carrying no bytes for this long is closed, streams included; must exceed the
         * JMAP EventSource {@code ping} interval that clients ask for.
         */
        @WithDefault("10m")
        Duration idleTimeout();

        /** Pooled keep-alive connections for ordinary requests. */
        @WithDefault("64")
        int maxConnections();

        /** Separate pool for long-lived event streams, so they never starve ordinary requests. */
        @WithDefault("1024")
        int maxEventStreams();

        /** Requests allowed to wait for a pooled connection before new ones are refused with 503. */
        @WithDefault("1024")
        int maxWaitQueue();

        /**
         * For an {@code https} origin: PEM file of the certificates (CA or self-signed) to trust instead
         * of the JVM's default trust store.
         */
        Optional<String> trustCertificates();

        /** For an {@code https} origin: check that its certificate names the origin host. */
        @WithDefault("true")
        boolean verifyHost();

        /** {@code basic} (default: the user's sealed password) or {@code cyrus-jwt} (minted bearer). */
        @WithDefault("basic")
        OriginAuth auth();

        /** For {@code cyrus-jwt}: file holding the HMAC key in Cyrus's PEM form ({@code BEGIN HMAC KEY}). */
        Optional<String> jwtKeyFile();

        /** For {@code cyrus-jwt}: Cyrus's {@code http_jwt_max_age}; minted tokens are never reused past it. */
        @WithDefault("5m")
        Duration jwtMaxAge();

        /** For {@code cyrus-jwt}: a minted token is replaced this long before it reaches the max age. */
        @WithDefault("60s")
        Duration jwtReuseMargin();

        /** For {@code cyrus-jwt}: add an {@code exp} claim this far after {@code iat}; unset means none. */
        Optional<Duration> jwtLifetime();
    }

    /** The token signatures the proxy verifies. */
    enum JwtAlgorithm { HS512, RS256, ES256 }

    /** How the password is sealed in the stored session value ({@code aes-gcm} or {@code none}). */
    enum Encryption { AES_GCM, NONE }

    /** How the proxy authenticates to the origin ({@code basic} or {@code cyrus-jwt}). */
    enum OriginAuth { BASIC, CYRUS_JWT }
}
