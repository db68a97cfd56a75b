package org.jmapauthproxy.credential;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * Turns an opened {@code username:password} into the origin's {@code Authorization: Basic} value
 * (RFC 7617), refusing anything that could split or smuggle a header.
 */
public final class BasicCredentials {

    private BasicCredentials() {
    }

    /** Thrown for plaintext that is not a usable {@code username:password}. */
    public static final class Unusable extends Exception {
        public Unusable(String why) {
            super(why, null, false, false);
        }
    }

    /**
     * Builds the credential and wipes {@code plaintext}, which is the only copy of the password the
     * proxy ever holds in clear.
     */
    public static OriginCredential fromPlaintext(byte[] plaintext) throws Unusable {
        try {
            int colon = usernameEnd(plaintext);
            String username = new String(plaintext, 0, colon, StandardCharsets.UTF_8);
            return new OriginCredential(username, "Basic " + Base64.getEncoder().encodeToString(plaintext));
        } finally {
            Arrays.fill(plaintext, (byte) 0);
        }
    }

    /** The user name alone (for minted origin tokens, where the password is not used); wipes the input. */
    public static String username(byte[] plaintext) throws Unusable {
        try {
            return new String(plaintext, 0, usernameEnd(plaintext), StandardCharsets.UTF_8);
        } finally {
            Arrays.fill(plaintext, (byte) 0);
        }
    }

    /** Index of the first colon, after checking the whole value for CR, LF and NUL. */
    private static int usernameEnd(byte[] plaintext) throws Unusable {
        int colon = -1;
        for (int i = 0; i < plaintext.length; i++) {
            byte b = plaintext[i];
            if (b == '\r' || b == '\n' || b == 0) {
                throw new Unusable("control character in credentials");
            }
            if (b == ':' && colon < 0) {
                colon = i;
            }
        }
        if (colon <= 0) {
            throw new Unusable("credentials are not username:password");
        }
        return colon;
    }
}
