# Time-outs, cancellation and lost connections against a real server
# (smtp-sink's delays and disconnects): the send returns within its
# deadline with a clear error, the socket is closed at once (the relay sees
# the client's end), nothing is delivered twice, and the same transport
# sends the next message.
import os
import threading
import time

import pytest
from gi.repository import Gio, GLib, MsgObj

from conftest import smtp_config, wait_until
from msgobj_testing import run_async
from test_smtp import assert_transport_error, make_message, new_transport, sent_bytes

# The rule for timing: the deadline plus 100 ms at most.
SLACK = 0.1


def client_closed(relay):
    """True once the client has closed its side of every connection."""
    return relay.connections and all(
        ("c", b"") in conn["events"] or conn["closed"] for conn in relay.connections)


def send_next_to(transport, config, sink):
    """The same transport, pointed at a healthy server, sends again."""
    config.set_field("smtpserverport", str(sink.port))
    message = make_message(config, subject="the next one")
    transport.send_message(message, None)
    (t,) = sink.transactions(1)
    assert t.message == sent_bytes(message).replace(b"\r\n", b"\n") + b"\n"


def test_total_deadline_against_slow_server(smtp_sink_with, relay):
    slow = smtp_sink_with("-W", "RCPT:10")
    r = relay(slow.port)
    config = smtp_config(r.port, smtpoperationtimeout="1")
    transport = new_transport(config)
    start = time.monotonic()
    with pytest.raises(GLib.Error) as info:
        transport.send_message(make_message(config), None)
    elapsed = time.monotonic() - start
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT), info.value.message
    assert elapsed <= 1.0 + SLACK, "returned after %.3f s" % elapsed
    wait_until(lambda: client_closed(r), 2, "the client to close the connection")
    assert slow.counters()["mesg"] == 0
    send_next_to(transport, config, smtp_sink_with())


def test_inactivity_timeout_against_slow_server(smtp_sink_with):
    slow = smtp_sink_with("-w", "10")  # waits before answering DATA
    config = smtp_config(slow.port, smtpconnectiontimeout="0.5")
    transport = new_transport(config)
    start = time.monotonic()
    with pytest.raises(GLib.Error) as info:
        transport.send_message(make_message(config), None)
    elapsed = time.monotonic() - start
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT), info.value.message
    # Each wait is bounded by 0.5 s; the one that expires started after
    # connect, EHLO and the pipelined batch (on loopback: milliseconds).
    assert elapsed <= 0.5 + 0.5 + SLACK, "returned after %.3f s" % elapsed
    send_next_to(transport, config, smtp_sink_with())


def test_cancel_from_another_thread(smtp_sink_with, relay):
    slow = smtp_sink_with("-W", "RCPT:10")
    r = relay(slow.port)
    config = smtp_config(r.port)
    transport = new_transport(config)
    cancellable = Gio.Cancellable()
    cancelled_at = []

    def cancel():
        cancelled_at.append(time.monotonic())
        cancellable.cancel()
    timer = threading.Timer(0.3, cancel)
    timer.start()
    try:
        with pytest.raises(GLib.Error) as info:
            transport.send_message(make_message(config), cancellable)
    finally:
        timer.cancel()
    returned = time.monotonic()
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED), info.value.message
    assert cancelled_at and returned - cancelled_at[0] <= SLACK, \
        "returned %.3f s after the cancel" % (returned - cancelled_at[0])
    wait_until(lambda: client_closed(r), 2, "the client to close the connection")
    send_next_to(transport, config, smtp_sink_with())


def test_cancel_async_on_main_loop(smtp_sink_with):
    slow = smtp_sink_with("-w", "10")
    config = smtp_config(slow.port)
    transport = new_transport(config)
    cancellable = Gio.Cancellable()
    cancelled_at = []

    def cancel():
        cancelled_at.append(time.monotonic())
        cancellable.cancel()
        return GLib.SOURCE_REMOVE
    GLib.timeout_add(300, cancel)
    with pytest.raises(GLib.Error) as info:
        run_async(transport.send_message_async, transport.send_message_finish,
                  make_message(config), cancellable)
    returned = time.monotonic()
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED), info.value.message
    assert cancelled_at and returned - cancelled_at[0] <= SLACK
    send_next_to(transport, config, smtp_sink_with())


