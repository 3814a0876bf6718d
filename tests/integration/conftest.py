# Fixtures of the integration suite: real SMTP servers that the tests start
# themselves on 127.0.0.1, on a free port, and stop by their PID.
#
# - Postfix's smtp-sink (Debian "postfix"), which dumps every transaction to a
#   file (-d) and counts sessions and messages (-c);
# - aiosmtpd (Debian "python3-aiosmtpd") through aiosmtpd_server.py, with
#   STARTTLS (a CA and a server certificate made here with openssl), AUTH
#   PLAIN/LOGIN checked by an authenticator, and recipients it refuses.
#
# A missing server program fails the tests (CI installs them with
# install-servers.sh); it never skips them.
import atexit
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

# GLib reads the XDG directories once: isolate them before gi is imported.
_home = tempfile.mkdtemp(prefix="msgobj-integration-")
atexit.register(shutil.rmtree, _home, True)
for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                 ("XDG_CACHE_HOME", "cache"), ("HOME", "home")):
    path = os.path.join(_home, sub)
    os.makedirs(path, exist_ok=True)
    os.environ[var] = path
os.environ.pop("MSGOBJ_CONFIG", None)

import gi  # noqa: E402

gi.require_version("MsgObj", "1.0")
gi.require_version("Gio", "2.0")

import pytest  # noqa: E402
from gi.repository import GLib, MsgObj  # noqa: E402,F401

HERE = os.path.dirname(os.path.abspath(__file__))
SMTP_SINK = os.environ.get("MSGOBJ_SMTP_SINK", "/usr/sbin/smtp-sink")
SERVER_PYTHON = "/usr/bin/python3"
INSTALL_HINT = ("run tests/integration/install-servers.sh as root "
                "(it installs Debian's postfix and python3-aiosmtpd)")
START_TIMEOUT = 15.0
WAIT_TIMEOUT = 30.0


def fail_missing(what):
    pytest.fail("%s is missing: %s" % (what, INSTALL_HINT), pytrace=False)


def wait_until(predicate, timeout=WAIT_TIMEOUT, what="condition"):
    """Polls predicate until it returns a true value; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(0.02)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_inodes(port):
    """Socket inodes listening on 127.0.0.1:port, from /proc/net/tcp."""
    inodes = set()
    want = "0100007F:%04X" % port
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[1] == want and fields[3] == "0A":
                inodes.add(fields[9])
    return inodes


def process_socket_inodes(pid):
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return inodes
    for name in names:
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]$", target)
        if m:
            inodes.add(m.group(1))
    return inodes


def stop_process(proc, timeout=10):
    """Stops a server we started, by its PID: SIGTERM, then SIGKILL."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def make_shared_dir(prefix):
    """A directory under /tmp that user nobody (smtp-sink's) can enter."""
    path = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(path, 0o755)
    return path


# --- smtp-sink -------------------------------------------------------------


class SinkTransaction:
    """One transaction from an smtp-sink dump file."""

    def __init__(self, path, data):
        self.path = path
        self.raw = data
        lines = data.split(b"\n")
        self.meta = {}
        i = 0
        while i < len(lines) and lines[i].startswith(b"X-"):
            name, _, value = lines[i].decode().partition(": ")
            self.meta.setdefault(name, []).append(value)
            i += 1
        assert lines[i].startswith(b"Received: "), "unexpected dump format in %s" % path
        i += 1
        while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
            i += 1
        # The rest is the message as received, dot-stuffing undone, with every
        # CR dropped (so LF line ends), then an empty line.
        self.message = b"\n".join(lines[i:])

    @property
    def mail_from(self):
        return self.meta["X-Mail-Args"][0]

    @property
    def rcpt_to(self):
        return self.meta.get("X-Rcpt-Args", [])

    @property
    def helo(self):
        return self.meta.get("X-Helo-Args", [None])[0]


