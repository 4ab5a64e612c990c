"""Process start to first 200 under a server, in milliseconds, split in two.

    python3 bench/first_response.py RUNS PORT SERVER [serve flags...] CWASM

SERVER is the Wasmtime CLI or pyedge: both are run as
`SERVER serve --allow-precompiled --addr 127.0.0.1:PORT [flags...] CWASM`.

Starts the server RUNS times; each time it connects as soon as the port accepts
(polling every 0.5 ms from this process, not by spawning curl, whose own start-up is
several milliseconds), sends one GET / and reads the whole answer. Prints the medians:
"total_ms listen_ms first_request_ms", where listen is start until the port accepts
(the server loading the module) and first request is the rest (the component).
"""

import socket
import statistics
import subprocess
import sys
import time


def once(port, command):
    start = time.perf_counter()
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = start + 30
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                if server.poll() is not None:
                    sys.exit(f"the server exited with {server.returncode} before listening")
                if time.perf_counter() > deadline:
                    sys.exit("the server did not listen within 30 s")
                time.sleep(0.0005)
        listening = time.perf_counter()
        conn.settimeout(30)
        conn.sendall(b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
        done = time.perf_counter()
        conn.close()
        if not answer.startswith(b"HTTP/1.1 200"):
            sys.exit(f"first answer was not a 200: {answer[:80]!r}")
        return (done - start) * 1000, (listening - start) * 1000, (done - listening) * 1000
    finally:
        server.kill()
        server.wait()


def main():
    runs, port, server = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rest = sys.argv[4:]
    command = [server, "serve", "--allow-precompiled", "--addr", f"127.0.0.1:{port}", *rest]
    samples = [once(port, command) for _ in range(runs)]
    print(" ".join(f"{statistics.median(column):.2f}" for column in zip(*samples)))


if __name__ == "__main__":
    main()
