package org.jmapauthproxy.config;

import org.jboss.logging.Logger;
import org.jmapauthproxy.config.ProxyConfig.Encryption;
import org.jmapauthproxy.config.ProxyConfig.JwtAlgorithm;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Start-up validation of {@link ProxyConfig}: every problem is collected and reported in one
 * exception, so an operator fixes the whole file at once instead of one restart per mistake.
 * Messages name the setting, never its value. Values of the wrong type (an unknown enum constant, a
 * malformed duration) are refused earlier, by SmallRye Config, which also lists them all at once.
 */
public final class ConfigCheck {

    private static final Logger LOG = Logger.getLogger(ConfigCheck.class);

    static final int MIN_HS512_SECRET_BYTES = 64;
    /** AES-256 keys are 32 bytes. */
    static final int AES_KEY_BYTES = 32;

    private ConfigCheck() {
    }

    /** Thrown when the configuration cannot work; the message lists every problem. */
    public static final class InvalidConfig extends RuntimeException {
        public InvalidConfig(List<String> problems) {
            super("jmap-auth-proxy cannot start, fix these settings:\n  - " + String.join("\n  - ", problems),
                    null, false, false);
        }
    }

    /**
     * Validates, logs the warnings that deliberate weak choices deserve, and throws on problems.
     *
     * @param more problems found by whoever assembles the proxy (e.g. a key file that is present but
     *             not in the expected format), reported in the same list
     */
    public static void verify(ProxyConfig config, Optional<String> redisHosts, List<String> more) {
        List<String> problems = new ArrayList<>(problems(config, redisHosts));
        problems.addAll(more);
        if (!problems.isEmpty()) {
            InvalidConfig invalid = new InvalidConfig(problems);
            // Console logging is asynchronous and the process exits right after a failed start, so
            // the one message an operator must see also goes to standard error directly.
            System.err.println(invalid.getMessage());
            System.err.flush();
            throw invalid;
        }
        ProxyConfig.Jwt jwt = config.jwt();
        if (jwt.algorithm() == JwtAlgorithm.HS512
                && jwt.secret().orElse("").getBytes(StandardCharsets.UTF_8).length < MIN_HS512_SECRET_BYTES) {
            LOG.warn("authproxy.jwt.secret is shorter than 64 bytes (allowed by authproxy.jwt.allow-short-secret); "
                    + "use a longer random secret");
        }
        if (config.credentials().encryption() == Encryption.NONE) {
            LOG.warn("authproxy.credentials.encryption=none: passwords are stored in Redis only base64-encoded");
        }
    }

    /**
     * Every problem with the configuration; empty when it can work.
     *
     * @param redisHosts {@code quarkus.redis.hosts}, Quarkus's own setting, read here so that its
     *                   absence is listed with the rest instead of stopping start-up alone
     */
    public static List<String> problems(ProxyConfig config, Optional<String> redisHosts) {
        List<String> problems = new ArrayList<>();
        if (redisHosts.map(String::isBlank).orElse(true)) {
            problems.add("quarkus.redis.hosts is not set (the session store, e.g. redis://redis:6379)");
        }
        checkJwt(config.jwt(), problems);
        checkCredentials(config, problems);
        checkOrigin(config.origin(), problems);
        config.publicUrl().ifPresent(url -> {
            if (!isHttpUrl(url)) {
                problems.add("authproxy.public-url must be an absolute http(s) URL");
            }
        });
        List<String> origins = config.cors().allowedOrigins().orElse(List.of());
        for (int i = 0; i < origins.size(); i++) {
            String problem = corsOriginProblem(origins.get(i));
            if (problem != null) {
                problems.add("authproxy.cors.allowed-origins[" + i + "] " + problem);
            }
        }
        if (config.cors().maxAge().isNegative()) {
            problems.add("authproxy.cors.max-age must not be negative");
        }
        if (config.maxUploadSize().asLongValue() <= 0) {
            problems.add("authproxy.max-upload-size must be positive");
        }
        return problems;
    }

    private static void checkJwt(ProxyConfig.Jwt jwt, List<String> problems) {
        if (jwt.algorithm() == JwtAlgorithm.HS512) {
            int length = jwt.secret().orElse("").getBytes(StandardCharsets.UTF_8).length;
            if (length == 0) {
                problems.add("authproxy.jwt.secret is missing (HS512 needs it)");
            } else if (length < MIN_HS512_SECRET_BYTES && !jwt.allowShortSecret()) {
                problems.add("authproxy.jwt.secret is " + length + " bytes; HS512 needs at least 64 "
                        + "(or set authproxy.jwt.allow-short-secret=true)");
            }
        } else if (jwt.publicKey().isEmpty()) {
            problems.add("authproxy.jwt.public-key is missing (" + jwt.algorithm() + " needs it)");
        }
        if (jwt.sessionClaim().isBlank()) {
            problems.add("authproxy.jwt.session-claim must not be empty");
        }
        if (jwt.leeway().isNegative()) {
            problems.add("authproxy.jwt.leeway must not be negative");
        }
        if (jwt.cacheSize() > 0 && jwt.cacheMaxBytes().asLongValue() <= 0) {
            problems.add("authproxy.jwt.cache-max-bytes must be positive (cache-size=0 turns the cache off)");
        }
    }

