"""What the end-to-end benchmarks share: the headers they send, made by
haproxy-connect, one IMAP session, and a Dovecot whose imap-login runs
under callgrind."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "sandbox"))
from sandbox import (Dovecot, Listener, connect,  # noqa: E402
                     dovecot_under_test, sandbox_processes, wait_until)

# Sessions per mode under callgrind, after WARMUP ones.
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "40"))
WARMUP = 5

_SRC = ["--src", "198.51.100.7:40000", "--dst", "203.0.113.1:143"]
# name: haproxy-connect options
HEADERS = {
    "v1": ["-1", *_SRC],
    "v2": ["-2", *_SRC],
    "v2 + TLVs": ["-2", "--src", "[2001:db8::7]:40000",
                  "--dst", "[2001:db8::1]:143",
                  "--authority", "mail.example.com",
                  "--unique-id", "4F1C2A3B:9C1E_0A0B0C0D:01BB_6552F3A1",
                  "--ssl", "--ssl-version", "TLSv1.3",
                  "--ssl-cipher", "TLS_AES_256_GCM_SHA384",
                  "--client-cert", "--ssl-cn", "alice", "--crc32c"],
}


def headers():
    """{name: the bytes of that header}."""
    client = os.environ.get("HAPROXY_CONNECT",
                            "src/haproxy-connect/haproxy-connect")
    return {name: subprocess.run([client, "--print-header", *args],
                                 check=True, capture_output=True).stdout
            for name, args in HEADERS.items()}


def session(endpoint, data, source):
    """One IMAP session: connect from source, send data (a header or
    nothing), read the greeting, LOGOUT. Microseconds from connect to the
    greeting."""
    began = time.perf_counter()
    with connect(endpoint, source=source) as sock:
        if data:
            sock.sendall(data)
        reply = sock.recv(4096)
        elapsed = time.perf_counter() - began
        if not reply.startswith(b"* OK"):
            raise RuntimeError(f"no greeting: {reply!r}")
        sock.sendall(b"a LOGOUT\r\n")
        while sock.recv(4096):
            pass
    return elapsed * 1e6


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
