package org.jmapauthproxy.credential;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * The sealed-credential format: standard base64 of {@code nonce (12) ‖ ciphertext ‖ tag (16)},
 * AES-256-GCM, with the session id (UTF-8) as additional authenticated data so a sealed value
 * cannot be moved to another session. See {@code docs/PROTOCOL.md}.
 *
 * <p>Keys are tried in order (current first, then previous ones) so keys can be rotated without
 * logging everybody out.
 */
public final class SealedCredential {

    public static final int NONCE_BYTES = 12;
    public static final int TAG_BITS = 128;
    public static final int KEY_BYTES = 32;

    // Cipher instances are not thread-safe and costly to look up; one per event-loop thread.
    private static final ThreadLocal<Cipher> CIPHER = ThreadLocal.withInitial(SealedCredential::newCipher);

    private final List<SecretKeySpec> keys;

    /** @param keys raw 32-byte AES keys, current first */
    public SealedCredential(List<byte[]> keys) {
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("no key");
        }
        List<SecretKeySpec> specs = new ArrayList<>(keys.size());
        for (byte[] key : keys) {
            if (key.length != KEY_BYTES) {
                throw new IllegalArgumentException("AES-256 keys are 32 bytes");
            }
            specs.add(new SecretKeySpec(key, "AES"));
        }
        this.keys = List.copyOf(specs);
    }

    /**
     * @return the plaintext, or empty when the value is malformed or no key opens it
     */
    public Optional<byte[]> open(String sealedBase64, String sessionId) {
        byte[] sealed;
        try {
            sealed = Base64.getDecoder().decode(sealedBase64);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        if (sealed.length < NONCE_BYTES + TAG_BITS / 8) {
            return Optional.empty();
        }
        byte[] aad = sessionId.getBytes(StandardCharsets.UTF_8);
        Cipher cipher = CIPHER.get();
        GCMParameterSpec nonce = new GCMParameterSpec(TAG_BITS, sealed, 0, NONCE_BYTES);
        for (SecretKeySpec key : keys) {
            try {
                cipher.init(Cipher.DECRYPT_MODE, key, nonce);
                cipher.updateAAD(aad);
                return Optional.of(cipher.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES));
            } catch (AEADBadTagException wrongKeyOrTampered) {
                // try the next key
            } catch (GeneralSecurityException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /**
     * Seals {@code plaintext} for {@code sessionId}. The caller supplies a fresh random nonce; a nonce
     * must never be reused with the same key.
     */
    public static String seal(byte[] key, byte[] nonce, String sessionId, byte[] plaintext) {
        if (nonce.length != NONCE_BYTES) {
            throw new IllegalArgumentException("nonce must be 12 bytes");
        }
        try {
            Cipher cipher = newCipher();
            cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(sessionId.getBytes(StandardCharsets.UTF_8));
            byte[] body = cipher.doFinal(plaintext);
            byte[] out = new byte[NONCE_BYTES + body.length];
            System.arraycopy(nonce, 0, out, 0, NONCE_BYTES);
            System.arraycopy(body, 0, out, NONCE_BYTES, body.length);
            return Base64.getEncoder().encodeToString(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM unavailable", e);
        }
    }

    private static Cipher newCipher() {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM unavailable", e);
        }
    }
}