class SmtpSink:
    def __init__(self, options=()):
        if not os.access(SMTP_SINK, os.X_OK):
            fail_missing("Postfix's smtp-sink (%s)" % SMTP_SINK)
        self.options = list(options)
        self.dir = make_shared_dir("msgobj-sink-")
        self.dump_dir = os.path.join(self.dir, "dump")
        os.mkdir(self.dump_dir)
        self.log_path = os.path.join(self.dir, "sink.log")
        if os.geteuid() == 0:
            import pwd
            nobody = pwd.getpwnam("nobody")
            os.chown(self.dump_dir, nobody.pw_uid, nobody.pw_gid)
        self.proc = None
        self.port = None
        self._start()

    def _start(self):
        # smtp-sink cannot bind port 0 and report it: take a free port and
        # try another one if something else took it in between.
        for attempt in range(5):
            port = free_port()
            argv = [SMTP_SINK, "-4", "-c", "-d", os.path.join(self.dump_dir, "%Y%m%d%H%M%S.")]
            if os.geteuid() == 0:
                argv += ["-u", "nobody"]
            argv += self.options + ["127.0.0.1:%d" % port, "64"]
            log = open(self.log_path, "wb")
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
            log.close()

            # Ready when the process itself holds the listening socket; no
            # probe connection (it would count as a session).
            def ready():
                if proc.poll() is not None:
                    return "exited"
                inodes = listening_inodes(port)
                return inodes and inodes & process_socket_inodes(proc.pid)

            state = wait_until(ready, START_TIMEOUT, "smtp-sink to listen on %d" % port)
            if state != "exited":
                self.proc, self.port = proc, port
                return
        raise AssertionError("smtp-sink did not start: %s" % self.log())

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def counters(self):
        """The last "sess=N quit=N mesg=N" line of -c, as a dict."""
        last = None
        for m in re.finditer(r"sess=(\d+) quit=(\d+) mesg=(\d+)", self.log()):
            last = m
        if not last:
            return {"sess": 0, "quit": 0, "mesg": 0}
        return {"sess": int(last.group(1)), "quit": int(last.group(2)),
                "mesg": int(last.group(3))}

    def wait_counters(self, timeout=WAIT_TIMEOUT, **expected):
        """Waits until the -c counters have the expected values (they
        change when a session ends, after QUIT and after each message)."""
        def match():
            c = self.counters()
            return all(c[k] == v for k, v in expected.items())
        try:
            wait_until(match, timeout, "smtp-sink counters %s" % expected)
        except AssertionError:
            raise AssertionError("smtp-sink counters are %s, expected %s"
                                 % (self.counters(), expected)) from None

    def _dump_files(self):
        found = []
        for root, _, files in os.walk(self.dump_dir):
            found += [os.path.join(root, f) for f in files]
        return found

    def transactions(self, count, timeout=WAIT_TIMEOUT):
        """Waits for count completed transactions and returns them in the
        order they were received; checks that there are no more."""
        def complete():
            if self.counters()["mesg"] < count or len(self._dump_files()) < count:
                return None
            return True
        wait_until(complete, timeout, "%d message(s) in smtp-sink" % count)
        found = []
        for path in self._dump_files():
            with open(path, "rb") as f:
                found.append((os.stat(path).st_mtime_ns, path, f.read()))
        assert len(found) == count, "smtp-sink got %d messages, expected %d" % (len(found), count)
        return [SinkTransaction(path, data) for _, path, data in sorted(found)]

    def transaction_for(self, transactions, message_id):
        """The transaction whose message has this Message-ID."""
        needle = b"\nMessage-ID: <%s>\n" % message_id.strip("<>").encode()
        hits = [t for t in transactions if needle.lower() in (b"\n" + t.message).lower()]
        assert len(hits) == 1, "%d dumps with Message-ID %s" % (len(hits), message_id)
        return hits[0]

    def stop(self):
        if self.proc:
            stop_process(self.proc)
            self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def smtp_sink():
    """Starts smtp-sink with its default EHLO (PIPELINING, 8BITMIME, DSN...);
    a factory smtp_sink_with(options) gives other flags."""
    sink = SmtpSink()
    yield sink
    sink.cleanup()


@pytest.fixture
def smtp_sink_with():
    started = []

    def start(*options):
        sink = SmtpSink(options)
        started.append(sink)
        return sink
    yield start
    for sink in started:
        sink.cleanup()


# --- TLS material ------------------------------------------------------------


