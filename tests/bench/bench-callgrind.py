#!/usr/bin/env python3
"""Instructions per connection of the login process, counted by callgrind:
the figure to trust on a shared machine, where times drift by several per
cent between runs but instruction counts do not.

Two Dovecots, one with the plugin and one with its built-in parser, each
with one long-lived imap-login at a time, run under valgrind
--tool=callgrind and counting only inside io_loop_run(): what a process
does for its connections, not its start. For every mode a login process
serves WARMUP sessions and exits, then another serves WARMUP + SESSIONS;
the difference of their counts is what SESSIONS identical sessions
(connect, header, greeting, LOGOUT) cost. Prints instructions per session
and ratios; asserts nothing."""

import os
import re
import shutil
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "sandbox"))
from sandbox import (CLIENT_IP, PROXY_IP, Dovecot,  # noqa: E402
                     HAProxy, Listener, Sandbox, dovecot_under_test,
                     plugin_dir, sandbox_processes, wait_until)
from bench_sessions import headers, session  # noqa: E402

SESSIONS = int(os.environ.get("BENCH_SESSIONS", "40"))
WARMUP = 5

class Counted:
    """A Dovecot whose imap-login runs under callgrind, one process at a
    time, a new one as soon as the last has exited."""

    def __init__(self, sb, name, **kwargs):
        dut = dovecot_under_test()
        self.name = name
        self.out = os.path.join(sb.path, name + "-callgrind")
        os.mkdir(self.out)
        os.chmod(self.out, 0o777)   # imap-login writes as dovenull
        valgrind = (f"{shutil.which('valgrind')} --tool=callgrind "
                    "--collect-atstart=no --toggle-collect=io_loop_run "
                    f"--callgrind-out-file={self.out}/out.%p "
                    f"{dut.libexec_dir}/imap-login")
        # The login user connects to these itself, not root before it.
        extra = kwargs.pop("extra_config", "") + "".join(
            f"service {service} {{\n  unix_listener {socket} {{\n"
            "    mode = 0666\n  }\n}\n"
            for service, socket in dut.login_sockets)
        # No chroot: valgrind needs its own files at run time; no
        # address space limit: it needs more than imap-login alone; and
        # the login user from the start, or valgrind makes its files as
        # root and cannot write them at exit.
        self.dovecot = Dovecot(sb, [Listener("imap", "proxy", haproxy=True),
                                    Listener("imap", "plain")], name=name,
                               extra_config=extra + dut.long_lived(
                                   "imap-login", "process_min_avail = 1",
                                   "process_limit = 1", "chroot =",
                                   f"vsz_limit = {dut.unlimited_size}",
                                   "drop_priv_before_exec = yes",
                                   f"executable = {valgrind}"), **kwargs)

    def _login_pid(self):
        for pid in sandbox_processes(self.dovecot.dir, self.dovecot.pid):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if any(a.startswith(b"--tool=callgrind") for a in argv):
                return pid
        return None

    def _lifetime(self, sessions):
        """Instructions a new login process spends in its loop on
        sessions() until it is told to exit."""
        pid = wait_until(self._login_pid, timeout=60)
        if not pid:
            raise RuntimeError(f"no imap-login under callgrind:\n"
                               + self.dovecot.log_text()[-2000:])
        try:
            sessions()
        except (OSError, RuntimeError) as e:
            raise RuntimeError(f"{e}:\n" + "\n".join(
                line for line in self.dovecot.log_text().splitlines()
                if "==" not in line)[-3000:]) from e
        os.kill(pid, signal.SIGTERM)
        path = f"{self.out}/out.{pid}"
        totals = wait_until(lambda: os.path.exists(path) and re.search(
            r"^(?:totals|summary): (\d+)", open(path).read(), re.M),
            timeout=60)
        if not totals:
            raise RuntimeError(f"no totals in {path}:\n"
                               + self.dovecot.log_text()[-3000:])
        wait_until(lambda: self._login_pid() not in (None, pid), timeout=60)
        return int(totals.group(1))

    def count(self, endpoint, data, source):
        """Instructions per session of this kind."""
        def run(n):
            return lambda: [session(endpoint, data, source)
                            for _ in range(n)]
        warm = self._lifetime(run(WARMUP))
        return (self._lifetime(run(WARMUP + SESSIONS)) - warm) / SESSIONS


def main():
    if plugin_dir() is None:
        sys.exit("bench-callgrind: HAPROXY_PLUGIN_DIR does not hold the "
                 "plugin")
    sent = headers()
    with Sandbox() as sb:
        ours = Counted(sb, "plugin", plugin_dir=plugin_dir(),
                       extra_config=f"haproxy_direct_networks = "
                                    f"{CLIENT_IP}\n")
        builtin = Counted(sb, "builtin")
        hap = HAProxy(sb)
        fronts = {}
        for counted in (ours, builtin):
            hap.backend(counted.name, [
                (counted.dovecot.listener("proxy"), "send-proxy-v2")])
            fronts[counted] = hap.frontend(counted.name, counted.name)
        with ours.dovecot, builtin.dovecot, hap:
            rows = {"direct": builtin.count(
                builtin.dovecot.listener("plain"), b"", PROXY_IP)}
            rows["direct, plugin loaded"] = ours.count(
                ours.dovecot.listener("plain"), b"", PROXY_IP)
            for name, data in sent.items():
                for label, counted in (("plugin", ours),
                                       ("built-in", builtin)):
                    rows[f"{label} {name}"] = counted.count(
                        counted.dovecot.listener("proxy"), data, PROXY_IP)
            for label, counted in (("plugin", ours), ("built-in", builtin)):
                rows[f"{label} via HAProxy"] = counted.count(
                    fronts[counted], b"", CLIENT_IP)
            rows["direct peer, haproxy listener"] = ours.count(
                ours.dovecot.listener("proxy"), b"", CLIENT_IP)
            rows["direct peer, plain listener"] = ours.count(
                ours.dovecot.listener("plain"), b"", CLIENT_IP)

    direct = rows["direct"]
    print(f"imap-login instructions per session (callgrind, {SESSIONS} "
          f"sessions per mode, Dovecot {dovecot_under_test().version})")
    print(f"  {'direct':30} {direct:10.0f}")
    for name in ["direct, plugin loaded"] + [
            f"{n}" for h in list(sent) + ["via HAProxy"]
            for n in (f"plugin {h}", f"built-in {h}")]:
        line = f"  {name:30} {rows[name]:10.0f}   x{rows[name] / direct:.3f} direct"
        if name.startswith("plugin "):
            theirs = rows["built-in " + name[len("plugin "):]]
            line += f"   x{rows[name] / theirs:.3f} built-in"
        print(line)
    plain = rows["direct peer, plain listener"]
    peer = rows["direct peer, haproxy listener"]
    print(f"  {'direct peer, plain listener':30} {plain:10.0f}")
    print(f"  {'direct peer, haproxy listener':30} {peer:10.0f}   "
          f"x{peer / plain:.3f} plain listener")


if __name__ == "__main__":
    main()
