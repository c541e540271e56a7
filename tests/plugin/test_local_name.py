#!/usr/bin/env python3
"""A v2 header's AUTHORITY is the client's local name, and all of a
local_name { } block for it applies, as to a client whose settings were
read with that name:

- its login settings: login_greeting greets;
- the login service's protocol settings: its imap_capability is what
  CAPABILITY lists;
- the trust computed from its login_trusted_networks, which login-common
  checks against the client's address, the header's source: a trusted
  client's ID may name the address the login is for (x-originating-ip),
  and on Dovecot 2.3 a trusted client counts as secured, so plaintext
  LOGIN works without the SSL TLV. (2.4 counts every proxied client as
  secured unless ssl = required, trusted or not, and never as secured
  for its trust: there the ID alone shows the trust.)

Headers without AUTHORITY, or with another name, get none of it. A
block's name may be a wildcard, and on Dovecot 2.3 a block may list
several names: each of them applies the block too (2.3's plugin reads the
settings again only for a name some block may match). Every case runs
with a long-lived imap-login and in the default mode, one client per
process.

README: "What the plugin does with a header" (AUTHORITY: local_name
blocks, all of them) and "What Dovecot 2.4 does differently" (secured
connections).
"""

import re

from headers import DST, exchange, header
from sandbox import (PASSWORD, Dovecot, Listener, Sandbox, assert_login,
                     dovecot_under_test, plugin_dir, unmet_requirements)
from tap import Tap

NAME = "mail.example.test"
GREETING = "Greetings from mail.example.test."
CAPABILITY = "XLOCALNAME"
SRC_IP, SRC_PORT = "198.51.100.7", 40000
ORIGINATING_IP = "203.0.113.5"
# Blocks whose greeting alone tells that they applied.
WILDCARD, WILDCARD_GREETING = "*.wild.test", "Greetings from the wild."
NAMES, NAMES_GREETING = "first.example.test alt.example.test", \
    "Greetings from alt."


def block(dut):
    return (f"local_name {NAME} {{\n"
            f"  login_greeting = {GREETING}\n"
            + "".join("  " + line + "\n" for line in
                      dut.imap_capability_add(CAPABILITY).splitlines())
            + f"  login_trusted_networks = {SRC_IP}/32\n"
            "}\n"
            f"local_name {WILDCARD} {{\n"
            f"  login_greeting = {WILDCARD_GREETING}\n"
            "}\n"
            + (f'local_name "{NAMES}" {{\n'
               f"  login_greeting = {NAMES_GREETING}\n"
               "}\n" if dut.syntax == "2.3" else ""))


def session(dc, authority, commands):
    """A header from the proxy, with AUTHORITY if given, then commands
    (tag, command) pipelined; the transcript's lines."""
    options = ["--src", f"{SRC_IP}:{SRC_PORT}", "--dst", DST]
    if authority:
        options += ["--authority", authority]
    _, reply = exchange(dc.listener("imap-proxy"), header(*options) + b"".join(
        f"{tag} {command}\r\n".encode() for tag, command in commands)
        + b"z LOGOUT\r\n")
    return reply.decode(errors="replace").splitlines()


def greeting(lines):
    """The greeting's text, after its capabilities (the first client of a
    login process may be told to wait for auth first)."""
    for line in lines:
        match = re.match(r"\* OK \[CAPABILITY [^]]*\] (.*)$", line)
        if match:
            return match.group(1)
    raise AssertionError(f"no greeting in {lines}")


def capabilities(lines):
    for line in lines:
        if line.startswith("* CAPABILITY "):
            return line.split()[2:]
    raise AssertionError(f"no CAPABILITY in {lines}")


def tagged(lines, tag):
    return next(line for line in lines if line.startswith(tag + " "))


def other_blocks(t, dc, mode):
    names = [("imap.wild.test", WILDCARD_GREETING, f"the {WILDCARD} block")]
    if dc.under_test.syntax == "2.3":
        names.append(("alt.example.test", NAMES_GREETING,
                      f'the second name of the "{NAMES}" block'))
    for authority, expected, block_name in names:
        lines = session(dc, authority, [("a", "CAPABILITY")])
        t.eq(greeting(lines), expected, f"{mode}: AUTHORITY {authority}: "
             f"the greeting is the login_greeting of {block_name}")


def cases(t, dc, mode):
    dut = dc.under_test
    for authority, applies in ((NAME, True), (None, False),
                               ("other.example.test", False)):
        what = (f"{mode}: AUTHORITY {authority}" if authority
                else f"{mode}: no AUTHORITY")
        lines = session(dc, authority, [("a", "CAPABILITY")])
        expected = GREETING if applies else dut.greeting
        t.eq(greeting(lines), expected, f"{what}: the greeting is "
             + ("the block's login_greeting" if applies else "the default"))
        t.eq(CAPABILITY in capabilities(lines), applies, f"{what}: " + (
            f"CAPABILITY lists {CAPABILITY}, from the block's "
            "imap_capability" if applies else
            f"CAPABILITY does not list {CAPABILITY}"))

        with t.check(f"{what}: the client is " + (
                "trusted (the block's login_trusted_networks): its ID sets "
                "the address of its login" if applies else
                "not trusted: its ID sets no address")):
            mark = dc.log_mark()
            lines = session(dc, authority, [
                ("b", f'ID ("x-originating-ip" "{ORIGINATING_IP}")'),
                ("c", f"LOGIN alice {PASSWORD}")])
            login = tagged(lines, "c")
            if not applies and not dut.secured_no_ssl_tlv:
                # 2.3: neither trusted nor TLS, so not secured.
                assert login.startswith("c NO [PRIVACYREQUIRED]"), login
            else:
                assert login.startswith("c OK "), login
                # An empty local_name is left out of the line.
                assert_login(dc.wait_for_login("alice", mark),
                             rip=ORIGINATING_IP if applies else SRC_IP,
                             **({"local_name": authority} if authority
                                else {}))

        # Only 2.3 makes a proxied client secured for its trust.
        if not dut.secured_no_ssl_tlv:
            with t.check(f"{what}: plaintext LOGIN without the SSL TLV " + (
                    "works: the client is secured" if applies else
                    "is refused: the client is not secured")):
                mark = dc.log_mark()
                lines = session(dc, authority,
                                [("c", f"LOGIN alice {PASSWORD}")])
                login = tagged(lines, "c")
                if applies:
                    assert login.startswith("c OK "), login
                    assert_login(dc.wait_for_login("alice", mark),
                                 rip=SRC_IP, secured="secured")
                else:
                    assert login.startswith("c NO [PRIVACYREQUIRED]"), login


def main(t):
    dut = dovecot_under_test()
    with Sandbox() as sb:
        for name, mode, lines in (
                ("long-lived", "long-lived imap-login",
                 dut.long_lived("imap-login")),
                ("default", "one client per imap-login", "")):
            dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                         plugin_dir=plugin_dir(), name=name,
                         extra_config=block(dut) + lines)
            with dc:
                cases(t, dc, mode)
                other_blocks(t, dc, mode)


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    main(t)
