package org.jmapauthproxy.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the {@code session} command tells an operator whose settings are missing. */
class SessionCommandTest {

    @Test
    void missingKeyWithoutProfileHintsAtTheDevProfile() {
        Result result = run("--user", "alice");
        assertEquals(1, result.exitCode);
        assertTrue(result.stderr.contains("authproxy.credentials.key is missing"), result.stderr);
        assertTrue(result.stderr.contains("add --profile dev"), result.stderr);
        assertFalse(result.stderr.contains("alicepw"), "the password is never echoed");
    }

    @Test
    void explicitProfileGetsNoProfileHint() {
        // The prod profile named explicitly: the operator chose it, so only the problem is reported.
        Result result = run("--user", "alice", "--profile", "prod");
        assertEquals(1, result.exitCode);
        assertTrue(result.stderr.contains("authproxy.credentials.key is missing"), result.stderr);
        assertFalse(result.stderr.contains("--profile dev"), result.stderr);
    }

    record Result(int exitCode, String stderr) {
    }

    static Result run(String... args) {
        InputStream in = System.in;
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setIn(new ByteArrayInputStream("alicepw\n".getBytes(StandardCharsets.UTF_8)));
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            int code = SessionCommand.run(args);
            return new Result(code, captured.toString(StandardCharsets.UTF_8));
        } finally {
            System.setIn(in);
            System.setErr(err);
        }
    }
}
