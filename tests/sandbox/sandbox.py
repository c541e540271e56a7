#!/usr/bin/env python3
"""Throw-away Dovecot and HAProxy instances on loopback, for integration tests.

    with Sandbox() as sb:
        dc = Dovecot(sb, [Listener("imap", "imap-proxy", haproxy=True)])
        hap = HAProxy(sb)
        hap.backend("imap", [(dc.listener("imap-proxy"), "send-proxy-v2")])
        front = hap.frontend("imap", "imap")
        with dc, hap:
            with IMAP(front) as imap:          # connects from CLIENT_IP
                imap.starttls(sb.certs.context())
                imap.login("alice", PASSWORD)
            assert_login(dc.wait_for_login("alice"), rip=CLIENT_IP)

Linux treats all of 127.0.0.0/8 as local, so the client, the proxy and
Dovecot each get an address of their own and the logs tell them apart.
Each server runs in the foreground as our child, in a session of its own.
Stopping it is a check of its own: it raises when the server did not exit
cleanly when told to, when a process of it is left, or when a Dovecot's
log shows that a process of it crashed (a Panic, a Fatal line, a process
killed by a signal or exiting with an error), unless the test named that
very line as one it provokes (Dovecot.provokes()). Sandbox.close() stops
whatever is still running and removes the directory.

Dovecot is the one first on PATH, a 2.3 or a 2.4. dovecot_under_test()
describes it: it writes settings in its syntax for extra_config
(dut.long_lived("imap-login"), dut.metric(...)) and knows its log lines.
"""

import base64
import csv
import ctypes
import fcntl
import glob
import io
import imaplib
import os
import poplib
import random
import re
import shutil
import signal
import smtplib
import socket
import socketserver
import ssl
import struct
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass

import tcp

CLIENT_IP = "127.0.0.7"   # the end user's source address
PROXY_IP = "127.0.0.1"    # HAProxy's frontends, and its source towards Dovecot
DOVECOT_IP = "127.0.0.3"  # Dovecot's listeners and the SMTP relay sink
# Peers by what a test puts them in: both haproxy_trusted_networks and
# haproxy_direct_networks (a pod network that may send a header or not),
# or neither.
MESH_IP = "127.0.0.11"
STRANGER_IP = "127.0.0.9"
# How long what must happen soon may take on a busy machine before a test
# calls it missing: a reply, a log line, an event, a process's exit; the
# bound of every client socket operation. Waits end as soon as it happens,
# so a generous bound costs nothing. What a test expects to take some time
# (a timer of Dovecot's, a delay of its own) it bounds itself.
TIMEOUT = 20.0
# How long a server may take to start (the master, its config process,
# every listener up) or to exit once told to.
START_TIMEOUT = 60.0
PASSWORD = "secret"       # every user's password unless set otherwise
# Servers' ports are picked from here up to the kernel's ephemeral range
# (Sandbox.free_port()): above the ports of real services.
PORTS_FROM = 20000

# The login lines show the client as the proxy reported it (rip, lip) and
# the peer that really connected (real_rip, real_lip). Empty ones are left
# out. The variables are 2.4's names, which 2.3 knows as aliases.
LOG_FORMAT_ELEMENTS = (
    "user=<%{user}> method=%{mechanism} rip=%{remote_ip} "
    "rport=%{remote_port} lip=%{local_ip} lport=%{local_port} "
    "real_rip=%{real_remote_ip} real_rport=%{real_remote_port} "
    "real_lip=%{real_local_ip} real_lport=%{real_local_port} "
    "listener=%{listener} local_name=%{local_name} secured=%{secured} "
    "ssl=%{ssl_security} mpid=%{mail_pid} session=<%{session}>")


def unmet_requirements(plugin=False, client=False, nginx=False):
    """Why this machine cannot run a sandbox test (it then skips), or None;
    plugin, client, nginx: the test needs the built plugin, haproxy-connect,
    nginx."""
    if os.geteuid() != 0:
        return "needs root: Dovecot switches to dovecot, dovenull and nobody"
    missing = [p for p in ("dovecot", "haproxy", "openssl")
               + (("nginx",) if nginx else ()) if not shutil.which(p)]
    if missing:
        return "not installed: " + ", ".join(missing)
    if plugin and plugin_dir() is None:
        return "HAPROXY_PLUGIN_DIR names no built plugin (make check sets it)"
    if plugin and settings_module_dir() is None:
        return ("DOVECOT_SETTINGS_DIR names no settings module directory "
                "(make check sets it)")
    if client and client_path() is None:
        return "haproxy-connect not built (make check sets HAPROXY_CONNECT)"
    return None


def client_path():
    """The haproxy-connect named by HAPROXY_CONNECT (set by make check), or
    the one built in this source tree, or None."""
    for path in (os.environ.get("HAPROXY_CONNECT"),
                 os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "..", "..", "src", "haproxy-connect",
                              "haproxy-connect")):
        if path and os.access(path, os.X_OK):
            return os.path.abspath(path)
    return None


def plugin_dir():
    """The directory of the built plugin named by HAPROXY_PLUGIN_DIR (set by
    make check), or None when it is unset or holds no plugin."""
    path = os.environ.get("HAPROXY_PLUGIN_DIR")
    if path and os.path.exists(os.path.join(path, "lib20_haproxy_plugin.so")):
        return os.path.abspath(path)
    return None


def settings_module_dir():
    """Where the Dovecot under test loads settings modules from, named by
    DOVECOT_SETTINGS_DIR (make check sets it from dovecot-config), or None
    when it is unset or no directory."""
    path = os.environ.get("DOVECOT_SETTINGS_DIR")
    return path if path and os.path.isdir(path) else None


def own_network():
    """Moves this process into a network namespace of its own, whose only
    interface is loopback, up: every port, a well-known one too, is then
    this test's alone, whatever else runs on the machine. The servers it
    starts inherit it. Needs root."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x40000000) != 0:  # CLONE_NEWNET
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET) failed")
    with socket.socket() as sock:
        # struct ifreq: the name, then ifr_flags IFF_UP | IFF_LOOPBACK |
        # IFF_RUNNING; SIOCSIFFLAGS.
        fcntl.ioctl(sock, 0x8914, struct.pack("16sH22x", b"lo", 0x49))


def wait_until(predicate, timeout=TIMEOUT, interval=0.02):
    """Polls predicate until it returns a true value or timeout passes;
    returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


# protocol: (login service, its built-in listeners, which Dovecot() disables)
_LOGIN_SERVICES = {
    "imap": ("imap-login", ("imap", "imaps")),
    "pop3": ("pop3-login", ("pop3", "pop3s")),
    "submission": ("submission-login", ("submission", "submissions")),
    "sieve": ("managesieve-login", ("sieve",)),
}
_under_test = {}


