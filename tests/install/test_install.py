#!/usr/bin/env python3
"""The Debian packages on the system's Dovecot, used as an administrator
uses them, and the machine as it was afterwards:

1. dpkg-buildpackage builds both packages, unit tests included, from the
   release files (make distdir) and debian/, in the test's directory;
   lintian finds no error and no warning; dovecot-haproxy depends on the
   ABI of the Dovecot it was built against.
2. Dovecot starts with the system's settings, before anything else.
3. apt-get installs ./dovecot-haproxy_*.deb and ./haproxy-connect_*.deb:
   the plugin lands in Dovecot's login_plugin_dir, doveconf knows its
   settings, and /etc/dovecot is unchanged, so nothing is enabled yet.
4. The installed example, copied to /etc/dovecot/conf.d, enables the
   plugin: a login through HAProxy shows the client's address, and the
   installed haproxy-connect gets its header through.
5. apt-get purge removes every file of the packages; with the copy left
   behind, login processes stop: the plugin is not found.
6. Without the copy, /etc/dovecot is as it was, and Dovecot starts.

Dovecot runs as system_dovecot.py describes. Where the certificate and key
that the system's settings name do not exist, the sandbox's stand in for
them meanwhile. Whatever step fails, the packages are purged, the copy and
the stand-ins removed, and /etc/dovecot and the list of installed packages
compared with what they were.

README: "Install" (the Debian packages, nothing enabled until the example
is copied, apt purge) and "Troubleshooting" (a plugin that is not
installed).
"""

import contextlib
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(1, os.path.join(HERE, os.pardir, "sandbox"))
from machine import (ETC, apt_get, etc_state,  # noqa: E402
                     installed_packages, is_installed, locked, package_files)
from sandbox import (CLIENT_IP, DOVECOT_IP, PASSWORD,  # noqa: E402
                     PROXY_IP, Endpoint, HAProxy, IMAP, Sandbox, connect,
                     dovecot_under_test, unmet_requirements)
from system_dovecot import (USER, SystemDovecot,  # noqa: E402
                            certificate_stand_ins, doveconf, running_pid)
from tap import Tap  # noqa: E402

TOP_SRCDIR = os.path.join(HERE, os.pardir, os.pardir)
PACKAGES = ("dovecot-haproxy", "haproxy-connect")
ENABLED = os.path.join(ETC, "conf.d", "30-haproxy.conf")
BUILD_TIMEOUT = 900
# PAM, the system's first passdb, takes seconds to fail for USER.
LOGIN_WAIT = 30
# What a build in the source tree may have left in debian/.
DEBIAN_PRODUCTS = shutil.ignore_patterns(
    ".debhelper", "tmp", "files", "*.substvars", "*.debhelper.log",
    "debhelper-build-stamp", "autoreconf.*", *PACKAGES)

# On top of the example in conf.d: its IMAP listener on a free port, the
# other one off, HAProxy trusted, and the plugin's debug lines.
PLUGIN_CONFIG = """\
haproxy_trusted_networks = {proxy}/32
log_debug = category=haproxy
service imap-login {{
  inet_listener imap_haproxy {{
    port = {port}
  }}
  inet_listener imaps_haproxy {{
    port = 0
  }}
}}
"""


class Stop(Exception):
    """A step that the others depend on failed, and was reported."""


@contextlib.contextmanager
def step(t, description):
    """t.check() for a step the rest depends on: if it fails, the test
    reports it and stops."""
    try:
        yield
    except Exception:
        t.ok(False, description, traceback.format_exc())
        raise Stop()
    t.ok(True, description)


def unmet_tools():
    reason = unmet_requirements()
    if reason:
        return reason
    missing = [c for c in ("make", "dpkg-buildpackage", "lintian", "man")
               if not shutil.which(c)]
    if missing:
        return "not installed: " + ", ".join(missing)
    if not is_installed("dovecot-dev"):
        return "not installed: dovecot-dev"
    return None


