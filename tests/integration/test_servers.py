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
    counters = smtp_sink.counters()
    assert counters["sess"] == 1 and counters["mesg"] == 2


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


def test_aiosmtpd_plaintext_auth(aiosmtpd):
    server = aiosmtpd("--auth", "bob:pw", "--auth-plaintext")
    with smtplib.SMTP("127.0.0.1", server.port) as s:
        s.ehlo()
        assert s.has_extn("auth") and not s.has_extn("starttls")
        s.login("bob", "pw")
        s.sendmail("a@example.test", ["b@example.test"], MESSAGE)
    (received,) = server.messages(1)
    assert not received.tls and received.auth["login"] == "bob"
