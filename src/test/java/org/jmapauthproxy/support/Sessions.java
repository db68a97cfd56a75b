package org.jmapauthproxy.support;

import io.quarkus.redis.datasource.RedisDataSource;
import io.vertx.core.json.JsonObject;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jmapauthproxy.credential.SealedCredential;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.UUID;

/** Writes sessions into the real Redis the way a login back-end does, and signs their tokens. */
public final class Sessions {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final RedisDataSource redis;
    private final String secret;
    private final byte[] key;

    public Sessions(RedisDataSource redis) {
        this.redis = redis;
        this.secret = ConfigProvider.getConfig().getValue("authproxy.jwt.secret", String.class);
        this.key = Base64.getDecoder().decode(ConfigProvider.getConfig().getValue("authproxy.credentials.key", String.class));
    }

    public static String newSid() {
        return "sid-" + UUID.randomUUID();
    }

    /** Stores {@code credentials} sealed with the current key and returns a token valid for 10 minutes. */
    public String create(String sid, String usernameColonPassword) {
        store(sid, sealed(key, sid, usernameColonPassword));
        return token(sid, 600);
    }

    public String sealed(byte[] withKey, String sid, String plaintext) {
        byte[] nonce = new byte[SealedCredential.NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        return SealedCredential.seal(withKey, nonce, sid, plaintext.getBytes(StandardCharsets.UTF_8));
    }

    public void store(String sid, String sealedCredentials) {
        storeRaw(sid, new JsonObject().put("credentials", sealedCredentials).put("created", "by-test").encode());
    }

    public void storeRaw(String sid, String json) {
        redis.value(String.class).set(sid, json);
    }

    public void delete(String sid) {
        redis.key().del(sid);
    }

    public String token(String sid, long expInSeconds) {
        return Jwts.hs512(Jwts.claims(sid, expInSeconds, null), secret);
    }

    public String secret() {
        return secret;
    }
}
