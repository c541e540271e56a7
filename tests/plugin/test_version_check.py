#!/usr/bin/env python3
"""The plugin runs only in the Dovecot it was built for.

Dovecot compares ABI versions only up to their "(": 2.3.ABIv21(2.3.21) and
2.3.ABIv21(2.3.21.1) count as equal, though 2.3.21.1 moved most fields of
struct client. So the plugin checks the running version itself, first
thing, and stops its process with one line naming both versions:

- Built for this Dovecot and run by another one of the same ABI (each
  other installed Dovecot of scripts/dovecot-build.sh, in $DOVECOT_BUILDS or
  /opt/dovecot-haproxy): with the plugin alone, every login process stops
  at start with the line, the master throttles the service, and no client
  is served, neither by the plugin nor by Dovecot's own parser; with the
  settings module installed too, Dovecot does not start at all, with the
  same line from doveconf. Skipped where no such Dovecot is installed.
- version_ignore = yes, on the Dovecot built for: Dovecot then keeps its
  version from its processes, so the plugin cannot check and refuses as
  well, saying so; the settings module lets the config process run.

README: "Supported Dovecot versions" (a plugin binary is built for one
Dovecot: the refusal).
"""

import contextlib
import glob
import os
import re

from sandbox import (PROXY_IP, Dovecot, Listener, Sandbox, connect,
                     dovecot_under_test, plugin_dir, unmet_requirements)
from tap import Tap

BUILDS = os.environ.get("DOVECOT_BUILDS", "/opt/dovecot-haproxy")
# 2.3.ABIv21(2.3.21.1); from git archives of 2.4 only 2.4.ABIv4. Quoted in
# config.h, NUL-terminated in the plugin.
ABI = re.compile(rb'(\d+\.\d+\.ABIv\d+)[("\0]')
LISTENERS = (("imap", "imap_haproxy", True), ("imap", "imap_plain", False),
             ("pop3", "pop3_haproxy", True))


def abi(path):
    """The ABI version in file path, Dovecot's config.h or the plugin,
    which exports the one it was built with, up to the "(" where Dovecot's
    own check stops comparing."""
    with open(path, "rb") as f:
        match = ABI.search(f.read())
    return match[1].decode() if match else None


def version_h(prefix):
    """The version of the Dovecot installed in prefix."""
    with open(os.path.join(prefix, "include", "dovecot", "config.h")) as f:
        return re.search(r'#define DOVECOT_VERSION "(.*)"', f.read())[1]


def siblings(built_abi, built):
    """The prefixes of installed Dovecots that Dovecot's own check lets
    load a plugin of ABI built_abi built for version built, though their
    version differs."""
    found = []
    for config_h in sorted(glob.glob(os.path.join(
            BUILDS, "*", "include", "dovecot", "config.h"))):
        prefix = config_h.rsplit("/include/", 1)[0]
        if (abi(config_h) == built_abi and version_h(prefix) != built
                and os.access(os.path.join(prefix, "sbin", "dovecot"),
                              os.X_OK)):
            found.append(prefix)
    return found


@contextlib.contextmanager
def running(prefix):
    """The Dovecot installed in prefix is the one the sandbox runs."""
    saved = {key: os.environ.get(key)
             for key in ("PATH", "DOVECOT_SETTINGS_DIR")}
    os.environ["PATH"] = (f"{prefix}/sbin:{prefix}/bin:"
                          + os.environ["PATH"])
    os.environ["DOVECOT_SETTINGS_DIR"] = os.path.join(
        prefix, "lib", "dovecot", "settings")
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class PluginOnly(Dovecot):
    """A Dovecot with the login plugin but not its settings module."""

    def _argv(self):
        return ["dovecot", "-F", "-c", self.config_path]


def header_to(listener):
    return ("PROXY TCP4 192.0.2.7 127.0.0.3 40000 "
            f"{listener.port}\r\n").encode()


