package org.jmapauthproxy.cli;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import org.jmapauthproxy.config.ConfigCheck;
import org.jmapauthproxy.credential.SealedCredential;
import org.jmapauthproxy.token.HmacJwtSigner;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.InputStreamReader;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code session}: the operator's way to create a session the proxy accepts, exactly as a login
 * back-end would (see {@code docs/PROTOCOL.md}). It reads the password from standard input (never
 * from the command line, where {@code ps} would show it), seals it with the configured AES key,
 * stores it in Redis with a TTL, and prints the signed session token on standard output.
 *
 * <p>Settings are read like the proxy reads them: {@code application.properties} for the chosen
 * profile, overridden by system properties and environment variables.
 */
public final class SessionCommand {

    static final String USAGE = """
            usage: session --user NAME [--sid ID] [--ttl SECONDS] [--profile prod|dev] [--no-password]
              reads the password from standard input (first line), stores the sealed session in Redis
              and prints the session token. --no-password stores {"user": NAME} for origin.auth=cyrus-jwt.
            usage: session check [--sid ID] [--token-file FILE] [--profile prod|dev]
              says whether a token (FILE or standard input) and its Redis session will work.""";

    private SessionCommand() {
    }

    public static int run(String... args) {
        return run(null, System.in, System.out, System.err, args);
    }

