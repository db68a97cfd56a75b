#!/usr/bin/env python3
"""Turns one bench/run results directory into the Markdown report (on standard output).

usage: bench/summarize.py bench/results/<timestamp>

Reads raw/ only: wrk, ab and curl outputs, the *.meta accounting that bench/run writes next to
each of them, start-to-ready samples and the revocation probe. Medians over rounds, with the
min-max spread; ratios are taken between medians of the same run. Standard library only.
"""
import glob
import os
import re
import statistics
import sys

TARGETS = ["direct", "nginx", "jmap-auth-proxy"]
REQUEST_LOADS = [
    ("wrk-c1", "wrk, 1 connection, keep-alive"),
    ("wrk-c64", "wrk, 64 connections, keep-alive"),
    ("ab-c1", "ab, 1 at a time, new connection per request (HTTP/1.0)"),
    ("ab-c8", "ab, 8 at a time, new connection per request (HTTP/1.0)"),
]
TRANSFERS = [("download", "1 GiB download"), ("upload", "1 GiB upload")]
GIB = 1024 ** 3
MIB = 1024 ** 2
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
NOISY_PCT = 5

# the targets of issue 5
MIN_THROUGHPUT_RATIO = 0.8
ADDED_P50_FACTOR = 3
MAX_P99_MS = 1.0
MIN_TRANSFER_RATIO = 0.8
MAX_TRANSFER_RSS_GROWTH_MIB = 32
MAX_RSS_C64_MIB = 256
MAX_START_TO_READY_MS = 1500
MAX_REVOCATION_MS = 1000


def read_kv(path):
    values = {}
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            if "=" in line:
                key, _, value = line.rstrip("\n").partition("=")
                values[key] = value
    return values


def parse_wrk(text):
    out = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    out["rps"] = float(m.group(1)) if m else None
    for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M):
        out["p" + m.group(1)] = float(m.group(2)) * UNIT_MS[m.group(3)]
    m = re.search(r"(\d+) requests in", text)
    out["requests"] = int(m.group(1)) if m else 0
    errors = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", text))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errors += sum(int(x) for x in m.groups())
    out["errors"] = errors
    return out


def parse_ab(text, csv_path):
    out = {}
    m = re.search(r"Requests per second:\s+([\d.]+)", text)
    out["rps"] = float(m.group(1)) if m else None
    m = re.search(r"Complete requests:\s+(\d+)", text)
    out["requests"] = int(m.group(1)) if m else 0
    errors = 0
    m = re.search(r"Failed requests:\s+(\d+)", text)
    errors += int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx responses:\s+(\d+)", text)
    errors += int(m.group(1)) if m else 0
    out["errors"] = errors
    if os.path.exists(csv_path):
        pct = {}
        for line in open(csv_path, encoding="utf-8"):
            parts = line.strip().split(",")
            if len(parts) == 2 and parts[0].isdigit():
                pct[parts[0]] = float(parts[1])
        out["p50"], out["p99"] = pct.get("50"), pct.get("99")
    return out


def parse_curl(text):
    out = {}
    m = re.search(r"http_code=(\d+) bytes=(\d+) time_s=([\d.]+) speed_bps=([\d.]+)", text)
    if m:
        out["status"] = int(m.group(1))
        out["bytes"] = int(m.group(2))
        out["time_s"] = float(m.group(3))
        out["mibps"] = float(m.group(4)) / MIB
    m = re.search(r'"size":(\d+)', text)
    out["origin_received"] = int(m.group(1)) if m else None
    out["requests"] = 1
    ok = out.get("status") in (200, 201) and out.get("bytes") == GIB
    if out.get("origin_received") is not None:
        ok = ok and out["origin_received"] == GIB
    out["errors"] = 0 if ok else 1
    return out


