package org.jmapauthproxy.cli;

import io.smallrye.config.SmallRyeConfig;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.jmapauthproxy.config.ConfigCheck;
import org.jmapauthproxy.credential.CredentialService;
import org.jmapauthproxy.credential.CredentialService.Encryption;
import org.jmapauthproxy.credential.OriginCredential;
import org.jmapauthproxy.credential.SealedCredential;
import org.jmapauthproxy.credential.StoredSession;
import org.jmapauthproxy.exchange.ProxyFailure;
import org.jmapauthproxy.token.SessionToken;
import org.jmapauthproxy.token.TokenExtractor;
import org.jmapauthproxy.token.JwtSettings;
import org.jmapauthproxy.token.TokenVerifier;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * {@code session check}: tells an operator whether a session token and the Redis value it names will
 * work with the configured settings, and why not, e.g. after moving from hyper-auth-proxy. It runs the
 * proxy's own token verification and credential opening; it prints verdicts, the session id, the
 * subject and the origin user name, never the token, the password or a key.
 */
final class SessionCheck {

    static final String USAGE = """
            usage: session check [--sid ID] [--token-file FILE] [--profile prod|dev]
              reads the session token from FILE, else from standard input (first line; a Bearer header
              value or a cookie value in any form the proxy accepts), verifies it, reads the session it
              names (or --sid) from Redis and says whether the proxy will accept both. Exit status 0 when
              they will work, 1 when not.""";

    private final SmallRyeConfig config;
    private final PrintStream out;
    private final List<String> problems = new ArrayList<>();

    private SessionCheck(SmallRyeConfig config, PrintStream out) {
        this.config = config;
        this.out = out;
    }

    static int run(SmallRyeConfig config, InputStream in, PrintStream out, Map<String, String> options)
            throws SessionCommand.CommandFailure {
        return new SessionCheck(config, out).check(options, in);
    }

    private int check(Map<String, String> options, InputStream in) throws SessionCommand.CommandFailure {
        String sid = options.get("sid");
        String token = readToken(options.get("token-file"), in);
        if (token == null && sid == null) {
            throw new SessionCommand.CommandFailure("give a token (--token-file or standard input) or --sid");
        }
        if (token != null) {
            SessionToken verified = checkToken(token);
            if (verified != null) {
                if (sid != null && !sid.equals(verified.sessionId())) {
                    problem("the token names session " + verified.sessionId() + ", not --sid " + sid);
                }
                sid = verified.sessionId();
            }
        }
        if (sid != null) {
            checkSession(sid);
        }
        if (problems.isEmpty()) {
            out.println("result: the proxy will accept this token and session");
            return 0;
        }
        out.println("result: will NOT work (" + problems.size() + " problem" + (problems.size() == 1 ? "" : "s") + ")");
        return 1;
    }

    private void problem(String line) {
        problems.add(line);
        out.println("  problem: " + line);
    }

