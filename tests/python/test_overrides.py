# The PyGObject override module (bindings/python/gi/overrides/MsgObj.py):
# keyword construction, checked properties that raise, the transport as a
# context manager and the MsgObj.Future helpers for the _async calls. The
# rest of the Python suite runs with the override loaded too, so the plain
# GObject API is checked by it.
import email
import email.policy
import os

import pytest
from gi.repository import Gio, GLib, MsgObj

from test_smtp import SmtpServer, make_config


@pytest.fixture
def server():
    s = SmtpServer()
    yield s
    s.stop()


def pickup_config(tmp_dir):
    return MsgObj.Configuration(smtpserverpickupdirectory=tmp_dir,
                                nntpserverpickupdirectory=tmp_dir)


def parse(path):
    with open(path, "rb") as f:
        return email.message_from_binary_file(f, policy=email.policy.default)


def test_override_is_loaded():
    assert MsgObj.Message.__module__ == "gi.overrides.MsgObj"
    # Every way to get an object gives the overridden class.
    assert isinstance(MsgObj.Message.new(), MsgObj.Message)
    assert hasattr(MsgObj.Message.new(), "send_future")
    assert MsgObj.PropertyError is not None


def test_message_keywords(tmp_dir):
    config = pickup_config(tmp_dir)
    message = MsgObj.Message(from_="Alice <alice@example.test>",
                             to="Bob <bob@example.test>", cc="carol@example.test",
                             reply_to="replies@example.test", subject="Grüße",
                             text_body="Hello.\n", mdn_requested=True,
                             configuration=config)
    assert message.get_from() == "Alice <alice@example.test>"
    assert message.props.to == "Bob <bob@example.test>"
    assert message.get_reply_to() == "replies@example.test"
    assert message.props.mdn_requested is True
    assert message.get_configuration() == config
    report = message.send(None)
    parsed = parse(report.get_pickup_file())
    assert str(parsed["From"]) == "Alice <alice@example.test>"
    assert str(parsed["Cc"]) == "carol@example.test"
    assert str(parsed["Subject"]) == "Grüße"
    assert parsed.get_content() == "Hello.\n"


def test_configuration_keywords():
    config = MsgObj.Configuration(smtpserver="127.0.0.1", smtpserverport=2525,
                                  smtpusessl=False, smtpconnectiontimeout=10)
    assert config.get_field("sendusing") == "smtp"
    assert config.get_int("smtpserverport") == 2525
    assert config.get_boolean("smtpusessl") is False
    assert config.get_int("smtpconnectiontimeout") == 10
    assert not MsgObj.Configuration().is_field_set("smtpserver")
    with pytest.raises(GLib.Error) as info:
        MsgObj.Configuration(nosuchfield="x")
    assert "nosuchfield" in info.value.message
    with pytest.raises(GLib.Error) as info:
        MsgObj.Configuration(smtpserverport="not a number")
    assert "smtpserverport" in info.value.message


def expected_error(setter, value):
    """The GError the checked set_NAME() call reports for value."""
    with pytest.raises(GLib.Error) as info:
        setter(MsgObj.Message.new(), value)
    return info.value


@pytest.mark.parametrize("name,value", [
    ("to", "Bob <bob@example.test"),
    ("from", "a\r\nBcc: x@example.test"),
    ("cc", "x@example.test\n"),
    ("bcc", "<<@>>"),
    ("reply-to", "\x01"),
    ("subject", "line\r\nX-Injected: 1"),
    ("message-id", "not an id"),
])
def test_message_property_raises(name, value):
    expected = expected_error(getattr(MsgObj.Message, "set_" + name.replace("-", "_")), value)
    message = MsgObj.Message(to="old@example.test", subject="old")
    before = message.get_property(name)
    attr = name.replace("-", "_") + ("_" if name == "from" else "")
    for attempt in (lambda: setattr(message.props, attr, value),
                    lambda: message.set_property(name, value),
                    lambda: message.set_properties(**{attr: value}),
                    lambda: MsgObj.Message(**{attr: value})):
        with pytest.raises(MsgObj.PropertyError) as info:
            attempt()
        error = info.value
        # The library's GError, raised; also a ValueError.
        assert isinstance(error, GLib.Error) and isinstance(error, ValueError)
        assert error.matches(MsgObj.MessageError.quark(), expected.code)
        assert error.message == expected.message
        # The old value stays.
        assert message.get_property(name) == before