def test_connection_lost_after_final_dot(smtp_sink_with):
    # -q . hangs up without a reply once the message is complete: it may or
    # may not have been accepted.
    sink = smtp_sink_with("-q", ".")
    config = smtp_config(sink.port)
    transport = new_transport(config)
    with pytest.raises(GLib.Error) as info:
        transport.send_message(make_message(config), None)
    assert_transport_error(info.value, MsgObj.TransportError.OUTCOME_UNKNOWN)
    send_next_to(transport, config, smtp_sink_with())


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "lockstep"])
@pytest.mark.parametrize("stage", ["MAIL", "RCPT", "DATA"])
def test_421_and_disconnect(smtp_sink_with, stage, pipelining):
    # The 421 is the outcome, not the closed connection that follows it
    # (with PIPELINING the replies to the rest of the batch never come).
    sink = smtp_sink_with("-Q", stage, *([] if pipelining else ["-p"]))
    config = smtp_config(sink.port)
    transport = new_transport(config)
    with pytest.raises(GLib.Error) as info:
        transport.send_message(make_message(config), None)
    assert_transport_error(info.value, MsgObj.TransportError.TEMPORARY_FAILURE)
    assert "421" in info.value.message
    assert sink.counters()["mesg"] == 0
    send_next_to(transport, config, smtp_sink_with())


def test_sender_refused(smtp_sink_with):
    sink = smtp_sink_with("-f", "MAIL")
    config = smtp_config(sink.port)
    transport = new_transport(config)
    with pytest.raises(GLib.Error) as info:
        transport.send_message(make_message(config), None)
    assert_transport_error(info.value, MsgObj.TransportError.SENDER_REJECTED)
    assert "500" in info.value.message
    send_next_to(transport, config, smtp_sink_with())


def test_message_refused_after_data(smtp_sink_with):
    sink = smtp_sink_with("-f", ".", "-B", "554 5.7.1 content refused")
    config = smtp_config(sink.port)
    transport = new_transport(config)
    with pytest.raises(GLib.Error) as info:
        transport.send_message(make_message(config), None)
    assert_transport_error(info.value, MsgObj.TransportError.MESSAGE_REJECTED)
    assert "content refused" in info.value.message
    send_next_to(transport, config, smtp_sink_with())


def test_close_does_not_wait_for_a_slow_quit(smtp_sink_with, relay):
    # QUIT gets a short deadline (the inactivity limit, at most 5 s); the
    # connection is closed whatever the server does.
    sink = smtp_sink_with("-W", "QUIT:10")
    r = relay(sink.port)
    config = smtp_config(r.port, smtpconnectiontimeout="1")
    transport = new_transport(config)
    transport.send_message(make_message(config), None)
    start = time.monotonic()
    try:
        transport.close(None)
    except GLib.Error:
        pass  # a time-out on QUIT may be reported; the connection is gone
    elapsed = time.monotonic() - start
    assert elapsed <= 1.0 + SLACK, "close took %.3f s" % elapsed
    wait_until(lambda: client_closed(r), 2, "the client to close the connection")
    (conn,) = r.connections
    assert b"QUIT\r\n" in b"".join(d for c, d in conn["events"] if c == "c")
    # And the transport connects afresh for the next message.
    send_next_to(transport, config, smtp_sink_with())


def test_dispose_closes_without_waiting(smtp_sink, relay):
    r = relay(smtp_sink.port)
    config = smtp_config(r.port)
    transport = new_transport(config)
    transport.send_message(make_message(config), None)
    start = time.monotonic()
    del transport  # the last reference: disposed here
    elapsed = time.monotonic() - start
    assert elapsed <= SLACK, "dispose took %.3f s" % elapsed
    wait_until(lambda: client_closed(r), 2, "the client to close the connection")
    (conn,) = r.connections
    assert b"QUIT" not in b"".join(d for c, d in conn["events"] if c == "c")


