#!/usr/bin/env python3
"""Cloud load balancers' endpoint IDs (issue 15): the PROXY v2 TLVs in
which AWS, Azure, Google Cloud and Alibaba Cloud name the private endpoint
a connection came through, sent here with haproxy-connect's options.

1. Each ID is a field of the accepted header's haproxy_header_finished
   event and of the login client's event (which its named child
   proxy_session_started carries to the stats process, as in
   test_events.py), and a forward field that auth sees.
2. A user bound to an endpoint logs in through it and is refused through
   another endpoint and without any, with Dovecot's own settings only
   (Dovecot23/Dovecot24.endpoint_passdb): a passwd-file whose lines are
   keyed USER@ENDPOINT-ID. Done for AWS (a text ID) and Azure (a number).
   A refusal is an authentication failure, not a temporary failure that
   would look like an outage.
3. A malformed vendor TLV is no reason to reject the connection: it is
   accepted, the TLV is kept raw as haproxy_tlv_0xNN (hex), and a debug
   line says why. It names no endpoint to auth.

README: "What the plugin does with a header" (cloud load balancers'
private endpoints) and "Users bound to a private endpoint".
"""

import os
import re

from headers import (DST, HEADER_FINISHED, auth_forward_fields, exchange,
                     exported_event, header, header_finished, proxy_connect)
from sandbox import (CLIENT_IP, PASSWORD, Dovecot, Listener, Sandbox,
                     assert_login, dovecot_under_test, plugin_dir,
                     proxied_backend, unmet_requirements)
from tap import Tap

AWS_A, AWS_B = "vpce-0a1b2c3d4e5f60718", "vpce-0f1e2d3c4b5a69788"
AZURE_A, AZURE_B = 0x12345678, 0xABCDEF01
GCP = 0xFEDCBA9876543210    # above 2^63: printed unsigned
ALIBABA = {"vpc": "vpc-bp1abcdefg", "endpoint": "ep-bp1xyz0123",
           "endpoint-service": "epsrv-bp1svc4567"}

# Every option, and the fields it must give.
ALL_OPTIONS = [
    "--aws-vpce-id", AWS_A, "--azure-linkid", str(AZURE_A),
    "--gcp-psc-id", str(GCP), "--alibaba-vpc-id", ALIBABA["vpc"],
    "--alibaba-endpoint-id", ALIBABA["endpoint"],
    "--alibaba-endpoint-service-id", ALIBABA["endpoint-service"],
]
ALL_FIELDS = {
    "haproxy_aws_vpce_id": AWS_A,
    "haproxy_azure_linkid": str(AZURE_A),
    "haproxy_gcp_psc_connection_id": str(GCP),
    "haproxy_alibaba_vpc_id": ALIBABA["vpc"],
    "haproxy_alibaba_endpoint_id": ALIBABA["endpoint"],
    "haproxy_alibaba_endpoint_service_id": ALIBABA["endpoint-service"],
}
LOGOUT = b"a LOGOUT\r\n"
# Users bound to endpoints, who are in no other passdb: tenant-a through
# AWS_A, tenant-b through AWS_B, tenant-z through Azure's AZURE_A.
AWS_USERS = {"tenant-a": AWS_A, "tenant-b": AWS_B}
AZURE_USERS = {"tenant-z": AZURE_A}


def write_passwd(path, users):
    """A passwd-file with a line USER@ENDPOINT-ID per user."""
    with open(path, "w") as f:
        for user, endpoint in users.items():
            f.write(f"{user}@{endpoint}:{{PLAIN}}{PASSWORD}\n")


def with_header(dc, options, data):
    """A header with options (--ssl: plaintext LOGIN is allowed on 2.3
    too), then data; our port and all the server sent until it closed."""
    return exchange(dc.listener("imap-proxy"), header(
        "--src", f"{CLIENT_IP}:40000", "--dst", DST, "--ssl", *options)
        + data)


def accepted(dc, options):
    """The fields of the haproxy_header_finished event of a header with
    options that was accepted and led to an IMAP session."""
    mark = dc.log_mark()
    port, reply = with_header(dc, options, LOGOUT)
    assert b"\r\na OK " in reply, reply
    fields = header_finished(dc, port, mark)
    assert fields["result"] == "accepted", fields
    return fields


def vendor_fields(fields):
    """The endpoint IDs and raw vendor TLVs among an event's fields."""
    return {key: value for key, value in fields.items()
            if key in ALL_FIELDS or key.startswith("haproxy_tlv_0x")}


def login(dc, options, user):
    """LOGIN as user through a header with options; the reply's line for
    the LOGIN."""
    _, reply = with_header(dc, options, f"a LOGIN {user} {PASSWORD}\r\n"
                        "b LOGOUT\r\n".encode())
    lines = [line for line in reply.split(b"\r\n") if line.startswith(b"a ")]
    assert len(lines) == 1, reply
    return lines[0].decode()


def logs_in(dc, options, user):
    mark = dc.log_mark()
    answer = login(dc, options, user)
    assert answer.startswith("a OK "), answer
    assert_login(dc.wait_for_login(user, since=mark), user=user,
                 rip=CLIENT_IP)


def refused(dc, options, user):
    answer = login(dc, options, user)
    assert answer == "a NO [AUTHENTICATIONFAILED] Authentication failed.", \
        answer