    /**
     * @param given the settings to use, or {@code null} to read them like the proxy does for
     *              {@code --profile} (tests pass the running proxy's)
     */
    static int run(SmallRyeConfig given, InputStream in, PrintStream out, PrintStream err, String... args) {
        if (args.length > 0 && "check".equals(args[0])) {
            Map<String, String> options = new LinkedHashMap<>();
            for (int i = 1; i < args.length; i++) {
                if (args[i].startsWith("--") && i + 1 < args.length) {
                    options.put(args[i].substring(2), args[++i]);
                } else {
                    err.println(SessionCheck.USAGE);
                    return 2;
                }
            }
            try {
                return SessionCheck.run(given != null ? given : config(options.getOrDefault("profile", "prod")),
                        in, out, options);
            } catch (CommandFailure e) {
                err.println("session check: " + e.getMessage());
                return 1;
            }
        }
        Map<String, String> options = new LinkedHashMap<>();
        boolean noPassword = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if ("--no-password".equals(arg)) {
                noPassword = true;
            } else if (arg.startsWith("--") && i + 1 < args.length) {
                options.put(arg.substring(2), args[++i]);
            } else {
                err.println(USAGE);
                return 2;
            }
        }
        String user = options.get("user");
        if (user == null || user.isEmpty() || user.contains(":")) {
            err.println(USAGE);
            return 2;
        }
        try {
            SmallRyeConfig config = given != null ? given : config(options.getOrDefault("profile", "prod"));
            String sid = options.getOrDefault("sid", randomSessionId());
            long ttl = Long.parseLong(options.getOrDefault("ttl", "3600"));
            String value = noPassword ? new JsonObject().put("user", user).encode()
                    : new JsonObject().put("credentials", seal(config, sid, user, readPassword(in))).encode();
            store(config, sid, value, ttl);
            out.println(token(config, sid, user, ttl));
            err.printf("stored session %s for %s, expires in %d s%n", sid, user, ttl);
            return 0;
        } catch (CommandFailure e) {
            err.println("session: " + e.getMessage() + profileHint(options));
            return 1;
        }
    }

    /**
     * Without --profile the prod settings apply, where the key, the secret and the Redis address come
     * from the environment; the first thing a new user tries is the dev-mode setup, so say so.
     */
    static String profileHint(Map<String, String> options) {
        return options.containsKey("profile") ? "" : "\n  (no --profile given, so the prod profile's settings apply: "
                + "set them in the environment, or add --profile dev for the settings ./mvnw quarkus:dev uses)";
    }

    /** A failure the operator can act on; its message names settings, never their values. */
    static final class CommandFailure extends Exception {
        CommandFailure(String message) {
            super(message, null, false, false);
        }
    }

    static SmallRyeConfig config(String profile) {
        SmallRyeConfigBuilder builder = new SmallRyeConfigBuilder()
                .withProfile(profile)
                .addDefaultInterceptors()
                .addDefaultSources();
        URL properties = SessionCommand.class.getClassLoader().getResource("application.properties");
        if (properties != null) {
            try {
                builder.withSources(new PropertiesConfigSource(properties, 250));
            } catch (IOException e) {
                throw new IllegalStateException("cannot read application.properties", e);
            }
        }
        return builder.build();
    }

    private static String readPassword(InputStream in) throws CommandFailure {
        try {
            String line = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).readLine();
            if (line == null || line.isEmpty()) {
                throw new CommandFailure("no password on standard input");
            }
            return line;
        } catch (IOException e) {
            throw new CommandFailure("cannot read standard input");
        }
    }

    static String seal(SmallRyeConfig config, String sid, String user, String password) throws CommandFailure {
        String encryption = config.getOptionalValue("authproxy.credentials.encryption", String.class).orElse("aes-gcm");
        byte[] plaintext = (user + ":" + password).getBytes(StandardCharsets.UTF_8);
        if ("none".equals(encryption)) {
            return Base64.getEncoder().encodeToString(plaintext);
        }
        byte[] key = config.getOptionalValue("authproxy.credentials.key", String.class)
                .map(ConfigCheck::aesKey).orElse(null);
        if (key == null) {
            throw new CommandFailure("authproxy.credentials.key is missing or not base64 of 32 bytes");
        }
        byte[] nonce = new byte[SealedCredential.NONCE_BYTES];
        new SecureRandom().nextBytes(nonce);
        return SealedCredential.seal(key, nonce, sid, plaintext);
    }

    static String token(SmallRyeConfig config, String sid, String user, long ttl) throws CommandFailure {
        String algorithm = config.getOptionalValue("authproxy.jwt.algorithm", String.class).orElse("HS512");
        String secret = config.getOptionalValue("authproxy.jwt.secret", String.class).orElse("");
        if (!"HS512".equals(algorithm) || secret.isEmpty()) {
            throw new CommandFailure("signing needs authproxy.jwt.algorithm=HS512 and authproxy.jwt.secret");
        }
        String claim = config.getOptionalValue("authproxy.jwt.session-claim", String.class).orElse("sid");
        long now = System.currentTimeMillis() / 1000;
        StringBuilder payload = new StringBuilder("{\"sub\":");
        HmacJwtSigner.appendJsonString(payload, user);
        payload.append(',');
        HmacJwtSigner.appendJsonString(payload, claim);
        payload.append(':');
        HmacJwtSigner.appendJsonString(payload, sid);
        payload.append(",\"iat\":").append(now).append(",\"exp\":").append(now + ttl);
        config.getOptionalValue("authproxy.jwt.issuer", String.class).ifPresent(iss -> {
            payload.append(",\"iss\":");
            HmacJwtSigner.appendJsonString(payload, iss);
        });
        payload.append('}');
        return new HmacJwtSigner("HS512", secret.getBytes(StandardCharsets.UTF_8)).sign(payload.toString());
    }

    private static void store(SmallRyeConfig config, String sid, String value, long ttl) throws CommandFailure {
        String hosts = config.getOptionalValue("quarkus.redis.hosts", String.class).orElse("redis://127.0.0.1:6379");
        String prefix = config.getOptionalValue("authproxy.credentials.key-prefix", String.class).orElse("");
        Vertx vertx = Vertx.vertx();
        try {
            Redis redis = Redis.createClient(vertx, new RedisOptions().setConnectionString(hosts.split(",")[0].trim()));
            redis.send(Request.cmd(Command.SET).arg(prefix + sid).arg(value).arg("EX").arg(ttl))
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            redis.close();
        } catch (Exception e) {
            throw new CommandFailure("cannot store the session in Redis (quarkus.redis.hosts): " + rootMessage(e));
        } finally {
            vertx.close();
        }
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }

    private static String randomSessionId() {
        byte[] bytes = new byte[18];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
