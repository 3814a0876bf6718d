# A transport written in Python: it overrides the virtual functions,
# registers its type under a name and is used like a plugin, through
# Message.send()/post() and through a kept transport, sync and async.
import threading

import pytest
from gi.repository import Gio, GLib, MsgObj

from msgobj_testing import run_async


class RecordingTransport(MsgObj.Transport):
    """Records what it is given; "hang" in the subject makes it wait for
    its cancellable, as a transport blocked on the network would."""

    __gtype_name__ = "MsgTestPyRecordingTransport"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = []         # (kind, subject, thread, configured server)
        self.closed = 0
        self.started = threading.Event()

    def _record(self, kind, message, cancellable):
        config = self.get_operation_configuration()
        self.calls.append((kind, message.get_subject(), threading.current_thread(),
                           config.get_field("smtpserver")))
        if "hang" in (message.get_subject() or ""):
            self.started.set()
            # A bound, not a timing check: the test cancels at once.
            for _ in range(3000):
                if cancellable is not None and cancellable.is_cancelled():
                    break
                threading.Event().wait(0.01)
            assert cancellable is not None
            cancellable.set_error_if_cancelled()
            raise GLib.Error.new_literal(MsgObj.TransportError.quark(), "never cancelled",
                                         MsgObj.TransportError.FAILED)
        self.emit_progress(5, 10)
        self.emit_progress(10, 10)
        report = MsgObj.SendReport(transport_name=self.get_name())
        report.set_message_id(message.get_message_id() or "<none@example.test>")
        report.set_server_response("250 %s by Python" % kind)
        report.set_server_code(250)
        return report

    def do_send_message_sync(self, message, cancellable):
        return self._record("send", message, cancellable)

    def do_post_message_sync(self, message, cancellable):
        return self._record("post", message, cancellable)

    def do_close_sync(self, cancellable):
        self.closed += 1
        return True


class SendOnlyTransport(MsgObj.Transport):
    __gtype_name__ = "MsgTestPySendOnlyTransport"

    def do_send_message_sync(self, message, cancellable):
        return MsgObj.SendReport(transport_name=self.get_name())


MsgObj.Transport.register_type("python-recording", RecordingTransport)
MsgObj.Transport.register_type("python-send-only", SendOnlyTransport)


def make_config():
    config = MsgObj.Configuration.new()
    config.set_field("sendusing", "python-recording")
    config.set_field("postusing", "python-recording")
    config.set_field("smtpserver", "mail.example.test")
    return config


def make_message(config, subject="from Python"):
    message = MsgObj.Message.new_with_configuration(config)
    message.set_from("Alice <alice@example.test>")
    message.set_to("bob@example.test")
    message.set_newsgroups("local.test")
    message.set_subject(subject)
    message.set_text_body("Hello.\n")
    return message


def test_registered_by_name():
    assert "python-recording" in MsgObj.Transport.list_names()
    transport = MsgObj.Transport.new_for_name("python-recording", None)
    assert isinstance(transport, RecordingTransport)
    assert transport.get_name() == "python-recording"
    # Made by its constructor, it still finds its registered name.
    assert RecordingTransport().get_name() == "python-recording"


def test_register_errors():
    with pytest.raises(GLib.Error) as info:
        MsgObj.Transport.register_type("python-recording", SendOnlyTransport)
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.EXISTS)
    assert "python-recording" in info.value.message
    with pytest.raises(GLib.Error) as info:
        MsgObj.Transport.register_type("abstract", MsgObj.Transport)
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.INVALID_ARGUMENT)
    assert "MsgTransport" in info.value.message
    with pytest.raises(GLib.Error) as info:
        MsgObj.Transport.register_type("not-a-transport", MsgObj.Message)
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.INVALID_ARGUMENT)
    with pytest.raises(GLib.Error) as info:
        MsgObj.Transport.register_type("", SendOnlyTransport)
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.INVALID_ARGUMENT)


def test_message_send_and_post():
    config = make_config()
    report = make_message(config).send(None)
    assert report.get_transport_name() == "python-recording"
    assert report.get_server_response() == "250 send by Python"
    report = make_message(config).post(None)
    assert report.get_server_response() == "250 post by Python"