class CertificateAuthority:
    """A CA and a server certificate for CN=localhost, IP:127.0.0.1 (and one
    for mail.example.test only, to test host name checks)."""

    def __init__(self, directory):
        if not shutil.which("openssl"):
            fail_missing("openssl")
        self.dir = directory
        self.ca_cert = os.path.join(directory, "ca.pem")
        self.ca_key = os.path.join(directory, "ca-key.pem")
        self.cert = os.path.join(directory, "server.pem")
        self.key = os.path.join(directory, "server-key.pem")
        ext = os.path.join(directory, "server.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                    "basicConstraints=CA:FALSE\n"
                    "keyUsage=digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth\n")
        csr = os.path.join(directory, "server.csr")
        for argv in (
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=msgobj integration test CA", "-keyout", self.ca_key,
             "-out", self.ca_cert,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
             "-keyout", self.key, "-out", csr],
            ["openssl", "x509", "-req", "-in", csr, "-CA", self.ca_cert, "-CAkey", self.ca_key,
             "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", self.cert],
        ):
            self._openssl(argv)
        self.other_cert, self.other_key = self.issue("mail.example.test",
                                                     "DNS:mail.example.test")

    @staticmethod
    def _openssl(argv):
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        assert result.returncode == 0, "openssl failed: %s\n%s" % (
            " ".join(argv), result.stdout.decode("utf-8", "replace"))

    def issue(self, name, san):
        """Another server certificate from the same CA, for other names."""
        key = os.path.join(self.dir, name + "-key.pem")
        cert = os.path.join(self.dir, name + ".pem")
        csr = os.path.join(self.dir, name + ".csr")
        ext = os.path.join(self.dir, name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                    "extendedKeyUsage=serverAuth\n" % san)
        self._openssl(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj",
                       "/CN=" + name, "-keyout", key, "-out", csr])
        self._openssl(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca_cert,
                       "-CAkey", self.ca_key, "-CAcreateserial", "-days", "2",
                       "-extfile", ext, "-out", cert])
        return cert, key


@pytest.fixture(scope="session")
def test_ca():
    directory = tempfile.mkdtemp(prefix="msgobj-ca-")
    yield CertificateAuthority(directory)
    shutil.rmtree(directory, ignore_errors=True)


# --- aiosmtpd ----------------------------------------------------------------


class Received:
    """One message as aiosmtpd_server.py recorded it."""

    def __init__(self, record):
        self.__dict__.update(record)
        self.content = base64.b64decode(record["content"])


class Aiosmtpd:
    def __init__(self, args):
        result = subprocess.run([SERVER_PYTHON, "-c", "import aiosmtpd"],
                                stdin=subprocess.DEVNULL, capture_output=True)
        if result.returncode != 0:
            fail_missing("aiosmtpd for %s" % SERVER_PYTHON)
        self.dir = tempfile.mkdtemp(prefix="msgobj-aiosmtpd-")
        self.messages_dir = os.path.join(self.dir, "messages")
        self.log_path = os.path.join(self.dir, "server.log")
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [SERVER_PYTHON, os.path.join(HERE, "aiosmtpd_server.py"),
             "--state", self.dir] + list(args),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
        log.close()
        # The server binds port 0 itself and prints the port it got.
        line = self._read_line(START_TIMEOUT)
        m = re.match(rb"PORT (\d+)$", line.strip())
        if not m:
            stop_process(self.proc)
            raise AssertionError("aiosmtpd did not start (%r): %s" % (line, self.log()))
        self.port = int(m.group(1))

    def _read_line(self, timeout):
        import selectors
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                return b""
        return self.proc.stdout.readline()

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def auth_log(self):
        try:
            with open(os.path.join(self.dir, "auth.log")) as f:
                return [line.split() for line in f]
        except FileNotFoundError:
            return []

    def _names(self):
        try:
            names = [n for n in os.listdir(self.messages_dir) if n.endswith(".json")]
        except FileNotFoundError:
            return []
        return sorted(names, key=lambda n: int(n.split(".")[0]))

    def messages(self, count, timeout=WAIT_TIMEOUT):
        """Waits for count messages and returns them in order; checks that
        there are no more."""
        wait_until(lambda: len(self._names()) >= count, timeout,
                   "%d message(s) in aiosmtpd" % count)
        names = self._names()
        assert len(names) == count, "aiosmtpd got %d messages, expected %d" % (len(names), count)
        found = []
        for name in names:
            with open(os.path.join(self.messages_dir, name)) as f:
                found.append(Received(json.load(f)))
        return found

    def message_count(self):
        return len(self._names())

    def stop(self):
        if self.proc:
            stop_process(self.proc)
            self.proc.stdout.close()
            self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def aiosmtpd():
    """A factory: aiosmtpd(*args) starts aiosmtpd_server.py with those
    arguments; every server started is stopped at the end of the test."""
    started = []

    def start(*args):
        server = Aiosmtpd(args)
        started.append(server)
        return server
    yield start
    for server in started:
        server.cleanup()


# --- libmsgobj helpers -------------------------------------------------------


def smtp_config(port, **fields):
    config = MsgObj.Configuration.new()
    config.set_field("sendusing", "smtp")
    config.set_field("smtpserver", "127.0.0.1")
    config.set_field("smtpserverport", str(port))
    config.set_field("smtpconnectiontimeout", "20")
    for name, value in fields.items():
        config.set_field(name, value)
    return config


