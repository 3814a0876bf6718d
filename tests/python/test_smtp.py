# The SMTP transport through PyGObject, against a small SMTP server that the
# test runs in a thread on 127.0.0.1 (a port the kernel picks).
import base64
import email
import email.policy
import json
import socket
import threading

import pytest
from gi.repository import Gio, GLib, MsgObj

from msgobj_testing import run_async


class SmtpServer:
    """A minimal SMTP server: PIPELINING, SIZE and 8BITMIME; refuses the
    recipients in `reject`; records each connection's commands and each
    accepted message. One connection at a time."""

    def __init__(self, reject=(), eightbitmime=True, oauth_token=None):
        self.reject = set(reject)
        self.eightbitmime = eightbitmime
        self.oauth_token = oauth_token  # OAUTHBEARER accepts only this one
        self.messages = []      # (mail_from, [rcpt], data bytes)
        self.commands = []      # every command line, per connection
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopping = False
        self.current = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            self.current = conn
            with conn:
                try:
                    self._session(conn)
                except (OSError, ValueError):
                    pass

    def _session(self, conn):
        f = conn.makefile("rwb", buffering=0)
        reader = conn.makefile("rb")

        def reply(text):
            f.write(text.encode() + b"\r\n")

        reply("220 py.example.test ESMTP")
        mail_from, rcpts = None, []
        while True:
            line = reader.readline()
            if not line:
                return
            command = line.rstrip(b"\r\n").decode("utf-8", "replace")
            self.commands.append(command)
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                reply("250-py.example.test")
                reply("250-PIPELINING")
                reply("250-SIZE 10000000")
                if self.oauth_token is not None:
                    reply("250-AUTH OAUTHBEARER")
                reply("250 8BITMIME" if self.eightbitmime else "250 HELP")
            elif verb == "AUTH" and self.oauth_token is not None:
                self._oauthbearer(command, reader, reply)
            elif verb == "MAIL":
                mail_from, rcpts = command[len("MAIL FROM:"):], []
                reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                address = command[len("RCPT TO:<"):].split(">", 1)[0]
                if address in self.reject:
                    reply("550 5.1.1 <%s>: User unknown" % address)
                else:
                    rcpts.append(address)
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
                reply("250 2.0.0 Ok: queued as PY%d" % len(self.messages))
            elif verb == "RSET":
                mail_from, rcpts = None, []
                reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                reply("221 2.0.0 Bye")
                return
            else:
                reply("502 5.5.2 Error: command not recognized")

    def _oauthbearer(self, command, reader, reply):
        # RFC 7628: the error JSON in a 334, the client's %x01, then 535.
        line = base64.b64decode(command.split(" ")[2]).decode()
        token = line.split("auth=Bearer ", 1)[1].split("\x01", 1)[0]
        if token == self.oauth_token:
            reply("235 2.7.0 Authentication successful")
            return
        error = json.dumps({"status": "invalid_token", "scope": "mail"})
        reply("334 " + base64.b64encode(error.encode()).decode())
        self.commands.append(reader.readline().rstrip(b"\r\n").decode())
        reply("535 5.7.8 Authentication credentials invalid")

    def stop(self):
        self.stopping = True
        # shutdown() wakes the accept() that close() alone would leave
        # blocked on Linux.
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        if self.current is not None:
            # A transport still alive keeps its connection: end the session.
            try:
                self.current.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(5)
        assert not self.thread.is_alive()


@pytest.fixture
def server():
    s = SmtpServer(reject={"nobody@example.test"})
    yield s
    s.stop()


def make_config(server, **fields):
    config = MsgObj.Configuration.new()
    config.set_field("sendusing", "smtp")
    config.set_field("smtpserver", "127.0.0.1")
    config.set_field("smtpserverport", str(server.port))
    config.set_field("smtpconnectiontimeout", "5")
    for name, value in fields.items():
        config.set_field(name, value)
    return config


def make_message(config, to="Bob <bob@example.test>"):
    message = MsgObj.Message.new_with_configuration(config)
    message.set_from("Alice <alice@example.test>")
    message.set_to(to)
    message.set_bcc("hidden@example.test")
    message.set_subject("Grüße über SMTP")
    message.set_text_body("Hello from PyGObject.\n.dot line\n")
    return message


