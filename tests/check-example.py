#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs the send-async examples (examples/send-async.{c,py,js,vala})
against a scripted SMTP server on 127.0.0.1 that offers STARTTLS and AUTH
PLAIN/LOGIN, refuses AUTH before TLS and MAIL before AUTH, and keeps what
DATA brings.

    check-example.py [--auth=MECHANISMS] NAME COMMAND... [:: NAME COMMAND...]...

Each program runs as COMMAND SERVER:PORT USER ATTACHMENT with SMTP_PASSWORD
and SMTP_CAFILE (the test CA, made here with openssl as tests/test-utils.c
makes it) in its environment. For each: it exited 0, printed progress and
the server's answer, authenticated only after STARTTLS, and sent one message
whose MIME structure (the tree of content types, dispositions, file names
and decoded contents; not Message-ID, Date or boundaries) is the expected
one. Given several programs, their structures are also compared with one
another, so that a difference names the two programs. --auth=LOGIN makes
the server offer only LOGIN (default: "PLAIN LOGIN", where the library
picks PLAIN), so that both exchanges are run."""
import base64
import email
import email.policy
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

USER = "alice"
PASSWORD = "pässword 123"
TEXT = "Hello Bob,\n\nthe report is attached.\n\nAlice\n"
HTML = ("<p>Hello Bob,</p>\n<p>the report is <b>attached</b>.</p>\n"
        "<p>Alice</p>\n")
ATTACHMENT_NAME = "report.pdf"
# Not text: every byte value, so that a transfer encoding that lost one
# would show.
ATTACHMENT = b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"

# A program starts an interpreter or loads GnuTLS, then does one TLS
# handshake: seconds at most, on a loaded machine. The bound only ends a
# hang; it is multiplied like the other tests' (tests/test-utils.c).
TIME_SCALE = float(os.environ.get("MSGOBJ_TEST_TIME_SCALE", "1") or "1")
RUN_TIMEOUT = 120 * TIME_SCALE


class LineReader:
    """Lines from a socket with a buffer we can see: the server must know
    that nothing was pipelined after STARTTLS before it shakes hands."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def readline(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                return b""
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"


class StartTlsServer:
    """One SMTP session at a time, in a thread. `events` lists (tls, what)
    for each command; `messages` the (mail_from, rcpts, data) accepted."""

    def __init__(self, cert, key, mechanisms="PLAIN LOGIN"):
        self.mechanisms = mechanisms.upper().split()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.events = []
        self.messages = []
        self.errors = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            try:
                self._session(conn)
            except (OSError, ValueError, ssl.SSLError) as error:
                self.errors.append("session: %r" % error)
            finally:
                conn.close()

    def _session(self, sock):
        reader = LineReader(sock)
        tls = False
        authenticated = False

        def reply(text):
            sock.sendall(text.encode() + b"\r\n")

        def read():
            return reader.readline().rstrip(b"\r\n").decode("utf-8", "replace")

        reply("220 examples.test ESMTP")
        mail_from, rcpts = None, []
        while True:
            line = reader.readline()
            if not line:
                return
            command = line.rstrip(b"\r\n").decode("utf-8", "replace")
            verb = command.split(" ", 1)[0].upper()
            self.events.append((tls, verb if verb != "AUTH" else command.split(" ")[:2]))
            if verb == "EHLO":
                reply("250-examples.test")
                if tls:
                    reply("250-AUTH " + " ".join(self.mechanisms))
                else:
                    reply("250-STARTTLS")
                reply("250-SIZE 10000000")
                reply("250 8BITMIME")
            elif verb == "STARTTLS" and not tls:
                if reader.buffer:
                    self.errors.append("data pipelined after STARTTLS")
                    reply("554 5.5.1 Nothing may follow STARTTLS")
                    return
                reply("220 2.0.0 Ready to start TLS")
                sock = self.context.wrap_socket(sock, server_side=True)
                reader = LineReader(sock)
                tls = True
            elif verb == "AUTH":
                if not tls:
                    reply("530 5.7.0 Must issue a STARTTLS command first")
                    continue
                authenticated = self._auth(command, reply, read)
            elif verb == "MAIL":
                if not authenticated:
                    reply("530 5.7.0 Authentication required")
                    continue
                mail_from, rcpts = command[len("MAIL FROM:"):], []
                reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                if mail_from is None:
                    reply("503 5.5.1 Need MAIL first")
                    continue
                rcpts.append(command[len("RCPT TO:<"):].split(">", 1)[0])
                reply("250 2.1.5 Ok")
            elif verb == "DATA":
                if not rcpts:
                    reply("554 5.5.1 No valid recipients")
                    continue
                reply("354 End data with <CR><LF>.<CR><LF>")
                data = b""
                while True:
                    chunk = reader.readline()
                    if not chunk:
                        return
                    if chunk == b".\r\n":
                        break
                    if chunk.startswith(b".."):
                        chunk = chunk[1:]
                    data += chunk
                self.messages.append((mail_from, rcpts, data))
                reply("250 2.0.0 Ok: queued as EX%d" % len(self.messages))
                mail_from, rcpts = None, []
            elif verb == "RSET":
                mail_from, rcpts = None, []
                reply("250 2.0.0 Ok")
            elif verb == "NOOP":
                reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                reply("221 2.0.0 Bye")
                return
            else:
                reply("502 5.5.2 Error: command not recognized")

    def _auth(self, command, reply, read):
        words = command.split(" ")
        mechanism = words[1].upper() if len(words) > 1 else ""
        initial = words[2] if len(words) > 2 else None
        try:
            if mechanism not in self.mechanisms:
                reply("504 5.5.4 Unrecognized authentication type")
                return False
            if mechanism == "PLAIN":
                if initial is None:
                    reply("334 ")
                    initial = read()
                _, user, password = base64.b64decode(initial).decode().split("\0")
            elif mechanism == "LOGIN":
                if initial is None:
                    reply("334 VXNlcm5hbWU6")
                    initial = read()
                user = base64.b64decode(initial).decode()
                reply("334 UGFzc3dvcmQ6")
                password = base64.b64decode(read()).decode()
            else:
                reply("504 5.5.4 Unrecognized authentication type")
                return False
        except ValueError:
            reply("501 5.5.2 Cannot decode response")
            return False
        if (user, password) != (USER, PASSWORD):
            reply("535 5.7.8 Authentication credentials invalid")
            return False
        reply("235 2.7.0 Authentication successful")
        return True

    def stop(self):
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        self.thread.join(10)


