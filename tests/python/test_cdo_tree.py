# SPDX-License-Identifier: LGPL-2.1-or-later
"""CDO fidelity through PyGObject, continued: the MIME tree built and
edited by hand (a calendar invitation, a delivery report), parameters,
GetStream."""

import email
import email.policy

import pytest
from gi.repository import GLib, MsgObj

DOMAIN = "msg-message-error-quark"

CALENDAR = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\n"
            "BEGIN:VEVENT\r\nUID:1@example.com\r\nSUMMARY:Planning\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n")


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def structure(msg):
    if msg.get_content_maintype() == "multipart":
        return "%s(%s)" % (msg.get_content_type(),
                           ",".join(structure(p) for p in msg.iter_parts()))
    return msg.get_content_type()


def make_message():
    m = MsgObj.Message.new()
    m.set_from("ann@example.com")
    m.set_to("bob@example.org")
    m.set_subject("Planning")
    return m


def test_calendar_invitation_survives_body_calls():
    m = make_message()
    root = m.get_body_part()
    root.props.content_media_type = "multipart/alternative"
    text = root.add_body_part("text/plain")
    text.set_text("You are invited.")
    cal = root.insert_body_part(-1, "text/calendar; method=REQUEST")
    cal.set_text(CALENDAR)
    before = cal.to_bytes().get_data()
    assert cal.get_field_parameter("Content-Type", "method") == "REQUEST"
    assert cal.get_parent() == root
    assert root.get_parent() is None

    m.add_attachment_bytes(GLib.Bytes.new(b"%PDF-1.4\n"), "agenda.pdf", "application/pdf")
    m.set_text_body("You are invited, again.")
    assert cal.to_bytes().get_data() == before
    msg = parse(m.to_bytes().get_data())
    assert structure(msg) == ("multipart/mixed(multipart/alternative(text/plain,"
                              "text/calendar),application/pdf)")
    calendar = msg.get_body(preferencelist=("plain",))
    assert calendar.get_content() == "You are invited, again."
    parts = list(msg.walk())
    ics = [p for p in parts if p.get_content_type() == "text/calendar"][0]
    assert ics.get_param("method") == "REQUEST"
    assert "UID:1@example.com" in ics.get_content()


def test_delivery_report_by_hand():
    m = make_message()
    root = m.get_body_part()
    root.set_content_media_type("multipart/report")
    root.set_field_parameter("Content-Type", "report-type", "delivery-status")
    for media, content in (("text/plain", b"Not delivered.\r\n"),
                           ("message/delivery-status",
                            b"Reporting-MTA: dns; mx.example.org\r\n\r\n"
                            b"Final-Recipient: rfc822; bob@example.org\r\n"
                            b"Action: failed\r\nStatus: 5.1.1\r\n"),
                           ("message/rfc822", b"Subject: Lost\r\n\r\nHello\r\n")):
        root.add_body_part(media).set_content(GLib.Bytes.new(content))
    m.set_subject("Undeliverable")
    msg = parse(m.to_bytes().get_data())
    assert structure(msg) == ("multipart/report(text/plain,message/delivery-status,"
                              "message/rfc822)")
    assert msg.get_param("report-type") == "delivery-status"


def test_delete_updates_model_and_parents():
    m = make_message()
    root = m.get_body_part()
    root.set_content_media_type("multipart/mixed")
    model = root.get_body_parts_model()
    changes = []
    model.connect("items-changed", lambda _m, pos, rem, add: changes.append((pos, rem, add)))
    a = root.add_body_part("text/plain")
    b = root.add_body_part("text/html")
    c = root.insert_body_part(1, "image/png")
    assert changes == [(0, 0, 1), (1, 0, 1), (1, 0, 1)]
    assert [model.get_item(i) for i in range(3)] == [a, c, b]

    root.remove_body_part(1)
    assert changes[-1] == (1, 1, 0)
    assert c.get_parent() is None and b.get_parent() == root
    root.remove_child(a)
    assert changes[-1] == (0, 1, 0)
    with pytest.raises(GLib.Error) as excinfo:
        root.remove_body_part(5)
    assert excinfo.value.domain == DOMAIN
    root.remove_all_body_parts()
    assert model.get_n_items() == 0


