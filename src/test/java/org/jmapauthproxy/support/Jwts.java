package org.jmapauthproxy.support;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Builds compact JWS with any header, for tests that need tokens the proxy must refuse. */
public final class Jwts {

    private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

    private Jwts() {
    }

    public static String hmac(String javaAlg, String header, String payload, byte[] key) {
        String input = B64URL.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + B64URL.encodeToString(payload.getBytes(StandardCharsets.UTF_8));
        try {
            Mac mac = Mac.getInstance(javaAlg);
            mac.init(new SecretKeySpec(key, javaAlg));
            return input + "." + B64URL.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static String hs512(String payload, String secret) {
        return hmac("HmacSHA512", "{\"alg\":\"HS512\",\"typ\":\"JWT\"}", payload, secret.getBytes(StandardCharsets.UTF_8));
    }

    /** Claims for a session: sid, exp relative to now (seconds), optional extra JSON members. */
    public static String claims(String sid, long expInSeconds, String extra) {
        long now = System.currentTimeMillis() / 1000;
        long iat = now + Math.min(0, expInSeconds) - 1;
        return "{\"sub\":\"alice\",\"sid\":\"" + sid + "\",\"iat\":" + iat + ",\"exp\":" + (now + expInSeconds)
                + (extra == null || extra.isEmpty() ? "" : "," + extra) + "}";
    }

    public static long now() {
        return System.currentTimeMillis() / 1000;
    }
}
