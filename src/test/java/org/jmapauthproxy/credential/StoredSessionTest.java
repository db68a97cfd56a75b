package org.jmapauthproxy.credential;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.jmapauthproxy.exchange.ProxyFailure;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The stored value as a hyper-auth-proxy back-end may have written it. */
class StoredSessionTest {

    private static final String ALICE = Base64.getEncoder().encodeToString("alice:pw".getBytes(StandardCharsets.UTF_8));

    private final CredentialService none = new CredentialService(null, null, "", CredentialService.Encryption.NONE,
            null, null, Duration.ofSeconds(1));

    private static StoredSession stored(String credentials) {
        return StoredSession.parse(new JsonObject().put("credentials", credentials).toBuffer());
    }

    /** {@code base64 <<< alice:pw} and friends: the shell's newline after the encoded value. */
    @ParameterizedTest
    @ValueSource(strings = {"", "\n", "\r\n", "\n\n", " \n", "\t"})
    void trailingWhitespaceAfterTheEncodedValueIsIgnored(String tail) {
        assertEquals(ALICE, stored(ALICE + tail).credentials());
        assertEquals("Basic " + ALICE, none.decode(stored(ALICE + tail), "sid").authorization());
    }

    @Test
    void aNewlineInsideThePlaintextIsStillRefused() {
        // echo alice:pw | base64: the newline is part of the encoded password, as hyper-auth-proxy sent it.
        String withNewline = Base64.getEncoder().encodeToString("alice:pw\n".getBytes(StandardCharsets.UTF_8));
        ProxyFailure failure = assertThrows(ProxyFailure.class, () -> none.decode(stored(withNewline + "\n"), "sid"));
        assertEquals(ProxyFailure.Reason.BAD_CREDENTIALS, failure.reason());
    }

    @Test
    void leadingWhitespaceIsNotBase64AndDoesNotOpen() {
        ProxyFailure failure = assertThrows(ProxyFailure.class, () -> none.decode(stored("\n" + ALICE), "sid"));
        assertEquals(ProxyFailure.Reason.BAD_CREDENTIALS, failure.reason());
    }

    @Test
    void aValueOfOnlyWhitespaceHasEmptyCredentials() {
        assertEquals("", StoredSession.parse(Buffer.buffer("{\"credentials\":\"\\n\"}")).credentials());
    }
}
