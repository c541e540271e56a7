#!/usr/bin/env python3
"""haproxy-connect against Python listeners on loopback: the header it
sends by default, the relay, split and raw input, TLS after the header,
and every exit status.

README: "The test client".
"""

import os
import re
import shutil
import socket
import ssl
import tempfile

import tap
from client_util import (Listener, answer_at_eof, close_after,
                         echo_line_then_close, greet_then_echo, have_ipv6,
                         hold, print_header, run_client, tls_after, v2_inet,
                         v2_inet6)
from sandbox import Certs

# Exit statuses, as haproxy-connect --help lists them.
ANSWERED, ERROR, USAGE, CLOSED, REFUSED, TIMEOUT, TLS = range(7)


def sent_pieces(result):
    """(size, offset) of each piece that --hexdump says was sent."""
    return [(int(size), int(offset)) for size, offset in re.findall(
        r"sent (\d+) bytes at offset (\d+)", result.stderr.decode())]


def status(result):
    """Exit status and standard error, for diagnostics."""
    err = result.stderr.decode(errors="replace")
    return f"exit {result.returncode}: {err}"


def expect_exit(t, result, code, description):
    t.ok(result.returncode == code, description, status(result))


def test_default_header(t):
    """Without --src/--dst the header carries the connection's addresses."""
    with t.check("v2 by default, with the connection's own addresses"):
        with Listener(answer_at_eof(b"ok\r\n")) as server:
            result = run_client("127.0.0.1", server.port)
        assert result.returncode == ANSWERED, status(result)
        expected = v2_inet(server.peer[0], server.peer[1],
                           "127.0.0.1", server.port)
        assert server.received == expected, server.received

    with t.check("-1: the v1 line with the connection's own addresses"):
        with Listener(answer_at_eof(b"ok\r\n")) as server:
            result = run_client("-1", "127.0.0.1", server.port)
        assert result.returncode == ANSWERED, status(result)
        expected = (f"PROXY TCP4 {server.peer[0]} 127.0.0.1 "
                    f"{server.peer[1]} {server.port}\r\n").encode()
        assert server.received == expected, server.received

    with t.check("--bind: the header's source is the bound address"):
        with Listener(answer_at_eof(b"ok\r\n")) as server:
            result = run_client("-1", "--bind", "127.0.0.9",
                                "127.0.0.1", server.port)
        assert result.returncode == ANSWERED, status(result)
        assert server.peer[0] == "127.0.0.9", server.peer
        assert server.received.startswith(
            b"PROXY TCP4 127.0.0.9 127.0.0.1 "), server.received

    if not have_ipv6():
        t.skip("IPv6 connection, v2 INET6 header", "no IPv6 on loopback")
        return
    with t.check("IPv6 connection: a v2 INET6 header"):
        with Listener(answer_at_eof(b"ok\r\n"), address="::1") as server:
            result = run_client("::1", server.port)
        assert result.returncode == ANSWERED, status(result)
        expected = v2_inet6("::1", server.peer[1], "::1", server.port)
        assert server.received == expected, server.received


def test_sent_as_printed(t):
    """What is sent is what --print-header gives for the same options."""
    options = ["--src", "192.0.2.1:4000", "--dst", "[2001:db8::2]:143",
               "--crc32c", "--alpn", "imap", "--authority", "mail.example.org",
               "--unique-id", "id-1", "--ssl", "--client-cert",
               "--ssl-version", "TLSv1.3", "--ssl-cn", "alice",
               "--netns", "blue", "--tlv", "0xe0:c0ffee", "--tlv", "4:"]
    with t.check("the header sent equals --print-header's, every TLV on"):
        header = print_header(*options)
        with Listener(answer_at_eof(b"ok\r\n")) as server:
            result = run_client(*options, "127.0.0.1", server.port)
        assert result.returncode == ANSWERED, status(result)
        assert server.received == header, (server.received, header)
        # The mixed families came out as IPv6, IPv4-mapped.
        assert header[13] == 0x21, header[:16]
        assert header[16:32] == socket.inet_pton(socket.AF_INET6,
                                                 "::ffff:192.0.2.1"), header


