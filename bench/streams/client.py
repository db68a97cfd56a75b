"""Measurements for bench/streams: download/upload through the proxy with RSS sampling, event latency."""
import hashlib
import http.client
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from origin import chunks  # noqa: E402


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.05)


def download(port, token, size):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", "/big/%d" % size, headers={"Authorization": "Bearer " + token})
    response = conn.getresponse()
    digest, total = hashlib.sha256(), 0
    start = time.monotonic()
    while True:
        data = response.read(1 << 20)
        if not data:
            break
        digest.update(data)
        total += len(data)
    seconds = time.monotonic() - start
    expected = hashlib.sha256()
    for chunk in chunks(size):
        expected.update(chunk)
    conn.close()
    return response.status, total, digest.hexdigest() == expected.hexdigest(), seconds


def upload(port, token, size):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    expected = hashlib.sha256()
    conn.putrequest("POST", "/jmap/upload/alice/")
    conn.putheader("Authorization", "Bearer " + token)
    conn.putheader("Content-Type", "application/octet-stream")
    conn.putheader("Content-Length", str(size))
    conn.endheaders()
    start = time.monotonic()
    for chunk in chunks(size):
        expected.update(chunk)
        conn.send(chunk)
    response = conn.getresponse()
    seconds = time.monotonic() - start
    body = json.loads(response.read())
    conn.close()
    return response.status, body["bytes"], body["sha256"] == expected.hexdigest(), seconds


def events(port, token, count):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(("GET /jmap/eventsource/?types=*&closeafter=no&ping=30 HTTP/1.1\r\nHost: bench\r\n"
                  "Accept: text/event-stream\r\nX-Events: %d\r\nAuthorization: Bearer %s\r\n\r\n" % (count, token)).encode())
    sent = time.time_ns()
    buffer, delays, first = b"", [], None
    while len(delays) < count:
        data = sock.recv(65536)
        if not data:
            break
        now = time.time_ns()
        buffer += data
        while b"\n\n" in buffer:
            event, buffer = buffer.split(b"\n\n", 1)
            for line in event.split(b"\n"):
                if line.startswith(b"data: "):
                    stamp = int(line[len(b"data: "):])
                    delays.append((now - stamp) / 1e6)
                    if first is None:
                        first = (now - sent) / 1e6
    sock.close()
    return first, delays


def main():
    port, pid, token, size = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    result = {"baseline_rss_kib": rss_kib(pid)}
    # Warm-up: a first transfer lets the JVM reach its steady state (JIT, Netty buffer pools).
    download(port, token, 64 << 20)
    upload(port, token, 64 << 20)
    result["warm_rss_kib"] = rss_kib(pid)
    for kind, run in (("download", download), ("upload", upload)):
        sampler = Sampler(pid)
        sampler.start()
        status, total, intact, seconds = run(port, token, size)
        sampler.running = False
        sampler.join()
        result[kind] = {"status": status, "bytes": total, "sha256_ok": intact,
                        "mib_per_s": round(total / seconds / (1 << 20), 1),
                        "peak_rss_kib": sampler.peak, "after_rss_kib": rss_kib(pid)}
    first, delays = events(port, token, 30)
    delays.sort()
    result["events"] = {"count": len(delays), "time_to_first_event_ms": round(first, 2),
                        "p50_ms": round(delays[len(delays) // 2], 2), "max_ms": round(delays[-1], 2)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
