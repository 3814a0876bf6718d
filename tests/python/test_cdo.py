# SPDX-License-Identifier: LGPL-2.1-or-later
"""CDO fidelity through PyGObject: the configured From and Reply-To,
charsets that convert, the text and HTML body parts, the attachments
collection."""

import email
import email.policy

import pytest
from gi.repository import GLib, MsgObj

DOMAIN = "msg-message-error-quark"


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def pickup_config(tmp_dir):
    cfg = MsgObj.Configuration.new()
    cfg.set_field("smtpserverpickupdirectory", tmp_dir)
    cfg.set_field("nntpserverpickupdirectory", tmp_dir)
    return cfg


# The configured From and Reply-To


def test_sendemailaddress_becomes_from(tmp_dir):
    cfg = pickup_config(tmp_dir)
    cfg.set_field("sendemailaddress", "Me <me@example.com>")
    cfg.set_field("senduserreplyemailaddress", "replies@example.com")
    m = MsgObj.Message.new_with_configuration(cfg)
    m.set_to("b@example.com")
    m.set_subject("s")
    m.set_text_body("x")
    with open(m.send().get_pickup_file(), "rb") as f:
        raw = f.read()
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    names = [line.split(b":", 1)[0].decode() for line in head]
    assert names == ["Date", "From", "Reply-To", "Subject", "To", "X-Mailer",
                     "MIME-Version", "Message-Id", "Content-Type",
                     "Content-Transfer-Encoding"]
    parsed = parse(raw)
    assert parsed["From"] == "Me <me@example.com>"
    assert parsed["Reply-To"] == "replies@example.com"
    assert parsed["Message-Id"].endswith("@example.com>")
    assert m.get_from() == "Me <me@example.com>"


def test_postemailaddress_becomes_from(tmp_dir):
    cfg = pickup_config(tmp_dir)
    cfg.set_field("sendemailaddress", "me@example.com")
    cfg.set_field("postemailaddress", "poster@example.org")
    cfg.set_field("postuserreplyemailaddress", "followups@example.org")
    m = MsgObj.Message.new_with_configuration(cfg)
    m.set_newsgroups("local.test")
    m.set_subject("post")
    m.set_text_body("x")
    with open(m.post().get_pickup_file(), "rb") as f:
        parsed = parse(f.read())
    assert parsed["From"] == "poster@example.org"
    assert parsed["Reply-To"] == "followups@example.org"


def test_bad_configured_address_names_field(tmp_dir):
    cfg = pickup_config(tmp_dir)
    cfg.set_field("sendemailaddress", "not an address <<")
    m = MsgObj.Message.new_with_configuration(cfg)
    m.set_to("b@example.com")
    with pytest.raises(GLib.Error) as excinfo:
        m.send()
    assert excinfo.value.domain == DOMAIN
    assert excinfo.value.code == int(MsgObj.MessageError.INVALID_ADDRESS)
    assert "sendemailaddress" in excinfo.value.message
