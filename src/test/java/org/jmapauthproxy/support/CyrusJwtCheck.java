package org.jmapauthproxy.support;

import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Set;

/** The checks Cyrus 3.6's http_jwt applies to a bearer token, reimplemented for the test origin. */
final class CyrusJwtCheck {

    private static final Set<String> ALLOWED_CLAIMS = Set.of("sub", "iat", "exp", "nbf");
    static final long MAX_AGE_SECONDS = 300;

    private CyrusJwtCheck() {
    }

    /** @return the user ({@code sub}) when the header carries a token Cyrus would accept, else null */
    static String verify(String authorization, String base64Key) {
        if (authorization == null || !authorization.startsWith("Bearer ") || base64Key == null) {
            return null;
        }
        String[] parts = authorization.substring(7).split("\\.");
        if (parts.length != 3) {
            return null;
        }
        Base64.Decoder url = Base64.getUrlDecoder();
        String header = new String(url.decode(parts[0]), StandardCharsets.UTF_8);
        if (!header.equals("{\"alg\":\"HS256\",\"typ\":\"JWT\"}")) {
            return null;
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(Base64.getDecoder().decode(base64Key), "HmacSHA256"));
            byte[] expected = mac.doFinal((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
            if (!MessageDigest.isEqual(expected, url.decode(parts[2]))) {
                return null;
            }
        } catch (Exception e) {
            return null;
        }
        JsonObject claims = new JsonObject(new String(url.decode(parts[1]), StandardCharsets.UTF_8));
        if (!ALLOWED_CLAIMS.containsAll(claims.fieldNames())) {
            return null;
        }
        long now = System.currentTimeMillis() / 1000;
        Long iat = claims.getLong("iat");
        if (iat == null || now - iat > MAX_AGE_SECONDS) {
            return null;
        }
        Long exp = claims.getLong("exp");
        if (exp != null && exp < now) {
            return null;
        }
        return claims.getString("sub");
    }
}
