package org.jmapauthproxy.token;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;

/**
 * Signs a compact JWS with HMAC over exactly the header and payload JSON given, byte for byte.
 * Used where the bytes matter: tokens minted for Cyrus (which rejects any header but
 * {@code {"alg":"HS256","typ":"JWT"}}) and session tokens printed by the session command.
 */
public final class HmacJwtSigner {

    private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

    private final String alg;
    private final String javaAlg;
    private final byte[] key;
    private final String encodedHeader;

    /**
     * @param alg {@code HS256} or {@code HS512}
     * @param key the HMAC key bytes
     */
    public HmacJwtSigner(String alg, byte[] key) {
        this.alg = alg;
        this.javaAlg = switch (alg) {
            case "HS256" -> "HmacSHA256";
            case "HS512" -> "HmacSHA512";
            default -> throw new IllegalArgumentException("unsupported algorithm " + alg);
        };
        this.key = key.clone();
        this.encodedHeader = B64URL.encodeToString(
                ("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}").getBytes(StandardCharsets.UTF_8));
    }

    public String algorithm() {
        return alg;
    }

    /** {@code base64url(header).base64url(payloadJson).base64url(hmac)}. */
    public String sign(String payloadJson) {
        String signingInput = encodedHeader + '.'
                + B64URL.encodeToString(payloadJson.getBytes(StandardCharsets.UTF_8));
        try {
            Mac mac = Mac.getInstance(javaAlg);
            mac.init(new SecretKeySpec(key, javaAlg));
            byte[] signature = mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII));
            return signingInput + '.' + B64URL.encodeToString(signature);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC unavailable", e);
        }
    }

    @Override
    public String toString() {
        return "HmacJwtSigner[" + alg + "]";
    }

    /** Appends {@code s} as a JSON string literal (RFC 8259 §7), for payloads built by hand. */
    public static void appendJsonString(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