def test_helo_when_the_server_has_no_esmtp(smtp_sink_with):
    sink = smtp_sink_with("-e")
    config = smtp_config(sink.port)
    message = make_message(config)
    new_transport(config).send_message(message, None)
    (t,) = sink.transactions(1)
    assert t.meta["X-Client-Proto"] == ["SMTP"]  # HELO, not EHLO
    assert t.mail_from == "<alice@example.test>"  # and no ESMTP parameters
    assert t.message == sent_bytes(message).replace(b"\r\n", b"\n") + b"\n"


def test_8bit_message_without_8bitmime(smtp_sink_with):
    # A server without 8BITMIME gets the 8-bit part re-encoded (7-bit on
    # the wire, no BODY=8BITMIME), never raw 8-bit bytes (issue 14).
    sink = smtp_sink_with("-8")
    config = smtp_config(sink.port)
    raw = ("From: alice@example.test\r\nTo: bob@example.test\r\nSubject: 8bit\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n").encode()
    message = MsgObj.Message.new_from_bytes(GLib.Bytes.new(raw))
    message.set_configuration(config)
    new_transport(config).send_message(message, None)
    (t,) = sink.transactions(1)
    assert "BODY=8BITMIME" not in t.mail_from
    assert all(byte < 0x80 for byte in t.message)
    assert b"Content-Transfer-Encoding: 8bit" not in t.message
    decoded = MsgObj.Message.new_from_bytes(GLib.Bytes.new(t.message.replace(b"\n", b"\r\n")))
    assert decoded.get_text_body().strip() == "Grüße"


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_fake_auth_reply_is_a_clear_error(smtp_sink_with, mechanism):
    # smtp-sink answers AUTH with "250 2.0.0 Ok", neither 235 nor 334: the
    # client must neither hang nor take it for a success.
    sink = smtp_sink_with()
    config = smtp_config(sink.port, smtpauthenticate="basic", sendusername="alice",
                         sendpassword="pw", smtpallowplaintextauth="true",
                         smtpauthmechanisms=mechanism, smtpoperationtimeout="10")
    start = time.monotonic()
    with pytest.raises(GLib.Error) as info:
        new_transport(config).send_message(make_message(config), None)
    assert time.monotonic() - start < 5, "the client waited for a reply that never comes"
    assert_transport_error(info.value, MsgObj.TransportError.PROTOCOL)
    assert "250" in info.value.message
    assert sink.counters()["mesg"] == 0


def test_deadline_with_a_tls_peer_that_stops_reading(aiosmtpd, test_ca, relay, tmp_path):
    # Over STARTTLS, the peer stops reading in the middle of a large
    # message: the writes block, the total deadline ends the send, and
    # nothing (no TLS close_notify) waits on the stuck peer.
    server = aiosmtpd("--tls-cert", test_ca.cert, "--tls-key", test_ca.key,
                      "--require-starttls")
    r = relay(server.port, stall_after=256 * 1024)
    path = tmp_path / "big.bin"
    with open(path, "wb") as f:
        for _ in range(32):
            f.write(os.urandom(1 << 20))
    config = smtp_config(r.port, smtpstarttls="required", tlscafile=test_ca.ca_cert,
                         smtpoperationtimeout="2")
    message = make_message(config)
    message.add_attachment(str(path))
    transport = new_transport(config)
    start = time.monotonic()
    with pytest.raises(GLib.Error) as info:
        transport.send_message(message, None)
    elapsed = time.monotonic() - start
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT), info.value.message
    assert elapsed <= 2.0 + SLACK, "returned after %.3f s" % elapsed
    (conn,) = r.connections
    assert conn["stalled"], "the relay never stopped reading"
    assert server.message_count() == 0

    # The same transport, pointed at the server directly, sends again.
    config.set_field("smtpserverport", str(server.port))
    transport.send_message(make_message(config, subject="after the stall"), None)
    assert server.messages(1)[0].tls
