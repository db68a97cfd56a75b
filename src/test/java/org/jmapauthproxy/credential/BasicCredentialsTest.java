package org.jmapauthproxy.credential;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BasicCredentialsTest {

    @Test
    void buildsRfc7617HeaderAndWipesThePlaintext() throws Exception {
        byte[] plaintext = "alice:pa:ss".getBytes(StandardCharsets.UTF_8);
        OriginCredential credential = BasicCredentials.fromPlaintext(plaintext);
        assertEquals("alice", credential.username());
        assertEquals("Basic YWxpY2U6cGE6c3M=", credential.authorization());
        assertArrayEquals(new byte[plaintext.length], plaintext);
        assertEquals("OriginCredential[username=alice, authorization=redacted]", credential.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"alice", ":password", "alice:pass\r\nX-Injected: 1", "alice:pa\nss", "alice:pa\u0000ss", "ali\rce:pw"})
    void refusesValuesThatAreNotUsernameColonPassword(String value) {
        assertThrows(BasicCredentials.Unusable.class,
                () -> BasicCredentials.fromPlaintext(value.getBytes(StandardCharsets.UTF_8)));
    }
}