def test_body_part_property_raises():
    message = MsgObj.Message.new()
    message.set_text_body("x")
    part = message.get_text_body_part()
    with pytest.raises(ValueError) as info:
        part.props.content_media_type = "not a type"
    assert isinstance(info.value, GLib.Error)
    assert part.props.content_media_type == "text/plain"
    part.props.content_id = "<part@example.test>"
    assert part.get_content_id() in ("<part@example.test>", "part@example.test")


def test_unchecked_properties_unchanged():
    message = MsgObj.Message(text_body="t")
    message.props.auto_generate_text_body = False
    message.set_property("mdn-requested", True)
    message.set_properties(dsn_options=MsgObj.DsnOptions.NEVER)
    assert message.props.auto_generate_text_body is False
    assert message.props.mdn_requested is True
    assert message.get_dsn_options() == MsgObj.DsnOptions.NEVER
    # The class's props still lists the GParamSpecs.
    assert MsgObj.Message.props.to.name == "to"
    assert "from" in [p.name for p in MsgObj.Message.list_properties()]
    # The plain setters, with their own errors.
    assert message.set_to("bob@example.test") is True
    with pytest.raises(GLib.Error):
        message.set_to("bob <")


def make_message(config, subject):
    return MsgObj.Message(from_="Alice <alice@example.test>", to="bob@example.test",
                          subject=subject, text_body="Hello.\n",
                          configuration=config)


def test_transport_context_manager(server):
    config = make_config(server)
    with MsgObj.Transport.new_for_name("smtp", config) as transport:
        assert isinstance(transport, MsgObj.Transport)
        transport.send_message(make_message(config, "one"), None)
        transport.send_message(make_message(config, "two"), None)
        # Kept open inside the block.
        assert "QUIT" not in server.commands
    # close() ran on exit: the one connection ended with QUIT.
    assert server.connections == 1
    assert server.commands[-1] == "QUIT"
    assert len(server.messages) == 2


def test_transport_context_manager_on_error(server):
    config = make_config(server)
    with pytest.raises(KeyError):
        with MsgObj.Transport.new_for_name("smtp", config) as transport:
            transport.send_message(make_message(config, "one"), None)
            raise KeyError("the block's own exception")
    assert server.commands[-1] == "QUIT"


def run_loop_until(future, timeout=30):
    """Runs a GLib.MainLoop until future's done callback fires."""
    loop = GLib.MainLoop()
    future.add_done_callback(lambda f: loop.quit())
    timer = GLib.timeout_add_seconds(timeout, loop.quit)
    loop.run()
    GLib.source_remove(timer)
    assert future.done(), "not finished in %d s" % timeout


def test_send_future_pickup(tmp_dir):
    message = make_message(pickup_config(tmp_dir), "future")
    future = message.send_future()
    report = future.result(timeout=30)
    assert future.done()
    assert os.path.dirname(report.get_pickup_file()) == tmp_dir
    # A callback added after the end runs at once.
    seen = []
    future.add_done_callback(seen.append)
    assert seen == [future]


def test_post_future_pickup(tmp_dir):
    message = make_message(pickup_config(tmp_dir), "article")
    message.set_newsgroups("local.test")
    report = message.post_future().result(timeout=30)
    assert report.get_pickup_file().startswith(tmp_dir)


def test_send_message_future_main_loop(server):
    config = make_config(server)
    transport = MsgObj.Transport.new_for_name("smtp", config)
    future = transport.send_message_future(make_message(config, "async"))
    assert not future.done()
    run_loop_until(future)
    assert future.exception() is None
    assert future.result().get_server_code() == 250
    close = transport.close_future()
    assert close.result(timeout=30) is True
    assert server.commands[-1] == "QUIT"
    assert len(server.messages) == 1


