"""What the haproxy-connect tests share: where the client is, and a
one-connection listener on loopback that records what it receives.

    with Listener(answer_at_eof(b"bye\\r\\n")) as server:
        result = run_client("127.0.0.1", server.port)
        assert server.received.startswith(b"\\r\\n\\r\\n\\0\\r\\nQUIT\\n")
"""

import os
import socket
import ssl
import struct
import subprocess
import threading
import time

from sandbox import TIMEOUT, client_path


def have_ipv6():
    """Whether ::1 can be bound: some containers have no IPv6 at all."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def run_client(*args, stdin=b"", shutdown=True, timeout=TIMEOUT):
    """Runs haproxy-connect with args (stdin: bytes, or None for a pipe
    left open until it exits; shutdown: with -N, so the server sees EOF
    after stdin) and returns the CompletedProcess, with elapsed seconds as
    .seconds."""
    if client_path() is None:
        raise RuntimeError("haproxy-connect not found: build it, or set "
                           "HAPROXY_CONNECT")
    argv = [client_path()] + (["-N"] if shutdown else []) + \
        [str(a) for a in args]
    began = time.monotonic()
    if stdin is None:
        # A pipe we never write to, open until the client exits: it must
        # not see EOF (communicate() would close a stdin=PIPE).
        read_end, write_end = os.pipe()
        try:
            with subprocess.Popen(argv, stdin=read_end,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) as proc:
                os.close(read_end)
                read_end = None
                try:
                    out, err = proc.communicate(timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    raise
        finally:
            os.close(write_end)
            if read_end is not None:
                os.close(read_end)
        result = subprocess.CompletedProcess(argv, proc.returncode, out, err)
    else:
        result = subprocess.run(argv, input=stdin, capture_output=True,
                                timeout=timeout)
    result.seconds = time.monotonic() - began
    return result


def print_header(*args):
    """haproxy-connect --print-header args: the header bytes."""
    result = run_client("--print-header", *args)
    if result.returncode != 0:
        err = result.stderr.decode(errors="replace")
        raise AssertionError(f"--print-header {args}: "
                             f"exit {result.returncode}: {err}")
    return result.stdout


V2_SIGNATURE = b"\r\n\r\n\0\r\nQUIT\n"


def v2_inet(src, sport, dst, dport):
    """A v2 PROXY TCP/IPv4 header without TLV, written out by hand."""
    return (V2_SIGNATURE + b"\x21\x11" + struct.pack("!H", 12) +
            socket.inet_aton(src) + socket.inet_aton(dst) +
            struct.pack("!HH", sport, dport))


def v2_inet6(src, sport, dst, dport):
    """A v2 PROXY TCP/IPv6 header without TLV, written out by hand."""
    return (V2_SIGNATURE + b"\x21\x21" + struct.pack("!H", 36) +
            socket.inet_pton(socket.AF_INET6, src) +
            socket.inet_pton(socket.AF_INET6, dst) +
            struct.pack("!HH", sport, dport))


class Listener:
    """A TCP listener on loopback for one connection, served in a thread
    by handler(listener, conn). What arrives is kept in .chunks, each
    (seconds since accept, bytes), and joined in .received."""

    def __init__(self, handler, address="127.0.0.1"):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((address, 0))
        self.sock.listen(1)
        self.sock.settimeout(TIMEOUT)
        self.address = address
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.chunks = []
        self.peer = None
        self.error = None
        self.eof = False
        self._accepted = None
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def received(self):
        return b"".join(data for _, data in self.chunks)

    def recv_some(self, conn, size=65536):
        """One recv(), recorded; b"" at EOF."""
        data = conn.recv(size)
        if data:
            self.chunks.append((time.monotonic() - self._accepted, data))
        else:
            self.eof = True
        return data

    def recv_exactly(self, conn, size):
        data = b""
        while len(data) < size:
            chunk = self.recv_some(conn, size - len(data))
            if not chunk:
                raise EOFError(f"EOF after {len(data)} of {size} bytes")
            data += chunk
        return data

    def recv_until_eof(self, conn):
        while self.recv_some(conn):
            pass

    def _serve(self):
        try:
            conn, self.peer = self.sock.accept()
            self._accepted = time.monotonic()
            with conn:
                conn.settimeout(TIMEOUT)
                self.handler(self, conn)
        except Exception as e:  # reported by join()
            self.error = e

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.join()

    def join(self):
        """Waits for the handler; raises what it raised."""
        self._thread.join(TIMEOUT * 2)
        self.sock.close()
        if self._thread.is_alive():
            raise RuntimeError("listener handler did not finish")
        if self.error is not None:
            raise self.error


# Handlers

def answer_at_eof(answer):
    """Reads until the client shuts down its side, then answers."""
    def handler(listener, conn):
        listener.recv_until_eof(conn)
        conn.sendall(answer)
    return handler


def greet_then_echo(greeting):
    """Greets at once, then echoes every line until EOF, as a mail server
    would answer commands."""
    def handler(listener, conn):
        conn.sendall(greeting)
        while True:
            data = listener.recv_some(conn)
            if not data:
                return
            conn.sendall(data)
    return handler


def echo_line_then_close(greeting, line, wait=0.5):
    """Greets, echoes what came until line ended it (the header, then
    line), then waits wait seconds for an EOF that a client which shuts
    down its side at the end of its input would have sent by then
    (listener.eof), and closes."""
    def handler(listener, conn):
        conn.sendall(greeting)
        while not listener.received.endswith(line):
            if not listener.recv_some(conn):
                raise EOFError(f"EOF before {line!r}")
        conn.sendall(listener.received)
        hold(wait)(listener, conn)
    return handler


def close_after(size, reset=False):
    """Reads size bytes (the header), then closes without a word; with
    reset, with an RST as a server that drops unread data does."""
    def handler(listener, conn):
        listener.recv_exactly(conn, size)
        if reset:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
    return handler


def hold(seconds=None):
    """Reads whatever comes, says nothing, for seconds or until EOF (by
    default until EOF, or the listener's TIMEOUT)."""
    def handler(listener, conn):
        if seconds is not None:
            conn.settimeout(seconds)
        try:
            listener.recv_until_eof(conn)
        except socket.timeout:
            pass
    return handler


def tls_after(size, context, greeting):
    """Reads the size-byte header in clear, then TLS as a server with
    context: greets, and reads until EOF. The client certificate, if any,
    is kept in listener.peer_cert; a handshake the client gives up (as it
    must when it cannot verify us) in listener.tls_error."""
    def handler(listener, conn):
        listener.peer_cert = listener.tls_error = None
        listener.recv_exactly(conn, size)
        try:
            tls = context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, ConnectionError) as e:
            listener.tls_error = e
            return
        with tls:
            listener.peer_cert = tls.getpeercert()
            tls.sendall(greeting)
            while tls.recv(4096):
                pass
    return handler
