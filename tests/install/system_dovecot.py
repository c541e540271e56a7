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
import shutil
import subprocess

from machine import ETC, package_files, stand_ins
from sandbox import (DOVECOT_CRASH, DOVECOT_IP, PASSWORD, Endpoint, _Server,
                     connect)

USER = "installtest"

CONFIG = """\
# Written by tests/install/system_dovecot.py: the system's settings, then
# what keeps this Dovecot off the machine's state and network.
!include {etc}/dovecot.conf
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {log}
info_log_path = {log}
debug_log_path = {log}
listen = {address}
protocols = imap
ssl_cert = <{cert}
ssl_key = <{key}
passdb {{
  driver = passwd-file
  args = {dir}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={dir}/home/%u
}}
mail_location = maildir:~/Maildir
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
    """A setting of the system's configuration; -P, or ssl_key is hidden."""
    return subprocess.run([program("bin/doveconf"), "-P", "-h", name],
                          check=True, capture_output=True,
                          text=True).stdout.strip()


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
    """The system's settings name a certificate and key that Dovecot reads
    even when a later setting overrides them; where they do not exist
    (Debian makes them only with ssl-cert installed), the sandbox's stand
    in for them. A context manager yielding the paths it created."""
    files = []
    for setting, source, mode in (("ssl_cert", certs.server_cert, 0o644),
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
        with open(self.config_path, "w") as f:
            f.write(CONFIG.format(
                etc=ETC, dir=self.dir, log=self.log_path, address=DOVECOT_IP,
                cert=certs.server_cert, key=certs.server_key,
                imap_port=self.imap.port) + self.extra)