def load_samples(raw):
    samples = {}
    for meta_path in sorted(glob.glob(os.path.join(raw, "r*_*.meta"))):
        meta = read_kv(meta_path)
        base = meta_path[:-5]
        text = open(base + ".txt", encoding="utf-8", errors="replace").read() if os.path.exists(base + ".txt") else ""
        load = meta["load"]
        if load.startswith("wrk"):
            s = parse_wrk(text)
        elif load.startswith("ab"):
            s = parse_ab(text, base + ".csv")
        else:
            s = parse_curl(text)
        clk = int(meta["clk_tck"])
        cpu_s = int(meta["cpu_ticks"]) / clk
        s["cpu_s"] = cpu_s
        s["cpu_us_per_req"] = cpu_s * 1e6 / s["requests"] if s["requests"] else None
        before, after = int(meta["rss_before_kib"]), int(meta["rss_after_kib"])
        peak = max(before, after, int(meta["rss_max_kib"] or 0))
        s["rss_before_mib"] = before / 1024
        s["rss_peak_mib"] = peak / 1024
        s["rss_growth_mib"] = (peak - before) / 1024
        s["hwm_mib"] = int(meta["hwm_kib"]) / 1024
        total = int(meta["machine_total"]) or 1
        other = int(meta["machine_busy"]) - int(meta["ours_ticks"]) - int(meta["loadgen_ticks"])
        s["other_pct"] = max(0.0, 100.0 * other / total)
        s["rc"] = int(meta["rc"])
        samples.setdefault((meta["target"], load), []).append(s)
    return samples


def warmup_errors(raw, target):
    """Non-2xx and failed requests during the warm-up loads, which the tables leave out."""
    errors = 0
    for path in glob.glob(os.path.join(raw, f"warmup_{target}[._]*.txt")):
        text = open(path, encoding="utf-8", errors="replace").read()
        errors += parse_ab(text, "")["errors"] if path.endswith(".ab.txt") else parse_wrk(text)["errors"]
    return errors


def med(samples, key):
    values = [s[key] for s in samples if s.get(key) is not None]
    return statistics.median(values) if values else None


def spread(samples, key, fmt):
    values = [s[key] for s in samples if s.get(key) is not None]
    if not values:
        return "n/a"
    m = statistics.median(values)
    if len(values) == 1 or min(values) == max(values):
        return fmt.format(m)
    return (fmt + " ({}–{})").format(m, fmt.format(min(values)), fmt.format(max(values)))


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt_ratio(r):
    return "n/a" if r is None else f"{r:.2f}×"


