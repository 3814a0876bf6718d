# A private INN 2.7 instance for the integration tests.
#
# innd runs on 127.0.0.1 on a free port, with its own inn.conf (found
# through the INNCONF environment variable, which libinn reads instead of
# the system's), its own db, spool, run and log directories, as user news
# (innd refuses to run as anyone else), and never touches the system's news
# directories. It is stopped by its PID, and so are the nnrpd processes it
# forked. The recipe and its pitfalls are described in the project's
# research notes on the test environment.
import atexit
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

INN_BIN = "/usr/lib/news/bin"
INN_ETC = "/etc/news"
INN_EXAMPLES = "/usr/lib/news/examples"
INSTALL_HINT = "run tests/integration/install-inn.sh as root to install it"

# Paths in inn.conf that are moved into the instance's directory.
_DIRS = {
    "pathdb": "db",
    "pathetc": "etc",
    "pathrun": "run",
    "pathlog": "log",
    "pathhttp": "http",
    "pathspool": "spool",
    "patharticles": "spool/articles",
    "pathoverview": "spool/overview",
    "pathincoming": "spool/incoming",
    "pathtmp": "spool/incoming/tmp",
    "pathoutgoing": "spool/outgoing",
    "patharchive": "spool/archive",
}

STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class InnError(Exception):
    pass


# Servers still running, stopped at exit whatever ended the tests. innd runs
# in a session of its own (a Ctrl-C for the tests must not kill it before
# its shutdown), so nothing else would stop it.
_running = set()


def _stop_all():
    for server in list(_running):
        server.stop()
        server.remove()


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


atexit.register(_stop_all)


def check_installed():
    """Raises InnError with a clear message when INN cannot be run here."""
    missing = [p for p in ("innd", "ctlinnd", "makedbz", "nnrpd", "auth/passwd/ckpasswd")
               if not os.access(os.path.join(INN_BIN, p), os.X_OK)]
    if missing:
        raise InnError("INN 2.7 (Debian package inn2) is not installed: missing %s in %s; %s"
                       % (", ".join(missing), INN_BIN, INSTALL_HINT))
    if not os.path.isfile(os.path.join(INN_ETC, "inn.conf")):
        raise InnError("INN is not configured: no %s/inn.conf; %s" % (INN_ETC, INSTALL_HINT))
    if os.geteuid() != 0:
        raise InnError("the INN tests start innd as user news and need root "
                       "(running as uid %d)" % os.geteuid())
    try:
        pwd.getpwnam("news")
    except KeyError:
        raise InnError("there is no user news; %s" % INSTALL_HINT) from None
    if shutil.which("openssl") is None:
        raise InnError("openssl is needed to make the test certificates")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _set_conf(text, key, value):
    line = "%s: %s" % (key, value)
    pattern = re.compile(r"^#?\s*%s:.*$" % re.escape(key), re.M)
    if pattern.search(text):
        return pattern.sub(lambda m: line, text, count=1)
    return text + line + "\n"


def _without_local_groups(src, dst):
    with open(src) as f:
        lines = [ln for ln in f if not ln.startswith("local.")]
    with open(dst, "w") as f:
        f.writelines(lines)


def _proc_ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    # The command name is in parentheses and may contain spaces.
    return int(stat[stat.rindex(")") + 2:].split()[1])


