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
        return new StoredSession(credentials instanceof String c ? c : null, user instanceof String u ? u : null, false);
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
