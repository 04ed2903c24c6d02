#!/usr/bin/env python3
"""Reads a k8s-file container log written by the throughput benchmark.

    logspan.py LOGFILE START_MARKER END_MARKER

The container prints START_MARKER, then the payload, then END_MARKER. Each
record of the log is "TIMESTAMP STREAM P|F TEXT", with the RFC 3339 time
at which the monitor (conmon or conmon-kata) took the bytes in. Prints

    SECONDS BYTES RECORDS

SECONDS: from the START_MARKER record's timestamp to the END_MARKER's;
BYTES: the payload between them as the container wrote it (partial
records joined, a newline for every full one); RECORDS: the log records
between them. Exit status 1 when a marker is missing.
"""
import calendar
import sys


def timestamp_ns(ts):
    """'2026-11-23T11:00:52.588252110+00:00' -> ns since the epoch (offset honoured)."""
    date, rest = ts.split("T", 1)
    for sign in ("+", "-", "Z"):
        pos = rest.rfind(sign)
        if pos > 0:
            break
    clock, zone = rest[:pos], rest[pos:]
    hms, _, frac = clock.partition(".")
    y, mo, d = (int(x) for x in date.split("-"))
    h, mi, s = (int(x) for x in hms.split(":"))
    secs = calendar.timegm((y, mo, d, h, mi, s))
    if zone not in ("Z", ""):
        zh, zm = int(zone[1:3]), int(zone[4:6])
        secs -= (1 if zone[0] == "+" else -1) * (zh * 3600 + zm * 60)
    return secs * 10**9 + int((frac + "000000000")[:9])


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    path, start, end = sys.argv[1:]
    t_start = t_end = None
    payload = records = 0
    with open(path, "rb") as f:
        for raw in f:
            # TIMESTAMP STREAM TAG TEXT; TEXT may contain spaces
            parts = raw.rstrip(b"\n").split(b" ", 3)
            if len(parts) < 3:
                continue
            text = parts[3] if len(parts) == 4 else b""
            full = parts[2] == b"F"
            if t_start is None:
                if full and text == start.encode():
                    t_start = timestamp_ns(parts[0].decode())
                continue
            if full and text == end.encode():
                t_end = timestamp_ns(parts[0].decode())
                break
            payload += len(text) + (1 if full else 0)
            records += 1
    if t_start is None or t_end is None:
        print(f"logspan.py: {path}: marker {'start' if t_start is None else 'end'} not found", file=sys.stderr)
        return 1
    print(f"{(t_end - t_start) / 1e9:.6f} {payload} {records}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