def unmet_state():
    """Why the test may not run on this machine now, or None: it never
    removes what it did not install, nor touches a running Dovecot."""
    try:
        with open("Makefile") as f:
            configured = re.search(r"^dovecotdir = (.*)$", f.read(), re.M)
    except FileNotFoundError:
        return "run it in the configured build directory, as make check does"
    system = [os.path.dirname(f) for f in package_files("dovecot-dev")
              if f.endswith("/dovecot-config")]
    if configured is None or [configured.group(1).strip()] != system:
        return "this tree is built for another Dovecot than the system's"
    present = [p for p in PACKAGES if is_installed(p)]
    if present:
        return "installed already: " + ", ".join(present)
    if os.path.lexists(ENABLED):
        return f"{ENABLED} exists already"
    if running_pid():
        return "the system's Dovecot is running"
    return None


def run(argv, log=None, **kwargs):
    """Runs argv, its output captured or written to file log; raises with
    the end of the output unless it succeeds."""
    if log is None:
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, text=True,
                                capture_output=True, **kwargs)
        output = result.stdout + result.stderr
    else:
        with open(log, "w") as out:
            result = subprocess.run(argv, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT,
                                    **kwargs)
        with open(log) as f:
            output = f.read()
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {result.returncode}:"
                             f"\n{output[-4000:]}")
    return result


def build(t, sb):
    """Builds the packages in sb; returns {package: .deb path}."""
    work = os.path.join(sb.path, "build")
    source = os.path.join(work, "dovecot-haproxy")
    # A make or build of the caller must not leak into these.
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DESTDIR")}
    os.makedirs(work)
    run(["make", "distdir", f"distdir={source}"], env=env)
    shutil.copytree(os.path.join(TOP_SRCDIR, "debian"),
                    os.path.join(source, "debian"), ignore=DEBIAN_PRODUCTS)
    began = time.monotonic()
    run(["dpkg-buildpackage", "-us", "-uc", "-b", "-jauto"],
        log=os.path.join(work, "build.log"), cwd=source, env=env,
        timeout=BUILD_TIMEOUT)
    t.diag(f"dpkg-buildpackage took {time.monotonic() - began:.0f} s")
    return {p: glob.glob(os.path.join(work, f"{p}_*.deb"))[0]
            for p in PACKAGES}


def depends(deb):
    field = run(["dpkg-deb", "-f", deb, "Depends"]).stdout
    return [d.strip() for d in field.split(",")]


def check_packages(t, debs):
    work = os.path.dirname(debs[PACKAGES[0]])
    lint = subprocess.run(["lintian", "--fail-on", "error,warning"] +
                          glob.glob(os.path.join(work, "*.changes")),
                          capture_output=True, text=True)
    t.ok(lint.returncode == 0 and lint.stdout == "",
         "lintian: no error, no warning", lint.stdout + lint.stderr)

    with open("/usr/share/dovecot/dovecot-abi") as f:
        abi = f.read().strip()
    got = depends(debs["dovecot-haproxy"])
    t.ok(f"dovecot-abi-{abi}" in got,
         f"dovecot-haproxy depends on dovecot-abi-{abi}", got)
    # The plugin runs only in the version it was built for, whatever the
    # Debian revision; 2.3.21 and 2.3.21.1 share an ABI. 1:2.3.19.1+dfsg1-2
    # is epoch 1, release 2.3.19.1, repack +dfsg1, Debian revision 2.
    installed = run(["dpkg-query", "-W", "-f", "${Version}",
                     "dovecot-core"]).stdout
    epoch, release, repack = re.fullmatch(
        r"(\d+:)?([\d.]+)(.*)-[^-]+", installed).groups(default="")
    ranges = [re.fullmatch(r"dovecot-core \((\S+) (\S+)\)", d).groups()
              for d in got if d.startswith("dovecot-core (")]
    for version, allowed in (
            (installed, True),
            (f"{epoch}{release}{repack}-99", True),
            (f"{epoch}{release}.1{repack}-1", False),
            (f"{epoch}{release}~rc1{repack}-1", False)):
        satisfied = bool(ranges) and all(
            subprocess.run(["dpkg", "--compare-versions", version, op,
                            bound]).returncode == 0 for op, bound in ranges)
        t.eq(satisfied, allowed, f"dovecot-core {version} "
             f"{'satisfies' if allowed else 'does not satisfy'} its "
             "dependencies")
    got = depends(debs["haproxy-connect"])
    t.ok(not any(d.startswith("dovecot") for d in got),
         "haproxy-connect does not depend on Dovecot", got)


