#!/usr/bin/env python3
"""The system's Dovecot, that of the dovecot-core package whatever PATH
says, run by a test with the system's settings but off the machine's
state and network:

    with SystemDovecot(sandbox, "dovecot") as dc:
        dc.greeting()

Its configuration includes /etc/dovecot/dovecot.conf, then moves the
runtime and state directories and the log into the sandbox, the listeners
to loopback and free ports, and adds a passwd-file user and the sandbox's
certificate."""

import os
import re
import shutil
import subprocess

from machine import ETC, package_files, stand_ins
from sandbox import (DOVECOT_CRASH, DOVECOT_IP, PASSWORD, Endpoint, _Server,
                     connect, dovecot_under_test)

USER = "installtest"

# Written after the system's settings, in the syntax of its Dovecot.
CONFIG = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {log}
info_log_path = {log}
debug_log_path = {log}
listen = {address}
protocols = imap
"""
LISTENERS = """\
service imap-login {{
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def program(name):
    """The path of program name (sbin/dovecot, bin/doveconf) of
    dovecot-core."""
    return next(f for f in package_files("dovecot-core")
                if f.endswith("/" + name))


def doveconf(name):
    """A setting of the system's configuration (-P, or ssl_key is hidden).
    Not doveconf -h: Debian 13's refuses it for most settings ("Multiple
    settings matched")."""
    output = subprocess.run([program("bin/doveconf"), "-P", name],
                            check=True, capture_output=True,
                            text=True).stdout
    match = re.search(rf"^{re.escape(name)} = (.*)$", output, re.M)
    return match[1].strip() if match else ""


def versions():
    """What 2.4 wants first in a configuration file: the system's
    dovecot_config_version and dovecot_storage_version, which the system's
    settings then set again, to the same values; nothing on 2.3."""
    output = subprocess.run([program("bin/doveconf"), "-n"], check=True,
                            capture_output=True, text=True).stdout
    return "".join(re.findall(r"^dovecot_(?:config|storage)_version = .*\n",
                              output, re.M))


def running_pid():
    """The pid of the system's running Dovecot, or None."""
    try:
        with open(os.path.join(doveconf("base_dir"), "master.pid")) as f:
            pid = int(f.read())
        with open(f"/proc/{pid}/comm") as f:
            return pid if f.read().strip() == "dovecot" else None
    except (OSError, ValueError):
        return None


def certificate_stand_ins(certs):
    """Dovecot 2.3's settings name a certificate and key as <FILE, which it
    reads even when a later setting overrides them; where they do not exist
    (Debian makes them only with ssl-cert installed), the sandbox's stand
    in for them. 2.4 reads only the files it uses. A context manager
    yielding the paths it created."""
    files = []
    if dovecot_under_test().syntax == "2.3":
        for setting, source, mode in (
                ("ssl_cert", certs.server_cert, 0o644),
                ("ssl_key", certs.server_key, 0o600)):
            value = doveconf(setting)
            if value.startswith("<"):
                files.append((source, value[1:], mode))
    return stand_ins(files)


class SystemDovecot(_Server):
    """The system's dovecot with CONFIG; extra is appended to it, and
    endpoints names the listeners it adds."""

    crash_line = DOVECOT_CRASH

    def __init__(self, sandbox, name, extra="", endpoints=()):
        super().__init__(sandbox, name)
        self.config_path = os.path.join(self.dir, "dovecot.conf")
        self.imap = Endpoint(DOVECOT_IP, sandbox.free_port(DOVECOT_IP))
        self.extra = extra
        self.endpoints = [self.imap, *endpoints]

    def greeting(self):
        """The first line its IMAP listener sends."""
        with connect(self.imap) as sock:
            return sock.makefile("rb").readline()

    def _argv(self):
        return [program("sbin/dovecot"), "-F", "-c", self.config_path]

    def _endpoints(self):
        return self.endpoints

    def _write_config(self):
        home = os.path.join(self.dir, "home")
        os.makedirs(home, exist_ok=True)
        os.makedirs(os.path.join(self.dir, "state"), exist_ok=True)
        # Mail processes run as nobody and create the user's home in here.
        shutil.chown(home, "nobody", "nogroup")
        with open(os.path.join(self.dir, "users"), "w") as f:
            f.write(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        certs = self.sandbox.certs
        dut = dovecot_under_test()
        with open(self.config_path, "w") as f:
            f.write(
                "# Written by tests/install/system_dovecot.py: the system's "
                "settings, then\n# what keeps this Dovecot off the machine's "
                "state and network.\n"
                + versions() + f"!include {ETC}/dovecot.conf\n"
                + CONFIG.format(dir=self.dir, log=self.log_path,
                                address=DOVECOT_IP)
                + dut.ssl_server(certs.server_cert, certs.server_key,
                                 certs.ca)
                + dut.passwd_file(os.path.join(self.dir, "users"))
                + dut.static_userdb(home) + dut.maildir()
                + LISTENERS.format(imap_port=self.imap.port) + self.extra)