def test_sync_send(server):
    config = make_config(server)
    report = make_message(config).send(None)
    assert report.get_transport_name() == "smtp"
    assert report.get_server_response() == "250 2.0.0 Ok: queued as PY1"
    assert report.get_server_code() == 250
    assert report.props.server_code == 250
    assert sorted(report.get_accepted_recipients()) == ["bob@example.test",
                                                        "hidden@example.test"]
    assert report.get_recipient_status("bob@example.test").get_enhanced_status() == "2.1.5"
    (mail_from, rcpts, data), = server.messages
    assert mail_from.startswith("<alice@example.test> SIZE=")
    assert rcpts == ["bob@example.test", "hidden@example.test"]
    assert b"\n" not in data.replace(b"\r\n", b"")
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert parsed["Subject"] == "Grüße über SMTP"
    assert parsed["Bcc"] is None
    assert parsed["Message-ID"] == report.get_message_id()
    assert ".dot line" in parsed.get_content()


def test_server_without_sendusing(server):
    # The first thing a user writes: a server, a typed port, no sendusing.
    config = MsgObj.Configuration.new()
    config.set_fields({"smtpserver": "127.0.0.1", "smtpserverport": server.port,
                       "smtpconnectiontimeout": 5})
    report = make_message(config).send(None)
    assert report.get_transport_name() == "smtp"
    assert report.get_pickup_file() is None
    assert len(server.messages) == 1


def test_async_send_with_progress(server):
    config = make_config(server)
    transport = MsgObj.Transport.new_for_name("smtp", config)
    message = make_message(config)
    progress = []
    transport.connect("progress", lambda t, sent, total: progress.append((sent, total)))
    report = run_async(transport.send_message_async, transport.send_message_finish,
                       message, None)
    assert report.get_server_response().endswith("queued as PY1")
    # The last emission may still be queued in the main context.
    ctx = GLib.MainContext.default()
    while ctx.iteration(False):
        pass
    assert progress and progress[-1][0] == progress[-1][1] > 0
    assert len(server.messages) == 1


def test_kept_connection_and_close(server):
    config = make_config(server)
    transport = MsgObj.Transport.new_for_name("smtp", config)
    for _ in range(3):
        transport.send_message(make_message(config), None)
    assert transport.close(None)
    assert server.connections == 1
    assert len(server.messages) == 3
    assert server.commands[-1] == "QUIT"
    assert "RSET" not in server.commands


def test_five_async_sends_queue_in_order(server):
    """Five send_message_async calls on one kept transport wait their turn
    (no G_IO_ERROR_PENDING) and complete in call order over one
    connection."""
    config = make_config(server)
    transport = MsgObj.Transport.new_for_name("smtp", config)
    messages = []
    for i in range(5):
        message = make_message(config)
        message.set_subject("queued %d" % i)
        messages.append(message)
    loop = GLib.MainLoop()
    results = []

    def done(source, result, index):
        try:
            results.append((index, source.send_message_finish(result)))
        except GLib.Error as e:
            results.append((index, e))
        if len(results) == len(messages):
            loop.quit()

    for i, message in enumerate(messages):
        transport.send_message_async(message, None, done, i)
    GLib.timeout_add_seconds(60, loop.quit)
    loop.run()

    assert [index for index, _ in results] == [0, 1, 2, 3, 4]
    for i, (_, report) in enumerate(results):
        assert isinstance(report, MsgObj.SendReport), report
        assert report.get_server_response() == "250 2.0.0 Ok: queued as PY%d" % (i + 1)
    assert transport.close(None)
    assert server.connections == 1
    subjects = [email.message_from_bytes(data, policy=email.policy.default)["Subject"]
                for _, _, data in server.messages]
    assert subjects == ["queued %d" % i for i in range(5)]


def test_recipient_rejected(server):
    config = make_config(server)
    transport = MsgObj.Transport.new_for_name("smtp", config)
    with pytest.raises(GLib.Error) as info:
        transport.send_message(make_message(config, to="bob@example.test, nobody@example.test"),
                               None)
    assert info.value.matches(MsgObj.TransportError.quark(),
                              MsgObj.TransportError.RECIPIENTS_REJECTED)
    assert "nobody@example.test: 550 5.1.1" in info.value.message
    assert server.messages == []
    # With PIPELINING the 354 came already: the connection was dropped, and
    # the next message goes out on a new one.
    transport.send_message(make_message(config), None)
    assert server.connections == 2
    assert len(server.messages) == 1


