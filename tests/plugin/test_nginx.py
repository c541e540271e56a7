#!/usr/bin/env python3
"""nginx's mixed-family v1 lines (nginx issue 1609), from a real nginx.

nginx (its stream module, proxy_protocol on) writes the protocol word of
its client's address, then its own local address. When the client's
address came in a PROXY header that nginx received (listen ...
proxy_protocol, set_real_ip_from) and nginx listens in the other family,
the line holds one IPv4 and one IPv6 address, which neither TCP4 nor TCP6
allows:

    PROXY TCP6 2001:db8::7 127.0.0.1 40000 PORT    (nginx on IPv4)
    PROXY TCP4 127.0.0.7 ::1 40000 PORT            (nginx on IPv6)

Both are reproduced here with nginx in front of Dovecot and rejected as
what they are: error_code v1_mixed_families in the haproxy_header_finished
event, and a log line that names the mistake, the usual fix and nginx,
with the line nginx sent. The fix works: the same nginx logs a client in
whose address is of its listening family, with the header's address. An
nginx that sends v2 (proxy_protocol v2) carries the mixed case, as IPv6;
one that cannot is reported as skipped.

README: "Configure" (nginx's side) and "Logs and events" (one line per
rejection, with the usual fix).
"""

import re
import subprocess

from headers import HEADER_FINISHED, header, header_finished
from sandbox import (CLIENT_IP, PASSWORD, TIMEOUT, NGINX, Dovecot, Listener,
                     Sandbox, assert_login, connect, dovecot_under_test,
                     plugin_dir, recv_all, unmet_requirements)
from tap import Tap

CLIENT_IP6 = "2001:db8::7"
DST = "127.0.0.3:143"
ADVICE = ("v1 addresses are one IPv4 and one IPv6 address: the sender "
          "mixed address families, but both addresses must be of one "
          "family; nginx does so when its clients' addresses come from a "
          "PROXY header (nginx issue 1609): have it listen in their "
          "family, or send v2 (proxy_protocol v2)")


def through_nginx(front, src, data=b""):
    """From loopback of front's family, a v1 header to nginx saying the
    client is src, then data; all Dovecot sent back through nginx."""
    source = "::1" if ":" in front.address else CLIENT_IP
    with connect(front, source) as sock:
        sock.sendall(header("-1", "--src", src, "--dst", DST) + data)
        return recv_all(sock)


def nginx_version():
    run = subprocess.run(["nginx", "-v"], capture_output=True, text=True,
                         timeout=TIMEOUT)
    return run.stderr.strip().rsplit(" ", 1)[-1]


def mixed(t, dc, front, src, line):
    """line: what nginx sends, without its own port."""
    line += f" {front.port}"
    with t.check(f"nginx sends \"{line.rsplit(' ', 1)[0]} PORT\": rejected "
                 "as v1_mixed_families, and the log line says what and "
                 "why"):
        mark = dc.log_mark()
        reply = through_nginx(front, src)
        assert reply == b"", reply
        logged = dc.wait_for_log(r"^.* imap-login: Error: haproxy: Invalid "
                                 r"PROXY header: .*$", since=mark).group(0)
        assert ADVICE in logged, logged
        assert f'header="{line}\\x0d\\x0a"' in logged, logged
        port = re.search(r"\brport=(\d+)", logged).group(1)
        fields = header_finished(dc, port, mark)
        assert (fields["result"], fields["error_code"]) == \
            ("rejected", "v1_mixed_families"), fields


def logs_in(dc, front, src, rip):
    mark = dc.log_mark()
    reply = through_nginx(front, src, f"a LOGIN alice {PASSWORD}\r\n"
                          "b LOGOUT\r\n".encode())
    assert b"\r\na OK " in reply, reply
    assert_login(dc.wait_for_login("alice", mark), rip=rip, rport=40000)


def main(t):
    dut = dovecot_under_test()
    with Sandbox() as sb:
        dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                     plugin_dir=plugin_dir(), extra_config=(
                         dut.cleartext_auth()
                         + dut.exported(HEADER_FINISHED)))
        target = dc.listener("imap-proxy")
        # Each takes its client's address from the PROXY header it gets.
        ngx = NGINX(sb)
        on_ipv4 = ngx.proxy(target, "set_real_ip_from 127.0.0.0/8",
                            listen="proxy_protocol")
        on_ipv6 = ngx.proxy(target, "set_real_ip_from ::1", address="::1",
                            listen="proxy_protocol")
        probe = NGINX(sb, name="nginx-v2")
        v2 = probe.proxy(target, "set_real_ip_from 127.0.0.0/8",
                         listen="proxy_protocol", version=2)
        sends_v2 = probe.accepts()
        with dc, ngx:
            mixed(t, dc, on_ipv4, f"[{CLIENT_IP6}]:40000",
                  f"PROXY TCP6 {CLIENT_IP6} 127.0.0.1 40000")
            mixed(t, dc, on_ipv6, f"{CLIENT_IP}:40000",
                  f"PROXY TCP4 {CLIENT_IP} ::1 40000")
            with t.check("the fix: a client address of nginx's listening "
                         "family logs in, with the address nginx got"):
                logs_in(dc, on_ipv4, "127.0.0.9:40000", "127.0.0.9")
            if not sends_v2:
                t.skip("nginx sends v2 for a client of the other family",
                       f"{nginx_version()} has no proxy_protocol v2")
            else:
                with probe, t.check("nginx sends v2 for a client of the "
                                    "other family: it logs in"):
                    logs_in(dc, v2, f"[{CLIENT_IP6}]:40000", CLIENT_IP6)


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True, nginx=True))
    main(t)
