package org.jmapauthproxy.credential;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

/**
 * A session value as the login back-end stored it ({@code docs/PROTOCOL.md}), parsed once: the
 * sealed {@code credentials} and/or the {@code user}. Holds nothing in clear but the user name.
 *
 * @param credentials the sealed (or, with encryption {@code none}, base64) credentials, or null
 * @param user        the user name for {@code cyrus-jwt} sessions, or null
 * @param malformed   true when the value is not a JSON object, or larger than {@link #MAX_BYTES}
 */
public record StoredSession(String credentials, String user, boolean malformed) {

    static final StoredSession MALFORMED = new StoredSession(null, null, true);

    /**
     * Largest stored value read, in bytes. Sealed credentials take under 200; a value this large is
     * no session of the login back-end's, and decoding many of them would fill the heap.
     */
    public static final int MAX_BYTES = 4096;

    /** Parses a stored value; other JSON members are ignored. Values over {@link #MAX_BYTES} are malformed. */
    public static StoredSession parse(Buffer value) {
        if (value.length() > MAX_BYTES) {
            return MALFORMED;
        }
        JsonObject json;
        try {
            json = value.toJsonObject();
        } catch (DecodeException | ClassCastException e) {
            return MALFORMED;
        }
        Object credentials = json.getValue("credentials");
        Object user = json.getValue("user");
        return new StoredSession(credentials instanceof String c ? withoutTrailingWhitespace(c) : null,
                user instanceof String u ? u : null, false);
    }

    /**
     * The encoded credentials without trailing white space. Back-ends migrated from hyper-auth-proxy
     * may have stored raw shell {@code base64} output, which ends in a newline; hyper-auth-proxy took
     * one trailing {@code \n} off the value before putting it after {@code Basic}. Base64 itself
     * never ends in white space, so nothing a sealed value needs is lost. The decoded plaintext is
     * not trimmed: a newline inside it is part of the password (hyper-auth-proxy sent it to the
     * origin too) and is refused as a header-breaking character.
     */
    static String withoutTrailingWhitespace(String encoded) {
        int end = encoded.length();
        while (end > 0 && isWhitespace(encoded.charAt(end - 1))) {
            end--;
        }
        return end == encoded.length() ? encoded : encoded.substring(0, end);
    }

    private static boolean isWhitespace(char c) {
        return c == '\n' || c == '\r' || c == ' ' || c == '\t';
    }

    /**
     * The value as the proxy understood it, to tell whether a session changed: the sealed
     * credentials and the user name, nothing in clear that the store does not hold in clear.
     */
    public String fingerprint() {
        return (credentials == null ? "" : credentials) + '\u0000' + (user == null ? "" : user);
    }

    @Override
    public String toString() {
        return "StoredSession[user=" + user + ", credentials=" + (credentials == null ? "none" : "sealed") + "]";
    }
}