def test_partial_send(server):
    config = make_config(server, smtpsendpartial="true")
    report = make_message(config, to="bob@example.test, nobody@example.test").send(None)
    assert "nobody@example.test" in report.get_rejected_recipients()
    assert report.get_recipient_status("nobody@example.test").get_code() == 550
    (mail_from, rcpts, data), = server.messages
    assert rcpts == ["bob@example.test", "hidden@example.test"]


def test_async_error_is_raised(server):
    config = make_config(server)
    transport = MsgObj.Transport.new_for_name("smtp", config)
    with pytest.raises(GLib.Error) as info:
        run_async(transport.send_message_async, transport.send_message_finish,
                  make_message(config, to="nobody@example.test"), None)
    assert info.value.matches(MsgObj.TransportError.quark(),
                              MsgObj.TransportError.RECIPIENTS_REJECTED)


def test_connection_refused():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    config = MsgObj.Configuration.new()
    config.set_field("smtpserver", "127.0.0.1")
    config.set_field("smtpserverport", str(port))
    transport = MsgObj.Transport.new_for_name("smtp", config)
    message = MsgObj.Message.new_with_configuration(config)
    message.set_from("alice@example.test")
    message.set_to("bob@example.test")
    with pytest.raises(GLib.Error) as info:
        transport.send_message(message, None)
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CONNECTION_REFUSED)


def test_oauthbearer_need_token_async():
    """An expired OAUTHBEARER token: need-token is emitted in the caller's
    thread for an async send, and its fresh token is used."""
    server = SmtpServer(oauth_token="fresh-token")
    try:
        config = make_config(server, smtpauthenticate="basic", sendusername="alice@example.test",
                             sendpassword="stale-token", smtpauthmechanisms="OAUTHBEARER",
                             smtpallowplaintextauth="true")
        transport = MsgObj.Transport.new_for_name("smtp", config)
        calls = []

        def on_need_token(transport, mechanism, user, server_error):
            calls.append((mechanism, user, json.loads(server_error), threading.current_thread()))
            return "fresh-token"

        transport.connect("need-token", on_need_token)
        report = run_async(transport.send_message_async, transport.send_message_finish,
                           make_message(config), None)
        assert report is not None
        assert calls == [("OAUTHBEARER", "alice@example.test",
                          {"status": "invalid_token", "scope": "mail"}, threading.main_thread())]
        assert len(server.messages) == 1
        assert server.commands.count("AQ==") == 1
    finally:
        server.stop()


def test_flusher_need_token(tmp_path):
    """A flush whose token the server refuses: the flusher's own need-token
    is emitted in the thread that called run(), and each message goes
    with the fresh token."""
    server = SmtpServer(oauth_token="fresh-token")
    try:
        config = make_config(server, smtpauthenticate="basic", sendusername="alice@example.test",
                             sendpassword="stale-token", smtpauthmechanisms="OAUTHBEARER",
                             smtpallowplaintextauth="true")
        for n in range(2):
            make_message(config).save_to_file(str(tmp_path / f"{n}.eml"))
        flusher = MsgObj.Flusher.new(config, MsgObj.DropDirectory.new(str(tmp_path)))
        flusher.set_connections(1)
        calls = []

        def on_need_token(flusher, mechanism, user, server_error):
            calls.append((mechanism, user, threading.current_thread()))
            return "fresh-token"

        flusher.connect("need-token", on_need_token)
        assert flusher.run(None)
        assert flusher.get_n_sent() == 2
        # One connection: refused once, then authenticated for both.
        assert calls == [("OAUTHBEARER", "alice@example.test", threading.main_thread())]
        assert len(server.messages) == 2
    finally:
        server.stop()


def test_oauthbearer_refused_without_handler():
    server = SmtpServer(oauth_token="fresh-token")
    try:
        config = make_config(server, smtpauthenticate="basic", sendusername="alice@example.test",
                             sendpassword="stale-token", smtpauthmechanisms="OAUTHBEARER",
                             smtpallowplaintextauth="true")
        transport = MsgObj.Transport.new_for_name("smtp", config)
        with pytest.raises(GLib.Error) as info:
            transport.send_message(make_message(config), None)
        assert "invalid_token" in info.value.message
        assert "stale-token" not in info.value.message
    finally:
        server.stop()