def dovecot_under_test():
    """The Dovecot23 or Dovecot24 that describes the dovecot first on PATH
    (make check puts the one the plugin was built for first), made once for
    each: a test may put another one first."""
    path = shutil.which("dovecot")
    if path not in _under_test:
        version = subprocess.run(
            [path or "dovecot", "--version"], check=True,
            capture_output=True, text=True, timeout=TIMEOUT).stdout.split()[0]
        # Debian 13's prints 2.4.1-4: the numbers are upstream's release.
        release = tuple(int(n) for n in
                        re.match(r"\d+(?:\.\d+)*", version)[0].split("."))
        _under_test[path] = (Dovecot24 if release >= (2, 4) else Dovecot23)(
            version, release)
    return _under_test[path]


class Dovecot23:
    """The Dovecot under test, a 2.3.x: its version, what doveconf says
    about it, how its settings are written and how its logs word things.

    Dovecot24 overrides what 2.4 does differently: the two classes are the
    one place that knows how the versions differ. Tests take settings from
    them for extra_config, and their expectations where Dovecot differs.
    The methods return a regex for a log line, or settings text."""

    syntax = "2.3"                # its configuration syntax
    logged_in = "Login"           # the message of a login line,
    login_aborted = "Disconnected"  # of a client gone without logging in
    # %{secured} of a proxied connection whose header has the SSL TLV, and
    # of one whose header has none: 2.3 counts a proxied connection as
    # secured only when the SSL TLV says that the client used TLS.
    secured_ssl_tlv = "secured"
    secured_no_ssl_tlv = ""
    # Whether %{real_remote_ip} is the real peer; where it is not, the
    # login line shows real_lip there.
    logs_real_rip = True
    login_log_format = "%$: %s"   # its default
    pid_variable = "%{pid}"       # the process ID, in login_log_format
    # Whether a metric counts events that lack a group_by field, under an
    # empty value (its name then ends in "_").
    groups_missing_field = False
    listener_address = "address"  # an inet_listener's address setting
    # Whether events can have IP fields (event_add_ip()), which a filter
    # matches by network: remote_ip = 10.0.0.0/8. 2.3's are strings, which
    # a filter matches as strings, with wildcards: remote_ip = 10.*
    event_ip_fields = False
    # Whether the master accepts the connection of a login process that
    # serves one client (the default) before the process is up
    # (master/service-monitor.c, 2.4.2 on).
    master_accepts = False
    unlimited_size = "0"          # a size setting without a limit
    # Whether login-common refuses a proxied client whose ALPN is not its
    # protocol's ("HAproxy application protocol mismatch").
    alpn_must_match = False
    # Whether a mail process (imap, pop3) learns the client's local name
    # (2.4: from auth, auth-master-connection.c) and so applies its
    # local_name { } blocks; 2.3's never does, not even for TLS SNI.
    mail_local_name = False
    # (service, unix_listener) that a login process connects to; started
    # as root it does so before it drops privileges.
    login_sockets = (("config", "config"), ("stats", "stats-writer"),
                     ("anvil", "anvil"))

    def __init__(self, version, release):
        self.version = version    # as dovecot --version prints it
        self.release = release    # as numbers: (2, 3, 19, 1)
        # The release as settings name it (2.4's dovecot_config_version).
        self.release_name = ".".join(map(str, release))
        self.libexec_dir = self._doveconf("libexec_dir")
        self.greeting = self._doveconf("login_greeting")
        self.login_plugin_dir = self._doveconf("login_plugin_dir")
        # protocol: (login service, its built-in listeners); ManageSieve
        # only where Pigeonhole is installed.
        self.login_services = {
            protocol: services for protocol, services in
            _LOGIN_SERVICES.items() if protocol != "sieve"
            or os.path.exists(os.path.join(self.libexec_dir, services[0]))}

    @property
    def login_proxy_events(self):
        """Whether a login process that proxies a user makes named events
        of it (proxy_session_started, ...): the only events by which the
        stats process sees the login client's fields. 2.3.16 has none."""
        ldd = subprocess.run(
            ["ldd", os.path.join(self.libexec_dir, "imap-login")],
            check=True, capture_output=True, text=True,
            timeout=TIMEOUT).stdout
        library = re.search(r"libdovecot-login\.so\S* => (\S+)", ldd)[1]
        with open(library, "rb") as f:
            return b"proxy_session_started" in f.read()

    def accepts(self, settings):
        """Whether doveconf accepts a configuration of settings: whether
        this Dovecot has them (doveconf -h answers nothing, and no error,
        for a setting 2.3 does not have)."""
        with tempfile.NamedTemporaryFile("w", suffix=".conf") as config:
            config.write(self.preamble() + settings)
            config.flush()
            return subprocess.run(
                ["doveconf", "-c", config.name, "-n"], capture_output=True,
                timeout=TIMEOUT).returncode == 0

    def _doveconf(self, setting):
        """The default of setting, as IMAP's login process sees it (2.4's
        doveconf -h refuses a name that submission and LMTP have too)."""
        with tempfile.NamedTemporaryFile("w", suffix=".conf") as config:
            config.write(self.preamble())
            config.flush()
            return subprocess.run(
                ["doveconf", "-c", config.name, "-f", "protocol=imap", "-h",
                 setting], check=True, capture_output=True, text=True,
                timeout=TIMEOUT).stdout.rstrip("\n")

    def auth_info(self, source, user, ip, message):
        """auth's Info line with the regex message about user from ip,
        logged by source: a passdb driver or a SASL mechanism."""
        source, user, ip = map(re.escape, (source, user, ip))
        return rf"auth: Info: {source}\({user},{ip},<[^>]*>\): {message}"

    def unknown_username(self, mechanism, ip):
        """auth's Info line when the SASL mechanism (lower case) from ip
        has no user name, as EXTERNAL without one."""
        return self.auth_info(mechanism, "?", ip, "username not known")

    def preamble(self):
        """What a configuration file begins with."""
        return ""

    def ssl_server(self, cert, key, ca):
        return f"ssl_cert = <{cert}\nssl_key = <{key}\nssl_ca = <{ca}\n"

    def passwd_file(self, path):
        return self._block("passdb", ["driver = passwd-file",
                                      f"args = {path}"])

    def endpoint_passdb(self, name, path, field):
        """A passdb that allows a user only through the private endpoints
        that the passwd-file path lists for it: its lines are keyed
        USER@ID, ID the endpoint's ID in the forward field field
        (haproxy_aws_vpce_id, haproxy_azure_linkid, ...). Without the
        field the key is USER@, which no line has: the user is unknown.
        name names the block where passdbs have names (2.4)."""
        return self._block("passdb", [
            "driver = passwd-file",
            f"args = username_format=%{{user}}@%{{passdb:forward_{field}}} "
            f"{path}"])

    def static_passdb(self, password, username_filter):
        """A passdb that allows the users username_filter selects this
        password, its variables expanded for each login."""
        return self._block("passdb", [
            "driver = static", f"args = password={password}",
            f"username_filter = {username_filter}"])

    def static_userdb(self, home):
        """Every user is nobody, with the home directory home/USER."""
        return self._block("userdb", [
            "driver = static",
            f"args = uid=nobody gid=nogroup home={home}/%u"])

    def maildir(self):
        return "mail_location = maildir:~/Maildir\n"

    def cleartext_auth(self):
        """Plaintext authentication allowed on every connection, secured
        or not."""
        return "disable_plaintext_auth = no\n"

    def imap_capability_add(self, capability):
        """imap-login's capabilities: the default ones and capability."""
        return f"imap_capability = +{capability}\n"

    def login_plugins(self, plugin_dir):
        """The plugin in PLUGIN_DIR loaded by every login process."""
        return f"login_plugin_dir = {plugin_dir}\nlogin_plugins = haproxy\n"

    def long_lived(self, service, *lines):
        """The block of service, with lines, whose processes serve any
        number of clients, one after another and at once."""
        return self._block(f"service {service}",
                           ["service_count = 0", *lines])

    def process_modes(self, service):
        """(name, description, settings) of the two ways a login service
        runs: one long-lived process for every client, and its default,
        one client per process, whose client the master accepts from
        2.4.2 on."""
        default = f"one client per {service}" + (
            ", accepted by the master" if self.master_accepts else "")
        return [("long-lived", f"long-lived {service}",
                 self.long_lived(service)), ("default", default, "")]

    def metric(self, name, event_filter, group_by=(), fields=(),
               exporter=None):
        """A metric of the events event_filter selects, with a sub-metric
        for each value of the group_by fields, exporting fields with
        exporter."""
        lines = [f"filter = {event_filter}"] + self._group_by(group_by)
        if fields:
            lines.append("fields = " + " ".join(fields))
        if exporter:
            lines.append(f"exporter = {exporter}")
        return self._block(f"metric {name}", lines)

    def _group_by(self, fields):
        return ["group_by = " + " ".join(fields)] if fields else []

    def exported(self, *metrics):
        """Metrics whose events go to the log, each event one JSON line of
        the stats process (headers.exported_event() reads them), and the
        exporter they share: each metric a (name, event_filter) or (name,
        event_filter, fields it exports)."""
        text = ""
        for name, event_filter, *fields in metrics:
            text += self.metric(name, event_filter,
                                fields=fields[0] if fields else (),
                                exporter="json_log")
        return text + self.json_log_exporter("json_log")

    def json_log_exporter(self, name):
        """An event_exporter that writes each event as one JSON line of
        the stats process, times in RFC 3339."""
        return self._block(f"event_exporter {name}", [
            "transport = log", "format = json",
            "format_args = time-rfc3339"])

    @staticmethod
    def _block(header, lines):
        """A section: header { lines }, indented."""
        body = "".join(f"  {line}\n" for line in lines)
        return f"{header} {{\n{body}}}\n"