    private static String readToken(String file, InputStream in) throws SessionCommand.CommandFailure {
        try {
            String line;
            if (file != null) {
                List<String> lines = Files.readAllLines(Path.of(file), StandardCharsets.UTF_8);
                line = lines.isEmpty() ? null : lines.get(0);
            } else {
                line = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).readLine();
            }
            return line == null || line.isBlank() ? null : line.trim();
        } catch (IOException e) {
            throw new SessionCommand.CommandFailure("cannot read the token" + (file == null ? " from standard input" : " file"));
        }
    }

    private SessionToken checkToken(String given) {
        String cookieName = config.getOptionalValue("authproxy.token.cookie-name", String.class).orElse("Authorization");
        TokenExtractor extractor = new TokenExtractor(cookieName);
        TokenExtractor.Found found = given.regionMatches(true, 0, "Bearer ", 0, 7)
                ? extractor.find(given, List.of())
                : extractor.find(null, List.of(cookieName + "=" + given));
        if (!(found instanceof TokenExtractor.Compact compact)) {
            out.println("token: not a JWT, nor the base64 or quoted forms of one");
            problem("the token is malformed");
            return null;
        }
        TokenVerifier verifier;
        try {
            verifier = new TokenVerifier(jwt(), Clock.systemUTC());
        } catch (RuntimeException e) {
            out.println("token: cannot be checked");
            problem("the authproxy.jwt.* settings cannot verify tokens (run the proxy to see which)");
            return null;
        }
        try (verifier) {
            SessionToken token = verifier.verify(compact.jwt());
            long left = token.expiresAt() - Instant.now().getEpochSecond();
            out.println("token: valid, session " + token.sessionId() + ", subject "
                    + (token.subject() == null ? "(none)" : token.subject()) + ", expires "
                    + Instant.ofEpochSecond(token.expiresAt()) + " (in " + left + " s)");
            return token;
        } catch (ProxyFailure failure) {
            out.println("token: refused: " + failure.getMessage());
            problem("token " + failure.getMessage() + hint(failure.getMessage()));
            return null;
        }
    }

    private String hint(String detail) {
        return switch (detail) {
            case "missing claim exp" -> " (hyper-auth-proxy did not check exp; jmap-auth-proxy requires it:"
                    + " issue tokens with exp)";
            case "bad signature" -> " (signed with another key than authproxy.jwt.secret / public-key)";
            case "algorithm not accepted" -> " (authproxy.jwt.algorithm is "
                    + config.getOptionalValue("authproxy.jwt.algorithm", String.class).orElse("HS512") + ")";
            case "verification key not usable" -> " (an HS512 secret under 64 bytes needs"
                    + " authproxy.jwt.allow-short-secret=true)";
            default -> "";
        };
    }

    private void checkSession(String sid) throws SessionCommand.CommandFailure {
        String prefix = config.getOptionalValue("authproxy.credentials.key-prefix", String.class).orElse("");
        String key = prefix + sid;
        Response[] answers = redis(Request.cmd(Command.GET).arg(key), Request.cmd(Command.TTL).arg(key));
        if (answers[0] == null) {
            out.println("session: no value at Redis key " + key);
            problem("unknown session (expired, deleted, or another key-prefix: authproxy.credentials.key-prefix)");
            return;
        }
        long ttl = answers[1] == null ? -2 : answers[1].toLong();
        Buffer value = answers[0].toBuffer();
        StoredSession session = StoredSession.parse(value);
        Encryption encryption = switch (config.getOptionalValue("authproxy.credentials.encryption", String.class)
                .orElse("aes-gcm").toLowerCase(java.util.Locale.ROOT)) {
            case "aes-gcm" -> Encryption.AES_GCM;
            case "none" -> Encryption.NONE;
            default -> null;
        };
        String mode = config.getOptionalValue("authproxy.origin.auth", String.class).orElse("basic");
        String what = "session: Redis key " + key + ", " + value.length() + " bytes, "
                + (ttl >= 0 ? "expires in " + ttl + " s" : "no expiry");
        if (session.malformed()) {
            out.println(what);
            problem("the value is not a JSON object of at most " + StoredSession.MAX_BYTES + " bytes");
            return;
        }
        if ("cyrus-jwt".equals(mode) && session.credentials() == null) {
            out.println(what + ", user " + session.user() + " (cyrus-jwt)");
            if (session.user() == null || session.user().isEmpty()) {
                problem("cyrus-jwt needs {\"user\": NAME} or sealed credentials");
            }
            return;
        }
        if (encryption == null) {
            out.println(what);
            problem("authproxy.credentials.encryption must be aes-gcm or none");
            return;
        }
        try {
            OriginCredential credential = service(encryption).decode(session, sid);
            out.println(what + ", credentials open for origin user " + credential.username());
        } catch (ProxyFailure failure) {
            out.println(what);
            problem("credentials: " + failure.getMessage() + credentialHint(session, encryption, sid));
        } catch (IllegalArgumentException e) {
            out.println(what);
            problem("authproxy.credentials.key / previous-keys are not base64 of 32 bytes");
        }
    }

    /** Why a stored value that does not open may be in another format than the configured one. */
    private static String credentialHint(StoredSession session, Encryption encryption, String sid) {
        if (session.credentials() == null) {
            return "";
        }
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(session.credentials());
        } catch (IllegalArgumentException e) {
            return " (the value is not standard base64)";
        }
        boolean plain = looksLikeUserColonPassword(decoded);
        java.util.Arrays.fill(decoded, (byte) 0);
        if (encryption == Encryption.AES_GCM && plain) {
            return " (it is plain base64 of user:password, hyper-auth-proxy's unsealed form: set"
                    + " authproxy.credentials.encryption=none or seal it, docs/PROTOCOL.md)";
        }
        if (encryption == Encryption.AES_GCM) {
            return " (sealed with another key, or for another session id than " + sid + ")";
        }
        return "";
    }

    private static boolean looksLikeUserColonPassword(byte[] decoded) {
        int colon = -1;
        for (int i = 0; i < decoded.length; i++) {
            if (decoded[i] == ':') {
                colon = i;
                break;
            }
        }
        if (colon <= 0) {
            return false;
        }
        for (byte b : decoded) {
            if ((b & 0xff) < 0x20 && b != '\n' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    private CredentialService service(Encryption encryption) {
        SealedCredential sealed = null;
        if (encryption == Encryption.AES_GCM) {
            List<byte[]> keys = new ArrayList<>();
            keys.add(key(config.getOptionalValue("authproxy.credentials.key", String.class).orElse("")));
            for (String previous : config.getOptionalValues("authproxy.credentials.previous-keys", String.class)
                    .orElse(List.of())) {
                keys.add(key(previous));
            }
            sealed = new SealedCredential(keys);
        }
        return new CredentialService(null, null, "", encryption, sealed, null, Duration.ofSeconds(1));
    }

    private static byte[] key(String base64) {
        byte[] key = ConfigCheck.aesKey(base64);
        if (key == null) {
            throw new IllegalArgumentException("not an AES-256 key");
        }
        return key;
    }

    private Response[] redis(Request... requests) throws SessionCommand.CommandFailure {
        String hosts = config.getOptionalValue("quarkus.redis.hosts", String.class).orElse("redis://127.0.0.1:6379");
        Vertx vertx = Vertx.vertx();
        try {
            Redis redis = Redis.createClient(vertx, new RedisOptions().setConnectionString(hosts.split(",")[0].trim()));
            Response[] answers = new Response[requests.length];
            for (int i = 0; i < requests.length; i++) {
                answers[i] = redis.send(requests[i]).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
            redis.close();
            return answers;
        } catch (Exception e) {
            throw new SessionCommand.CommandFailure("cannot read the session from Redis (quarkus.redis.hosts): "
                    + SessionCommand.rootMessage(e));
        } finally {
            vertx.close();
        }
    }

    /** The token settings as the proxy reads them, without building the whole configuration mapping. */
    private JwtSettings jwt() {
        return new JwtSettings(
                config.getOptionalValue("authproxy.jwt.algorithm", String.class).orElse("HS512"),
                config.getOptionalValue("authproxy.jwt.secret", String.class),
                config.getOptionalValue("authproxy.jwt.allow-short-secret", Boolean.class).orElse(false),
                config.getOptionalValue("authproxy.jwt.public-key", String.class),
                config.getOptionalValue("authproxy.jwt.session-claim", String.class).orElse("sid"),
                config.getOptionalValue("authproxy.jwt.leeway", Duration.class).orElse(Duration.ofSeconds(30)),
                config.getOptionalValue("authproxy.jwt.issuer", String.class),
                config.getOptionalValues("authproxy.jwt.audience", String.class),
                0, 0);
    }
}