def verdict(ok):
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def main():
    res = sys.argv[1]
    raw = os.path.join(res, "raw")
    env = read_kv(os.path.join(raw, "run.env"))
    rev = read_kv(os.path.join(raw, "revocation.meta"))
    samples = load_samples(raw)
    ready = [int(x) for x in open(os.path.join(raw, "start-to-ready-ms.txt")).read().split()]
    quick = env.get("quick") == "1"
    rounds = env.get("rounds", "?")

    def get(target, load):
        return samples.get((target, load), [])

    lines = ["# Benchmarks", ""]
    if quick:
        lines += ["> **Smoke run, not the reference result.** Made with `bench/run -q` (one round, short loads) on a",
                  "> shared development machine while other work was running. It shows that the harness works and",
                  "> gives an order of magnitude only; the reference figures come from a default run on a quiet",
                  "> machine, which replaces this file.", ""]
    lines += [
        f"Run `{env.get('stamp', '?')}` of `{env.get('command', 'bench/run')}` (jmap-auth-proxy {env.get('git', '?')}); "
        f"{rounds} round(s), target order rotated each round; wrk loads of {env.get('duration_s', '?')} s, "
        f"ab loads of {env.get('ab_requests', '?')} requests; medians over rounds, min–max in brackets. "
        f"Raw outputs: `bench/results/{env.get('stamp', '?')}/` (not committed).",
        "",
        "## Machine",
        "",
        f"- CPU: {env.get('cpu_model', '?')}, {env.get('cpus', '?')} CPUs; memory {env.get('mem', '?')}; kernel {env.get('kernel', '?')}",
        f"- placement: {env.get('pinning', '?')}",
        f"- java: {env.get('java', '?')}; jmap-auth-proxy JVM options (from Dockerfile.jvm): `{env.get('java_opts', '?')}`",
        f"- nginx {env.get('nginx', '?')}, Redis {env.get('redis', '?')}, wrk {env.get('wrk', '?')}, ab {env.get('ab', '?')}, curl {env.get('curl', '?')}",
        "",
        "## Targets",
        "",
        "- `direct`: the origin itself (nginx, 1 worker): a 1.2 KiB JMAP session document at `GET /jmap/`, a 1 GiB file, "
        "and an upload sink that reads the whole body before it answers 201. Its own RSS and CPU are shown in its rows.",
        "- `nginx`: nginx (1 worker) as a reverse proxy with a fixed `Authorization: Basic` header, keep-alive upstream, "
        "bodies streamed (no request buffering, no temporary files), no access log: the ceiling, doing no auth work.",
        "- `jmap-auth-proxy`: the JVM build as the image runs it, with its access log on (one line per request) and "
        "the full job on every request: session JWT (HS512, cookie) verified, session read from Redis, AES-256-GCM "
        "opened, `Authorization: Basic` sent. `GET /jmap/` is the JMAP session resource, which the proxy parses and "
        "rewrites (absolute URLs), so it is its most expensive small request.",
        "",
        "Every request carries the same `Cookie: Authorization=<token>` made by `jmap-auth-proxy-runner.jar session`.",
        "",
    ]

    # --- verdicts
    d1, n1, p1 = (med(get(t, "wrk-c1"), "p50") for t in TARGETS)
    p99_c1 = med(get("jmap-auth-proxy", "wrk-c1"), "p99")
    rps64 = {t: med(get(t, "wrk-c64"), "rps") for t in TARGETS}
    rows = []
    r64 = ratio(rps64["jmap-auth-proxy"], rps64["nginx"])
    rows.append(("Throughput, wrk c=64", f"{fmt_ratio(r64)} of nginx ({rps64['jmap-auth-proxy'] or 0:,.0f} vs "
                 f"{rps64['nginx'] or 0:,.0f} req/s; nginx is {fmt_ratio(ratio(rps64['nginx'], rps64['direct']))} of direct)",
                 f"≥ {MIN_THROUGHPUT_RATIO}× nginx", verdict(None if r64 is None else r64 >= MIN_THROUGHPUT_RATIO)))
    if None not in (d1, n1, p1):
        added, nginx_added = p1 - d1, n1 - d1
        ok = added <= ADDED_P50_FACTOR * max(nginx_added, 0)
        rows.append(("Added latency p50, wrk c=1", f"{added * 1000:.0f} µs (nginx adds {nginx_added * 1000:.0f} µs; "
                     f"p50 direct {d1 * 1000:.0f} µs)", f"≤ {ADDED_P50_FACTOR}× nginx's = {ADDED_P50_FACTOR * nginx_added * 1000:.0f} µs",
                     verdict(ok)))
    rows.append(("p99, wrk c=1", "n/a" if p99_c1 is None else f"{p99_c1:.3f} ms", f"≤ {MAX_P99_MS} ms",
                 verdict(None if p99_c1 is None else p99_c1 <= MAX_P99_MS)))
    for load, title in TRANSFERS:
        pm, nm = med(get("jmap-auth-proxy", load), "mibps"), med(get("nginx", load), "mibps")
        growth = max((s["rss_growth_mib"] for s in get("jmap-auth-proxy", load)), default=None)
        errors = sum(s["errors"] for s in get("jmap-auth-proxy", load))
        r = ratio(pm, nm)
        rows.append((f"{title}: throughput", f"{fmt_ratio(r)} of nginx ({pm or 0:,.0f} vs {nm or 0:,.0f} MiB/s)"
                     + ("" if not errors else f"; {errors} incomplete"),
                     f"≥ {MIN_TRANSFER_RATIO}× nginx", verdict(None if r is None else r >= MIN_TRANSFER_RATIO and errors == 0)))
        rows.append((f"{title}: RSS growth", "n/a" if growth is None else f"{growth:.1f} MiB (largest over rounds)",
                     f"≤ {MAX_TRANSFER_RSS_GROWTH_MIB} MiB", verdict(None if growth is None else growth <= MAX_TRANSFER_RSS_GROWTH_MIB)))
    rss64 = max((s["rss_peak_mib"] for s in get("jmap-auth-proxy", "wrk-c64")), default=None)
    rows.append(("RSS under wrk c=64", "n/a" if rss64 is None else f"{rss64:.0f} MiB (peak during the load, VmHWM)",
                 f"≤ {MAX_RSS_C64_MIB} MiB", verdict(None if rss64 is None else rss64 <= MAX_RSS_C64_MIB)))
    if ready:
        rm = statistics.median(ready)
        rows.append(("Start to ready", f"{rm / 1000:.2f} s" + (f" ({min(ready) / 1000:.2f}–{max(ready) / 1000:.2f}, {len(ready)} starts)" if len(ready) > 1 else ""),
                     f"≤ {MAX_START_TO_READY_MS / 1000} s", verdict(rm <= MAX_START_TO_READY_MS)))
    refused = rev.get("refused_after_ms")
    if refused:
        ok = refused != "none" and int(refused) <= MAX_REVOCATION_MS
        rows.append(("Revocation under wrk c=64", (f"refused {refused} ms after the Redis DEL" if refused != "none" else "not refused within 3 s")
                     + f" ({rev.get('allowed_after_del', '?')} probe(s) still let through)", f"≤ {MAX_REVOCATION_MS / 1000:.0f} s", verdict(ok)))
    all_errors = sum(s["errors"] for (t, _), ss in samples.items() if t == "jmap-auth-proxy" for s in ss)
    warm_errors = warmup_errors(raw, "jmap-auth-proxy")
    rows.append(("Errors under load", f"{all_errors} in the measured loads, {warm_errors} in the warm-up (non-2xx, "
                 f"failed or socket errors, incomplete transfers)", "0", verdict(all_errors + warm_errors == 0)))
    lines += ["## jmap-auth-proxy against the targets of issue 5", "",
              "| what | measured | target | result |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | **{d}** |" for a, b, c, d in rows]
    lines += [""]

    # --- request loads
    lines += ["## Small requests (`GET /jmap/`)", "",
              f"RSS is the peak during the load (the kernel's VmHWM, reset just before it; for nginx, master and "
              f"worker summed); CPU per request is the process's utime+stime over the load "
              f"divided by the requests. *other CPU* is CPU used on the machine by processes that are not part of the "
              f"run; rows above {NOISY_PCT} % are marked ⚠ and should be measured again.", ""]
    for load, title in REQUEST_LOADS:
        nginx_rps, direct_rps = med(get("nginx", load), "rps"), med(get("direct", load), "rps")
        lines += [f"**{title}**", "",
                  "| target | req/s | vs nginx | vs direct | p50 ms | p99 ms | errors | RSS MiB | CPU µs/req | other CPU % |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for t in TARGETS:
            ss = get(t, load)
            if not ss:
                continue
            rps = med(ss, "rps")
            other = max(s["other_pct"] for s in ss)
            cpu = med(ss, "cpu_us_per_req")
            lines.append(
                f"| {t} | {spread(ss, 'rps', '{:,.0f}')} | {fmt_ratio(ratio(rps, nginx_rps))} | {fmt_ratio(ratio(rps, direct_rps))} "
                f"| {spread(ss, 'p50', '{:.3f}')} | {spread(ss, 'p99', '{:.3f}')} | {sum(s['errors'] for s in ss)} "
                f"| {med(ss, 'rss_peak_mib'):.0f} | {'n/a' if cpu is None else f'{cpu:.0f}'} "
                f"| {other:.0f}{' ⚠' if other > NOISY_PCT else ''} |")
        lines.append("")

    # --- transfers
    lines += ["## 1 GiB transfers (curl, one at a time)", "",
              "Throughput is curl's own `speed_download`/`speed_upload`. A transfer counts as complete when curl "
              "moved 1 GiB with a 2xx status and, for uploads, the origin reports having read all of it. RSS growth "
              "is the peak during the transfer minus RSS before it.", "",
              "| transfer | target | MiB/s | vs nginx | vs direct | seconds | incomplete | RSS before MiB | RSS growth MiB | CPU s | other CPU % |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for load, title in TRANSFERS:
        nginx_m, direct_m = med(get("nginx", load), "mibps"), med(get("direct", load), "mibps")
        for t in TARGETS:
            ss = get(t, load)
            if not ss:
                continue
            other = max(s["other_pct"] for s in ss)
            lines.append(
                f"| {title} | {t} | {spread(ss, 'mibps', '{:,.0f}')} | {fmt_ratio(ratio(med(ss, 'mibps'), nginx_m))} "
                f"| {fmt_ratio(ratio(med(ss, 'mibps'), direct_m))} | {spread(ss, 'time_s', '{:.2f}')} "
                f"| {sum(s['errors'] for s in ss)} | {med(ss, 'rss_before_mib'):.0f} | {spread(ss, 'rss_growth_mib', '{:.1f}')} "
                f"| {med(ss, 'cpu_s'):.2f} | {other:.0f}{' ⚠' if other > NOISY_PCT else ''} |")
    lines.append("")

    # --- run details
    lines += ["## Details of this run", ""]
    checks = os.path.join(raw, "checks.txt")
    if os.path.exists(checks):
        lines += ["Checks before the loads:", "", "```"] + open(checks).read().rstrip().splitlines() + ["```", ""]
    settle = os.path.join(raw, "jit-settle.txt")
    if os.path.exists(settle):
        lines += ["JIT settling of jmap-auth-proxy after its warm-up (cycles of every load kind in short "
                  "form until one compiles few methods, `jstat -compiler`):", "", "```"] \
            + open(settle).read().rstrip().splitlines() + ["```", ""]
    lines.append("Errors during the warm-up (left out of the tables): "
                 + ", ".join(f"{t} {warmup_errors(raw, t)}" for t in TARGETS) + ".")
    hwm = {t: max((s["hwm_mib"] for ss in (get(t, l) for l, _ in REQUEST_LOADS + TRANSFERS) for s in ss), default=None)
           for t in TARGETS}
    lines.append("Peak RSS over the whole run (VmHWM): " + ", ".join(
        f"{t} {v:.0f} MiB" for t, v in hwm.items() if v is not None) + ".")
    statuses = os.path.join(raw, "proxy-access-status.txt")
    if os.path.exists(statuses):
        counts = [line.split() for line in open(statuses, encoding="utf-8") if line.strip()]
        lines.append("jmap-auth-proxy access log over the whole run, warm-up and revocation included: "
                     + ", ".join(f"{n} × {' '.join(rest)}" for n, *rest in counts) + ".")
    kinds = os.path.join(raw, "proxy-warnings-by-kind.txt")
    if os.path.exists(kinds):
        counted = [line.strip().split(" ", 1) for line in open(kinds, encoding="utf-8") if line.strip()]
        lines.append(f"jmap-auth-proxy WARN/ERROR log lines: {sum(int(n) for n, _ in counted)}"
                     + (", by kind (first ones in `raw/proxy-warnings.txt`):" if counted else "."))
        if counted:
            lines += ["", "| lines | kind |", "|---|---|"]
            lines += [f"| {n} | `{k.replace('|', '/')}` |" for n, k in counted]
            lines.append("")
    if ready:
        lines.append("Start to ready (process start until `/q/health/ready` is UP on the management port), per start: "
                     + ", ".join(f"{x} ms" for x in ready) + ".")
    lines += ["", f"Reproduce: `{env.get('command', 'bench/run')}` from the repository root (see `bench/README.md`).", ""]
    # Hand-written analysis (levers tried, what they bought) travels with every generated report.
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "NOTES.md")
    if os.path.exists(notes):
        lines += [open(notes, encoding="utf-8").read().rstrip(), ""]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