def test_relay(t):
    with t.check("relay: without -N the connection stays open after "
                 "standard input ends, until the server closes it"):
        line = b"a LOGOUT\r\n"
        with Listener(echo_line_then_close(b"* OK\r\n", line)) as server:
            result = run_client("127.0.0.1", server.port, stdin=line,
                                shutdown=False)
        assert result.returncode == ANSWERED, status(result)
        assert not server.eof, "the client shut down its side"
        assert result.stdout == b"* OK\r\n" + server.received, \
            result.stdout

    with t.check("relay: standard input after the header, answer on "
                 "standard output, half-close at EOF with -N"):
        with Listener(answer_at_eof(b"bye\r\n")) as server:
            result = run_client("--src", "192.0.2.1:1", "--dst", "192.0.2.2:2",
                                "127.0.0.1", server.port,
                                stdin=b"a LOGOUT\r\n")
        assert result.returncode == ANSWERED, status(result)
        header = v2_inet("192.0.2.1", 1, "192.0.2.2", 2)
        assert server.received == header + b"a LOGOUT\r\n", server.received
        # The answer came only after the server saw EOF: a half-close.
        assert server.eof
        assert result.stdout == b"bye\r\n", result.stdout

    with t.check("relay: a larger input arrives whole, in order"):
        data = bytes(range(256)) * 1024
        with Listener(greet_then_echo(b"* OK\r\n")) as server:
            result = run_client("127.0.0.1", server.port, stdin=data)
        assert result.returncode == ANSWERED, status(result)
        assert server.received.endswith(data), len(server.received)
        # The echo: greeting, header, data.
        assert result.stdout == b"* OK\r\n" + server.received, \
            len(result.stdout)


def test_split(t):
    header = v2_inet("192.0.2.1", 1, "192.0.2.2", 2)
    options = ["--src", "192.0.2.1:1", "--dst", "192.0.2.2:2"]
    with t.check("--split 5,16 --delay 300: three pieces, 300 ms apart"):
        with Listener(answer_at_eof(b"ok\r\n")) as server:
            result = run_client(*options, "--split", "5,16", "--delay", "300",
                                "--hexdump", "127.0.0.1", server.port)
        assert result.returncode == ANSWERED, status(result)
        assert server.received == header, server.received
        # When the pieces arrive depends on when the server reads: what
        # the client wrote, in its own words.
        assert sent_pieces(result) == [(5, 0), (11, 5), (12, 16)], \
            result.stderr
        assert result.seconds >= 0.6, result.seconds

    with t.check("--hexdump: each piece on standard error"):
        with Listener(answer_at_eof(b"ok\r\n")) as server:
            result = run_client(*options, "--split", "12", "--hexdump",
                                "127.0.0.1", server.port)
        assert result.returncode == ANSWERED, status(result)
        err = result.stderr.decode()
        assert "sent 12 bytes at offset 0" in err, err
        assert "sent 16 bytes at offset 12" in err, err
        assert ("00000000  0d 0a 0d 0a 00 0d 0a 51  55 49 54 0a"
                "              |.......QUIT.|") in err, err
        assert "0000000c  21 11 00 0c c0 00 02 01" in err, err

    # Checked once the header is known, which needs the connection.
    with Listener(hold(1)) as server:
        result = run_client(*options, "--split", "28", "127.0.0.1",
                            server.port)
    expect_exit(t, result, USAGE,
                "--split at the end of the header: usage error")


