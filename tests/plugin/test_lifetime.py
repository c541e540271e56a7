#!/usr/bin/env python3
"""The strings a login client keeps from the header live as long as it.

login-common keeps conn->proxy.hostname (the local name) and
conn->proxy.cert_common_name (the certificate user name) without copying
them, and Dovecot's own parser frees both before the client is done: on a
long-lived login process auth then sees garbage. Here one login process
serves a few hundred logins, several at a time, each
with its own AUTHORITY hostN.example.test and verified certificate CN
userN. With auth_ssl_username_from_cert the CN decides who logs in: the
client sends another name with userN's password, so a wrong or stale CN
fails the login or shows in its log line, as does a stale local name.

README: "What Dovecot 2.4 does differently" (lifetimes: the client gets
its own copies of AUTHORITY and the CN) and "What the plugin does with a
header" (the CN as the certificate user name).
"""

import re
from concurrent.futures import ThreadPoolExecutor

from headers import DST, exchange, header
from sandbox import (Dovecot, Listener, Sandbox, dovecot_under_test,
                     plugin_dir, unmet_requirements, wait_until)
from tap import Tap

COUNT = 300
WORKERS = 8


def extra_config(dut):
    """One long-lived login process; login lines end with its pid."""
    return dut.long_lived("imap-login") + f"""\
auth_ssl_username_from_cert = yes
# Any character in user names, so that auth judges only what the plugin
# passed on (its default refuses the space in "Jane Doe").
auth_username_chars =
login_log_format = {dut.login_log_format}, pid={dut.pid_variable}
log_debug = category=haproxy
"""


def login(listener, n, cn, verify="0", name="someone"):
    """Logs in as name with userN's password behind a header that carries
    hostN.example.test and a client certificate with CN cn and this verify
    result; True if the login succeeded and the session worked."""
    data = header("--src", f"127.0.0.9:{10000 + n}", "--dst", DST,
                  "--authority", f"host{n}.example.test", "--ssl",
                  "--client-cert", "--ssl-verify", verify, "--ssl-cn", cn)
    _, reply = exchange(listener, data + f"a LOGIN {name} pw-{n}\r\n"
                        "b LOGOUT\r\n".encode())
    return b"\r\na OK " in reply and b"\r\nb OK " in reply


def main(t):
    dut = dovecot_under_test()
    login_line = re.compile(rf"imap-login: Info: {dut.logged_in}: "
                            r"user=<([^>]*)>, .* local_name=([^,]*), .* "
                            r"pid=(\d+)$", re.M)
    with Sandbox() as sb:
        users = {f"user{n}": {"password": f"pw-{n}"} for n in range(COUNT)}
        # Certificate names are not host names: a space is fine in them.
        # (auth_username_format %Lu makes "Jane Doe" this user.)
        users["jane doe"] = {"password": f"pw-{COUNT}"}
        dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                     users=users, plugin_dir=plugin_dir(),
                     extra_config=extra_config(dut))
        listener = dc.listener("imap-proxy")
        with dc:
            with ThreadPoolExecutor(WORKERS) as pool:
                results = list(pool.map(
                    lambda n: login(listener, n, f"user{n}"), range(COUNT)))
            t.eq([n for n, ok in enumerate(results) if not ok], [],
                 f"{COUNT} logins, {WORKERS} at a time, with a verified "
                 "certificate CN and the CN's password all succeed")

            def login_lines():
                found = login_line.findall(dc.log_text())
                return found if len(found) >= COUNT else None
            # A login's line may be written just after its session ended.
            lines = wait_until(login_lines) or []
            t.eq(sorted(user for user, _, _ in lines),
                 sorted(f"user{n}" for n in range(COUNT)),
                 f"{COUNT} login lines, one for each user")
            t.eq([line for line in lines
                  if line[1] != line[0].replace("user", "host") +
                  ".example.test"], [],
                 "every login line shows its own local name beside the user "
                 "of its own CN")
            t.eq(len({pid for _, _, pid in lines}), 1,
                 "one login process served them all")

            mark = dc.log_mark()
            t.ok(login(listener, 2, "user1", verify="21", name="user2"),
                 "unverified certificate (verify 21): its CN is not the user "
                 "name, the login name is")
            with t.check("the login line shows the login name, and a debug "
                         "line says why the CN was dropped"):
                fields = dc.wait_for_login("user2", mark)
                assert fields["local_name"] == "host2.example.test", fields
                dc.wait_for_log(r"Debug: haproxy: Ignoring certificate CN "
                                r"'user1': verify failed \(21\)", since=mark)

            mark = dc.log_mark()
            t.ok(login(listener, COUNT, "Jane Doe"),
                 "a verified CN with a space is the user name")
            t.ok(login(listener, 3, "user3\tadmin", name="user3"),
                 "a verified CN with a control character is not the user "
                 "name, the login name is")
            with t.check("their login lines, and a debug line that says why "
                         "the second CN was dropped"):
                dc.wait_for_login("jane doe", mark)
                dc.wait_for_login("user3", mark)
                dc.wait_for_log(r"Debug: haproxy: Ignoring certificate CN "
                                r"'user3\\x09admin': not a user name",
                                since=mark)


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    main(t)
