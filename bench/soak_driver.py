"""Drive the soak (bench/soak.sh): several connections for a fixed time sending a mix of
requests to `pyedge serve`, every answer checked, the server's RSS sampled.

    python3 bench/soak_driver.py PORT PID SECONDS CONNECTIONS REPORT.json

Mix per connection, in a fixed rotation: good requests (the answer's digest is computed
here and compared), 100 kB echoes (compared), handler exceptions (500), oversized bodies
(413 from --max-body-size), traps (500), and now and then a request past --timeout (504).
A good request that does not come back exactly right is a lost request.
"""

import hashlib
import http.client
import json
import os
import sys
import threading
import time

PORT, PID, SECONDS, CONNECTIONS, REPORT = (
    int(sys.argv[1]),
    int(sys.argv[2]),
    float(sys.argv[3]),
    int(sys.argv[4]),
    sys.argv[5],
)
ECHO = os.urandom(100_000)
OVERSIZED = b"x" * 300_000  # over --max-body-size 256KB
ROTATION = ["good"] * 12 + ["echo"] * 3 + ["raise", "oversized", "abort"]
SLOW_EVERY = 200  # one request past the deadline per this many, per connection


def expected_digest(n):
    rows = [{"i": i, "sq": i * i, "s": str(i)} for i in range(200)]
    return hashlib.sha256(json.dumps(rows).encode() + str(n).encode()).hexdigest()


DIGESTS = {n: expected_digest(n) for n in range(64)}


def rss_kb():
    with open(f"/proc/{PID}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


counts = {}
lost = []
lock = threading.Lock()
stop_at = time.monotonic() + SECONDS


def record(kind, ok, detail=""):
    with lock:
        done, failed = counts.get(kind, (0, 0))
        counts[kind] = (done + 1, failed + (0 if ok else 1))
        if not ok and len(lost) < 50:
            lost.append(f"{kind}: {detail}")


def connection(worker):
    conn = None
    sent = 0
    while time.monotonic() < stop_at:
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        kind = "slow" if sent % SLOW_EVERY == SLOW_EVERY - 1 else ROTATION[sent % len(ROTATION)]
        sent += 1
        n = (worker * 7 + sent) % 64
        try:
            if kind == "good":
                conn.request("GET", "/good", headers={"x-n": str(n)})
            elif kind == "echo":
                conn.request("POST", "/echo", body=ECHO)
            elif kind == "oversized":
                conn.request("POST", "/echo", body=OVERSIZED)
            else:
                conn.request("GET", "/" + kind)
            reply = conn.getresponse()
            body = reply.read()
        except (OSError, http.client.HTTPException) as err:
            record(kind, False, f"{type(err).__name__}: {err}")
            conn.close()
            conn = None
            continue
        if kind == "good":
            ok = reply.status == 200 and json.loads(body) == {"n": n, "digest": DIGESTS[n]}
        elif kind == "echo":
            ok = reply.status == 200 and body == ECHO
        elif kind == "oversized":
            ok = reply.status == 413
        elif kind == "slow":
            ok = reply.status == 504
        else:
            ok = reply.status == 500
        record(kind, ok, f"status {reply.status}")
        if reply.getheader("connection", "").lower() == "close" or kind == "oversized":
            conn.close()
            conn = None


samples = [(0.0, rss_kb())]
threads = [threading.Thread(target=connection, args=(i,)) for i in range(CONNECTIONS)]
start = time.monotonic()
for t in threads:
    t.start()
while any(t.is_alive() for t in threads):
    time.sleep(5)
    samples.append((round(time.monotonic() - start, 1), rss_kb()))
for t in threads:
    t.join()

with open(REPORT, "w") as out:
    json.dump({"counts": counts, "lost": lost, "rss_kb": samples,
               "seconds": round(time.monotonic() - start, 1)}, out)
