package org.jmapauthproxy.support;

import java.io.IOException;
import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Occupies an origin connection for as long as a test wants, without timing: a download of the
 * test origin's {@code /bytes/N} whose head the client reads and whose body it then leaves unread,
 * so that backpressure keeps the proxy's origin exchange (and its pooled connection) open.
 */
public final class PoolHolder {

    private PoolHolder() {
    }

    /** Returns once the download's head has arrived: from then on the connection is held. */
    public static RawHttp hold(int proxyPort, String token) throws IOException {
        RawHttp http = new RawHttp(proxyPort);
        http.send("GET /bytes/1000000000 HTTP/1.1\r\nHost: 127.0.0.1:" + proxyPort + "\r\nAuthorization: Bearer "
                + token + "\r\n\r\n");
        assertEquals(200, http.readHead().status());
        return http;
    }

    /** Calls {@code attempt} until it gives {@code expected} (at most 100 times, 50 ms apart), then returns the last. */
    public static <T> T eventually(Callable<T> attempt, T expected) throws Exception {
        T last = attempt.call();
        for (int i = 0; i < 100 && !expected.equals(last); i++) {
            Thread.sleep(50);
            last = attempt.call();
        }
        return last;
    }
}