def pytest_report_header(config):
    return "integration servers: %s, %s (aiosmtpd)" % (SMTP_SINK, SERVER_PYTHON)



# --- a recording relay, to see what the client sends before which reply -----


class RecordingRelay:
    """Relays 127.0.0.1:port to a server and records, per connection, the
    client's bytes and the server's replies in the order it forwarded them.

    With hold=True, once the client has sent MAIL FROM the server's replies
    are held back until the client has also sent DATA: a client that
    pipelines (RFC 2920) gets through at once, one that waits for each reply
    would wait forever, so after hold_timeout the relay gives up holding and
    records it in held_too_long.
    """

    def __init__(self, upstream_port, hold=False, hold_timeout=10.0, stall_after=None):
        import threading
        self.upstream_port = upstream_port
        # After this many bytes from a client, stop reading from it: a peer
        # that no longer reads, so the client's writes block.
        self.stall_after = stall_after
        self.hold = hold
        self.hold_timeout = hold_timeout
        self.connections = []
        self.held_too_long = False
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self._stop_r, self._stop_w = os.pipe()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(self.listener, selectors.EVENT_READ, ("accept", None))
        sel.register(self._stop_r, selectors.EVENT_READ, ("stop", None))
        while True:
            now = time.monotonic()
            timeout = None
            for conn in self.connections:
                if not conn["closed"] and conn["held"] and conn["hold_since"] is not None:
                    left = conn["hold_since"] + self.hold_timeout - now
                    timeout = left if timeout is None else min(timeout, left)
            for key, _ in sel.select(None if timeout is None else max(timeout, 0)):
                kind, conn = key.data
                if kind == "stop":
                    for c in self.connections:
                        if not c["closed"]:
                            c["client"].close()
                            c["server"].close()
                    return
                if kind == "accept":
                    client, _ = self.listener.accept()
                    server = socket.create_connection(("127.0.0.1", self.upstream_port))
                    conn = {"client": client, "server": server, "events": [],
                            "held": b"", "hold_since": None, "pending": b"",
                            "closed": False, "client_bytes": 0, "stalled": False}
                    self.connections.append(conn)
                    sel.register(client, selectors.EVENT_READ, ("client", conn))
                    sel.register(server, selectors.EVENT_READ, ("server", conn))
                    continue
                if conn["closed"]:
                    continue
                try:
                    data = conn[kind].recv(1 << 16)
                except ConnectionError:
                    data = b""
                if not data:
                    conn["closed"] = True
                    conn["events"].append((kind[0], b""))
                    for s in (conn["client"], conn["server"]):
                        if not (s is conn["client"] and conn["stalled"]):
                            sel.unregister(s)
                        s.close()
                    continue
                if kind == "client":
                    conn["events"].append(("c", data))
                    conn["pending"] = (conn["pending"] + data)[-4096:]
                    conn["server"].sendall(data)
                    conn["client_bytes"] += len(data)
                    if self.stall_after is not None and conn["client_bytes"] >= self.stall_after:
                        sel.unregister(conn["client"])
                        conn["stalled"] = True
                    if conn["held"] and self._data_sent(conn):
                        self._release(conn)
                else:
                    if self.hold and b"MAIL FROM" in conn["pending"].upper() \
                            and not self._data_sent(conn):
                        if conn["hold_since"] is None:
                            conn["hold_since"] = time.monotonic()
                        conn["held"] += data
                    else:
                        conn["events"].append(("s", data))
                        conn["client"].sendall(data)
            for conn in self.connections:
                if not conn["closed"] and conn["held"] and conn["hold_since"] is not None and \
                        time.monotonic() > conn["hold_since"] + self.hold_timeout:
                    self.held_too_long = True
                    self._release(conn)
                    self.hold = False

    @staticmethod
    def _data_sent(conn):
        return b"\r\nDATA\r\n" in conn["pending"].upper()

    @staticmethod
    def _release(conn):
        conn["events"].append(("s", conn["held"]))
        conn["client"].sendall(conn["held"])
        conn["held"] = b""
        conn["hold_since"] = None
        conn["pending"] = b""

    def stop(self):
        os.write(self._stop_w, b"x")
        self.thread.join(10)
        self.listener.close()
        os.close(self._stop_r)
        os.close(self._stop_w)


@pytest.fixture
def relay():
    """A factory: relay(upstream_port, hold=...) starts a RecordingRelay."""
    started = []

    def start(upstream_port, **kwargs):
        r = RecordingRelay(upstream_port, **kwargs)
        started.append(r)
        return r
    yield start
    for r in started:
        r.stop()