def make_certificate(directory):
    """A CA and a server certificate for 127.0.0.1 signed by it, as
    msg_test_make_tls_certificate() makes them."""
    def openssl(*args):
        subprocess.run(("openssl",) + args, cwd=directory, check=True,
                       capture_output=True)

    with open(os.path.join(directory, "server.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=msgobj examples CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=msgobj examples server")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-set_serial", "0x%016x" % int.from_bytes(os.urandom(8), "big"),
            "-days", "2", "-extfile", "server.ext", "-out", "server.pem")
    return tuple(os.path.join(directory, name) for name in ("ca.pem", "server.pem", "server.key"))


def structure(part):
    """The tree of a message, without what differs between two sends of
    the same message (Message-ID, Date, boundaries)."""
    node = {"type": part.get_content_type(),
            "disposition": part.get_content_disposition(),
            "filename": part.get_filename()}
    if part.is_multipart():
        node["parts"] = [structure(p) for p in part.iter_parts()]
    elif part.get_content_maintype() == "text":
        node["charset"] = part.get_content_charset()
        node["content"] = part.get_content().replace("\r\n", "\n")
    else:
        node["content"] = base64.b64encode(part.get_payload(decode=True)).decode()
    return node


def expected_structure():
    return {
        "type": "multipart/mixed", "disposition": None, "filename": None,
        "from": "Alice <alice@example.org>", "to": "Bob <bob@example.org>",
        "subject": "The report",
        "parts": [
            {"type": "multipart/alternative", "disposition": None, "filename": None,
             "parts": [
                 {"type": "text/plain", "disposition": None, "filename": None,
                  "charset": "utf-8", "content": TEXT},
                 {"type": "text/html", "disposition": None, "filename": None,
                  "charset": "utf-8", "content": HTML},
             ]},
            {"type": "application/pdf", "disposition": "attachment",
             "filename": ATTACHMENT_NAME,
             "content": base64.b64encode(ATTACHMENT).decode()},
        ],
    }