def test_raw(t, tmp):
    path = os.path.join(tmp, "raw")
    with open(path, "wb") as f:
        f.write(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n")   # LF without CR
    with t.check("--raw: the file's bytes as they are, and nothing else"):
        with Listener(answer_at_eof(b"")) as server:
            result = run_client("--raw", path, "127.0.0.1", server.port)
        assert server.received == b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", \
            server.received
        assert result.returncode == CLOSED, status(result)

    with t.check("--raw with --split: cut where asked"):
        with Listener(answer_at_eof(b"ok")) as server:
            result = run_client("--raw", path, "--split", "3",
                                "--delay", "300", "--hexdump",
                                "127.0.0.1", server.port)
        assert result.returncode == ANSWERED, status(result)
        assert sent_pieces(result) == [(3, 0), (28, 3)], result.stderr
        assert server.received == b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", \
            server.received

    result = run_client("--raw", path, "--authority", "x", "127.0.0.1", "1")
    expect_exit(t, result, USAGE, "--raw with a header option: usage error")


def test_exit_statuses(t):
    header_size = 28
    with Listener(close_after(header_size)) as server:
        result = run_client("127.0.0.1", server.port)
    expect_exit(t, result, CLOSED, "server closes without a word: exit 3")
    t.ok(b"before sending anything" in result.stderr,
         "... and says so", status(result))

    with Listener(close_after(header_size, reset=True)) as server:
        result = run_client("127.0.0.1", server.port, stdin=None)
    expect_exit(t, result, CLOSED, "server resets without a word: exit 3")

    with Listener(greet_then_echo(b"* OK\r\n")) as server:
        result = run_client("127.0.0.1", server.port)
    expect_exit(t, result, ANSWERED, "server greets, then closes: exit 0")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run_client("127.0.0.1", port)
    expect_exit(t, result, REFUSED, "connection refused: exit 4")

    # The server holds the connection until the client goes: only the
    # client's timer can end it.
    with Listener(hold()) as server:
        result = run_client("--timeout", "0.5", "127.0.0.1", server.port,
                            stdin=None)
    expect_exit(t, result, TIMEOUT, "no answer within --timeout: exit 5")
    t.ok(result.seconds >= 0.5, "... after the timeout, not before",
         f"{result.seconds:.2f} s")

    result = run_client("no-such-host.invalid", "143")
    expect_exit(t, result, ERROR, "unknown host name: exit 1")

    with Listener(answer_at_eof(b"ok")) as server:
        result = run_client("localhost", server.port)
    expect_exit(t, result, ANSWERED, "host name: localhost works")


def test_usage_errors(t):
    cases = [
        (["--no-such-option", "h", "1"], "an unknown option"),
        (["127.0.0.1"], "PORT missing"),
        (["-1", "--authority", "x", "127.0.0.1", "1"], "a TLV with v1"),
        (["--local", "-1", "127.0.0.1", "1"], "--local with v1"),
        (["--unknown", "-2", "127.0.0.1", "1"], "--unknown with v2"),
        (["--src", "::1:5", "127.0.0.1", "1"], "IPv6 --src without brackets"),
        (["--src", "192.0.2.1:65536", "127.0.0.1", "1"], "port above 65535"),
        (["--src", "unix:/a", "--dst", "192.0.2.1:1", "127.0.0.1", "1"],
         "UNIX source, IPv4 destination"),
        (["--unique-id", "u" * 129, "127.0.0.1", "1"], "UNIQUE_ID over 128"),
        (["--tlv", "256:00", "127.0.0.1", "1"], "--tlv type above 255"),
        (["--tlv", "5:abc", "127.0.0.1", "1"], "--tlv odd hex"),
        (["--split", "5,3", "127.0.0.1", "1"], "--split not increasing"),
        (["--delay", "10", "127.0.0.1", "1"], "--delay without --split"),
        (["--insecure", "127.0.0.1", "1"], "--insecure without --tls"),
        (["--print-header", "127.0.0.1", "1"],
         "--print-header with HOST PORT"),
        (["--client-cert=maybe", "127.0.0.1", "1"], "--client-cert=maybe"),
    ]
    for args, what in cases:
        # Port 1 on loopback is closed: reaching it would be exit 4.
        result = run_client(*args)
        expect_exit(t, result, USAGE, f"usage error: {what}")


def test_print_header(t):
    t.eq(print_header("-1"), b"PROXY TCP4 127.0.0.1 127.0.0.1 0 0\r\n",
         "--print-header -1 defaults to 127.0.0.1:0")
    t.eq(print_header("--unknown"), b"PROXY UNKNOWN\r\n",
         "--print-header --unknown")
    t.eq(print_header("--local"), b"\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00",
         "--print-header --local: no address, as HAProxy sends it")
    unix = print_header("--src", "unix:/run/a", "--dst", "unix:/run/b")
    t.ok(len(unix) == 16 + 216 and unix[13] == 0x31 and
         unix[16:27] == b"/run/a\0\0\0\0\0", "--print-header with UNIX paths",
         repr(unix[:32]))
    t.eq(print_header("--dgram", "--src", "192.0.2.1:1", "--dst",
                      "192.0.2.2:2")[13], 0x12, "--dgram: transport DGRAM")


def test_tls(t, tmp):
    certs = Certs(os.path.join(tmp, "certs"))
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(certs.server_cert, certs.server_key)
    header = print_header("--src", "192.0.2.1:1", "--dst", "192.0.2.2:2")
    options = ["--src", "192.0.2.1:1", "--dst", "192.0.2.2:2", "--tls"]

    with t.check("--tls --ca: header in clear, then TLS, server verified"):
        with Listener(tls_after(len(header), server_context,
                                b"* OK tls\r\n")) as server:
            result = run_client(*options, "--ca", certs.ca,
                                "localhost", server.port)
        assert result.returncode == ANSWERED, status(result)
        assert result.stdout == b"* OK tls\r\n", result.stdout
        assert server.received == header, server.received

    with Listener(tls_after(len(header), server_context, b"")) as server:
        result = run_client(*options, "localhost", server.port)
    expect_exit(t, result, TLS, "--tls, server's CA not trusted: exit 6")
    t.ok(b"certificate" in result.stderr, "... and says why", status(result))

    with Listener(tls_after(len(header), server_context, b"")) as server:
        result = run_client(*options, "--ca", certs.ca, "--sni",
                            "wrong.example", "127.0.0.1", server.port)
    expect_exit(t, result, TLS, "--sni not in the certificate: exit 6")

    with t.check("--tls --insecure: no verification"):
        with Listener(tls_after(len(header), server_context,
                                b"* OK\r\n")) as server:
            result = run_client(*options, "--insecure", "127.0.0.1",
                                server.port)
        assert result.returncode == ANSWERED, status(result)

    with t.check("--cert/--key: the server sees the client certificate"):
        cert, key = certs.client("alice")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certs.server_cert, certs.server_key)
        context.load_verify_locations(certs.ca)
        context.verify_mode = ssl.CERT_REQUIRED
        with Listener(tls_after(len(header), context, b"* OK\r\n")) as server:
            result = run_client(*options, "--ca", certs.ca, "--cert", cert,
                                "--key", key, "localhost", server.port)
        assert result.returncode == ANSWERED, status(result)
        subject = dict(x[0] for x in server.peer_cert["subject"])
        assert subject["commonName"] == "alice", server.peer_cert

    with Listener(close_after(len(header))) as server:
        result = run_client(*options, "--ca", certs.ca, "localhost",
                            server.port)
    expect_exit(t, result, CLOSED,
                "--tls, server closes after the header: exit 3, not 6")

    with t.check("--ssl-cert: CLIENT_CERT carries the certificate in DER"):
        with open(certs.ca) as f:
            der = ssl.PEM_cert_to_DER_cert(f.read())
        header = print_header("--ssl-cert", certs.ca)
        assert header.endswith(b"\x28" + len(der).to_bytes(2, "big") + der), \
            header[-16:]


def main():
    tmp = tempfile.mkdtemp(prefix="haproxy-connect-")
    try:
        with tap.Tap() as t:
            test_default_header(t)
            test_sent_as_printed(t)
            test_relay(t)
            test_split(t)
            test_raw(t, tmp)
            test_exit_statuses(t)
            test_usage_errors(t)
            test_print_header(t)
            test_tls(t, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
