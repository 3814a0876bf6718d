# SPDX-License-Identifier: LGPL-2.1-or-later
"""CDO fidelity through PyGObject: the configured From and Reply-To,
charsets that convert, the text and HTML body parts, the attachments
collection."""

import email
import email.policy
import os

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


# Charsets convert


def test_charset_converts_bodies_and_attachments():
    m = MsgObj.Message.new()
    m.set_from("a@example.com")
    m.set_to("b@example.com")
    m.set_text_body("café")
    m.set_html_body("<p>€ 5</p>")
    m.set_text_body("café")
    text = m.get_text_body_part()
    html = m.get_html_body_part()
    assert text.set_charset("iso-8859-1")
    assert html.set_charset("windows-1252")
    assert text.get_decoded_content().get_data() == b"caf\xe9"
    assert html.get_decoded_content().get_data() == b"<p>\x80 5</p>"
    att = m.add_attachment_bytes(GLib.Bytes.new("naïve €".encode()), "n.txt",
                                 "text/plain")
    assert att.set_charset("iso-8859-15")
    assert att.get_decoded_content().get_data() == "naïve €".encode("iso-8859-15")
    assert att.get_text() == "naïve €"

    parsed = parse(m.to_bytes().get_data())
    parts = {p.get_content_type() + ("+att" if p.get_filename() else ""): p
             for p in parsed.walk() if not p.is_multipart()}
    assert parts["text/plain"].get_content_charset() == "iso-8859-1"
    assert parts["text/plain"].get_payload(decode=True) == b"caf\xe9"
    assert parts["text/plain"].get_content() == "café"
    assert parts["text/html"].get_content() == "<p>€ 5</p>"
    assert parts["text/plain+att"].get_content_charset() == "iso-8859-15"
    assert parts["text/plain+att"].get_content() == "naïve €"

    back = MsgObj.Message.new_from_bytes(m.to_bytes())
    assert back.get_text_body() == "café"
    assert back.get_html_body() == "<p>€ 5</p>"


def test_charset_refuses_what_it_cannot_hold():
    m = MsgObj.Message.new()
    m.set_text_body("5 € 日本")
    text = m.get_text_body_part()
    with pytest.raises(GLib.Error) as excinfo:
        text.set_charset("iso-8859-1")
    assert excinfo.value.domain == DOMAIN
    assert excinfo.value.code == int(MsgObj.MessageError.CHARSET)
    assert "€" in excinfo.value.message and "U+20AC" in excinfo.value.message
    assert text.get_charset() == "utf-8"
    with pytest.raises(GLib.Error) as excinfo:
        text.set_charset("x-no-such-charset")
    assert "x-no-such-charset" in excinfo.value.message
    assert text.get_decoded_content().get_data() == "5 € 日本".encode()


def test_parsed_parts_decode_to_utf8():
    raw = (b"From: a@example.com\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
           b"Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9\r\n"
           b"--b\r\nContent-Type: text/plain; charset=koi8-r\r\n"
           b"Content-Disposition: attachment; filename=r.txt\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n0NLJ18XU\r\n--b--\r\n")
    m = MsgObj.Message.new_from_bytes(GLib.Bytes.new(raw))
    assert m.get_text_body() == "café"
    assert m.get_attachment(0).get_text() == "привет"


# TextBodyPart, HTMLBodyPart and the attachments collection


def test_body_part_accessors():
    m = MsgObj.Message.new()
    m.set_html_body("<p>Hi</p>")
    m.add_attachment_bytes(GLib.Bytes.new(b"x"), "a.bin", None)
    text = m.get_text_body_part()
    html = m.get_html_body_part()
    assert text.get_content_media_type() == "text/plain"
    assert html.get_content_media_type() == "text/html"
    assert text.get_text() == "Hi"
    assert html.get_text() == "<p>Hi</p>"
    only = MsgObj.Message.new()
    only.set_text_body("t")
    assert only.get_html_body_part() is None