class Dovecot24(Dovecot23):
    """The Dovecot under test, a 2.4.x: new names for most settings, named
    passdb, userdb and group_by blocks, login lines worded anew."""

    syntax = "2.4"
    logged_in = "Logged in"
    login_aborted = "Login aborted"
    # 2.4 counts every proxied connection as secured, the proxy being
    # trusted, unless ssl = required; and as TLS when the SSL TLV says
    # that the client used TLS (login-common/client-common.c).
    secured_ssl_tlv = "TLS"
    secured_no_ssl_tlv = "secured"
    login_log_format = "%{message}: %{elements}"
    # Only in login_log_format: 2.4 leaves out every element of
    # login_log_format_elements that looks the same for any client.
    pid_variable = "%{process:pid}"
    groups_missing_field = True   # stats/stats-metrics.c
    event_ip_fields = True
    listener_address = "listen"
    unlimited_size = "unlimited"
    alpn_must_match = True        # login-common/client-common.c
    mail_local_name = True
    login_sockets = (("config", "config"), ("stats", "stats-writer"),
                     ("anvil", "anvil-connect-limit"))

    @property
    def master_accepts(self):
        return self.release >= (2, 4, 2)

    @property
    def logs_real_rip(self):
        # 2.4.0 to 2.4.4 fill %{real_remote_ip} with real_local_ip
        # (login-common/client-common.c); %{real_remote_port} is right.
        return self.release >= (2, 4, 5)

    def auth_info(self, source, user, ip, message):
        source, user, ip = map(re.escape, (source, user, ip))
        return (rf"auth\({user},{ip},[^)]*\)<[^>]*>: Info: {source}: "
                + message)

    def unknown_username(self, mechanism, ip):
        if self.release < (2, 4, 2):
            return super().unknown_username(mechanism, ip)
        # 2.4.2 rewrote SASL: the mechanism is only in the prefix.
        return (rf"auth\(\?,{re.escape(ip)},sasl:{mechanism}\)<[^>]*>: "
                "Info: Username not known")

    def preamble(self):
        return (f"dovecot_config_version = {self.release_name}\n"
                f"dovecot_storage_version = {self.release_name}\n")

    def ssl_server(self, cert, key, ca):
        return (f"ssl_server_cert_file = {cert}\n"
                f"ssl_server_key_file = {key}\n"
                f"ssl_server_ca_file = {ca}\n")

    def passwd_file(self, path):
        return self._block("passdb passwd-file",
                           [f"passwd_file_path = {path}"])

    def endpoint_passdb(self, name, path, field):
        # A passdb block may set auth_username_format for its own lookups
        # (auth/auth-request.c, request->passdb->auth_set). Not a variable
        # in passwd_file_path: 2.4.1 and 2.4.4 expand %{passdb:...} there
        # with the wrong context, and auth crashes (db-passwd-file.c).
        return self._block(f"passdb {name}", [
            "driver = passwd-file", f"passwd_file_path = {path}",
            f"auth_username_format = %{{user}}@%{{passdb:forward_{field}}}"])

    def static_passdb(self, password, username_filter):
        return self._block("passdb static", [
            f"password = {password}", f"username_filter = {username_filter}"])

    def static_userdb(self, home):
        return self._block("userdb static", [
            "fields {", "  uid = nobody", "  gid = nogroup",
            f"  home = {home}/%{{user}}", "}"])

    def maildir(self):
        return "mail_driver = maildir\nmail_path = ~/Maildir\n"

    def cleartext_auth(self):
        return "auth_allow_cleartext = yes\n"

    def imap_capability_add(self, capability):
        return self._block("imap_capability", [f"{capability} = yes"])

    def login_plugins(self, plugin_dir):
        return (f"login_plugin_dir = {plugin_dir}\n"
                + self._block("login_plugins", ["haproxy = yes"]))

    def long_lived(self, service, *lines):
        return self._block(f"service {service}",
                           ["restart_request_count = unlimited", *lines])

    def _group_by(self, fields):
        return [f"group_by {field} {{\n  }}" for field in fields]

    def json_log_exporter(self, name):
        return self._block(f"event_exporter {name}", [
            "driver = log", "format = json", "time_format = rfc3339"])