@pytest.mark.parametrize("name,value", [
    ("method", "REQUEST\r\nBcc: eve@example.net"),
    ("method", "REQUEST\0Bcc: eve@example.net"),
    ("meth\0od", "x"),
    ("method", "a\nb"),
    ("me thod", "x"),
    ("a=b", "x"),
    ("", "x"),
])
def test_hostile_parameters_refused(name, value):
    m = make_message()
    m.set_text_body("x")
    part = m.get_text_body_part()
    with pytest.raises(GLib.Error) as excinfo:
        part.set_field_parameter("Content-Type", name, value)
    assert excinfo.value.domain == DOMAIN
    assert b"eve@" not in m.to_bytes().get_data()


def test_nul_in_content_type_refused():
    m = make_message()
    root = m.get_body_part()
    root.set_content_media_type("multipart/mixed")
    for call in (lambda: root.add_body_part("text/plain; a=b\0c"),
                 lambda: root.insert_body_part(0, "text/plain\0")):
        with pytest.raises(GLib.Error) as excinfo:
            call()
        assert excinfo.value.domain == DOMAIN
        assert excinfo.value.code == MsgObj.MessageError.INVALID_HEADER
    assert root.get_body_parts_model().get_n_items() == 0


def test_get_stream():
    m = make_message()
    m.set_text_body("hello")
    part = m.get_text_body_part()
    stream = part.get_stream()
    data = stream.read_bytes(65536, None).get_data()
    assert data == part.to_bytes().get_data()
    assert data.startswith(b"Content-Type: text/plain")


# Importance, Priority, Sensitivity as properties


def test_enum_properties_notify():
    m = make_message()
    seen = []
    m.connect("notify", lambda _obj, pspec: seen.append(pspec.name))
    assert m.props.importance == MsgObj.Importance.NORMAL
    m.props.importance = MsgObj.Importance.HIGH
    m.props.priority = MsgObj.Priority.URGENT
    m.props.sensitivity = MsgObj.Sensitivity.COMPANY_CONFIDENTIAL
    assert seen == ["importance", "priority", "sensitivity"]
    raw = m.to_bytes().get_data()
    assert b"\r\nImportance: high\r\n" in raw
    assert b"\r\nX-Priority: 1 (Highest)\r\n" in raw
    assert b"\r\nSensitivity: Company-Confidential\r\n" in raw
    m.set_header("Importance", "low")
    assert m.props.importance == MsgObj.Importance.LOW
    assert seen[-1] == "importance"


# languagecode


def test_languagecode_german_reply_block():
    cfg = MsgObj.Configuration.new()
    cfg.set_field("languagecode", "de-DE")
    cfg.set_field("timezoneid", "Europe/Berlin")
    m = MsgObj.Message.new_with_configuration(cfg)
    m.set_from("ann@example.com")
    m.set_to("bob@example.org")
    m.set_subject("Termin")
    m.set_sent_on(GLib.DateTime.new_utc(2027, 7, 5, 8, 30, 0))
    m.set_text_body("Hallo")
    reply = m.create_reply()
    text = reply.get_text_body()
    assert ("-----Ursprüngliche Nachricht-----\r\nVon: ann@example.com\r\n"
            "Gesendet: Montag, 5. Juli 2027 10:30\r\nAn: bob@example.org\r\n"
            "Betreff: Termin\r\n") in text
    with pytest.raises(GLib.Error) as excinfo:
        cfg.set_field("languagecode", "sv-SE")
    assert excinfo.value.domain == "msg-configuration-error-quark"
    assert "sv-SE" in excinfo.value.message