def check_installed(t):
    """Where the files went; returns the example's path."""
    plugin_dir = doveconf("login_plugin_dir")
    files = package_files("dovecot-haproxy")
    t.ok(os.path.join(plugin_dir, "lib20_haproxy_plugin.so") in files,
         f"the plugin is in Dovecot's login_plugin_dir {plugin_dir}", files)
    # Its settings module, loaded by doveconf: the defaults show.
    t.eq(doveconf("haproxy_direct_wait"), "200 ms",
         "doveconf knows the plugin's settings: haproxy_direct_wait")
    examples = [f for f in files if f.endswith("/30-haproxy.conf")]
    # Beside the settings that Debian's Dovecot packages install the same way.
    theirs = {os.path.dirname(f) for f in package_files("dovecot-core")
              if f.endswith("/10-master.conf")}
    t.ok(len(examples) == 1 and {os.path.dirname(examples[0])} == theirs,
         f"the example is beside dovecot-core's in {theirs}", files)
    for page in PACKAGES:
        where = subprocess.run(["man", "-w", page], capture_output=True,
                               text=True)
        t.ok(where.returncode == 0, f"man -w {page}: {where.stdout.strip()}",
             where.stderr)
    return examples[0] if examples else None


def plugin_dovecot(sb, name):
    """A SystemDovecot with the example's IMAP listener moved to a free
    port; returns it and that listener."""
    listener = Endpoint(DOVECOT_IP, sb.free_port(DOVECOT_IP))
    extra = PLUGIN_CONFIG.format(proxy=PROXY_IP, port=listener.port)
    return SystemDovecot(sb, name, extra, [listener]), listener


def login_through_haproxy(t, sb, dc, listener):
    hap = HAProxy(sb)
    hap.backend("imap", [(listener, "send-proxy-v2")])
    front = hap.frontend("imap", "imap")
    with hap:
        with t.check(f"a login through HAProxy shows the client "
                     f"{CLIENT_IP}, not HAProxy's {PROXY_IP}"):
            with IMAP(front) as imap:
                imap.starttls(sb.certs.context())
                imap.login(USER, PASSWORD)
                imap.logout()
            dc.wait_for_log(rf"imap-login: Info: "
                            rf"{dovecot_under_test().logged_in}: "
                            rf"user=<{USER}>.* "
                            rf"rip={re.escape(CLIENT_IP)},",
                            timeout=LOGIN_WAIT)
            dc.wait_for_log(rf"Debug: haproxy: PROXY v2: client "
                            rf"{re.escape(CLIENT_IP)}:\d+, server "
                            rf"{re.escape(front.address)}:{front.port} "
                            rf"\(rip={re.escape(PROXY_IP)}, ")


def installed_client(t, dc, listener):
    client = [f for f in package_files("haproxy-connect")
              if f.endswith("/bin/haproxy-connect")]
    with t.check("the installed haproxy-connect gets its header through"):
        mark = dc.log_mark()
        result = subprocess.run(
            client + ["--src", "198.51.100.7:40000", "--bind", PROXY_IP,
                      "--timeout", "10", listener.address,
                      str(listener.port)],
            input=b"a LOGOUT\r\n", capture_output=True, timeout=20)
        assert result.returncode == 0 and b"\r\na OK" in result.stdout, \
            result
        dc.wait_for_log(r"Debug: haproxy: PROXY v2: client "
                        r"198\.51\.100\.7:40000, ", since=mark)


