#!/usr/bin/env python3
"""haproxy-connect's options for the cloud load balancers' TLVs, byte by
byte with --print-header, against the layouts in proxy-vendor.h:

    AWS      0xEA  subtype 0x01, the VPC endpoint ID in ASCII
    Azure    0xEE  subtype 0x01, the LINKID, uint32 little-endian
    GCP      0xE0  the PSC connection ID, uint64 big-endian
    Alibaba  0xE1  subtype 0x01 VPC ID, 0x02 endpoint ID, 0x03 endpoint
                   service ID, in ASCII

and their errors (exit status 2).

README: "The test client", for "What the plugin does with a header"
(cloud load balancers' private endpoints).
"""

import struct

import tap
from client_util import print_header, run_client, v2_inet

USAGE = 2
ADDRESSES = ["--src", "192.0.2.1:1", "--dst", "192.0.2.2:2"]


def tlv(tlv_type, value):
    return bytes([tlv_type]) + struct.pack("!H", len(value)) + value


def with_tlvs(*tlvs):
    """The v2 header of ADDRESSES, written out by hand, with tlvs."""
    base = v2_inet("192.0.2.1", 1, "192.0.2.2", 2)
    tail = b"".join(tlvs)
    return base[:14] + struct.pack("!H", 12 + len(tail)) + base[16:] + tail


def sent(*options):
    return print_header(*ADDRESSES, *options)


def test_encodings(t):
    aws = "vpce-08d2bf15fac5001c9"
    cases = [
        (["--aws-vpce-id", aws], tlv(0xEA, b"\x01" + aws.encode()),
         "--aws-vpce-id: 0xEA, subtype 0x01, the ID in ASCII"),
        (["--aws-vpce-id", "a" * 255], tlv(0xEA, b"\x01" + b"a" * 255),
         "--aws-vpce-id: an ID of 255 characters, the longest"),
        (["--azure-linkid", "305419896"],
         tlv(0xEE, b"\x01\x78\x56\x34\x12"),
         "--azure-linkid 305419896 (0x12345678): 0xEE, subtype 0x01, "
         "little-endian"),
        (["--azure-linkid", "0x12345678"],
         tlv(0xEE, b"\x01\x78\x56\x34\x12"),
         "--azure-linkid 0x12345678: the same, in hexadecimal"),
        (["--azure-linkid", "4294967295"], tlv(0xEE, b"\x01" + b"\xff" * 4),
         "--azure-linkid 4294967295: the largest, 32 bits"),
        (["--azure-linkid", "0"], tlv(0xEE, b"\x01" + b"\0" * 4),
         "--azure-linkid 0"),
        (["--gcp-psc-id", "1311768467463790320"],
         tlv(0xE0, bytes.fromhex("123456789abcdef0")),
         "--gcp-psc-id 1311768467463790320 (0x123456789abcdef0): 0xE0, "
         "no subtype, big-endian"),
        (["--gcp-psc-id", "18446744073709551615"], tlv(0xE0, b"\xff" * 8),
         "--gcp-psc-id 18446744073709551615: the largest, 64 bits"),
        (["--alibaba-vpc-id", "vpc-bp1abc"], tlv(0xE1, b"\x01vpc-bp1abc"),
         "--alibaba-vpc-id: 0xE1, subtype 0x01, the ID in ASCII"),
        (["--alibaba-endpoint-id", "ep-bp1xyz"], tlv(0xE1, b"\x02ep-bp1xyz"),
         "--alibaba-endpoint-id: 0xE1, subtype 0x02"),
        (["--alibaba-endpoint-service-id", "epsrv-bp1svc"],
         tlv(0xE1, b"\x03epsrv-bp1svc"),
         "--alibaba-endpoint-service-id: 0xE1, subtype 0x03"),
        (["--aws-vpce-id", "vpce-a", "--aws-vpce-id", "vpce-b"],
         tlv(0xEA, b"\x01vpce-a") + tlv(0xEA, b"\x01vpce-b"),
         "a repeated option: a TLV each, in order"),
        (["--azure-linkid", "1", "--tlv", "0xe5:aa", "--authority", "a.test",
          "--aws-vpce-id", "vpce-a"],
         tlv(0x02, b"a.test") + tlv(0xEE, b"\x01\x01\0\0\0")
         + tlv(0xE5, b"\xaa") + tlv(0xEA, b"\x01vpce-a"),
         "after the other TLVs, in command line order with --tlv"),
    ]
    for options, tlvs, what in cases:
        t.eq(sent(*options), with_tlvs(tlvs), what)


def test_errors(t):
    cases = [
        (["--aws-vpce-id", "vpce a"], "--aws-vpce-id: 'vpce a' is not an ID "
         "of letters, digits and '-'"),
        (["--aws-vpce-id", ""], "--aws-vpce-id: '' is not an ID of letters, "
         "digits and '-'"),
        (["--aws-vpce-id", "a" * 256], None),
        (["--alibaba-vpc-id", "vpc_1"], "--alibaba-vpc-id: 'vpc_1' is not "
         "an ID of letters, digits and '-'"),
        (["--alibaba-endpoint-id", "ep.1"], None),
        (["--alibaba-endpoint-service-id", "é"], None),
        (["--azure-linkid", "4294967296"], "--azure-linkid: '4294967296' is "
         "not a number of 32 bits"),
        (["--azure-linkid", "-1"], "--azure-linkid: '-1' is not a number of "
         "32 bits"),
        (["--azure-linkid", " 1"], None),
        (["--azure-linkid", "1x"], None),
        (["--azure-linkid", ""], None),
        (["--gcp-psc-id", "18446744073709551616"], "--gcp-psc-id: "
         "'18446744073709551616' is not a number of 64 bits"),
        (["--gcp-psc-id", "abc"], None),
        (["-1", "--aws-vpce-id", "vpce-a"], None),
    ]
    for options, message in cases:
        result = run_client("--print-header", *options)
        err = result.stderr.decode(errors="replace")
        shown = " ".join(f"<{len(o)} characters>" if len(o) > 40 else
                         repr(o) if o == "" or " " in o else o
                         for o in options)
        t.ok(result.returncode == USAGE and result.stdout == b"" and
             (message is None or f"haproxy-connect: {message}\n" == err),
             f"{shown}: usage error" + (", saying why" if message else ""),
             f"exit {result.returncode}: {err}")


def main():
    with tap.Tap() as t:
        test_encodings(t)
        test_errors(t)


if __name__ == "__main__":
    main()
