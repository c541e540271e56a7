#!/usr/bin/env python3
"""Forward fields from a client that login_trusted_networks trusts (issue
21, items 4 and 5). Behind a load balancer the client's address is the
header's, so with private endpoints it is the consumer's private range,
which may well be in a provider's login_trusted_networks. Such a client
may send forward fields of its own: IMAP ID ("x-forward-KEY" "VALUE"),
POP3 and submission XCLIENT FORWARD=base64(KEY=VALUE<TAB>...). On a
haproxy = yes listener:

1. The haproxy_* fields auth sees are the header's, for IMAP ID, POP3
   XCLIENT and submission XCLIENT: a tenant bound to endpoint A (README,
   "Users bound to a private endpoint") is refused through endpoint B
   whatever the client claims, and through a header without the TLV;
   haproxy_unique_id stays the balancer's. One warning names what was
   ignored.
2. The client's other forward fields reach auth beside the header's: a
   trusted proxy's XCLIENT FORWARD works with them, on submission too,
   where Dovecot 2.3 used to drop it whenever the plugin had added
   fields, and on POP3, where it used to replace them.
3. A forward field without a value never reaches auth: Dovecot before
   2.4.5 took it for a passdb field of its own (CVE-2026-4200), so
   "nopassword" let a trusted client in without a password. A FORWARD
   that decodes to nothing (a NUL byte) is no field either: 2.4.1 to
   2.4.4 panicked on the empty list it left (CVE-2026-42395).

The positive cases (the right endpoint logs in, with and without the
client's fields) show that the refusals are the binding's doing.

README: "Users bound to a private endpoint" and "Forward fields: what auth
can rely on".
"""

import base64
import os
import re

from headers import auth_forward_fields, header, proxy_connect
from sandbox import (CLIENT_IP, PASSWORD, Dovecot, Listener, Sandbox,
                     dovecot_under_test, plugin_dir, unmet_requirements)
from tap import Tap

AWS_A, AWS_B = "vpce-0a1b2c3d4e5f60718", "vpce-0f1e2d3c4b5a69788"
UNIQUE_ID = "balancer-7f3a9c"
# tenant-a may log in through AWS_A only (a passwd-file keyed USER@ID).
TENANT, TENANT_ENDPOINT = "tenant-a", AWS_A
PROTOCOLS = ("imap", "pop3", "submission")


def lines_until(reader, done):
    """Lines from reader up to and including the first that done()
    accepts, as text."""
    lines = []
    while True:
        line = reader.readline()
        if not line:
            raise EOFError(f"connection closed after {lines}")
        lines.append(line.decode(errors="replace").rstrip("\r\n"))
        if done(lines[-1]):
            return lines


def smtp_reply(reader):
    return lines_until(reader, lambda l: re.match(r"\d{3} ", l))[-1]


def imap_login(reader, send, fields, user, password):
    if fields:
        send('a ID (' + " ".join(
            f'"x-forward-{k}" "{v}"' for k, v in
            (f.split("=", 1) for f in fields)) + ')')
        lines_until(reader, lambda l: l.startswith("a "))
    send(f"b LOGIN {user} {password}")
    answer = lines_until(reader, lambda l: l.startswith("b "))[-1]
    return answer.startswith("b OK "), answer


def forward_arg(fields, xtext=False):
    """XCLIENT's FORWARD=: the fields tab-separated, in base64, which SMTP
    wants as xtext (RFC 3461: "+" and "=" as +2B and +3D)."""
    value = base64.b64encode("\t".join(fields).encode()).decode()
    if xtext:
        value = value.replace("+", "+2B").replace("=", "+3D")
    return "FORWARD=" + value


def pop3_login(reader, send, fields, user, password):
    if fields:
        # Refused by a Dovecot that checks FORWARD itself (a NUL byte, on
        # 2.4.5 and Debian's 2.3.19.1): the login goes on without it.
        send("XCLIENT " + forward_arg(fields))
        reader.readline()
    send(f"USER {user}")
    reader.readline()
    send(f"PASS {password}")
    answer = reader.readline().decode().rstrip("\r\n")
    return answer.startswith("+OK"), answer


def submission_login(reader, send, fields, user, password):
    send("EHLO client.test")
    smtp_reply(reader)
    if fields:
        send("XCLIENT " + forward_arg(fields, xtext=True))
        # Dovecot greets again after XCLIENT, as Postfix does, unless it
        # refuses FORWARD, as pop3_login() tells.
        if smtp_reply(reader).startswith("220 "):
            send("EHLO client.test")
            smtp_reply(reader)
    plain = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    send(f"AUTH PLAIN {plain}")
    answer = smtp_reply(reader)
    return answer.startswith("235 "), answer


LOGINS = {"imap": imap_login, "pop3": pop3_login,
          "submission": submission_login}


def login(dc, protocol, options, fields, user=TENANT, password=PASSWORD):
    """A header with options from the proxy, then the client's forward
    fields ("KEY=VALUE" or just "KEY") in the protocol's way, then a login;
    (whether it succeeded, the server's answer to it)."""
    with proxy_connect(dc.listener(protocol)) as sock:
        sock.sendall(header("--src", f"{CLIENT_IP}:40000",
                            "--dst", "127.0.0.3:143", *options))
        reader = sock.makefile("rb")
        if protocol == "submission":
            smtp_reply(reader)
        else:
            reader.readline()
        return LOGINS[protocol](
            reader, lambda line: sock.sendall(line.encode() + b"\r\n"),
            fields, user, password)


