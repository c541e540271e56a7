#!/usr/bin/env python3
"""What the install test changes on the machine, and how it puts it back:
Debian packages through apt-get, files in /etc/dovecot, and a policy that
keeps package scripts from starting services meanwhile."""

import contextlib
import fcntl
import hashlib
import os
import shutil
import stat
import subprocess

ETC = "/etc/dovecot"
POLICY = "/usr/sbin/policy-rc.d"
APT = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=300"]
APT_TIMEOUT = 600


@contextlib.contextmanager
def locked():
    """One install test at a time on a machine, as make check may run in
    two trees at once. The lock is on /etc/dovecot itself, so that none is
    left behind."""
    fd = os.open(ETC, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def etc_state():
    """Every entry of /etc/dovecot: (mode, owner, group, content hash or
    link target), so that a changed permission counts too."""
    state = {}
    for root, dirs, files in os.walk(ETC):
        for name in dirs + files:
            path = os.path.join(root, name)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                what = "-> " + os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    what = hashlib.sha256(f.read()).hexdigest()
            else:
                what = None
            state[path] = (oct(st.st_mode), st.st_uid, st.st_gid, what)
    return state


def installed_packages():
    """Every package dpkg has files or configuration of, with version and
    state: one that is purged is gone from this list."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f",
         "${db:Status-Abbrev}|${binary:Package} ${Version}\n"],
        check=True, capture_output=True, text=True).stdout
    return sorted(line for line in out.splitlines() if line[1] != "n")


def is_installed(package):
    run = subprocess.run(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}",
                          package], capture_output=True, text=True)
    return run.returncode == 0 and run.stdout[1:2] not in ("", "n")


def package_files(package):
    """The files (not directories) that dpkg lists for an installed
    package."""
    out = subprocess.run(["dpkg", "-L", package], check=True,
                         capture_output=True, text=True).stdout
    return [p for p in out.splitlines() if os.path.isfile(p)]


@contextlib.contextmanager
def stand_ins(files):
    """Copies each (source, path, mode) of files whose path is missing
    there for the duration; yields the paths it created."""
    created = []
    try:
        for source, path, mode in files:
            if not os.path.lexists(path):
                shutil.copyfile(source, path)
                created.append(path)
                os.chmod(path, mode)
        yield created
    finally:
        for path in created:
            os.remove(path)


@contextlib.contextmanager
def services_held():
    """Package scripts may not start or restart services meanwhile, as
    invoke-rc.d asks policy-rc.d: installing a Dovecot plugin triggers
    dovecot-core, which restarts the system's Dovecot."""
    created = not os.path.lexists(POLICY)
    if created:
        with open(POLICY, "w") as f:
            f.write("#!/bin/sh\n# Written by tests/install: "
                    "no service starts.\nexit 101\n")
        os.chmod(POLICY, 0o755)
    try:
        yield
    finally:
        if created:
            os.remove(POLICY)


def apt_get(*args):
    """apt-get ARGS as an administrator runs it, without prompts and
    without starting services; the finished process."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    with services_held():
        return subprocess.run(APT + list(args), env=env, text=True,
                              stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=APT_TIMEOUT)
