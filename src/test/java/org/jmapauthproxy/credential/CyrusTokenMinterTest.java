package org.jmapauthproxy.credential;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CyrusTokenMinterTest {

    static final byte[] KEY = filled(32, 0x42);

    /** Computed with Node.js crypto (HMAC-SHA256 over the same bytes); see docs/PROTOCOL.md. */
    static final String VECTOR = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlhdCI6MTcwMDAwMDAwMH0"
            + ".rAdi-GfgcyK43RA1Zp9Jsw5t0s5FaxOP1enBoZGOPQw";

    @Test
    void mintedTokenMatchesTheVectorByteForByte() {
        CyrusTokenMinter minter = new CyrusTokenMinter(KEY, Duration.ofMinutes(5), Duration.ofSeconds(60),
                Optional.empty(), Clock.systemUTC(), 100);
        assertEquals(VECTOR, minter.mint("alice", 1_700_000_000L));
    }

    @Test
    void headerHasOnlyAlgAndTypAndClaimsOnlySubIatExp() {
        CyrusTokenMinter minter = new CyrusTokenMinter(KEY, Duration.ofMinutes(5), Duration.ofSeconds(60),
                Optional.of(Duration.ofSeconds(120)), Clock.systemUTC(), 100);
        String[] parts = minter.mint("b\"ob", 1_700_000_000L).split("\\.");
        Base64.Decoder url = Base64.getUrlDecoder();
        assertEquals("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", new String(url.decode(parts[0])));
        assertEquals("{\"sub\":\"b\\\"ob\",\"iat\":1700000000,\"exp\":1700000120}", new String(url.decode(parts[1])));
    }

    @Test
    void tokenIsReusedInsideMaxAgeMinusMarginAndReplacedAfter() {
        AtomicLong now = new AtomicLong(1_700_000_000_000L);
        Clock clock = new Clock() {
            public ZoneOffset getZone() { return ZoneOffset.UTC; }
            public Clock withZone(java.time.ZoneId zone) { return this; }
            public Instant instant() { return Instant.ofEpochMilli(now.get()); }
        };
        CyrusTokenMinter minter = new CyrusTokenMinter(KEY, Duration.ofMinutes(5), Duration.ofSeconds(60),
                Optional.empty(), clock, 100);
        String first = minter.credentialFor("alice").authorization();
        now.addAndGet(240_000);
        assertEquals(first, minter.credentialFor("alice").authorization());
        now.addAndGet(1_000);
        String second = minter.credentialFor("alice").authorization();
        assertNotEquals(first, second);
        assertEquals("Bearer " + minter.mint("alice", 1_700_000_241L), second);
    }

    @Test
    void readsCyrusPemKeyFileAndRefusesOtherFiles() throws Exception {
        Path file = Files.createTempFile("key", ".pem");
        Files.writeString(file, "-----BEGIN HMAC KEY-----\n" + Base64.getEncoder().encodeToString(KEY) + "\n-----END HMAC KEY-----\n");
        assertArrayEquals(KEY, CyrusTokenMinter.readKeyFile(file));
        Files.writeString(file, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        assertThrows(java.io.IOException.class, () -> CyrusTokenMinter.readKeyFile(file));
        Files.delete(file);
    }

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }
}