def forwarded(dc, protocol, options, fields, **kwargs):
    """login()'s result, and the forward fields of its auth request."""
    mark = dc.log_mark()
    result = login(dc, protocol, options, fields, **kwargs)
    return result, auth_forward_fields(dc, mark), mark


def endpoint_cannot_be_replaced(t, dc, protocol):
    claimed = [f"haproxy_aws_vpce_id={TENANT_ENDPOINT}"]
    with t.check(f"{protocol}: {TENANT} logs in through its endpoint, "
                 "with and without forward fields of the client's"):
        for fields in ([], ["note=kept"], claimed):
            (ok, answer), _, _ = forwarded(
                dc, protocol, ["--aws-vpce-id", TENANT_ENDPOINT], fields)
            assert ok, (fields, answer)
    with t.check(f"{protocol}: through endpoint {AWS_B}, a client that "
                 f"forwards haproxy_aws_vpce_id={TENANT_ENDPOINT} is "
                 "refused, and auth sees the balancer's endpoint"):
        (ok, answer), fields, _ = forwarded(
            dc, protocol, ["--aws-vpce-id", AWS_B], claimed)
        assert not ok, answer
        assert fields == {"haproxy_aws_vpce_id": AWS_B}, fields
    with t.check(f"{protocol}: through a header without the TLV, a client "
                 f"that forwards haproxy_aws_vpce_id={TENANT_ENDPOINT} is "
                 "refused, and auth sees no endpoint"):
        (ok, answer), fields, _ = forwarded(dc, protocol, [], claimed)
        assert not ok, answer
        assert "haproxy_aws_vpce_id" not in fields, fields


def unique_id_and_others(t, dc, protocol):
    options = ["--aws-vpce-id", TENANT_ENDPOINT, "--unique-id", UNIQUE_ID]
    claimed = ["haproxy_unique_id=forged", "HAPROXY_AWS_VPCE_ID=forged",
               "note=kept", "haproxy_unique_id=forged-again"]
    with t.check(f"{protocol}: haproxy_unique_id stays the balancer's, "
                 "whatever the client forwards, and the client's other "
                 "fields reach auth beside the header's"):
        (ok, answer), fields, mark = forwarded(dc, protocol, options,
                                               claimed)
        assert ok, answer
        assert fields == {"haproxy_aws_vpce_id": TENANT_ENDPOINT,
                          "haproxy_unique_id": UNIQUE_ID,
                          "note": "kept"}, fields
    with t.check(f"{protocol}: one warning names the fields ignored"):
        line = dc.wait_for_log(r"^.* Warning: haproxy: Ignoring forward "
                               r"fields from the client: .*$",
                               since=mark).group(0)
        assert ("haproxy_unique_id, HAPROXY_AWS_VPCE_ID, haproxy_unique_id "
                "(only the PROXY header sets haproxy_*)") in line, line
        assert len(re.findall(r"Ignoring forward fields",
                              dc.log_text(mark))) == 1, dc.log_text(mark)


def trusted_proxy_forward(t, dc, protocol):
    options = ["--unique-id", UNIQUE_ID]
    with t.check(f"{protocol}: a trusted proxy's XCLIENT FORWARD reaches "
                 "auth beside the header's fields"):
        (ok, answer), fields, _ = forwarded(
            dc, protocol, options, ["note=kept", "origin=webmail"],
            user="alice")
        assert ok, answer
        assert fields == {"haproxy_unique_id": UNIQUE_ID, "note": "kept",
                          "origin": "webmail"}, fields


def field_without_value(t, dc, protocol):
    with t.check(f"{protocol}: XCLIENT FORWARD=nopassword lets nobody in "
                 "without the password (CVE-2026-4200), and auth never "
                 "sees the field"):
        mark = dc.log_mark()
        ok, answer = login(dc, protocol, [], ["nopassword", "note=kept"],
                           user="alice", password="wrong")
        assert not ok, answer
        line = dc.wait_for_log(r"client in: AUTH\t.*$", since=mark).group(0)
        assert "nopassword" not in line, line
        dc.wait_for_log(r"Warning: haproxy: Ignoring forward fields from "
                        r"the client: nopassword \(no value\)", since=mark)


def nul_forward(t, dc, protocol):
    with t.check(f"{protocol}: XCLIENT FORWARD of a NUL byte is no field, "
                 "and the login goes on (Dovecot 2.4.1 to 2.4.4 panicked "
                 "on it, CVE-2026-42395)"):
        (ok, answer), fields, _ = forwarded(dc, protocol, [], ["\0"],
                                            user="alice")
        assert ok, answer
        assert fields == {}, fields


def main(t):
    dut = dovecot_under_test()
    with Sandbox() as sb:
        passwd = os.path.join(sb.path, "endpoints.passwd")
        with open(passwd, "w") as f:
            f.write(f"{TENANT}@{TENANT_ENDPOINT}:{{PLAIN}}{PASSWORD}\n")
        dc = Dovecot(sb, [Listener(p, p, haproxy=True) for p in PROTOCOLS],
                     plugin_dir=plugin_dir(), extra_config=(
                         f"login_trusted_networks = {CLIENT_IP}/32\n"
                         "auth_debug = yes\n"
                         + dut.endpoint_passdb("aws", passwd,
                                               "haproxy_aws_vpce_id")))
        with dc:
            for protocol in PROTOCOLS:
                endpoint_cannot_be_replaced(t, dc, protocol)
                unique_id_and_others(t, dc, protocol)
            for protocol in ("pop3", "submission"):
                trusted_proxy_forward(t, dc, protocol)
                field_without_value(t, dc, protocol)
                nul_forward(t, dc, protocol)


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    main(t)