@dataclass(frozen=True)
class Endpoint:
    address: str
    port: int


@dataclass
class Listener:
    """One inet_listener of a Dovecot login service."""
    protocol: str               # a key of Dovecot23.login_services
    name: str
    address: str = DOVECOT_IP
    port: "int | None" = None   # None: Dovecot() picks a free one
    haproxy: bool = False
    ssl: bool = False


def proxied_backend(sb):
    """A plain IMAP listener and the users for it: alice, and "remote",
    whom the login process proxies to that listener as alice. The proxied
    login's proxy_session_started event carries the login client's fields."""
    backend = Listener("imap", "imap")
    backend.port = sb.free_port(backend.address)
    users = {"alice": {},
             "remote": {"proxy": "y", "host": DOVECOT_IP,
                        "port": backend.port, "destuser": "alice",
                        "starttls": "any-cert"}}
    return backend, users


class Certs:
    """A test PKI made with the openssl CLI: a CA, a server certificate for
    Dovecot and HAProxy, and client certificates signed by the CA or by a
    rogue CA that nobody trusts. P-256 keys: each takes milliseconds."""

    def __init__(self, directory):
        self.dir = directory
        os.mkdir(directory, 0o755)
        # Not the system openssl.cnf: it would make every leaf a CA.
        self._config = self._path("openssl.cnf")
        with open(self._config, "w") as f:
            f.write("[req]\ndistinguished_name = dn\n[dn]\n")
        self.ca, _ = self._make("ca", "Sandbox CA", None)
        self.rogue_ca, _ = self._make("rogue-ca", "Rogue CA", None)
        names = f"DNS:localhost,IP:::1,IP:{PROXY_IP},IP:{DOVECOT_IP}"
        self.server_cert, self.server_key = self._make(
            "server", "localhost", "ca", "subjectAltName=" + names)
        # HAProxy's "crt" wants the certificate and its key in one file.
        self.server_pem = self._path("server.pem")
        with open(self.server_pem, "w") as out:
            for part in (self.server_cert, self.server_key):
                with open(part) as f:
                    out.write(f.read())

    def _path(self, name):
        return os.path.join(self.dir, name)

    def _make(self, name, cn, issuer, *extensions):
        """Writes NAME.crt and NAME.key, a CA's if issuer is None, else a
        leaf signed by issuer; returns their paths."""
        crt, key = self._path(name + ".crt"), self._path(name + ".key")
        argv = ["openssl", "req", "-config", self._config, "-x509",
                "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-noenc", "-keyout", key, "-out", crt, "-days", "2",
                "-subj", "/CN=" + cn]
        if issuer is None:
            extensions += ("basicConstraints=critical,CA:TRUE",
                           "keyUsage=critical,keyCertSign,cRLSign")
        else:
            extensions += ("basicConstraints=critical,CA:FALSE",)
            argv += ["-CA", self._path(issuer + ".crt"),
                     "-CAkey", self._path(issuer + ".key")]
        for extension in extensions:
            argv += ["-addext", extension]
        subprocess.run(argv, check=True, capture_output=True, timeout=TIMEOUT)
        return crt, key

    def client(self, cn, trusted=True):
        """(cert, key) paths of a client certificate with this CN, signed by
        the CA or, if not trusted, by the rogue CA; made on first use."""
        name = ("client-" if trusted else "rogue-client-") + cn
        if not os.path.exists(self._path(name + ".crt")):
            return self._make(name, cn, "ca" if trusted else "rogue-ca")
        return self._path(name + ".crt"), self._path(name + ".key")

    def context(self, cn=None, trusted=True):
        """A client TLS context that trusts the CA and, if cn is given,
        presents the client certificate client(cn, trusted)."""
        context = ssl.create_default_context(cafile=self.ca)
        if cn is not None:
            context.load_cert_chain(*self.client(cn, trusted))
        return context


class Sandbox:
    """A temporary directory with the PKI, free ports, and every server
    started in it; close() stops them all and removes the directory."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="dovecot-haproxy-")
        self._servers = []
        self._ports = set()
        try:
            os.chmod(self.path, 0o755)  # for Dovecot's unprivileged processes
            self.certs = Certs(os.path.join(self.path, "certs"))
        except BaseException:
            shutil.rmtree(self.path)
            raise

    def free_port(self, address):
        """A port free on address now; the sandbox never hands it out again.
        It is below the kernel's ephemeral range, from which any socket
        that connects, here or in another test, takes its port at any time:
        one of those could take it before the server binds it."""
        first_ephemeral = _ephemeral_ports()[0]
        while True:
            port = random.randrange(PORTS_FROM, first_ephemeral)
            if port in self._ports:
                continue
            with socket.socket(_family(address), socket.SOCK_STREAM) as s:
                try:
                    s.bind((address, port))
                except OSError:
                    continue
            self._ports.add(port)
            return port

    def close(self):
        """Stops every server, checks that no process refers to the sandbox
        any more (killing leftovers by pid) and removes the directory;
        raises if something had to be cleaned up by force."""
        errors = []
        for server in reversed(self._servers):
            try:
                server.stop()
            except Exception as e:  # still stop the others
                errors.append(str(e))
        left = _kill_leftovers(self.path)
        if left:
            errors.append(f"processes left in {self.path}: {left}")
        shutil.rmtree(self.path, ignore_errors=True)
        if errors:
            raise RuntimeError("; ".join(errors))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _ephemeral_ports():
    """The kernel's range of ports for sockets that connect, (low, high)."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low, high = f.read().split()
    return int(low), int(high)


