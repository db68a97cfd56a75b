package org.jmapauthproxy.credential;

import org.jmapauthproxy.support.SettableClock;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;

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
                Optional.empty(), Clock.systemUTC(), 100, 1 << 20);
        assertEquals(VECTOR, minter.mint("alice", 1_700_000_000L));
    }

    @Test
    void headerHasOnlyAlgAndTypAndClaimsOnlySubIatExp() {
        CyrusTokenMinter minter = new CyrusTokenMinter(KEY, Duration.ofMinutes(5), Duration.ofSeconds(60),
                Optional.of(Duration.ofSeconds(120)), Clock.systemUTC(), 100, 1 << 20);
        String[] parts = minter.mint("b\"ob", 1_700_000_000L).split("\\.");
        Base64.Decoder url = Base64.getUrlDecoder();
        assertEquals("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", new String(url.decode(parts[0])));
        assertEquals("{\"sub\":\"b\\\"ob\",\"iat\":1700000000,\"exp\":1700000120}", new String(url.decode(parts[1])));
    }

    @Test
    void tokenIsReusedInsideMaxAgeMinusMarginAndReplacedAfter() {
        SettableClock clock = new SettableClock(1_700_000_000_000L);
        CyrusTokenMinter minter = reusingFor240Seconds(clock);
        String first = minter.credentialFor("alice").authorization();
        clock.advance(240_000);
        assertEquals(first, minter.credentialFor("alice").authorization());
        clock.advance(1_000);
        String second = minter.credentialFor("alice").authorization();
        assertNotEquals(first, second);
        assertEquals("Bearer " + minter.mint("alice", 1_700_000_241L), second);
    }

    /** {@code iat} is in whole seconds: a token minted late in a second is reused to the end of its horizon's last second. */
    @Test
    void tokenMintedLateInASecondIsReusedToTheEndOfItsHorizon() {
        SettableClock clock = new SettableClock(1_700_000_000_900L);
        CyrusTokenMinter minter = reusingFor240Seconds(clock);
        String first = minter.credentialFor("alice").authorization();
        assertEquals("Bearer " + minter.mint("alice", 1_700_000_000L), first);
        clock.advance(240_099);
        assertEquals(first, minter.credentialFor("alice").authorization(), "at iat + 240.999 s");
        clock.advance(1);
        assertEquals("Bearer " + minter.mint("alice", 1_700_000_241L), minter.credentialFor("alice").authorization());
    }

    /** Cyrus's default max age (5 min) less a 60 s margin: a token is reused while at most 240 s old. */
    static CyrusTokenMinter reusingFor240Seconds(SettableClock clock) {
        return new CyrusTokenMinter(KEY, Duration.ofMinutes(5), Duration.ofSeconds(60), Optional.empty(), clock, 100,
                1 << 20);
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