def plugin_not_found(t, sb):
    # Dovecot's message depends on whether other login plugins are left.
    plugin_dir = doveconf("login_plugin_dir")
    fatal = (f"Plugin 'haproxy' not found from directory {plugin_dir}"
             if os.path.isdir(plugin_dir) else
             f"opendir({plugin_dir}) failed: No such file or directory")
    dc, listener = plugin_dovecot(sb, "dovecot-purged")
    dc.provokes(f"imap-login: Fatal: {re.escape(fatal)}")
    with dc:
        with t.check("with the copy left in conf.d, login processes stop: "
                     "the plugin is not found"):
            with connect(listener):
                dc.wait_for_log(f"imap-login: Fatal: {re.escape(fatal)}$")


def apt_step(t, description, *args):
    with step(t, description):
        result = apt_get(*args)
        assert result.returncode == 0, result.stdout + result.stderr


def starts(t, sb, name, description):
    """A SystemDovecot without the plugin's listener greets."""
    with step(t, description):
        with SystemDovecot(sb, name) as dc:
            greeting = dc.greeting()
        assert greeting.startswith(b"* OK"), greeting


def differences(now, before):
    """The paths whose entries differ between two etc_state()s."""
    return sorted(p for p in set(now) | set(before)
                  if now.get(p) != before.get(p))


def steps(t, sb):
    etc_ready = etc_state()
    with step(t, "dpkg-buildpackage -us -uc -b builds both packages"):
        debs = build(t, sb)
    check_packages(t, debs)
    starts(t, sb, "dovecot-before",
           "Dovecot starts with the system's settings")

    apt_step(t, "apt-get install ./dovecot-haproxy_*.deb "
             "./haproxy-connect_*.deb", "install", *debs.values())
    files = {p: package_files(p) for p in PACKAGES}
    example = check_installed(t)
    t.eq(differences(etc_state(), etc_ready), [],
         "installing changed nothing in /etc/dovecot: nothing is enabled")

    dc, listener = plugin_dovecot(sb, "dovecot-plugin")
    with step(t, "Dovecot starts with the installed example copied to "
              "conf.d"):
        shutil.copy(example, ENABLED)
        dc.start()
    with dc:
        login_through_haproxy(t, sb, dc, listener)
        installed_client(t, dc, listener)

    apt_step(t, "apt-get purge dovecot-haproxy haproxy-connect", "purge",
             *PACKAGES)
    left = [f for fs in files.values() for f in fs if os.path.lexists(f)]
    t.eq(left, [], "no file of the packages is left")
    plugin_not_found(t, sb)

    os.remove(ENABLED)
    t.eq(differences(etc_state(), etc_ready), [],
         "without the copy, /etc/dovecot is as it was")
    starts(t, sb, "dovecot-after", "Dovecot starts again")


def restore():
    """Puts back whatever the steps changed, however far they got: they
    run only where neither the packages nor ENABLED were there before."""
    present = [p for p in PACKAGES if is_installed(p)]
    if present:
        apt_get("purge", *present)
    if os.path.lexists(ENABLED):
        os.remove(ENABLED)


def terminated(signum, frame):
    raise SystemExit(128 + signum)


def main():
    with Tap() as t:
        t.require(unmet_tools())
        # make's or a CI's timeout must still leave the machine restored.
        signal.signal(signal.SIGTERM, terminated)
        with locked():
            t.require(unmet_state())
            etc_before, packages_before = etc_state(), installed_packages()
            began = time.monotonic()
            try:
                with Sandbox() as sb:
                    with certificate_stand_ins(sb.certs) as created:
                        for path in created:
                            t.diag(f"{path} is missing: the test's stands "
                                   "in")
                        steps(t, sb)
            except Stop:
                pass
            finally:
                restore()
                t.eq(differences(etc_state(), etc_before), [],
                     "in the end /etc/dovecot is as it was")
                t.eq(sorted(set(installed_packages()) ^
                            set(packages_before)), [],
                     "in the end the installed packages are as they were")
                t.diag(f"the install test took "
                       f"{time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