    private static void checkCredentials(ProxyConfig config, List<String> problems) {
        ProxyConfig.Credentials credentials = config.credentials();
        if (credentials.encryption() == Encryption.AES_GCM) {
            if (credentials.key().isEmpty()) {
                problems.add("authproxy.credentials.key is missing (aes-gcm needs base64 of 32 bytes)");
            } else if (aesKey(credentials.key().get()) == null) {
                problems.add("authproxy.credentials.key is not base64 of exactly 32 bytes");
            }
            List<String> previous = credentials.previousKeys().orElse(List.of());
            for (int i = 0; i < previous.size(); i++) {
                if (aesKey(previous.get(i)) == null) {
                    problems.add("authproxy.credentials.previous-keys[" + i + "] is not base64 of exactly 32 bytes");
                }
            }
        }
        if (credentials.timeout().isNegative() || credentials.timeout().isZero()) {
            problems.add("authproxy.credentials.timeout must be positive");
        }
        if (credentials.cacheSize() > 0 && credentials.cacheMaxBytes().asLongValue() <= 0) {
            problems.add("authproxy.credentials.cache-max-bytes must be positive (cache-size=0 turns the cache off)");
        }
    }

    private static void checkOrigin(ProxyConfig.Origin origin, List<String> problems) {
        if (origin.url().isEmpty()) {
            problems.add("authproxy.origin.url is missing");
        } else if (!isHttpUrl(origin.url().get())) {
            problems.add("authproxy.origin.url must be an absolute http(s) URL without query");
        }
        if (origin.timeout().isNegative() || origin.timeout().isZero()) {
            problems.add("authproxy.origin.timeout must be positive");
        }
        if (origin.maxConnections() < 1 || origin.maxEventStreams() < 1) {
            problems.add("authproxy.origin.max-connections and max-event-streams must be at least 1");
        }
        if (origin.auth() == ProxyConfig.OriginAuth.CYRUS_JWT) {
            if (origin.jwtKeyFile().isEmpty()) {
                problems.add("authproxy.origin.jwt-key-file is missing (cyrus-jwt needs it)");
            } else if (!Files.isReadable(Path.of(origin.jwtKeyFile().get()))) {
                problems.add("authproxy.origin.jwt-key-file cannot be used: not a readable file");
            }
            if (origin.jwtReuseMargin().compareTo(origin.jwtMaxAge()) >= 0) {
                problems.add("authproxy.origin.jwt-reuse-margin must be shorter than jwt-max-age");
            }
        }
    }

    /**
     * Why a CORS origin cannot match what a browser sends in {@code Origin} (the serialised origin:
     * scheme, host, port when not the default, nothing else), or {@code null} when it can.
     */
    static String corsOriginProblem(String origin) {
        if (origin.contains("*")) {
            return "must not be a wildcard: credentials are allowed, so each origin is named";
        }
        URI uri;
        try {
            uri = URI.create(origin);
        } catch (IllegalArgumentException e) {
            return "must be scheme://host[:port]";
        }
        String scheme = uri.getScheme();
        if (scheme == null || !(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null
                || uri.getRawUserInfo() != null || uri.getRawQuery() != null || uri.getRawFragment() != null
                || !(uri.getRawPath() == null || uri.getRawPath().isEmpty())) {
            return "must be scheme://host[:port] (http or https, no path, not even /)";
        }
        int defaultPort = scheme.equals("https") ? 443 : 80;
        String serialised = scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT)
                + (uri.getPort() < 0 || uri.getPort() == defaultPort ? "" : ":" + uri.getPort());
        if (!serialised.equals(origin)) {
            return "must be written as browsers send it: " + serialised;
        }
        return null;
    }

    /** Decodes a base64 AES-256 key, or {@code null} when it is not exactly 32 bytes of base64. */
    public static byte[] aesKey(String base64) {
        try {
            byte[] key = Base64.getDecoder().decode(base64.trim());
            return key.length == AES_KEY_BYTES ? key : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static boolean isHttpUrl(String url) {
        try {
            URI uri = URI.create(url);
            return ("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))
                    && uri.getHost() != null && uri.getRawQuery() == null && uri.getRawFragment() == null;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