def run_one(name, command, workdir, ca_file, cert, key, attachment, mechanisms):
    """Runs one example; returns (failures, structure)."""
    failures = []
    server = StartTlsServer(cert, key, mechanisms)
    home = os.path.join(workdir, "home-" + name)
    env = dict(os.environ, SMTP_PASSWORD=PASSWORD, SMTP_CAFILE=ca_file,
               HOME=home, XDG_CONFIG_HOME=os.path.join(home, "config"),
               XDG_DATA_HOME=os.path.join(home, "data"),
               XDG_CACHE_HOME=os.path.join(home, "cache"), MSGOBJ_CONFIG="")
    try:
        result = subprocess.run(command + ["127.0.0.1:%d" % server.port, USER, attachment],
                                env=env, capture_output=True, text=True,
                                timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        server.stop()
        return ["%s: still running after %d s" % (name, RUN_TIMEOUT)], None
    finally:
        server.stop()
    print("# %s: exit %d" % (name, result.returncode))
    for line in (result.stdout + result.stderr).splitlines():
        print("#   " + line)

    if result.returncode != 0:
        failures.append("%s: exited %d" % (name, result.returncode))
    progress = [line.split()[1].split("/") for line in result.stdout.splitlines()
                if line.startswith("progress: ")]
    progress = [(int(sent), int(total)) for sent, total in progress]
    if not progress or not all(0 < sent <= total for sent, total in progress):
        failures.append("%s: no progress reported (%r)" % (name, progress))
    if "sent: 250 2.0.0 Ok: queued as EX1" not in result.stdout.splitlines():
        failures.append("%s: did not print the server's answer" % name)
    failures += ["%s: server: %s" % (name, e) for e in server.errors]

    events = server.events
    auths = [i for i, (tls, what) in enumerate(events) if isinstance(what, list)]
    starttls = [i for i, (tls, what) in enumerate(events) if what == "STARTTLS"]
    if not starttls or not auths or auths[0] < starttls[0] or not all(events[i][0] for i in auths):
        failures.append("%s: AUTH not after STARTTLS: %r" % (name, events))
    elif [events[i][1][1].upper() for i in auths] != [server.mechanisms[0]]:
        failures.append("%s: not one AUTH %s: %r" % (name, server.mechanisms[0], events))
    if len(server.messages) != 1:
        failures.append("%s: %d messages sent, not 1" % (name, len(server.messages)))
        return failures, None
    mail_from, rcpts, data = server.messages[0]
    if not mail_from.startswith("<alice@example.org>") or rcpts != ["bob@example.org"]:
        failures.append("%s: envelope %r %r" % (name, mail_from, rcpts))
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    tree = structure(parsed)
    tree.update({"from": str(parsed["From"]), "to": str(parsed["To"]),
                 "subject": str(parsed["Subject"])})
    for header in ("Message-ID", "Date"):
        if parsed[header] is None:
            failures.append("%s: no %s" % (name, header))
    if tree != expected_structure():
        failures.append("%s: MIME structure differs from the expected one:\n%s"
                        % (name, json.dumps(tree, indent=1, sort_keys=True)))
    return failures, tree


def main(argv):
    mechanisms = "PLAIN LOGIN"
    if argv and argv[0].startswith("--auth="):
        mechanisms = argv.pop(0)[len("--auth="):]
    groups, current = [], []
    for word in argv:
        if word == "::":
            groups.append(current)
            current = []
        else:
            current.append(word)
    groups.append(current)
    if any(len(group) < 2 for group in groups):
        sys.exit("usage: check-example.py [--auth=MECHANISMS] NAME COMMAND... [:: NAME COMMAND...]...")
    if shutil.which("openssl") is None:
        print("# openssl is needed to make the test certificate")
        return 77

    failures, trees = [], {}
    with tempfile.TemporaryDirectory(prefix="msgobj-examples-") as workdir:
        ca_file, cert, key = make_certificate(workdir)
        attachment = os.path.join(workdir, ATTACHMENT_NAME)
        with open(attachment, "wb") as f:
            f.write(ATTACHMENT)
        for name, *command in groups:
            more, tree = run_one(name, command, workdir, ca_file, cert, key, attachment,
                                 mechanisms)
            failures += more
            if tree is not None:
                trees[name] = tree
    names = sorted(trees)
    for a, b in zip(names, names[1:]):
        if trees[a] != trees[b]:
            failures.append("%s and %s sent different MIME structures" % (a, b))
    for failure in failures:
        print("FAIL " + failure)
    if not failures:
        print("# %s: same message, sent after STARTTLS and AUTH %s"
              % (", ".join(names), mechanisms.split()[0]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
