package org.jmapauthproxy.support;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes to both streams: a test keeps standard output visible while it captures what the proxy
 * writes there (access lines). The second stream is written under its own lock, since the proxy's
 * writer thread and the test read it concurrently.
 */
public final class TeeStream extends OutputStream {
    private final OutputStream first;
    private final OutputStream second;

    public TeeStream(OutputStream first, OutputStream second) {
        this.first = first;
        this.second = second;
    }

    @Override
    public void write(int b) throws IOException {
        first.write(b);
        synchronized (second) {
            second.write(b);
        }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        first.write(b, off, len);
        synchronized (second) {
            second.write(b, off, len);
        }
    }
}
