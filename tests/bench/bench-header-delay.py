#!/usr/bin/env python3
"""How late does HAProxy's PROXY header arrive after the backend accepted
the connection? The measure behind haproxy_direct_wait's default: a peer
in both haproxy_trusted_networks and haproxy_direct_networks that keeps
silent for that long is served as a direct client, so the wait must be
longer than any header delay a loaded proxy shows.

A real HAProxy (send-proxy-v2) forwards to a backend in its own process
that accepts in an event loop, as a login process does, and times each
connection from accept() returning to the first byte being readable.
Clients connect through HAProxy at several concurrencies, first on an
otherwise idle machine, then with twice as many busy processes as the
machine has cores. Prints percentiles; asserts nothing."""

import os
import selectors
import socket
import sys
import threading
import time
from multiprocessing import Process, Queue

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "sandbox"))
from sandbox import (CLIENT_IP, DOVECOT_IP, HAProxy, Endpoint,  # noqa: E402
                     Sandbox, connect)

CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "2000"))
CONCURRENCY = (1, 16, 64)


def backend(listen, count, results):
    """Accepts count connections; puts the delays (ms) from accept to the
    first readable byte on results."""
    sel = selectors.DefaultSelector()
    sel.register(listen, selectors.EVENT_READ)
    accepted, delays = {}, []
    while len(delays) < count:
        for key, _ in sel.select():
            if key.fileobj is listen:
                sock, _ = listen.accept()
                sock.setblocking(False)
                accepted[sock] = time.perf_counter()
                sel.register(sock, selectors.EVENT_READ)
            else:
                sock = key.fileobj
                delays.append((time.perf_counter() - accepted.pop(sock))
                              * 1000)
                sel.unregister(sock)
                sock.close()
    results.put(delays)


def clients(front, count, concurrency):
    """count connections through front, concurrency at a time; each waits
    until the backend has closed it."""
    left = iter(range(count))
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if next(left, None) is None:
                    return
            with connect(front, source=CLIENT_IP) as sock:
                sock.recv(1)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def spin():
    while True:
        pass


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def main():
    with Sandbox() as sb:
        listen = socket.socket()
        listen.bind((DOVECOT_IP, 0))
        listen.listen(1024)
        target = Endpoint(DOVECOT_IP, listen.getsockname()[1])
        hap = HAProxy(sb)
        hap.backend("b", [(target, "send-proxy-v2")])
        front = hap.frontend("f", "b", "maxconn 1024")
        print(f"delay from accept() to the PROXY header, {CONNECTIONS} "
              "connections through HAProxy per row (ms)")
        print(f"{'concurrency':>12} {'p50':>7} {'p99':>7} {'p99.9':>7} "
              f"{'max':>7}")
        with hap:
            for spinners in (0, 2 * os.cpu_count()):
                if spinners:
                    print(f"with {spinners} busy processes")
                hogs = [Process(target=spin, daemon=True)
                        for _ in range(spinners)]
                for hog in hogs:
                    hog.start()
                try:
                    for concurrency in CONCURRENCY:
                        row(listen, front, concurrency)
                finally:
                    for hog in hogs:
                        hog.kill()
                        hog.join()
        listen.close()


def row(listen, front, concurrency):
    results = Queue()
    server = Process(target=backend, args=(listen, CONNECTIONS, results))
    server.start()
    clients(front, CONNECTIONS, concurrency)
    delays = results.get(timeout=120)
    server.join()
    print(f"{concurrency:>12} "
          + " ".join(f"{percentile(delays, p):7.2f}" for p in (50, 99, 99.9))
          + f" {max(delays):7.2f}")


if __name__ == "__main__":
    main()
