package org.jmapauthproxy.route;

import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import org.jmapauthproxy.support.PageServers;
import org.jmapauthproxy.support.ProxyBase;
import org.jmapauthproxy.support.RealServers;
import org.jmapauthproxy.support.Sessions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * CORS in a real browser: headless Chromium loads a page from one loopback origin and calls the
 * proxy, on another, the way a JMAP web client does (Bearer fetch of the session, a JSON
 * {@code Mailbox/get} POST, a refusal it must be able to read); a page from an origin that is not
 * allowed must fail to fetch. The page writes its results into the DOM, which {@code --dump-dom}
 * prints once the page's network activity has settled ({@code --virtual-time-budget}).
 * Skipped when {@code /usr/bin/chromium} is absent ({@code .ci/install-chromium} installs it).
 */
@QuarkusTest
@WithTestResource(RealServers.class)
@WithTestResource(PageServers.class)
class CorsBrowserTest {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    String token;

    @BeforeEach
    void setUp() {
        assumeTrue(Files.isExecutable(CHROMIUM), "no /usr/bin/chromium (Debian package chromium)");
        token = new Sessions(redis).create(Sessions.newSid(), "alice:alicepw");
    }

    String page() {
        String proxy = "http://127.0.0.1:" + base.getPort();
        return """
                <!doctype html><html><body><pre id="result">pending</pre><script>
                const PROXY = '%s', TOKEN = '%s';
                (async () => {
                  const out = {};
                  try {
                    const s = await fetch(PROXY + '/jmap/', {headers: {'Authorization': 'Bearer ' + TOKEN}});
                    out.session = s.status;
                    out.apiUrl = (await s.json()).apiUrl;
                    out.requestId = s.headers.get('X-Request-Id') !== null;
                    const p = await fetch(PROXY + '/jmap/', {method: 'POST',
                      headers: {'Authorization': 'Bearer ' + TOKEN, 'Content-Type': 'application/json'},
                      body: JSON.stringify({using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'],
                        methodCalls: [['Mailbox/get', {accountId: 'alice'}, 'c0']]})});
                    out.post = p.status;
                    out.method = (await p.json()).methodResponses[0][0];
                    const d = await fetch(PROXY + '/jmap/', {headers: {'Authorization': 'Bearer not-a-token'}});
                    out.problem = d.status;
                    out.reason = (await d.json()).reason;
                    out.challenge = d.headers.get('WWW-Authenticate');
                  } catch (e) {
                    out.error = String(e);
                  }
                  document.getElementById('result').textContent = 'RESULT' + JSON.stringify(out) + 'END';
                })();
                </script></body></html>
                """.formatted(proxy, token);
    }

    JsonObject run(int pagePort) throws Exception {
        Path profile = Files.createTempDirectory("chromium-profile");
        try {
            Process chromium = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--user-data-dir=" + profile, "--virtual-time-budget=15000", "--dump-dom",
                    "http://127.0.0.1:" + pagePort + "/")
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            byte[] dom = chromium.getInputStream().readAllBytes();
            assertTrue(chromium.waitFor(90, TimeUnit.SECONDS), "chromium did not exit");
            String text = new String(dom, StandardCharsets.UTF_8);
            int start = text.indexOf("RESULT");
            int end = text.indexOf("END", start);
            assertTrue(start >= 0 && end > start, "the page wrote no result: " + text.replace(token, "<token>"));
            return new JsonObject(text.substring(start + "RESULT".length(), end).replace("&amp;", "&")
                    .replace("&lt;", "<").replace("&gt;", ">"));
        } finally {
            deleteTree(profile);
        }
    }

    @Test
    void aWebClientOnAnAllowedOriginReadsTheSessionPostsAndReadsProblems() throws Exception {
        PageServers.allowedPage = page();
        JsonObject result = run(PageServers.allowedPort);
        assertEquals(null, result.getString("error"), result.encode());
        assertEquals(200, result.getInteger("session"));
        assertEquals("http://127.0.0.1:" + base.getPort() + "/jmap/", result.getString("apiUrl"));
        assertEquals(true, result.getBoolean("requestId"), "exposed header readable");
        assertEquals(200, result.getInteger("post"));
        assertEquals("Mailbox/get", result.getString("method"));
        assertEquals(401, result.getInteger("problem"));
        assertEquals("invalid_token", result.getString("reason"));
        assertTrue(result.getString("challenge").startsWith("Bearer"), result.encode());
    }

    @Test
    void aPageOnAnotherOriginCannotCallTheProxy() throws Exception {
        PageServers.otherPage = page();
        JsonObject result = run(PageServers.otherPort);
        assertTrue(result.getString("error", "").contains("TypeError"), result.encode());
        assertEquals(null, result.getInteger("session"), result.encode());
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