def process_gone(pid):
    """Whether the process has exited (gone, or a zombie not reaped yet)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2:].split()[0] in ("Z", "X")


def _proc_has_innconf(pid, innconf):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            env = f.read().split(b"\0")
    except OSError:
        return False
    return ("INNCONF=" + innconf).encode() in env


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class InnServer:
    """A private innd (with its nnrpd readers) on 127.0.0.1.

    groups: newsgroups created with ctlinnd (posting allowed).
    users: {name: password} for AUTHINFO through ckpasswd; when given,
        anonymous readers may only read, authenticated ones may post.
    feeder: keep Debian's incoming.conf ("peer ME" for localhost), so that
        local connections reach innd in transit mode and must send
        MODE READER before they can POST (INN answers 401 MODE-READER).
    read_only: without users, readers may not post (greeting 201).
    """

    def __init__(self, groups=("local.test",), users=None, feeder=False, read_only=False):
        self.groups = list(groups)
        self.users = dict(users or {})
        self.feeder = feeder
        self.read_only = read_only
        self.port = None
        self.pid = None
        self.dir = None
        self.ca_file = None
        self._children = set()
        self._readers = []  # standalone nnrpd listeners (Popen)
        self._news = pwd.getpwnam("news")

    # -- set-up ---------------------------------------------------------

    def _path(self, *parts):
        return os.path.join(self.dir, *parts)

    @property
    def innconf(self):
        return self._path("etc", "inn.conf")

    def _as_news(self, argv):
        """argv run as news with our INNCONF. setpriv execs, so a process
        started this way has the program's own PID."""
        env = dict(os.environ, INNCONF=self.innconf)
        return ["setpriv", "--reuid=news", "--regid=news", "--init-groups",
                "env", "INNCONF=" + self.innconf] + argv, env

    def _run_as_news(self, argv, timeout=30):
        cmd, env = self._as_news(argv)
        result = subprocess.run(cmd, env=env, capture_output=True, text=True,
                                timeout=timeout)
        if result.returncode != 0:
            raise InnError("%s failed (%d): %s%s" % (" ".join(argv), result.returncode,
                                                     result.stdout, result.stderr))
        return result.stdout

    def _make_dirs(self):
        self.dir = tempfile.mkdtemp(prefix="msgobj-inn-")
        # news must be able to reach it: every parent must be searchable.
        os.chmod(self.dir, 0o755)
        parent = os.path.dirname(self.dir)
        while parent != "/":
            if not os.stat(parent).st_mode & 0o001:
                raise InnError("%s is not searchable by user news; set TMPDIR to a "
                               "directory that is (such as /tmp)" % parent)
            parent = os.path.dirname(parent)
        for sub in set(_DIRS.values()) | {"spool/incoming/bad", "tls"}:
            os.makedirs(self._path(sub), exist_ok=True)
        # -a keeps root:news 0640 on the files innd must read.
        subprocess.run(["cp", "-a", INN_ETC + "/.", self._path("etc")], check=True)

    def _write_inn_conf(self):
        with open(self.innconf) as f:
            text = f.read()
        settings = {
            "port": str(self.port),
            "bindaddress": "127.0.0.1",
            "nnrpdpostport": str(self.port),
            "domain": "localdomain",
            "pathhost": "inn.localdomain",
            # Readers are refused above this load average; a busy CI machine
            # easily goes over the default 16.
            "nnrpdloadlimit": "0",
            "pathfilter": os.path.join(INN_ETC, "filter"),
            "tlscertfile": self._path("etc", "cert.pem"),
            "tlskeyfile": self._path("etc", "key.pem"),
        }
        for key, sub in _DIRS.items():
            settings[key] = self._path(sub)
        for key, value in settings.items():
            text = _set_conf(text, key, value)
        # No bindaddress6: IPv4 only.
        text = re.sub(r"^bindaddress6:.*$", "", text, flags=re.M)
        with open(self.innconf, "w") as f:
            f.write(text)

    def _write_db(self):
        _without_local_groups(os.path.join(INN_EXAMPLES, "active"), self._path("db", "active"))
        _without_local_groups(os.path.join(INN_EXAMPLES, "newsgroups"),
                              self._path("db", "newsgroups"))
        for name in ("active.times", "history"):
            open(self._path("db", name), "w").close()

    def _write_incoming_conf(self):
        if self.feeder:
            return  # Debian's, with "peer ME" for localhost
        # No peer for 127.0.0.1: every connection is a reader's, handed to
        # nnrpd, which accepts POST at once.
        with open(self._path("etc", "incoming.conf"), "w") as f:
            f.write("streaming: true\nmax-connections: 8\n")

    def _write_readers_conf(self):
        hosts = 'hosts: "localhost, 127.0.0.1, ::1, stdin"'
        if not self.users:
            text = ('auth "localhost" {\n  %s\n  default: "<localhost>"\n}\n'
                    'access "localhost" {\n  users: "<localhost>"\n  newsgroups: "*"\n'
                    '  access: %s\n}\n' % (hosts, "R" if self.read_only else "RPA"))
        else:
            newsusers = self._path("etc", "newsusers")
            with open(newsusers, "w") as f:
                for user, password in self.users.items():
                    hashed = subprocess.run(["openssl", "passwd", "-6", "-stdin"],
                                            input=password, capture_output=True, text=True,
                                            check=True).stdout.strip()
                    f.write("%s:%s\n" % (user, hashed))
            os.chown(newsusers, 0, self._news.pw_gid)
            os.chmod(newsusers, 0o640)
            # Access blocks are matched bottom-up: the last one whose users
            # match applies. Anonymous readers may read, the users post.
            text = ('auth "localhost" {\n  %s\n  auth: "ckpasswd -f %s"\n'
                    '  default: "<localhost>"\n}\n'
                    'access "anonymous" {\n  users: "<localhost>"\n  newsgroups: "*"\n'
                    '  access: R\n}\n'
                    'access "users" {\n  users: "%s"\n  newsgroups: "*"\n  access: RPA\n}\n'
                    % (hosts, newsusers, ",".join(self.users)))
        with open(self._path("etc", "readers.conf"), "w") as f:
            f.write(text)

    def _make_certificates(self):
        """A test CA and a server certificate for 127.0.0.1 and localhost,
        made now; nothing of it is kept after the test."""
        tls = self._path("tls")
        ca_key, ca = os.path.join(tls, "ca-key.pem"), os.path.join(tls, "ca.pem")
        csr, ext = os.path.join(tls, "server.csr"), os.path.join(tls, "server.ext")
        key, cert = self._path("etc", "key.pem"), self._path("etc", "cert.pem")

        def openssl(*args):
            subprocess.run(("openssl",) + args, check=True, capture_output=True)

        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
                "-subj", "/CN=msgobj INN test CA",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth\n"
                    "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                "-out", cert, "-days", "2", "-extfile", ext)
        os.chown(key, 0, self._news.pw_gid)
        os.chmod(key, 0o640)
        os.chmod(cert, 0o644)
        self.ca_file = ca

    def _chown_news(self):
        uid, gid = self._news.pw_uid, self._news.pw_gid
        os.chown(self.dir, uid, gid)
        for sub in ("db", "run", "log", "http", "spool"):
            top = self._path(sub)
            os.chown(top, uid, gid)
            for root, dirs, files in os.walk(top):
                for name in dirs + files:
                    os.chown(os.path.join(root, name), uid, gid)

    # -- running ----------------------------------------------------------

    def start(self):
        check_installed()
        # meson test ends a test that overran its time with SIGTERM: turn
        # it into an exit, so that the servers are stopped.
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL):
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
        _running.add(self)
        try:
            self._start()
        except BaseException:
            self.stop()
            self.remove()
            raise
        return self

    def _start(self):
        self._make_dirs()
        # The paths first: every INN program run from now on must see only
        # this instance's directories.
        self.port = free_port()
        self._write_inn_conf()
        self._write_db()
        self._write_incoming_conf()
        self._write_readers_conf()
        self._make_certificates()
        self._chown_news()
        self._run_as_news([os.path.join(INN_BIN, "makedbz"), "-i", "-o"])
        # A port found free may be taken before innd binds it (other
        # programs run servers here too): try a few.
        last = None
        for attempt in range(3):
            if attempt > 0:
                self.port = free_port()
                self._write_inn_conf()
            try:
                self._start_innd()
                break
            except InnError as e:
                last = e
        else:
            raise last
        for group in self.groups:
            self.ctl("newgroup", group, "y")

    def _start_innd(self):
        log = open(self._path("log", "innd.out"), "ab")
        cmd, env = self._as_news([os.path.join(INN_BIN, "innd"), "-d", "-f"])
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self._proc = proc
        self.pid = proc.pid
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if proc.poll() is not None:
                self.pid = None
                raise InnError("innd exited with %d on port %d: %s"
                               % (proc.returncode, self.port, self.innd_output()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                    self._remember_children()
                    greeting = s.makefile("rb").readline()
                if greeting[:3] in (b"200", b"201"):
                    return
                raise InnError("unexpected INN greeting %r" % greeting)
            except (ConnectionRefusedError, socket.timeout):
                pass
            if time.monotonic() > deadline:
                raise InnError("innd did not answer on 127.0.0.1:%d within %d s: %s"
                               % (self.port, STARTUP_TIMEOUT, self.innd_output()))
            # Readiness poll, not a timing assertion.
            time.sleep(0.05)

    def innd_output(self):
        try:
            with open(self._path("log", "innd.out"), errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def ctl(self, *args):
        """ctlinnd ARGS against this instance."""
        return self._run_as_news([os.path.join(INN_BIN, "ctlinnd")] + list(args))

    def kill_reader(self, pid):
        """Ends one nnrpd of this instance (by PID, after checking it is
        ours) and waits until it is gone."""
        if not _proc_has_innconf(pid, self.innconf):
            raise InnError("process %d is not an nnrpd of this INN" % pid)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _alive(pid) and _proc_has_innconf(pid, self.innconf):
            if time.monotonic() > deadline:
                raise InnError("nnrpd %d did not exit on SIGTERM" % pid)
            time.sleep(0.02)

    def start_tls_reader(self):
        """Starts a standalone nnrpd with implicit TLS (nnrpd -S, as on
        port 563) on another free port of 127.0.0.1, for this instance's
        groups; returns the port. Stopped with the instance."""
        port = free_port()
        log = open(self._path("log", "nnrpd-tls.out"), "ab")
        cmd, env = self._as_news([os.path.join(INN_BIN, "nnrpd"), "-D", "-f", "-S",
                                  "-b", "127.0.0.1", "-p", str(port)])
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self._readers.append(proc)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise InnError("nnrpd -S exited with %d on port %d" % (proc.returncode, port))
            try:
                # A TCP connect is enough: nnrpd listens before it forks.
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                return port
            except (ConnectionRefusedError, socket.timeout):
                pass
            if time.monotonic() > deadline:
                raise InnError("nnrpd -S did not listen on 127.0.0.1:%d within %d s"
                               % (port, STARTUP_TIMEOUT))
            time.sleep(0.05)

    def _remember_children(self):
        """Records the processes innd and the standalone nnrpd forked, to
        stop them by PID."""
        parents = {p.pid for p in self._readers if p.poll() is None}
        if self.pid is not None:
            parents.add(self.pid)
        if not parents:
            return
        for entry in os.listdir("/proc"):
            if entry.isdigit() and _proc_ppid(int(entry)) in parents:
                self._children.add(int(entry))

    def stop(self):
        """Stops innd (ctlinnd shutdown, then signals, by PID) and any
        nnrpd it forked that is still running. Leaves nothing behind."""
        _running.discard(self)
        self._remember_children()
        for proc in self._readers:
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._readers = []
        if self.pid is not None:
            proc = self._proc
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)  # in case a test stopped it
            try:
                self.ctl("shutdown", "tests done")
            except (InnError, subprocess.TimeoutExpired):
                pass
            for sig in (None, signal.SIGTERM, signal.SIGKILL):
                if sig is not None and proc.poll() is None:
                    os.kill(proc.pid, sig)
                try:
                    proc.wait(timeout=STOP_TIMEOUT)
                    break
                except subprocess.TimeoutExpired:
                    continue
            self.pid = None
        # nnrpd whose client is gone exits by itself; one still serving a
        # client is ended. Only processes that carry our INNCONF.
        for pid in sorted(self._children):
            if _alive(pid) and _proc_has_innconf(pid, self.innconf):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + STOP_TIMEOUT
        for pid in sorted(self._children):
            while _alive(pid) and _proc_has_innconf(pid, self.innconf):
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                    break
                time.sleep(0.05)
        self._children.clear()

    def remove(self):
        if self.dir is not None and self.pid is None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self.remove()


class NntpReader:
    """A small raw-socket NNTP client to read articles back, independent of
    the transport under test."""

    def __init__(self, port, host="127.0.0.1", timeout=20):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.file = self.sock.makefile("rb")
        self.greeting = self._line()

    def _line(self):
        line = self.file.readline(65536)
        if not line.endswith(b"\r\n"):
            raise InnError("NNTP line without CRLF or connection closed: %r" % line)
        return line[:-2]

    def command(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        return self._line()

    def multiline(self):
        """A multi-line block, dot-stuffing undone, as a list of lines."""
        lines = []
        while True:
            line = self._line()
            if line == b".":
                return lines
            lines.append(line[1:] if line.startswith(b"..") else line)

    def article(self, message_id, group=None):
        """(headers dict with lower-case names, raw header lines, body lines)."""
        if group is not None:
            reply = self.command("GROUP " + group)
            if not reply.startswith(b"211"):
                raise InnError("GROUP %s: %r" % (group, reply))
        reply = self.command("ARTICLE " + message_id)
        if not reply.startswith(b"220"):
            raise InnError("ARTICLE %s: %r" % (message_id, reply))
        lines = self.multiline()
        split = lines.index(b"")
        head, body = lines[:split], lines[split + 1:]
        headers = {}
        last = None
        for line in head:
            if line[:1] in (b" ", b"\t"):
                if last is None:
                    raise InnError("article starts with a continuation line: %r" % line)
                headers[last] += b" " + line.strip()
                continue
            name, _, value = line.partition(b":")
            last = name.decode().lower()
            headers[last] = value.strip()
        return {k: v.decode("utf-8", "replace") for k, v in headers.items()}, head, body

    def close(self):
        try:
            self.command("QUIT")
        except OSError:
            pass
        self.file.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
