# The registry, dispatch and the pickup transport through PyGObject.
import email
import email.policy
import os
import stat

import pytest
from gi.repository import GLib, MsgObj

from msgobj_testing import run_async


def make_message(config=None):
    message = MsgObj.Message.new_with_configuration(config) if config else MsgObj.Message.new()
    message.set_from("Alice <alice@example.test>")
    message.set_to("Bob <bob@example.test>")
    message.set_bcc("hidden@example.test")
    message.set_subject("Grüße aus Python")
    message.set_text_body("Hello from PyGObject.\n.dot line\n")
    return message


def test_list_names():
    names = MsgObj.Transport.list_names()
    assert "pickup" in names and "smtp" in names and "nntp" in names
    assert names == sorted(names)


def test_unknown_transport():
    with pytest.raises(GLib.Error) as info:
        MsgObj.Transport.new_for_name("carrier-pigeon", None)
    assert info.value.matches(MsgObj.ConfigurationError.quark(),
                              MsgObj.ConfigurationError.UNKNOWN_TRANSPORT)


def test_send_default_pickup():
    report = make_message().send(None)
    assert report.get_transport_name() == "pickup"
    path = report.get_pickup_file()
    assert path.endswith(".eml")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    with open(path, "rb") as f:
        raw = f.read()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "Grüße aus Python"
    assert parsed["Bcc"] == "hidden@example.test"
    assert parsed["Message-ID"] == report.get_message_id()
    assert report.get_recipient_status("bob@example.test").get_code() == 250


def test_send_async_into_directory(tmp_dir):
    config = MsgObj.Configuration.new()
    config.set_field("smtpserverpickupdirectory", tmp_dir)
    transport = MsgObj.Transport.new_for_name("pickup", config)
    message = make_message(config)
    report = run_async(transport.send_message_async, transport.send_message_finish,
                       message, None)
    assert os.path.dirname(report.get_pickup_file()) == tmp_dir
    assert sorted(report.get_accepted_recipients()) == ["bob@example.test",
                                                       "hidden@example.test"]
    assert report.get_rejected_recipients() == []


def test_validation_before_io(tmp_dir):
    config = MsgObj.Configuration.new()
    config.set_field("smtpserverpickupdirectory", tmp_dir)
    message = MsgObj.Message.new_with_configuration(config)
    with pytest.raises(GLib.Error) as info:
        message.send(None)
    assert info.value.matches(MsgObj.MessageError.quark(), MsgObj.MessageError.NO_RECIPIENTS)
    message.set_to("bob@example.test")
    with pytest.raises(GLib.Error) as info:
        message.send(None)
    assert info.value.matches(MsgObj.MessageError.quark(), MsgObj.MessageError.NO_SENDER)
    assert os.listdir(tmp_dir) == []


def test_no_server_for_smtp():
    config = MsgObj.Configuration.new()
    config.set_field("sendusing", "2")
    with pytest.raises(GLib.Error) as info:
        make_message(config).send(None)
    assert info.value.matches(MsgObj.TransportError.quark(), MsgObj.TransportError.NO_SERVER)


def test_cancelled(tmp_dir):
    from gi.repository import Gio
    config = MsgObj.Configuration.new()
    config.set_field("smtpserverpickupdirectory", tmp_dir)
    cancellable = Gio.Cancellable()
    cancellable.cancel()
    with pytest.raises(GLib.Error) as info:
        make_message(config).send(cancellable)
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED)
    assert os.listdir(tmp_dir) == []


def test_post_pickup(tmp_dir):
    config = MsgObj.Configuration.new()
    config.set_field("nntpserverpickupdirectory", tmp_dir)
    message = make_message(config)
    message.set_newsgroups("local.test")
    report = run_async(message.post_async, message.post_finish, None)
    assert report.get_pickup_file().startswith(tmp_dir)
