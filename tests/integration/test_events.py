#!/usr/bin/env python3
"""The plugin's events, as an administrator uses them.

1. haproxy_header_finished, counted by a metric grouped by result and
   error_code, as the README shows; doveadm stats dump reports the counts.
2. The header's facts are fields of the login client's event. In 2.3.19.1
   the stats process never sees that event itself: its log lines are not
   sent (only named events are), and auth requests hang off the auth
   connection's event. What does reach it is a named child of the client
   event: proxy_session_started when the login process proxies the user
   to a backend. A metric with "fields" exports the client's fields
   through it, and its filter can select on them.
"""

import csv
import io

from headers import exported_event, header, proxy_connect, unread_bytes
from sandbox import (CLIENT_IP, DOVECOT_IP, Dovecot, Listener,
                     Sandbox, connect, dovecot_under_test, plugin_dir,
                     recv_all, unmet_requirements, wait_until)
from tap import Tap


def extra_config(dut):
    """One long-lived login process, the metrics, and the exporter."""
    return (dut.long_lived("imap-login")
            + dut.metric("haproxy_headers", "event=haproxy_header_finished",
                         group_by=("result", "error_code"))
            + dut.metric("haproxy_tls_versions",
                         "event=haproxy_header_finished AND result=accepted",
                         group_by=("haproxy_ssl_version",))
            + dut.metric("haproxy_proxied_logins",
                         "event=proxy_session_started AND "
                         "haproxy_unique_id=*",
                         fields=("haproxy_unique_id", "haproxy_ssl_version",
                                 "haproxy_authority"),
                         exporter="json_log")
            + dut.json_log_exporter("json_log"))


SRC, DST = "127.0.0.9:4242", "127.0.0.3:143"
LOGOUT = b"a LOGOUT\r\n"


def header_counts(dc, metric="haproxy_headers"):
    """{metric name: count} of the rows of metric in stats dump."""
    run = dc.tool("doveadm", "-c", dc.config_path, "stats", "dump")
    assert run.returncode == 0, run.stderr
    dump = run.stdout
    return {row["metric_name"]: int(row["count"])
            for row in csv.DictReader(io.StringIO(dump), delimiter="\t")
            if row["metric_name"].startswith(metric)}


def send(listener, data):
    """data from the proxy; what the server sent until it closed."""
    with proxy_connect(listener) as sock:
        sock.sendall(data)
        return recv_all(sock)


def main(t):
    dut = dovecot_under_test()
    with Sandbox() as sb:
        backend = Listener("imap", "imap")
        backend.port = sb.free_port(backend.address)
        # "remote" is proxied by the login process to the plain listener,
        # where it logs in as alice.
        users = {"alice": {},
                 "remote": {"proxy": "y", "host": DOVECOT_IP,
                            "port": backend.port, "destuser": "alice",
                            "starttls": "any-cert"}}
        dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True),
                          backend],
                     users=users, plugin_dir=plugin_dir(),
                     haproxy_timeout="1s", extra_config=extra_config(dut))
        listener = dc.listener("imap-proxy")
        v2 = header("--src", SRC, "--dst", DST)
        crc = header("--src", SRC, "--dst", DST, "--crc32c")
        bad_crc = crc[:24] + bytes([crc[24] ^ 0xff]) + crc[25:]
        with dc:
            with t.check("accepted, rejected, untrusted, timed out and "
                         "disconnected connections"):
                for data in (v2, header("-1", "--src", SRC, "--dst", DST),
                             header("--local")):
                    assert b"\r\na OK " in send(listener, data + LOGOUT)
                for data in (bad_crc, bad_crc,
                             header("-1", "--src", SRC, "--dst", DST)
                             .replace(b" 4242 ", b" 65536 ")):
                    assert send(listener, data) == b""
                with connect(listener, CLIENT_IP) as sock:
                    assert recv_all(sock) == b""
                proxy_connect(listener).close()  # before sending a byte
                with proxy_connect(listener) as timeout, \
                        proxy_connect(listener) as torn:
                    timeout.sendall(v2[:10])
                    torn.sendall(v2[:10])
                    # Dovecot has their first bytes: torn leaves mid-header.
                    assert wait_until(lambda: unread_bytes(
                        listener, [timeout, torn]) == [0, 0])
                    torn.close()
                    assert recv_all(timeout) == b""

            expected = {
                "haproxy_headers": 10,
                "haproxy_headers_accepted": 3,
                "haproxy_headers_rejected": 3,
                "haproxy_headers_rejected_v2_crc_mismatch": 2,
                "haproxy_headers_rejected_v1_bad_port": 1,
                "haproxy_headers_untrusted": 1,
                "haproxy_headers_untrusted_untrusted": 1,
                "haproxy_headers_timeout": 1,
                "haproxy_headers_timeout_timeout": 1,
                "haproxy_headers_disconnected": 2,
                "haproxy_headers_disconnected_disconnected": 2,
            }
            if dut.groups_missing_field:
                # Accepted headers have no error_code: 2.4 counts them
                # under an empty one.
                expected["haproxy_headers_accepted_"] = 3

            # Events reach the stats process a moment after the fact.
            def settled():
                counts = header_counts(dc)
                return counts if counts.get("haproxy_headers") == 10 else None
            counts = wait_until(settled) or header_counts(dc)
            t.eq(counts, expected, "doveadm stats dump counts the headers by "
                 "result and error_code")

            proxied = header("--src", SRC, "--dst", DST,
                             "--unique-id", "req-0001", "--ssl",
                             "--ssl-version", "TLSv1.3",
                             "--authority", "mail.example.test")
            without_id = header("--src", SRC, "--dst", DST, "--ssl")
            login = b"a LOGIN remote secret\r\nb LOGOUT\r\n"
            mark = dc.log_mark()
            with t.check("logins proxied to the backend succeed"):
                for data in (without_id, proxied):
                    reply = send(listener, data + login)
                    assert b"\r\na OK " in reply, reply
            with t.check("the login client's fields come out of its "
                         "proxy_session_started event"):
                event = exported_event(dc, "proxy_session_started",
                                       since=mark)
                assert event["fields"] == {
                    "haproxy_unique_id": "req-0001",
                    "haproxy_ssl_version": "TLSv1.3",
                    "haproxy_authority": "mail.example.test"}, event
            with t.check("a filter on haproxy_unique_id selects only the "
                         "client that had one"):
                assert dc.log_text(mark).count(
                    '{"event":"proxy_session_started"') == 1
            with t.check("the example's metric groups accepted headers by "
                         "haproxy_ssl_version"):
                def tls13():
                    return header_counts(dc, "haproxy_tls_versions").get(
                        "haproxy_tls_versions_TLSv1.3")
                assert wait_until(lambda: tls13() == 1), \
                    header_counts(dc, "haproxy_tls_versions")


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    main(t)
