"""Loopback origin for bench/streams: big downloads, hashed uploads and a timestamped event stream.

Stdlib only. Bytes of /big/N are (i * 31 + i // 4096) & 0xff, the same pattern the Java tests use,
so the client can check the SHA-256 of what it received.
"""
import hashlib
import http.server
import json
import sys
import time

CHUNK = 1 << 20


def pattern(offset, size):
    return bytes(((i * 31 + i // 4096) & 0xFF) for i in range(offset, offset + size))


# One period of the pattern is 256 * 4096 bytes; precompute it so serving is a memory copy.
PERIOD = 256 * 4096
BLOCK = pattern(0, PERIOD)


def chunks(n):
    sent = 0
    while sent < n:
        start = sent % PERIOD
        size = min(CHUNK, n - sent, PERIOD - start)
        yield BLOCK[start:start + size]
        sent += size


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/big/"):
            n = int(self.path[len("/big/"):])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.end_headers()
            for chunk in chunks(n):
                self.wfile.write(chunk)
        elif self.path.startswith("/jmap/eventsource"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for i in range(int(self.headers.get("X-Events", "30"))):
                    event = "id: %d\nevent: state\ndata: %d\n\n" % (i, time.time_ns())
                    data = event.encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()
                    time.sleep(0.2)
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def do_POST(self):
        digest = hashlib.sha256()
        remaining = int(self.headers.get("Content-Length", "0"))
        total = 0
        while remaining > 0:
            data = self.rfile.read(min(CHUNK, remaining))
            if not data:
                break
            digest.update(data)
            remaining -= len(data)
            total += len(data)
        body = json.dumps({"bytes": total, "sha256": digest.hexdigest()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    server.serve_forever()
