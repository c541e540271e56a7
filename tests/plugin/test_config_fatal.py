#!/usr/bin/env python3
"""Settings mistakes that must stop Dovecot, or the login processes that
would need the setting, with one clear error. The promises pinned here:

- haproxy_direct_wait "must stay below haproxy_timeout" (README,
  "Kubernetes and direct clients"; dovecot-haproxy(7): "shorter than
  haproxy_timeout"). Equal or longer, with haproxy_direct_networks set, a
  login process with a haproxy = yes listener stops with one fatal error
  that names both settings and their values, as often as the master
  tries again; the master keeps running. Just below it is fine.
- Without the settings module libhaproxy_settings.so in Dovecot's
  settings module directory (dovecot-haproxy(7), FILES): Dovecot knows
  neither haproxy_direct_* setting, so one of them in the configuration
  stops Dovecot at start ("Unknown setting"); without one, a Dovecot 2.4
  login process with the plugin stops with "Cannot read the plugin's
  settings" and names the module, while Dovecot 2.3 serves as before.

README: "Configure" and "Kubernetes and direct clients".
"""

import re

from headers import run_client
from sandbox import (CLIENT_IP, PASSWORD, IMAP, Dovecot, Listener, Sandbox,
                     assert_login, dovecot_under_test, plugin_dir,
                     unmet_requirements)
from tap import Tap

# The master starts a login process at once instead of on a connection.
LOGIN_AT_START = """\
service imap-login {
  process_min_avail = 1
}
"""
SRC = "198.51.100.7:40000"


def dovecot(sb, name, settings, settings_module=True):
    return Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)],
                   plugin_dir=plugin_dir(), haproxy_timeout="3s",
                   settings_module=settings_module, name=name,
                   extra_config=(LOGIN_AT_START + settings
                                 + dovecot_under_test().cleartext_auth()))


def login_process_stops(t, dc, what, expected, pattern=None):
    """The login process of dc stops with the Fatal line expected (or one
    that regex pattern matches whole), each time the master starts it,
    and nothing else logs a Fatal line; the master keeps running."""
    line = "imap-login: Fatal: " + (pattern or re.escape(expected))
    with dc.provokes(line):
        with t.check(f"{what}: imap-login stops with one fatal error: "
                     f"{expected}"):
            dc.wait_for_log(line + "$")
            dc.wait_for_log(r"master: Error: service\(imap-login\): command "
                            r"startup failed")
            fatal = re.findall(r"\S+: Fatal: .*", dc.log_text())
            assert fatal and all(re.fullmatch(line, f) for f in fatal), \
                fatal
        t.ok(dc.running(), f"{what}: the master keeps running")


def direct_wait(t, sb):
    for wait, shown in (("3s", "3000 ms"), ("10s", "10000 ms")):
        settings = (f"haproxy_direct_networks = {CLIENT_IP}\n"
                    f"haproxy_direct_wait = {wait}\n")
        login_process_stops(
            t, dovecot(sb, f"wait-{wait}", settings),
            f"haproxy_direct_wait = {wait}, haproxy_timeout = 3s",
            f"haproxy_direct_wait ({shown}) must be shorter than "
            "haproxy_timeout (3 s)")

    settings = (f"haproxy_direct_networks = {CLIENT_IP}\n"
                "haproxy_direct_wait = 2999ms\n")
    dc = dovecot(sb, "wait-2999ms", settings)
    with dc:
        with t.check("haproxy_direct_wait = 2999ms, haproxy_timeout = 3s: "
                     "a direct client logs in"):
            mark = dc.log_mark()
            with IMAP(dc.listener("imap-proxy")) as imap:
                imap.login("alice", PASSWORD)
                port = imap.sock.getsockname()[1]
            assert_login(dc.wait_for_login("alice", mark), rip=CLIENT_IP,
                         rport=port)
        t.eq(re.findall(r"\S+: Fatal: .*", dc.log_text()), [],
             "haproxy_direct_wait = 2999ms: no fatal error")


def without_settings_module(t, sb):
    dut = dovecot_under_test()
    for setting in ("haproxy_direct_networks = 127.0.0.9",
                    "haproxy_direct_wait = 100ms"):
        name = setting.split()[0]
        dc = dovecot(sb, f"no-module-{name}", setting + "\n",
                     settings_module=False)
        with t.check(f"without libhaproxy_settings.so, {setting}: Dovecot "
                     f"does not start: Unknown setting: {name}"):
            try:
                dc.start()
            except RuntimeError as e:
                assert f"Unknown setting: {name}" in str(e), e
            else:
                raise AssertionError("Dovecot started")
        t.ok(not dc.running(), f"without libhaproxy_settings.so, {setting}: "
             "no Dovecot process is left")

    dc = dovecot(sb, "no-module", "", settings_module=False)
    if dut.syntax == "2.4":
        # Between the plugin's words, Dovecot's reason.
        login_process_stops(
            t, dc, "without libhaproxy_settings.so, on Dovecot 2.4",
            "haproxy: Cannot read the plugin's settings: ... (is "
            "settings/libhaproxy_settings.so installed in Dovecot's module "
            "directory?)",
            r"haproxy: Cannot read the plugin's settings: .+ \(is "
            r"settings/libhaproxy_settings\.so installed in Dovecot's "
            r"module directory\?\)")
        return
    with dc:
        with t.check("without libhaproxy_settings.so, on Dovecot 2.3: a "
                     "header is read and applied as before"):
            mark = dc.log_mark()
            run = run_client(dc.listener("imap-proxy"), "--src", SRC,
                             data=f"a LOGIN alice {PASSWORD}\r\n"
                             "b LOGOUT\r\n".encode())
            assert b"\r\na OK " in run.stdout, run
            assert_login(dc.wait_for_login("alice", mark),
                         rip=SRC.split(":")[0], rport=SRC.split(":")[1])
        t.eq(re.findall(r"\S+: Fatal: .*", dc.log_text()), [],
             "without libhaproxy_settings.so, on Dovecot 2.3: no fatal "
             "error")


def main(t):
    with Sandbox() as sb:
        direct_wait(t, sb)
        without_settings_module(t, sb)


with Tap() as t:
    t.require(unmet_requirements(plugin=True, client=True))
    main(t)
