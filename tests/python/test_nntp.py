# The NNTP transport through PyGObject, against a small NNTP server in a
# thread on 127.0.0.1.
import base64
import email
import email.policy
import socket
import threading

import pytest
from gi.repository import GLib, MsgObj

from msgobj_testing import run_async


class NntpServer:
    """Answers CAPABILITIES, AUTHINFO USER/PASS and SASL PLAIN, POST and
    QUIT; keeps every article (dot-unstuffed, CRLF) and every command."""

    def __init__(self, post_reply="240 article posted ok", credentials=None,
                 sasl=False):
        self.post_reply = post_reply
        self.credentials = credentials
        self.sasl = sasl
        self.articles = []
        self.commands = []
        self.connections = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(10)
                try:
                    self._session(conn.makefile("rwb", buffering=0))
                except (OSError, ValueError):
                    pass

    def _session(self, f):
        authenticated = self.credentials is None
        user = None

        def send(line):
            f.write(line.encode() + b"\r\n")

        send("200 test server ready (posting ok)" if authenticated
             else "201 test server ready (no posting)")
        while True:
            raw = f.readline()
            if not raw:
                return
            line = raw.decode().rstrip("\r\n")
            self.commands.append(line)
            verb = line.upper()
            if verb == "CAPABILITIES":
                caps = ["VERSION 2", "READER"]
                if authenticated:
                    caps.append("POST")
                elif self.sasl:
                    caps += ["AUTHINFO USER SASL", "SASL PLAIN"]
                else:
                    caps.append("AUTHINFO USER")
                send("101 Capability list:")
                for cap in caps:
                    send(cap)
                send(".")
            elif verb.startswith("AUTHINFO USER "):
                user = line[len("AUTHINFO USER "):]
                send("381 password please")
            elif verb.startswith("AUTHINFO PASS "):
                if (user, line[len("AUTHINFO PASS "):]) == self.credentials:
                    authenticated = True
                    send("281 welcome")
                else:
                    send("481 Authentication failed")
            elif verb.startswith("AUTHINFO SASL PLAIN "):
                _, authcid, password = base64.b64decode(line.split()[3]).split(b"\0")
                if (authcid.decode(), password.decode()) == self.credentials:
                    authenticated = True
                    send("281 welcome")
                else:
                    send("481 Authentication failed")
            elif verb == "POST":
                if not authenticated:
                    send("480 Authentication required")
                    continue
                send("340 send article")
                lines = []
                while True:
                    data = f.readline()
                    if not data.endswith(b"\r\n"):
                        return
                    if data == b".\r\n":
                        break
                    lines.append(data[1:] if data.startswith(b".") else data)
                self.articles.append(b"".join(lines))
                send(self.post_reply)
            elif verb == "QUIT":
                send("205 bye")
                return
            else:
                send("500 unknown command")

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)


@pytest.fixture
def server():
    s = NntpServer()
    yield s
    s.close()


def make_config(server):
    config = MsgObj.Configuration.new()
    config.set_field("nntpserver", "127.0.0.1")
    config.set_field("nntpserverport", str(server.port))
    config.set_field("nntpconnectiontimeout", "5")
    return config


def make_article(config, subject="Grüße from PyGObject"):
    message = MsgObj.Message.new_with_configuration(config)
    message.set_from("Alice <alice@example.test>")
    message.set_newsgroups("local.test,local.other")
    message.set_subject(subject)
    message.set_bcc("hidden@example.test")
    message.set_text_body("Hello news.\n.a dot line\nbye\n")
    return message


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_post_sync_twice_one_connection(server):
    config = make_config(server)
    transport = MsgObj.Transport.new_for_name("nntp", config)
    first = transport.post_message(make_article(config, "one"), None)
    second = transport.post_message(make_article(config, "two"), None)
    transport.close(None)

    assert server.connections == 1
    assert server.commands[-1] == "QUIT"
    assert first.get_server_response() == "240 article posted ok"
    assert first.get_server_code() == 240
    assert len(server.articles) == 2
    raw = server.articles[0]
    assert b"\n" not in raw.replace(b"\r\n", b"")
    article = parse(raw)
    assert article["Subject"] == "one"
    assert article["Newsgroups"] == "local.test,local.other"
    assert article["Message-ID"] == first.get_message_id()
    assert article["Date"] is not None
    assert article["Bcc"] is None
    assert b"hidden@example.test" not in raw
    assert article.get_content().replace("\r\n", "\n") == "Hello news.\n.a dot line\nbye\n"
    assert parse(server.articles[1])["Message-ID"] == second.get_message_id()
    assert first.get_message_id() != second.get_message_id()


def test_post_async(server):
    config = make_config(server)
    transport = MsgObj.Transport.new_for_name("nntp", config)
    progress = []
    transport.connect("progress", lambda t, sent, total: progress.append((sent, total)))
    report = run_async(transport.post_message_async, transport.post_message_finish,
                       make_article(config), None)
    assert report.get_transport_name() == "nntp"
    assert parse(server.articles[0])["Subject"] == "Grüße from PyGObject"
    assert progress and progress[-1][0] == progress[-1][1] > 0
    assert run_async(transport.close_async, transport.close_finish, None)
    assert server.commands[-1] == "QUIT"


def test_message_post_async(server):
    config = make_config(server)
    config.set_field("postusing", "nntp")
    message = make_article(config)
    report = run_async(message.post_async, message.post_finish, None)
    assert report.get_message_id() == parse(server.articles[0])["Message-ID"]


@pytest.mark.parametrize("sasl", [False, True])
def test_authinfo(sasl):
    server = NntpServer(credentials=("bob", "pw"), sasl=sasl)
    try:
        config = make_config(server)
        config.set_field("nntpauthenticate", "basic")
        config.set_field("postusername", "bob")
        config.set_field("postpassword", "pw")
        config.set_field("nntpallowplaintextauth", "true")
        message = make_article(config)
        transport = MsgObj.Transport.new_for_name("nntp", config)
        transport.post_message(message, None)
        transport.close(None)
        expected = "AUTHINFO SASL PLAIN " if sasl else "AUTHINFO USER bob"
        assert any(c.startswith(expected) for c in server.commands)
        assert len(server.articles) == 1
    finally:
        server.close()


def test_rejected_with_servers_text():
    server = NntpServer(post_reply="441 437 Unwanted newsgroup")
    try:
        config = make_config(server)
        transport = MsgObj.Transport.new_for_name("nntp", config)
        with pytest.raises(GLib.Error) as info:
            transport.post_message(make_article(config), None)
        assert info.value.matches(MsgObj.TransportError.quark(),
                                  MsgObj.TransportError.MESSAGE_REJECTED)
        assert "437 Unwanted newsgroup" in info.value.message
    finally:
        server.close()


def test_auth_required_without_credentials():
    server = NntpServer(credentials=("bob", "pw"))
    try:
        config = make_config(server)
        with pytest.raises(GLib.Error) as info:
            MsgObj.Transport.new_for_name("nntp", config).post_message(make_article(config), None)
        assert info.value.matches(MsgObj.TransportError.quark(),
                                  MsgObj.TransportError.POSTING_NOT_ALLOWED)
        assert "201 test server ready (no posting)" in info.value.message
        assert "POST" not in server.commands
    finally:
        server.close()


def test_no_server():
    config = MsgObj.Configuration.new()
    config.set_field("postusing", "2")
    with pytest.raises(GLib.Error) as info:
        make_article(config).post(None)
    assert info.value.matches(MsgObj.TransportError.quark(), MsgObj.TransportError.NO_SERVER)