def fields_and_forwarding(t, dc):
    with t.check("every endpoint ID is a field of the accepted header's "
                 "haproxy_header_finished event: "
                 + ", ".join(ALL_FIELDS)):
        fields = accepted(dc, ALL_OPTIONS)
        assert vendor_fields(fields) == ALL_FIELDS, fields

    mark = dc.log_mark()
    with t.check("a login proxied to the backend through a header with "
                 "every endpoint ID succeeds"):
        answer = login(dc, ALL_OPTIONS, "remote")
        assert answer.startswith("a OK "), answer
    what = ("every endpoint ID is a field of the login client's event "
            "(its proxy_session_started)")
    if not dc.under_test.login_proxy_events:
        t.skip(what, f"Dovecot {dc.under_test.version}'s login proxy makes "
               "no named events")
    else:
        with t.check(what):
            event = exported_event(dc, "proxy_session_started", since=mark)
            assert event["fields"] == ALL_FIELDS, event
    with t.check("auth sees every endpoint ID as a forward field "
                 "(forward_fields of its request)"):
        assert auth_forward_fields(dc, mark) == ALL_FIELDS


def endpoint_logins(t, dc):
    for vendor, option, users, other in (
            ("AWS", "--aws-vpce-id", AWS_USERS, AWS_B),
            ("Azure", "--azure-linkid", AZURE_USERS, AZURE_B)):
        user, endpoint = next(iter(users.items()))
        with t.check(f"{vendor}: {user} logs in through its endpoint "
                     f"{endpoint}"):
            logs_in(dc, [option, str(endpoint)], user)
        with t.check(f"{vendor}: {user} is refused through another "
                     f"endpoint, {other}: authentication failed"):
            refused(dc, [option, str(other)], user)
        with t.check(f"{vendor}: {user} is refused without any endpoint ID: "
                     "authentication failed, not a temporary failure"):
            refused(dc, [], user)
    with t.check("AWS: tenant-b logs in through its own endpoint, "
                 f"{AWS_B}"):
        logs_in(dc, ["--aws-vpce-id", AWS_B], "tenant-b")


def tlv(tlv_type, value):
    return ["--tlv", f"0x{tlv_type:02x}:{value.hex()}"]


# (what, header options, the vendor fields of its event, the debug line)
MALFORMED = [
    ("an AWS ID with a space",
     tlv(0xea, b"\x01" + AWS_A.encode() + b" "),
     {"haproxy_tlv_0xea": (b"\x01" + AWS_A.encode() + b" ").hex()},
     "Keeping TLV 0xea raw: aws_vpce_id not an ID of letters, digits and "
     "'-'"),
    ("an Azure LINKID of 3 bytes", tlv(0xee, b"\x01\x12\x34\x56"),
     {"haproxy_tlv_0xee": "01123456"},
     "Keeping TLV 0xee raw: azure_linkid not a 4-byte number"),
    ("a repeated AWS TLV",
     ["--aws-vpce-id", AWS_A, "--aws-vpce-id", AWS_B],
     {"haproxy_aws_vpce_id": AWS_A,
      "haproxy_tlv_0xea": (b"\x01" + AWS_B.encode()).hex()},
     "Keeping TLV 0xea raw: aws_vpce_id repeated"),
]


def malformed(t, dc):
    for what, options, fields, debug in MALFORMED:
        with t.check(f"{what}: accepted, kept raw, and a debug line says "
                     f"why ({debug})"):
            mark = dc.log_mark()
            event = accepted(dc, options)
            assert vendor_fields(event) == fields, event
            # The debug line comes before the one of the accepted header.
            dc.wait_for_log(rf"haproxy: PROXY v2: .* "
                            rf"rport={event['remote_port']},",
                            since=mark)
            lines = re.findall(r"^.* imap-login: Debug: haproxy: "
                               r"(Keeping TLV .*)$", dc.log_text(mark), re.M)
            assert lines == [debug], lines
    with t.check("an AWS ID with a space names no endpoint: tenant-a is "
                 "refused"):
        refused(dc, MALFORMED[0][1], "tenant-a")


def main(t):
    dut = dovecot_under_test()
    with Sandbox() as sb:
        aws_passwd = os.path.join(sb.path, "aws-endpoints.passwd")
        azure_passwd = os.path.join(sb.path, "azure-endpoints.passwd")
        write_passwd(aws_passwd, AWS_USERS)
        write_passwd(azure_passwd, AZURE_USERS)
        backend, users = proxied_backend(sb)
        dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True),
                          backend], users=users, plugin_dir=plugin_dir(),
                     extra_config=(
                         "log_debug = category=haproxy\nauth_debug = yes\n"
                         + dut.endpoint_passdb("aws", aws_passwd,
                                               "haproxy_aws_vpce_id")
                         + dut.endpoint_passdb("azure", azure_passwd,
                                               "haproxy_azure_linkid")
                         + dut.exported(HEADER_FINISHED, (
                             "haproxy_sessions", "event=proxy_session_started",
                             tuple(ALL_FIELDS)))))
        with dc:
            fields_and_forwarding(t, dc)
            endpoint_logins(t, dc)
            malformed(t, dc)


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    main(t)