def test_future_error_and_cancel(server, tmp_dir):
    config = make_config(server)
    transport = MsgObj.Transport.new_for_name("smtp", config)
    # A message without recipients: the library's error, raised by result().
    message = MsgObj.Message(from_="alice@example.test", text_body="x",
                             configuration=config)
    future = transport.send_message_future(message)
    with pytest.raises(GLib.Error) as info:
        future.result(timeout=30)
    assert info.value.matches(MsgObj.MessageError.quark(), MsgObj.MessageError.NO_RECIPIENTS)
    assert future.exception() is info.value

    # The caller's cancellable is the one the call runs with.
    cancellable = Gio.Cancellable()
    cancellable.cancel()
    cancelled = make_message(pickup_config(tmp_dir), "cancelled").send_future(cancellable)
    assert cancelled.cancellable is cancellable
    with pytest.raises(GLib.Error) as info:
        cancelled.result(timeout=30)
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED)
    assert os.listdir(tmp_dir) == []
    transport.close(None)


def test_future_result_timeout():
    # A server that never answers: result(timeout) gives up without ending
    # the call, which cancel() then ends.
    import socket
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        config = MsgObj.Configuration(smtpserver="127.0.0.1",
                                      smtpserverport=silent.getsockname()[1],
                                      smtpconnectiontimeout=60)
        future = make_message(config, "silent").send_future()
        with pytest.raises(TimeoutError):
            future.result(timeout=0.2)
        assert not future.done()
        future.cancel()
        with pytest.raises(GLib.Error) as info:
            future.result(timeout=30)
        assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED)
    finally:
        silent.close()


def test_future_awaitable_from_asyncio(server):
    # `await` in a coroutine; the progress signal comes in the asyncio
    # loop's thread. (That the loop keeps running meanwhile is shown by
    # the cancellation test below, whose other task runs during the await.)
    import asyncio
    import threading

    config = make_config(server)
    progress = []

    async def main():
        with MsgObj.Transport.new_for_name("smtp", config) as transport:
            transport.connect("progress", lambda t, sent, total:
                              progress.append((threading.get_ident(), sent, total)))
            report = await transport.send_message_future(make_message(config, "awaited"))
            assert await transport.close_future() is True
        return report

    report = asyncio.run(asyncio.wait_for(main(), 30))
    assert report.get_server_code() == 250
    assert len(server.messages) == 1
    assert progress and {ident for ident, _, _ in progress} == {threading.get_ident()}
    assert progress[-1][1] == progress[-1][2] > 0


def test_future_await_raises_and_message_send(server, tmp_dir):
    import asyncio

    async def main():
        # The library's GLib.Error comes out of the await.
        config = make_config(server)
        message = MsgObj.Message(from_="alice@example.test", text_body="x",
                                 configuration=config)
        with pytest.raises(GLib.Error) as info:
            await MsgObj.Transport.new_for_name("smtp", config).send_message_future(message)
        assert info.value.matches(MsgObj.MessageError.quark(),
                                  MsgObj.MessageError.NO_RECIPIENTS)
        # message.send_future() too, to the pickup directory.
        return await make_message(pickup_config(tmp_dir), "awaited").send_future()

    report = asyncio.run(asyncio.wait_for(main(), 30))
    assert report.get_pickup_file().startswith(tmp_dir)
    assert parse(report.get_pickup_file())["Subject"] == "awaited"


def test_future_await_cancelled_task_cancels_the_call():
    # A server that never answers: cancelling the task that awaits the send
    # cancels the send itself, which then finishes with CANCELLED.
    import asyncio
    import socket

    silent = socket.create_server(("127.0.0.1", 0))
    try:
        config = MsgObj.Configuration(smtpserver="127.0.0.1",
                                      smtpserverport=silent.getsockname()[1],
                                      smtpconnectiontimeout=60)
        future = make_message(config, "silent").send_future()

        async def _await(f):
            return await f

        async def main():
            task = asyncio.create_task(_await(future))
            await asyncio.sleep(0.1)
            assert not future.done()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        asyncio.run(main())
        assert future.cancellable.is_cancelled()
        with pytest.raises(GLib.Error) as info:
            future.result(timeout=30)
        assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED)
    finally:
        silent.close()
