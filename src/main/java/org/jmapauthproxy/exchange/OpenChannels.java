package org.jmapauthproxy.exchange;

/**
 * The long-lived channels (event streams, WebSockets) open for each session, so that deleting or
 * changing a session in the store ends its channels too, within the revocation bound, and never
 * another session's.
 */
public interface OpenChannels {

    /**
     * Registers one channel of the session stored at {@code sessionKey}.
     *
     * @param fingerprint what the stored value was when the channel was authorised (sealed, never a
     *                    credential in clear); another value means the session changed
     * @param revoke      ends the channel; may be called on any thread, at most once
     * @return unregisters the channel (call when it ends by itself)
     */
    Runnable register(String sessionKey, String fingerprint, Runnable revoke);

    /** Nothing is watched: for assemblies without a store (tests of other steps). */
    OpenChannels NONE = (key, fingerprint, revoke) -> () -> { };
}