def test_attachments_collection_and_model():
    m = MsgObj.Message.new()
    m.set_text_body("body")
    model = m.get_attachments_model()
    changes = []
    model.connect("items-changed", lambda *args: changes.append(args[1:]))
    for name in ("a.txt", "b.txt", "c.txt"):
        m.add_attachment_bytes(GLib.Bytes.new(b"x"), name, "text/plain")
    assert m.get_attachment_count() == 3 == model.get_n_items()
    assert [p.get_filename() for p in model] == ["a.txt", "b.txt", "c.txt"]
    assert m.remove_attachment(1)
    assert m.get_attachment(1).get_filename() == "c.txt"
    assert [p.get_filename() for p in model] == ["a.txt", "c.txt"]
    with pytest.raises(GLib.Error) as excinfo:
        m.remove_attachment(5)
    assert excinfo.value.code == int(MsgObj.MessageError.FAILED)
    m.remove_all_attachments()
    assert m.get_attachment_count() == 0 == model.get_n_items()
    assert len(changes) == 5
    assert parse(m.to_bytes().get_data()).get_content_type() == "text/plain"


def test_body_parts_model():
    m = MsgObj.Message.new()
    m.set_text_body("body")
    m.add_attachment_bytes(GLib.Bytes.new(b"x"), "a.bin", None)
    root = m.get_body_part()
    children = root.get_body_parts_model()
    assert children.get_n_items() == 2
    added = root.add_body_part("text/calendar")
    assert children.get_n_items() == 3
    assert children.get_item(2) == added


# Fields by URN


def test_httpmail_fields():
    m = MsgObj.Message.new()
    m.set_header("urn:schemas:httpmail:subject", "Re: Fw: hello")
    m.set_header("urn:schemas:httpmail:from", "ann@example.com")
    m.set_header("urn:schemas:httpmail:to", "bob@example.org")
    m.set_header("urn:schemas:httpmail:textdescription", "body")
    m.set_header("urn:schemas:httpmail:importance", "2")
    m.set_header("urn:schemas:httpmail:priority", "1")
    m.set_header("http://schemas.microsoft.com/exchange/sensitivity", "2")
    assert m.get_field("urn:schemas:httpmail:normalizedsubject") == "hello"
    assert m.get_field("urn:schemas:httpmail:from") == "ann@example.com"
    assert m.get_field("urn:schemas:httpmail:textdescription") == "body"
    assert m.get_field("urn:schemas:httpmail:hasattachment") == "false"
    assert m.get_importance() == MsgObj.Importance.HIGH
    assert m.get_priority() == MsgObj.Priority.URGENT
    assert m.get_sensitivity() == MsgObj.Sensitivity.PRIVATE
    parsed = parse(m.to_bytes().get_data())
    assert parsed["Importance"] == "high"
    assert parsed["Priority"] == "urgent"
    assert parsed["X-Priority"] == "1 (Highest)"
    assert parsed["Sensitivity"] == "Private"
    with pytest.raises(GLib.Error) as excinfo:
        m.set_header("urn:schemas:httpmail:read", "1")
    assert excinfo.value.code == int(MsgObj.MessageError.NOT_SUPPORTED)
    assert "urn:schemas:httpmail:read" in excinfo.value.message
    with pytest.raises(GLib.Error) as excinfo:
        m.get_field("urn:schemas:httpmail:messageflag")
    assert excinfo.value.code == int(MsgObj.MessageError.NOT_SUPPORTED)


def test_fields_enumeration():
    m = MsgObj.Message.new()
    m.set_from("ann@example.com")
    m.set_subject("s")
    m.set_text_body("x")
    names = m.list_field_names()
    assert len(names) == m.get_field_count()
    fields = [m.get_field_at(i)[1:] for i in range(m.get_field_count())]
    written = [line.split(b": ", 1)
               for line in m.to_bytes().get_data().split(b"\r\n\r\n")[0].split(b"\r\n")]
    assert [n for n, _ in fields] == [n.decode() for n, _ in written] == list(names)
    assert ("Subject", "s") in fields


# The configuration field audit


