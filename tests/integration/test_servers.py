# The servers themselves, driven by Python's smtplib: when these fail, the
# fixtures are broken, not libmsgobj.
import smtplib
import ssl

import pytest

MESSAGE = (b"From: a@example.test\r\nTo: b@example.test\r\nSubject: fixture\r\n"
           b"Message-ID: <fixture@example.test>\r\n\r\nline\r\n.dot\r\n")


def test_smtp_sink_dump(smtp_sink):
    with smtplib.SMTP("127.0.0.1", smtp_sink.port, local_hostname="client.test") as s:
        s.sendmail("a@example.test", ["b@example.test", "c@example.test"], MESSAGE)
        s.sendmail("a@example.test", ["b@example.test"], MESSAGE.replace(b"<fixture@", b"<two@"))
    transactions = smtp_sink.transactions(2)
    t = smtp_sink.transaction_for(transactions, "fixture@example.test")
    assert t.mail_from == "<a@example.test>"
    assert t.rcpt_to == ["<b@example.test>", "<c@example.test>"]
    assert t.helo == "client.test"
    # smtp-sink undoes the dot-stuffing, drops the CRs and adds an empty line.
    assert t.message == MESSAGE.replace(b"\r\n", b"\n") + b"\n"
    assert smtp_sink.transaction_for(transactions, "two@example.test").rcpt_to == ["<b@example.test>"]
    smtp_sink.wait_counters(sess=1, quit=1, mesg=2)


def test_aiosmtpd_starttls_auth(aiosmtpd, test_ca):
    server = aiosmtpd("--tls-cert", test_ca.cert, "--tls-key", test_ca.key,
                      "--require-starttls", "--auth", "alice:s3cret",
                      "--reject", "nobody@example.test")
    context = ssl.create_default_context(cafile=test_ca.ca_cert)
    with smtplib.SMTP("127.0.0.1", server.port) as s:
        s.ehlo()
        assert not s.has_extn("auth")
        with pytest.raises(smtplib.SMTPSenderRefused) as info:
            s.sendmail("a@example.test", ["b@example.test"], MESSAGE)
        assert info.value.smtp_code == 530
        s.starttls(context=context)
        s.ehlo()
        assert s.has_extn("auth")
        with pytest.raises(smtplib.SMTPAuthenticationError) as info:
            s.login("alice", "wrong")
        assert info.value.smtp_code == 535
        s.login("alice", "s3cret")
        refused = s.sendmail("a@example.test", ["b@example.test", "nobody@example.test"], MESSAGE)
        assert refused["nobody@example.test"][0] == 550
    (received,) = server.messages(1)
    assert received.tls and received.auth["login"] == "alice"
    assert received.rcpt_tos == ["b@example.test"]
    assert received.content == MESSAGE  # dot-unstuffed, CRLF kept
    # smtplib tries each offered mechanism before it gives up.
    assert [e[2] for e in server.auth_log()] == ["fail", "fail", "ok"]


def test_aiosmtpd_pipelining(aiosmtpd):
    server = aiosmtpd("--pipelining", "--reject", "nobody@example.test")
    with smtplib.SMTP("127.0.0.1", server.port, local_hostname="client.test") as s:
        s.ehlo()
        assert s.has_extn("pipelining")
        refused = s.sendmail("a@example.test", ["b@example.test", "nobody@example.test"], MESSAGE)
        assert refused["nobody@example.test"][0] == 550
    (received,) = server.messages(1)
    assert received.helo == "client.test"
    assert received.rcpt_tos == ["b@example.test"]


def test_aiosmtpd_plaintext_auth(aiosmtpd):
    server = aiosmtpd("--auth", "bob:pw", "--auth-plaintext")
    with smtplib.SMTP("127.0.0.1", server.port) as s:
        s.ehlo()
        assert s.has_extn("auth") and not s.has_extn("starttls")
        s.login("bob", "pw")
        s.sendmail("a@example.test", ["b@example.test"], MESSAGE)
    (received,) = server.messages(1)
    assert not received.tls and received.auth["login"] == "bob"


def test_relay_tells_pipelining(smtp_sink, relay):
    # smtplib waits for each reply: holding the replies back stalls it.
    lockstep = relay(smtp_sink.port, hold=True, hold_timeout=1)
    with smtplib.SMTP("127.0.0.1", lockstep.port) as s:
        s.sendmail("a@example.test", ["b@example.test"], MESSAGE)
    assert lockstep.held_too_long
    # A client that sends MAIL, RCPT and DATA at once is not held up.
    pipelined = relay(smtp_sink.port, hold=True)
    import socket
    with socket.create_connection(("127.0.0.1", pipelined.port)) as s:
        f = s.makefile("rb")
        assert f.readline().startswith(b"220 ")
        s.sendall(b"EHLO client.test\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        s.sendall(b"MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
        assert [f.readline()[:3] for _ in range(3)] == [b"250", b"250", b"354"]
        s.sendall(MESSAGE.replace(b"<fixture@", b"<piped@") + b".\r\nQUIT\r\n")
        assert f.readline()[:3] == b"250"
    assert not pipelined.held_too_long
    transactions = smtp_sink.transactions(2)
    smtp_sink.transaction_for(transactions, "piped@example.test")
