package org.jmapauthproxy.credential;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vectors of docs/PROTOCOL.md. They were computed with Node.js's crypto module (an implementation
 * independent of this project), so a match here means any AES-256-GCM library interoperates.
 */
class SealedCredentialTest {

    static final byte[] KEY = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    static final byte[] OLD_KEY = HexFormat.of().parseHex("1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100");

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "000102030405060708090a0b|sid-0001|alice:correct horse battery staple|AAECAwQFBgcICQoLJm6/eKDfoXT/M/LoxckQAvGl4hSSGisIXRWcpW4dYcJtddS9FPfJqfmfaa0RV+Fv0UA=",
            "0f0e0d0c0b0a090807060504|s2|bob:pässwörd|Dw4NDAsKCQgHBgUExl/TZisUC92YqHLpSv5akviq6iK7rrGij3pNArWc"})
    void sealingMatchesThePublishedVectors(String nonce, String sid, String plaintext, String sealed) {
        assertEquals(sealed, SealedCredential.seal(KEY, HexFormat.of().parseHex(nonce), sid,
                plaintext.getBytes(StandardCharsets.UTF_8)));
        byte[] opened = new SealedCredential(List.of(KEY)).open(sealed, sid).orElseThrow();
        assertEquals(plaintext, new String(opened, StandardCharsets.UTF_8));
    }

    @Test
    void previousKeyOpensWhatTheCurrentKeyCannot() {
        String sealedWithOld = "oKGio6Slpqeoqaqr8sZzBRPZPT0NhRjvdhQjp2ShvAOaclxZXA6WbBOBSnT7Ls//A3i3SV9LO8l2dYJBjZk=";
        assertTrue(new SealedCredential(List.of(KEY)).open(sealedWithOld, "sid-0001").isEmpty());
        byte[] opened = new SealedCredential(List.of(KEY, OLD_KEY)).open(sealedWithOld, "sid-0001").orElseThrow();
        assertArrayEquals("alice:correct horse battery staple".getBytes(StandardCharsets.UTF_8), opened);
    }

    @Test
    void valueMovedToAnotherSessionDoesNotOpen() {
        String sealed = "AAECAwQFBgcICQoLJm6/eKDfoXT/M/LoxckQAvGl4hSSGisIXRWcpW4dYcJtddS9FPfJqfmfaa0RV+Fv0UA=";
        assertTrue(new SealedCredential(List.of(KEY)).open(sealed, "sid-0002").isEmpty());
    }

    @Test
    void tamperedOrTruncatedValuesDoNotOpen() {
        byte[] raw = Base64.getDecoder().decode("AAECAwQFBgcICQoLJm6/eKDfoXT/M/LoxckQAvGl4hSSGisIXRWcpW4dYcJtddS9FPfJqfmfaa0RV+Fv0UA=");
        raw[15] ^= 1;
        SealedCredential sealed = new SealedCredential(List.of(KEY));
        assertTrue(sealed.open(Base64.getEncoder().encodeToString(raw), "sid-0001").isEmpty());
        assertTrue(sealed.open("AAEC", "sid-0001").isEmpty());
        assertTrue(sealed.open("not base64 !", "sid-0001").isEmpty());
    }
}