def test_timezoneid_dates():
    cfg = MsgObj.Configuration.new()
    cfg.set_field("timezoneid", "20")  # cdoTokyo
    m = MsgObj.Message.new_with_configuration(cfg)
    m.set_from("a@example.com")
    assert m.prepare_for_sending()
    assert parse(m.to_bytes().get_data())["Date"].endswith("+0900")
    assert m.get_sent_on().get_utc_offset() == 9 * 3600 * 10**6


@pytest.mark.parametrize("name,value,reason", [
    ("languagecode", "sv", "translation"),
    ("urlproxyserver", "proxy 8080", "host name"),
    ("savesentitems", "true", "does not save sent items"),
    ("timezoneid", "52", "cdoFloating"),
])
def test_fields_that_would_be_ignored_are_refused(name, value, reason):
    cfg = MsgObj.Configuration.new()
    with pytest.raises(GLib.Error) as excinfo:
        cfg.set_field(name, value)
    assert excinfo.value.domain == "msg-configuration-error-quark"
    assert name in excinfo.value.message and reason in excinfo.value.message


def test_multipart_no_data():
    m = MsgObj.Message.new()
    m.set_text_body("x")
    m.add_attachment_bytes(GLib.Bytes.new(b"x"), "a.bin", None)
    with pytest.raises(GLib.Error) as excinfo:
        m.get_body_part().get_decoded_content()
    assert excinfo.value.code == int(MsgObj.MessageError.MULTIPART_NO_DATA)


def test_received_time_and_embedded_message():
    raw = (b"Received: from b by c; Tue, 24 Jun 2008 10:00:00 +0000\r\n"
           b"From: a@example.com\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
           b"--b\r\nContent-Type: message/rfc822\r\n\r\n"
           b"From: inner@example.com\nSubject: Inner\n\nInner body\n"
           b"--b--\r\n")
    m = MsgObj.Message.new_from_bytes(GLib.Bytes.new(raw))
    received = m.get_received_time()
    assert (received.get_hour(), received.get_minute()) == (10, 0)
    assert m.get_received_time().get_utc_offset() == 0
    inner = MsgObj.Message.new_from_body_part(m.get_attachment(0))
    assert inner.get_subject() == "Inner"
    assert inner.get_from() == "inner@example.com"
    assert b"\r\n" in inner.to_bytes().get_data()
    with pytest.raises(GLib.Error):
        MsgObj.Message.new_from_body_part(m.get_text_body_part())


def test_post_reply():
    raw = (b"From: ann@example.com\r\nNewsgroups: comp.mail.misc\r\n"
           b"Subject: Porting CDO\r\nMessage-ID: <a2@example.com>\r\n\r\nHow?\r\n")
    original = MsgObj.Message.new_from_bytes(GLib.Bytes.new(raw))
    followup = original.create_post_reply()
    assert followup.get_newsgroups() == "comp.mail.misc"
    assert followup.get_to() is None
    assert followup.get_header("References") == "<a2@example.com>"
    mail = MsgObj.Message.new()
    with pytest.raises(GLib.Error) as excinfo:
        mail.create_post_reply()
    assert excinfo.value.code == int(MsgObj.MessageError.NO_NEWSGROUPS)


def test_datasource_save_and_is_dirty(tmp_dir):
    path = os.path.join(tmp_dir, "in.eml")
    with open(path, "wb") as f:
        f.write(b"From: a@example.com\r\nSubject: s\r\n\r\nbody\r\n")
    m = MsgObj.Message.new_from_file(path)
    assert m.get_source_file() == path
    assert not m.get_is_dirty()
    m.set_subject("changed")
    assert m.get_is_dirty()
    assert m.save()
    assert not m.get_is_dirty()
    assert MsgObj.Message.new_from_file(path).get_subject() == "changed"
    with pytest.raises(GLib.Error):
        MsgObj.Message.new().save()


def test_body_part_to_bytes():
    m = MsgObj.Message.new()
    m.set_text_body("body")
    part = m.add_attachment_bytes(GLib.Bytes.new(b"a\nb\n"), "n.txt", "text/plain")
    data = part.to_bytes().get_data()
    assert data.startswith(b"Content-Type: text/plain")
    assert data.endswith(b"\r\n\r\na\r\nb\r\n")
    assert data in m.to_bytes().get_data()