def received(sock):
    """What the peer sends until it closes, resets or stays silent for the
    socket's timeout."""
    data = b""
    while True:
        try:
            chunk = sock.recv(4096)
        except (ConnectionResetError, TimeoutError):
            return data
        if not chunk:
            return data
        data += chunk


def refused(t, dc, what, line):
    """dc, started, has a login plugin that refuses to run: each login
    process stops at start with line and nothing else, and no client gets
    as much as a greeting."""
    with t.check(f"{what}: a client of each listener gets no greeting"):
        for _, name, haproxy in LISTENERS:
            listener = dc.listener(name)
            # A trusted peer's valid header on the haproxy listeners: the
            # plugin, were it running, or Dovecot's own parser would
            # serve it.
            with connect(listener, PROXY_IP) as sock:
                if haproxy:
                    sock.sendall(header_to(listener))
                assert received(sock) == b"", name
    dc.provokes(rf"(?:imap|pop3)-login: Fatal: {re.escape(line)}")
    with t.check(f"{what}: each login process stops at start with one "
                 "line naming both versions"):
        for service in ("imap-login", "pop3-login"):
            dc.wait_for_log(rf"^.* {service}: Fatal: {re.escape(line)}$")
        dc.wait_for_log(r"master: Error: service\(imap-login\): command "
                        r"startup failed")
        fatal = set(re.findall(r"\S+: Fatal: .*", dc.log_text()))
        assert fatal == {f"imap-login: Fatal: {line}",
                         f"pop3-login: Fatal: {line}"}, fatal
    log = dc.log_text()
    t.eq(re.findall(r".*(?:Panic|signal|Login|Logged in).*", log), [],
         f"{what}: no crash, no login")


def listeners():
    return [Listener(protocol, name, haproxy=haproxy)
            for protocol, name, haproxy in LISTENERS]


def version_ignore(t, sb, built):
    dc = Dovecot(sb, listeners(), plugin_dir=plugin_dir(),
                 extra_config="version_ignore = yes\n",
                 name="dovecot-version-ignore")
    with dc:
        refused(t, dc, "version_ignore = yes",
                f"haproxy: The plugin was built for Dovecot {built} and "
                "cannot tell which Dovecot is running, since "
                "version_ignore = yes: set version_ignore = no")


def other_dovecot(t, sb, built, prefix):
    with running(prefix):
        other = dovecot_under_test().version
        line = (f"haproxy: The plugin was built for Dovecot {built}, "
                f"not for the running Dovecot {other}: rebuild it against "
                f"Dovecot {other}")
        name = f"dovecot-{other}"
        dc = PluginOnly(sb, listeners(), plugin_dir=plugin_dir(),
                        name=name)
        with dc:
            refused(t, dc, f"plugin alone in Dovecot {other}", line)

        dc = Dovecot(sb, listeners(), plugin_dir=plugin_dir(),
                     name=name + "-settings")
        with t.check(f"with its settings module, Dovecot {other} does not "
                     "start, and says why in the same words"):
            try:
                dc.start()
            except RuntimeError:
                pass
            else:
                raise AssertionError(f"Dovecot {other} started")
            assert f"Fatal: {line}\n" in dc.log_text(), dc.log_text()


def main():
    with Tap() as t:
        t.require(unmet_requirements(plugin=True))
        # make check runs the Dovecot the plugin was built for.
        built = dovecot_under_test().version
        built_abi = abi(os.path.join(plugin_dir(), "lib20_haproxy_plugin.so"))
        with Sandbox() as sb:
            version_ignore(t, sb, built)
            others = siblings(built_abi, built)
            if not others:
                t.skip(f"a plugin built for Dovecot {built} in another "
                       f"Dovecot of ABI {built_abi}",
                       f"none installed in {BUILDS}")
            for prefix in others:
                other_dovecot(t, sb, built, prefix)


if __name__ == "__main__":
    main()