def test_kept_transport_sync():
    config = make_config()
    transport = MsgObj.Transport.new_for_name("python-recording", config)
    progress = []
    transport.connect("progress", lambda t, sent, total: progress.append((sent, total)))
    for i in range(2):
        transport.send_message(make_message(config, "sync %d" % i), None)
    transport.post_message(make_message(config, "post"), None)
    assert transport.close(None)
    main = threading.current_thread()
    assert transport.calls == [("send", "sync 0", main, "mail.example.test"),
                               ("send", "sync 1", main, "mail.example.test"),
                               ("post", "post", main, "mail.example.test")]
    assert transport.closed == 1
    assert progress[-1] == (10, 10)


def test_kept_transport_async():
    config = make_config()
    transport = MsgObj.Transport.new_for_name("python-recording", config)
    report = run_async(transport.send_message_async, transport.send_message_finish,
                       make_message(config, "async send"), None)
    assert report.get_server_response() == "250 send by Python"
    report = run_async(transport.post_message_async, transport.post_message_finish,
                       make_message(config, "async post"), None)
    assert report.get_server_response() == "250 post by Python"
    assert run_async(transport.close_async, transport.close_finish, None)
    # The blocking virtual functions ran in a worker thread.
    assert [(kind, subject) for kind, subject, _, _ in transport.calls] == [
        ("send", "async send"), ("post", "async post")]
    assert all(thread is not threading.current_thread()
               for _, _, thread, _ in transport.calls)
    assert transport.closed == 1


def test_message_send_async():
    config = make_config()
    message = make_message(config, "message async")
    report = run_async(message.send_async, message.send_finish, None)
    assert report.get_transport_name() == "python-recording"
    message = make_message(config, "message post async")
    report = run_async(message.post_async, message.post_finish, None)
    assert report.get_server_response() == "250 post by Python"


def test_cancel_reaches_transport_async():
    config = make_config()
    transport = MsgObj.Transport.new_for_name("python-recording", config)
    cancellable = Gio.Cancellable()

    def cancel_when_started():
        transport.started.wait(30)
        cancellable.cancel()

    threading.Thread(target=cancel_when_started, daemon=True).start()
    with pytest.raises(GLib.Error) as info:
        run_async(transport.send_message_async, transport.send_message_finish,
                  make_message(config, "hang"), cancellable)
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED)
    assert transport.started.is_set()


def test_cancel_reaches_transport_sync():
    config = make_config()
    transport = MsgObj.Transport.new_for_name("python-recording", config)
    cancellable = Gio.Cancellable()

    def cancel_when_started():
        transport.started.wait(30)
        cancellable.cancel()

    thread = threading.Thread(target=cancel_when_started, daemon=True)
    thread.start()
    with pytest.raises(GLib.Error) as info:
        transport.send_message(make_message(config, "hang"), cancellable)
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED)
    thread.join(30)


def test_error_from_python_reaches_caller():
    config = make_config()
    config.set_field("postusing", "python-send-only")
    with pytest.raises(GLib.Error) as info:
        make_message(config).post(None)
    assert info.value.matches(MsgObj.TransportError.quark(),
                              MsgObj.TransportError.NOT_SUPPORTED)
    assert "python-send-only" in info.value.message


class SilentTransport(MsgObj.Transport):
    """Returns nothing and raises nothing: a broken implementation."""

    __gtype_name__ = "MsgTestPySilentTransport"

    def do_send_message_sync(self, message, cancellable):
        return None


MsgObj.Transport.register_type("python-silent", SilentTransport)


def test_no_report_and_no_error_is_an_error():
    config = make_config()
    config.set_field("sendusing", "python-silent")
    for send in (lambda m: m.send(None),
                 lambda m: run_async(m.send_async, m.send_finish, None)):
        with pytest.raises(GLib.Error) as info:
            send(make_message(config))
        assert info.value.matches(MsgObj.TransportError.quark(), MsgObj.TransportError.FAILED)
        assert "python-silent" in info.value.message


def test_run_in_caller_context():
    """With run-in-caller-context the async API calls the virtual
    functions in the caller's main context, not in a worker thread."""
    config = make_config()
    transport = MsgObj.Transport.new_for_name("python-recording", config)
    assert not transport.props.run_in_caller_context
    transport.props.run_in_caller_context = True
    report = run_async(transport.send_message_async, transport.send_message_finish,
                       make_message(config, "in the caller"), None)
    assert report.get_server_response() == "250 send by Python"
    assert run_async(transport.close_async, transport.close_finish, None)
    assert transport.calls[0][2] is threading.current_thread()
    assert transport.closed == 1