def _family(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def _hostport(endpoint):
    if ":" in endpoint.address:
        return f"[{endpoint.address}]:{endpoint.port}"
    return f"{endpoint.address}:{endpoint.port}"


def sandbox_processes(path, session=None):
    """Pids of live processes whose command line, cwd or root directory is
    inside directory path, or that belong to session (if given)."""
    inside = path.rstrip("/") + "/"
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        proc = "/proc/" + entry
        try:
            with open(proc + "/stat") as f:
                state, _, _, sid = f.read().rsplit(")", 1)[1].split()[:4]
            if state == "Z":  # exited, only waiting to be reaped
                continue
            with open(proc + "/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace").replace("\0", " ")
            dirs = [os.readlink(proc + "/" + link) + "/"
                    for link in ("cwd", "root")]
        except OSError:  # gone meanwhile
            continue
        if (int(sid) == session or inside in cmdline
                or any(d.startswith(inside) for d in dirs)):
            pids.append(int(entry))
    return pids


def _kill_leftovers(path, session=None):
    """Gives the processes of path/session a moment to exit, then kills the
    remaining ones by pid; returns those pids."""
    if wait_until(lambda: not sandbox_processes(path, session)):
        return []
    left = sandbox_processes(path, session)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


# A line of a Dovecot log that tells of a crash or a leak, with or without
# its time stamp (log_timestamp's default, "%b %d %H:%M:%S "): a process's
# Panic or Fatal line (the master has the log process report a child killed
# by a signal or exiting with an error as "Fatal: master: service(NAME):
# child PID ..."); the master's own report of that, when it cannot hand it
# to the log process (master/service-process.c); and what lib reports of
# fds, I/O handlers and events left behind.
DOVECOT_CRASH = re.compile(
    r"^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d )?"
    r"(\S+: (?:Panic|Fatal): .*"
    r"|master: Error: service\([^)]*\): child \d+ "
    r"(?:killed with signal|returned error|died with status) .*"
    r"|\S+: (?:Error|Warning): (?:Leaked |I/O notify leak: |Event \S+ "
    r"leaked |Raw backtrace for leaks: ).*)$", re.M)


class _Server:
    """A daemon run in the foreground as our child: start, logs, stop.
    Subclasses provide _write_config(), _argv() and _endpoints()."""

    # Exit statuses of a clean stop (Popen.returncode).
    clean_exits = (0,)

    # What a line of the log that tells of a crash or a leak matches (its
    # group 1: the line without its time stamp), where the log can tell.
    crash_line = None

    # What a line of crashes() that the stop itself may cause matches.
    stop_line = None

    def __init__(self, sandbox, name):
        self.sandbox = sandbox
        self.name = name
        self.dir = os.path.join(sandbox.path, name)
        os.mkdir(self.dir, 0o755)
        self.log_path = os.path.join(self.dir, name + ".log")
        self.start_seconds = None
        self._proc = None
        self._log_start = 0
        self._provoked = []     # regexes of crashes() the test provokes

    @property
    def pid(self):
        return self._proc.pid if self._proc else None

    def running(self):
        """Whether the server started and has not exited since."""
        return self._proc is not None and self._proc.poll() is None

    def start(self):
        """Writes the configuration, starts the server and returns once every
        endpoint accepts connections; raises with the log if it cannot."""
        if self not in self.sandbox._servers:
            self.sandbox._servers.append(self)  # so close() stops it
        self._write_config()
        began = time.monotonic()
        self._log_start = self.log_mark()
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                self._argv(), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, cwd=self.dir, start_new_session=True)
        wanted = {(e.address, e.port) for e in self._endpoints()}
        wait_until(lambda: self._proc.poll() is not None
                   or wanted <= tcp.listening(), START_TIMEOUT)
        if self._proc.poll() is not None or not wanted <= tcp.listening():
            # The log says why; what the stop finds adds nothing.
            self._terminate()
            raise RuntimeError(
                f"{self._argv()} did not start:\n{self.log_text()}")
        self.start_seconds = time.monotonic() - began
        return self

    def stop(self):
        """SIGTERM by pid, SIGKILL if it lingers; then no process of its
        session or directory may remain: leftovers are killed. Raises
        AssertionError with what went wrong: leftovers, an exit other
        than a clean one, and the crashes() of this run, less a stop_line
        logged once the stop began."""
        if self._proc is None:
            return
        stopping = self.log_mark()
        problems = self._terminate()
        crashes = self.crashes(self._log_start, stopping)
        for line in self.crashes(stopping):
            if self.stop_line and self.stop_line.fullmatch(line):
                # A TAP comment, so that the test's log shows how often.
                print(f"# {self.name}: logged during the stop, let pass: "
                      f"{line}", flush=True)
            else:
                crashes.append(line)
        if crashes:
            problems.append("its log shows crashes:\n" + "\n".join(crashes))
        if problems:
            raise AssertionError(f"{self.name} in {self.dir}: "
                                 + "; ".join(problems))

    def _terminate(self):
        """Stops the server and whatever it left; returns what went wrong,
        as sentences."""
        proc, self._proc = self._proc, None
        problems = []
        proc.terminate()
        try:
            proc.wait(START_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            problems.append(f"did not exit within {START_TIMEOUT:.0f} s "
                            "of SIGTERM: killed")
        else:
            if proc.returncode not in self.clean_exits:
                problems.append(f"exited with status {proc.returncode}")
        left = _kill_leftovers(self.dir, proc.pid)
        if left:
            problems.append(f"left processes {left}")
        return problems

    def provokes(self, *patterns):
        """Names lines that the test provokes on purpose, which crashes()
        and so stop() then let pass: each a regex that must match a whole
        line of crashes() (without its time stamp), such as
        r"imap-login: Fatal: haproxy_trusted_networks: Invalid network
        '10\\.0\\.0\\.0/33'". Returns self."""
        self._provoked += [re.compile(pattern) for pattern in patterns]
        return self

    def crashes(self, since=0, until=None):
        """The lines of the log from offset since to offset until (its end
        if None) that tell of a crash or a leak (crash_line), without their
        time stamps, less the ones provokes() names."""
        if self.crash_line is None:
            return []
        text = self.log_text(since, until)
        return [line for line in self.crash_line.findall(text)
                if not any(p.fullmatch(line) for p in self._provoked)]

    def log_mark(self):
        """The current end of the log, for since= below."""
        try:
            return os.path.getsize(self.log_path)
        except FileNotFoundError:
            return 0

    def log_text(self, since=0, until=None):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                size = -1 if until is None else until - since
                return f.read(size).decode(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, pattern, timeout=TIMEOUT, since=0):
        """The first match of regex pattern (multiline) in the log after
        offset since, waiting up to timeout; AssertionError with the log if
        there is none."""
        regex = re.compile(pattern, re.MULTILINE)
        match = wait_until(lambda: regex.search(self.log_text(since)),
                           timeout, interval=0.05)
        if not match:
            raise AssertionError(f"no /{pattern}/ in {self.log_path}:\n"
                                 + self.log_text(since)[-3000:])
        return match

    def __enter__(self):
        return self if self._proc else self.start()

    def __exit__(self, *exc):
        self.stop()


class Dovecot(_Server):
    """A self-contained Dovecot (no /etc/dovecot) with a passwd-file passdb.

    users maps each user name to its passdb extra fields (e.g. allow_nets);
    the password is PASSWORD unless a "password" field says otherwise.
    plugin_dir None leaves haproxy = yes listeners to Dovecot's built-in
    parser; a path loads PATH/lib20_haproxy_plugin.so in every login process.
    extra_config is appended verbatim, so it can override anything above it,
    even define listeners of its own: endpoints then names them, so that
    start() waits for them too. settings_module False leaves the plugin's
    libhaproxy_settings.so out of Dovecot's settings modules, as where it
    was not installed.
    """

    crash_line = DOVECOT_CRASH

    # A process that the master started just before the stop (auth for a
    # login process's connection, a login process for process_min_avail)
    # asks the config service for its settings, which the stop ends: it
    # cannot read them and says so (2.3: "Error reading", 2.4: "Failed to
    # read"). Dovecot's own race, not a crash.
    stop_line = re.compile(
        r"\S+: Fatal: (?:Error reading|Failed to read) configuration: .* - "
        r"Also failed to read config by executing doveconf: \S+/config is "
        r"a UNIX socket.*")

    def __init__(self, sandbox, listeners, users=None, plugin_dir=None,
                 haproxy_trusted_networks=PROXY_IP + "/32",
                 haproxy_timeout=None, extra_config="", name="dovecot",
                 endpoints=(), settings_module=True):
        super().__init__(sandbox, name)
        self.settings_module = settings_module
        self.under_test = dovecot_under_test()
        for listener in listeners:
            if listener.protocol not in self.under_test.login_services:
                raise ValueError(f"no login service for {listener.protocol}")
            if listener.port is None:
                listener.port = sandbox.free_port(listener.address)
        self.listeners = listeners
        self.users = {"alice": {}} if users is None else users
        self.plugin_dir = plugin_dir
        self.haproxy_trusted_networks = haproxy_trusted_networks
        self.haproxy_timeout = haproxy_timeout
        self.extra_config = extra_config
        self.extra_endpoints = list(endpoints)
        self.config_path = os.path.join(self.dir, "dovecot.conf")
        # A submission process connects to its relay as soon as the login
        # hands the client over: give it one that accepts everything.
        self.smtp_sink = None
        if any(l.protocol == "submission" for l in listeners):
            self.smtp_sink = SmtpSink(DOVECOT_IP,
                                      sandbox.free_port(DOVECOT_IP))

    def listener(self, name):
        return next(l for l in self.listeners if l.name == name)

    def wait_for_login(self, user, since=0, service=r"[\w-]+"):
        """The fields (log_fields) of the first login line of user after
        offset since, of the login service named by regex service, waiting
        for it as wait_for_log does."""
        return log_fields(self.wait_for_log(
            rf"^.* {service}: Info: {self.under_test.logged_in}: "
            rf"user=<{re.escape(user)}>.*", since=since).group(0))

    def start(self):
        if self.smtp_sink:
            self.smtp_sink.start()
        return super().start()

    def stop(self):
        try:
            super().stop()
        finally:
            if self.smtp_sink:
                self.smtp_sink.stop()

    def tool_argv(self, *argv):
        """argv, a Dovecot program, made to see the plugin's settings module
        just built, as if it were installed: it runs in a mount namespace of
        its own in which Dovecot's settings module directory holds it too
        (or, without settings_module, surely not). The machine's directory
        stays as it is."""
        if plugin_dir() is None or settings_module_dir() is None:
            return list(argv)
        ours = "libhaproxy_settings.so"
        modules = os.path.join(self.dir, "settings-modules")
        if not os.path.isdir(modules):
            os.mkdir(modules, 0o755)
            for path in glob.glob(os.path.join(settings_module_dir(), "*.so")):
                if os.path.basename(path) != ours:
                    shutil.copy(path, modules)
            if self.settings_module:
                shutil.copy(os.path.join(plugin_dir(), ours), modules)
        return ["unshare", "--mount", "--propagation", "private",
                "sh", "-ec", 'mount --bind "$1" "$2"; shift 2; exec "$@"',
                "sh", modules, settings_module_dir(), *argv]

    def tool(self, *argv):
        """Runs the Dovecot program argv (tool_argv) to its end; returns its
        CompletedProcess, with text output."""
        return subprocess.run(self.tool_argv(*argv), capture_output=True,
                              text=True, timeout=TIMEOUT)

    def stats_dump(self):
        """The rows of doveadm stats dump, as dicts keyed by its header."""
        run = self.tool("doveadm", "-c", self.config_path, "stats", "dump")
        assert run.returncode == 0, run.stderr
        return list(csv.DictReader(io.StringIO(run.stdout), delimiter="\t"))

    def metric_counts(self, prefix):
        """{metric name: count} of the metrics whose names start with
        prefix, from stats_dump()."""
        return {row["metric_name"]: int(row["count"])
                for row in self.stats_dump()
                if row["metric_name"].startswith(prefix)}

    def counted(self, metric, events, timeout=TIMEOUT):
        """metric_counts(metric), the metric and its sub-metrics, once the
        metric itself has counted events events or more, or after timeout:
        events reach the stats process a moment after the fact."""
        def counts():
            counts = self.metric_counts(metric)
            return counts if counts.get(metric, 0) >= events else None
        return wait_until(counts, timeout) or self.metric_counts(metric)

    def _argv(self):
        return self.tool_argv("dovecot", "-F", "-c", self.config_path)

    def _endpoints(self):
        return self.listeners + self.extra_endpoints

    def _write_config(self):
        home = os.path.join(self.dir, "home")
        os.makedirs(home, exist_ok=True)
        # Mail processes run as nobody and create each user's home in here.
        shutil.chown(home, "nobody", "nogroup")
        users_path = os.path.join(self.dir, "users")
        with open(users_path, "w") as f:
            for user, fields in self.users.items():
                fields = dict(fields)
                password = fields.pop("password", PASSWORD)
                extra = " ".join(f"{k}={v}" for k, v in fields.items())
                f.write(f"{user}:{{PLAIN}}{password}::::::{extra}\n")
        certs = self.sandbox.certs
        dut = self.under_test
        text = dut.preamble() + f"""\
# Written by tests/sandbox/sandbox.py for Dovecot {dut.version}
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.log_path}
info_log_path = {self.log_path}
debug_log_path = {self.log_path}
protocols = {" ".join(dut.login_services)}
ssl = yes
login_log_format_elements = {LOG_FORMAT_ELEMENTS}
haproxy_trusted_networks = {self.haproxy_trusted_networks}
auth_verbose = yes
# Tests fail logins on purpose: answer at once instead of after 2 s, and
# without the auth penalty, which would delay every later login from the
# same address by 2 s or more (mode 0: the socket is not created).
auth_failure_delay = 0
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""
        # The CA is only used once a test asks for client certificates.
        text += dut.ssl_server(certs.server_cert, certs.server_key, certs.ca)
        text += dut.passwd_file(users_path) + dut.static_userdb(home)
        text += dut.maildir()
        if self.haproxy_timeout is not None:
            text += f"haproxy_timeout = {self.haproxy_timeout}\n"
        if self.smtp_sink:
            text += (f"submission_relay_host = {self.smtp_sink.address}\n"
                     f"submission_relay_port = {self.smtp_sink.port}\n")
        if self.plugin_dir is not None:
            text += dut.login_plugins(self.plugin_dir)
        for protocol, (service, builtin) in dut.login_services.items():
            ours = [l for l in self.listeners if l.protocol == protocol]
            text += f"service {service} {{\n"
            for name in builtin:
                if all(l.name != name for l in ours):
                    text += f"  inet_listener {name} {{\n    port = 0\n  }}\n"
            for l in ours:
                text += (f"  inet_listener {l.name} {{\n"
                         f"    {dut.listener_address} = {l.address}\n"
                         f"    port = {l.port}\n"
                         f"    haproxy = {'yes' if l.haproxy else 'no'}\n"
                         f"    ssl = {'yes' if l.ssl else 'no'}\n"
                         "  }\n")
            text += "}\n"
        with open(self.config_path, "w") as f:
            f.write(text + self.extra_config + "\n")


def log_fields(line):
    """The elements of a login log line (LOG_FORMAT_ELEMENTS) as a dict:
    "user=<near>, rip=127.0.0.7, ..." gives {"user": "near", "rip": ...}."""
    return {key: bracketed or plain for key, bracketed, plain in
            re.findall(r"\b(\w+)=(?:<([^>]*)>|([^,]*))", line)}


def assert_login(fields, **expected):
    """Asserts that a login line's fields (log_fields) have the expected
    values, compared as strings. Where the Dovecot under test logs its own
    address as real_rip (Dovecot23.logs_real_rip), real_rip must be the
    line's real_lip instead: the real peer is then in the plugin's own
    lines and events only.
    """
    if "real_rip" in expected and not dovecot_under_test().logs_real_rip:
        assert fields.get("real_lip"), f"login line without real_lip: {fields}"
        expected["real_rip"] = fields["real_lip"]
    got = {key: fields.get(key) for key in expected}
    expected = {key: str(value) for key, value in expected.items()}
    assert got == expected, f"login line has {got}, expected {expected}"


class SmtpSink:
    """A loopback SMTP server in a thread that accepts every message into
    .messages (the raw DATA, Received: header first)."""

    def __init__(self, address, port):
        self.address, self.port = address, port
        self.messages = []
        self._server = None

    def start(self):
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                try:
                    sink._session(self.rfile, self.wfile)
                except OSError:  # Dovecot went away mid-session
                    pass

        self._server = socketserver.ThreadingTCPServer(
            (self.address, self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.1,),
                         daemon=True).start()

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _session(self, rfile, wfile):
        wfile.write(b"220 sink ESMTP\r\n")
        for line in rfile:
            verb = line[:4].upper()
            if verb == b"QUIT":
                wfile.write(b"221 bye\r\n")
                return
            if verb == b"DATA":
                wfile.write(b"354 go on\r\n")
                body = []
                for data in rfile:
                    if data == b".\r\n":
                        break
                    body.append(data)
                self.messages.append(b"".join(body))
            wfile.write(b"250 ok\r\n")


class HAProxy(_Server):
    """An HAProxy in TCP mode whose frontends and backends a test composes:

        hap.backend("imap", [(listener, "send-proxy-v2 check")],
                    "balance leastconn")
        front = hap.frontend("imaps", "imap", tls=True)

    It connects from PROXY_IP (an IPv6 backend needs the line "source [::1]").
    extra_config is appended verbatim after the generated sections."""

    # In the foreground (-db) HAProxy leaves SIGTERM to its default action.
    clean_exits = (0, -signal.SIGTERM)

    def __init__(self, sandbox, extra_config="", name="haproxy"):
        super().__init__(sandbox, name)
        self.extra_config = extra_config
        self.config_path = os.path.join(self.dir, "haproxy.cfg")
        self.stats_socket = os.path.join(self.dir, "stats.sock")
        self._frontends = []   # their Endpoints
        self._sections = []    # each a list of lines

    def backend(self, name, servers, *lines):
        """servers: (endpoint, server options) pairs, named s1, s2, ...;
        lines: more backend lines (balance, stick-table, stick on, ...)."""
        section = [f"backend {name}"] + [f"    {l}" for l in lines]
        for i, (target, options) in enumerate(servers, 1):
            section.append(
                f"    server s{i} {_hostport(target)} {options}".rstrip())
        self._sections.append(section)

    def frontend(self, name, backend, *lines, tls=False, address=PROXY_IP,
                 port=None, bind_options=""):
        """A frontend forwarding to backend; returns its Endpoint. With tls
        it terminates TLS with the server certificate and asks for an
        optional client certificate that it lets through even unverified,
        so the PROXY header reports the verify result. bind_options end
        its bind line (alpn imap, ...)."""
        endpoint = Endpoint(address, port or self.sandbox.free_port(address))
        bind = f"bind {_hostport(endpoint)}"
        if tls:
            certs = self.sandbox.certs
            bind += (f" ssl crt {certs.server_pem} ca-file {certs.ca}"
                     " verify optional ca-ignore-err all crt-ignore-err all")
        if bind_options:
            bind += " " + bind_options
        self._frontends.append(endpoint)
        self._sections.append([f"frontend {name}", f"    {bind}"]
                              + [f"    {l}" for l in lines]
                              + [f"    default_backend {backend}"])
        return endpoint

    def stats(self, proxy, server):
        """The row of "show stat" on the stats socket for proxy/server (a
        server name, FRONTEND or BACKEND), keyed by the CSV header's names:
        status, check_status, chkfail, ..."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(TIMEOUT)
            sock.connect(self.stats_socket)
            sock.sendall(b"show stat\n")
            header, *rows = recv_all(sock).decode().strip().splitlines()
        names = header.lstrip("# ").split(",")
        for row in rows:
            stat = dict(zip(names, row.split(",")))
            if (stat["pxname"], stat["svname"]) == (proxy, server):
                return stat
        raise KeyError(f"no {proxy}/{server} in show stat")

    def _argv(self):
        return ["haproxy", "-db", "-f", self.config_path]

    def _endpoints(self):
        return self._frontends

    def _write_config(self):
        text = """\
# Written by tests/sandbox/sandbox.py
global
    log stderr format raw local0 info
    maxconn 256
    stats socket {stats_socket} mode 600 level admin

defaults
    mode tcp
    log global
    option tcplog
    source {proxy_ip}
    timeout connect {timeout}s
    timeout client {timeout}s
    timeout server {timeout}s
    timeout check {timeout}s
""".format(proxy_ip=PROXY_IP, stats_socket=self.stats_socket,
           timeout=int(TIMEOUT))
        for section in self._sections:
            text += "\n" + "\n".join(section) + "\n"
        with open(self.config_path, "w") as f:
            f.write(text + "\n" + self.extra_config + "\n")


def nginx_build_options():
    """What nginx -V says it was built with: {"--with-stream": "dynamic",
    "--modules-path": "/usr/lib/nginx/modules", ...}."""
    run = subprocess.run(["nginx", "-V"], capture_output=True, text=True,
                         timeout=TIMEOUT)
    return dict((option + "=").split("=")[:2]
                for option in run.stderr.split() if option.startswith("--"))


class NGINX(_Server):
    """nginx's stream module in TCP mode, sending a PROXY v1 header
    (proxy_protocol on), the way Debian's nginx runs it:

        ngx = NGINX(sb)
        front = ngx.proxy(dc.listener("imap-proxy"))

    It connects from PROXY_IP, as HAProxy does. Its master process runs in
    the foreground as our child (daemon off), its worker as nobody."""

    def __init__(self, sandbox, name="nginx"):
        super().__init__(sandbox, name)
        self.config_path = os.path.join(self.dir, "nginx.conf")
        self._frontends = []   # their Endpoints
        self._blocks = []      # each server block's lines

    def proxy(self, target, *lines, address=PROXY_IP, port=None,
              listen="", version=1):
        """A server that forwards each connection to target, a PROXY
        header of version first (2 only where nginx can: accepts()); returns
        its Endpoint. listen: parameters of its listen line
        ("proxy_protocol" to receive a header too); lines: more directives
        (set_real_ip_from ...)."""
        endpoint = Endpoint(address, port or self.sandbox.free_port(address))
        self._frontends.append(endpoint)
        self._blocks.append([f"listen {_hostport(endpoint)} {listen}".rstrip(),
                             f"proxy_pass {_hostport(target)}",
                             "proxy_protocol " + ("on" if version == 1
                                                  else "v2"),
                             f"proxy_bind {PROXY_IP}", *lines])
        return endpoint

    def accepts(self):
        """Whether nginx -t takes the configuration as it is so far."""
        self._write_config()
        return subprocess.run(self._argv()[:-2] + ["-t"],
                              capture_output=True,
                              timeout=TIMEOUT).returncode == 0

    def _argv(self):
        return ["nginx", "-e", self.log_path, "-p", self.dir + "/",
                "-c", self.config_path, "-g", "daemon off;"]

    def _endpoints(self):
        return self._frontends

    def _write_config(self):
        options = nginx_build_options()
        text = "# Written by tests/sandbox/sandbox.py\n"
        if options.get("--with-stream") == "dynamic":
            text += (f"load_module {options['--modules-path']}/"
                     "ngx_stream_module.so;\n")
        text += f"""\
user nobody nogroup;
worker_processes 1;
error_log {self.log_path} info;
pid {self.dir}/nginx.pid;
events {{
    worker_connections 64;
}}
stream {{
"""
        for block in self._blocks:
            text += ("    server {\n"
                     + "".join(f"        {line};\n" for line in block)
                     + "    }\n")
        with open(self.config_path, "w") as f:
            f.write(text + "}\n")

# Clients. Each connects to an endpoint (a Listener or a frontend) from the
# source address a test chooses, CLIENT_IP unless told otherwise.

def connect(endpoint, source=CLIENT_IP, timeout=TIMEOUT):
    """A raw TCP socket, for hand-made and hostile input."""
    return socket.create_connection((endpoint.address, endpoint.port),
                                    timeout, (source, 0))


def recv_all(sock, limit=65536):
    """What the peer sends until it closes or limit bytes have come. A reset
    counts as a close: a server that closes with our input unread resets.
    A silent peer raises TimeoutError after the socket's timeout."""
    data = b""
    while len(data) < limit:
        try:
            chunk = sock.recv(limit - len(data))
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


class IMAP(imaplib.IMAP4):
    def __init__(self, endpoint, source=CLIENT_IP, timeout=TIMEOUT):
        self.source = source
        super().__init__(endpoint.address, endpoint.port, timeout)

    def _create_socket(self, timeout):
        return connect(Endpoint(self.host, self.port), self.source, timeout)


class IMAPS(imaplib.IMAP4_SSL):
    """server_hostname, if given, is sent as TLS SNI and checked against the
    server certificate (by default the endpoint's address: no SNI)."""

    def __init__(self, endpoint, context, source=CLIENT_IP, timeout=TIMEOUT,
                 server_hostname=None):
        self.source = source
        self.server_hostname = server_hostname or endpoint.address
        super().__init__(endpoint.address, endpoint.port,
                         ssl_context=context, timeout=timeout)

    def _create_socket(self, timeout):
        sock = connect(Endpoint(self.host, self.port), self.source, timeout)
        return self.ssl_context.wrap_socket(
            sock, server_hostname=self.server_hostname)


class POP3(poplib.POP3):
    def __init__(self, endpoint, source=CLIENT_IP, timeout=TIMEOUT):
        self.source = source
        super().__init__(endpoint.address, endpoint.port, timeout)

    def _create_socket(self, timeout):
        return connect(Endpoint(self.host, self.port), self.source, timeout)


class POP3S(poplib.POP3_SSL):
    def __init__(self, endpoint, context, source=CLIENT_IP, timeout=TIMEOUT):
        self.source = source
        super().__init__(endpoint.address, endpoint.port, timeout=timeout,
                         context=context)

    def _create_socket(self, timeout):
        sock = connect(Endpoint(self.host, self.port), self.source, timeout)
        return self.context.wrap_socket(sock, server_hostname=self.host)


class SMTP(smtplib.SMTP):
    def __init__(self, endpoint, source=CLIENT_IP, timeout=TIMEOUT):
        super().__init__(endpoint.address, endpoint.port, timeout=timeout,
                         source_address=(source, 0))


class SMTPS(smtplib.SMTP_SSL):
    def __init__(self, endpoint, context, source=CLIENT_IP, timeout=TIMEOUT):
        super().__init__(endpoint.address, endpoint.port, timeout=timeout,
                         source_address=(source, 0), context=context)


class ManageSieve:
    """A small ManageSieve client (RFC 5804) for logins, shaped like
    imaplib's: login() raises ManageSieve.error when refused."""

    class error(Exception):
        pass

    def __init__(self, endpoint, source=CLIENT_IP, timeout=TIMEOUT):
        self.sock = connect(endpoint, source, timeout)
        self._lines = self.sock.makefile("rb")
        self.greeting = self._response()

    def _response(self):
        """Reads up to the line with the result, OK, NO or BYE (the other
        lines are quoted capabilities); returns it."""
        while True:
            line = self._lines.readline()
            if not line:
                raise EOFError("ManageSieve server closed the connection")
            if line.startswith((b"OK", b"NO", b"BYE")):
                return line.decode().rstrip("\r\n")

    def command(self, line):
        self.sock.sendall(line.encode() + b"\r\n")
        return self._response()

    def _expect_ok(self, response):
        if not response.startswith("OK"):
            raise self.error(response)
        return response

    def starttls(self, context):
        self._expect_ok(self.command("STARTTLS"))
        self._lines.close()
        self.sock = context.wrap_socket(
            self.sock, server_hostname=self.sock.getpeername()[0])
        self._lines = self.sock.makefile("rb")
        return self._expect_ok(self._response())  # the capabilities again

    def login(self, user, password):
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        return self._expect_ok(self.command(f'AUTHENTICATE "PLAIN" "{token}"'))

    def close(self):
        try:
            self.command("LOGOUT")
        except (OSError, EOFError):
            pass
        self._lines.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
