# DKIM signing (issue 19): every signature libmsgobj makes is checked by
# two independent verifiers, Python's dkim module (dkimpy, its dnsfunc hook
# answering with the test's key record, no DNS) and OpenDKIM's own
# (tests/dkim-verify.c, with libopendkim's key-query file). A tampered
# body or header must fail both, which proves the checks can fail.
import os
import re
import subprocess

import dkim
import pytest
from gi.repository import GLib, MsgObj

from msgobj_testing import run_async
from test_smtp import SmtpServer

TOOL = os.environ["MSGOBJ_TEST_TOOL"]
VERIFY = os.environ["MSGOBJ_TEST_DKIM_VERIFY"]
DOMAIN = "example.test"

ALGORITHMS = ["rsa-sha256", "ed25519-sha256"]


class Key:
    """A key pair made by `msgobj dkim-keygen`, and its DNS record."""

    def __init__(self, directory, algorithm, selector):
        self.algorithm = algorithm
        self.selector = selector
        out = subprocess.run([TOOL, "dkim-keygen", "--domain", DOMAIN, "--selector", selector,
                              "--algorithm", algorithm, "--output-dir", directory],
                             check=True, capture_output=True, text=True).stdout
        self.private = os.path.join(directory, selector + ".private")
        with open(os.path.join(directory, selector + ".txt")) as f:
            assert f.read() == out
        # The zone-file line: the record is its quoted strings, joined.
        assert out.startswith(selector + "._domainkey\tIN\tTXT\t( ")
        self.record = "".join(re.findall(r'"([^"]*)"', out)).encode()
        self.name = "%s._domainkey.%s" % (selector, DOMAIN)
        self.query_file = os.path.join(directory, selector + ".keys")
        with open(self.query_file, "w") as f:
            f.write("%s %s\n" % (self.name, self.record.decode()))

    def dnsfunc(self, name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        return self.record if name.rstrip(".") == self.name else None

    def verify_python(self, data):
        return dkim.verify(data, dnsfunc=self.dnsfunc)

    def verify_opendkim(self, data, directory):
        path = os.path.join(directory, "verify.eml")
        with open(path, "wb") as f:
            f.write(data)
        result = subprocess.run([VERIFY, self.query_file, path], capture_output=True, text=True)
        return result.returncode == 0, result.stdout

    def assert_verifies(self, data, directory):
        assert data.startswith(b"DKIM-Signature: ")
        assert self.verify_python(data), "dkimpy refused the signature"
        ok, out = self.verify_opendkim(data, directory)
        assert ok, "OpenDKIM refused the signature: " + out

    def assert_tampering_fails(self, data, directory):
        head, body = data.split(b"\r\n\r\n", 1)
        tampered_body = head + b"\r\n\r\n" + body.replace(b"e", b"E", 1)
        assert tampered_body != data
        tampered_subject = re.sub(rb"\r\nSubject: ", b"\r\nSubject: Re: ", data, count=1)
        assert tampered_subject != data
        for tampered in (tampered_body, tampered_subject):
            assert not self.verify_python(tampered)
            ok, out = self.verify_opendkim(tampered, directory)
            assert not ok, out


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("dkim-keys"))
    return {algorithm: Key(directory, algorithm, "s%d" % i) for i, algorithm in enumerate(ALGORITHMS)}


def signing_config(key, **fields):
    config = MsgObj.Configuration.new()
    config.set_field("dkimsign", "true")
    config.set_field("dkimdomain", DOMAIN)
    config.set_field("dkimselector", key.selector)
    config.set_field("dkimprivatekeyfile", key.private)
    config.set_field("dkimalgorithm", key.algorithm)
    for name, value in fields.items():
        config.set_field(name, value)
    return config


def pickup_config(key, directory, **fields):
    config = signing_config(key, **fields)
    config.set_field("sendusing", "pickup")
    config.set_field("smtpserverpickupdirectory", directory)
    return config


def text_message(config):
    message = MsgObj.Message.new_with_configuration(config)
    message.set_from("Alice <alice@example.test>")
    message.set_to("Bob <bob@example.test>")
    message.set_cc("carol@example.test")
    message.set_subject("A plain text message")
    message.set_text_body("Hello,\n\nthe body,  with   spaces \t and a trailing blank line.\n\n")
    return message


def html_message(config):
    message = text_message(config)
    message.set_subject("An HTML message")
    message.set_html_body("<html><body><p>Hello <b>world</b></p></body></html>")
    return message


def attachment_message(config):
    message = text_message(config)
    message.set_subject("With attachments")
    message.add_attachment_bytes(GLib.Bytes.new(bytes(range(256)) * 64), "data.bin",
                                 "application/octet-stream")
    message.add_attachment_bytes(GLib.Bytes.new(b"col1,col2\r\n1,2\r\n"), "table.csv", "text/csv")
    return message


def folded_message(config):
    message = text_message(config)
    # Non-ASCII: written as RFC 2047 encoded-words; long: folded by GMime.
    message.set_subject("Grüße aus Köln — " + "ein sehr langer Betreff, der umbrochen wird " * 3)
    message.set_to(", ".join("Empfänger %d <r%d@example.test>" % (i, i) for i in range(8)))
    message.set_header("References", " ".join("<ref%d@example.test>" % i for i in range(10)))
    return message


SHAPES = {
    "text": text_message,
    "html": html_message,
    "attachments": attachment_message,
    "folded-non-ascii": folded_message,
}


def sent_pickup_bytes(message):
    report = message.send(None)
    with open(report.get_pickup_file(), "rb") as f:
        return f.read()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_pickup_signatures_verify(keys, tmp_path, algorithm, shape):
    key = keys[algorithm]
    directory = str(tmp_path)
    data = sent_pickup_bytes(SHAPES[shape](pickup_config(key, directory)))
    assert ("a=%s;" % algorithm).encode() in data.split(b"\r\n\r\n", 1)[0]
    key.assert_verifies(data, directory)
    key.assert_tampering_fails(data, directory)


def signature_tags(data):
    header = data.split(b"\r\n\r\n", 1)[0].decode()
    value = re.match(r"DKIM-Signature: (.*?)\r\n(?![ \t])", header, re.S).group(1)
    value = re.sub(r"\s+", "", value)
    return dict(tag.split("=", 1) for tag in value.split(";") if tag)


def test_default_headers_oversigned_from_and_no_bcc(keys, tmp_path):
    key = keys["rsa-sha256"]
    message = folded_message(pickup_config(key, str(tmp_path)))
    message.set_bcc("hidden@example.test")
    message.set_reply_to("replies@example.test")
    data = sent_pickup_bytes(message)
    tags = signature_tags(data)
    signed = [name.lower() for name in tags["h"].split(":")]
    # From twice: the second, absent instance stops one being added.
    assert signed.count("from") == 2
    for name in ("to", "cc", "subject", "date", "message-id", "mime-version",
                 "content-type", "reply-to", "references"):
        assert name in signed, name
    assert "bcc" not in signed
    assert tags["c"] == "relaxed/relaxed"
    assert tags["d"] == DOMAIN and tags["s"] == key.selector
    assert "x" not in tags
    # The pickup file keeps Bcc for the MTA (docs/design.md, decision 6);
    # it is not signed, so the MTA removing it leaves the signature valid.
    assert b"\r\nBcc: hidden@example.test\r\n" in data
    key.assert_verifies(data, str(tmp_path))
    without_bcc = data.replace(b"Bcc: hidden@example.test\r\n", b"")
    key.assert_verifies(without_bcc, str(tmp_path))


def test_canonicalization_headers_and_expiry(keys, tmp_path):
    key = keys["rsa-sha256"]
    config = pickup_config(key, str(tmp_path), dkimcanonicalization="simple/simple",
                           dkimheaders="From, Subject, Date", dkimoversignfrom="false",
                           dkimexpiry="86400")
    data = sent_pickup_bytes(folded_message(config))
    tags = signature_tags(data)
    assert tags["c"] == "simple/simple"
    # Only the configured headers, each once (From not over-signed).
    assert sorted(n.lower() for n in tags["h"].split(":")) == ["date", "from", "subject"]
    assert int(tags["x"]) - int(tags["t"]) == 86400
    key.assert_verifies(data, str(tmp_path))
    key.assert_tampering_fails(data, str(tmp_path))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_smtp_without_8bitmime_signs_the_downgraded_message(keys, tmp_path, algorithm):
    key = keys[algorithm]
    server = SmtpServer(eightbitmime=False)
    try:
        config = signing_config(key)
        config.set_field("sendusing", "smtp")
        config.set_field("smtpserver", "127.0.0.1")
        config.set_field("smtpserverport", str(server.port))
        config.set_field("smtpconnectiontimeout", "5")
        message = folded_message(config)
        message.set_bcc("hidden@example.test")
        # 8-bit text with a line over 998 octets: re-encoded for a server
        # without 8BITMIME; a 7-bit part with a leading dot: dot-stuffed
        # on the wire, un-stuffed by the server.
        message.set_text_body("Grüße!\n" + "é" * 600 + "\n")
        message.add_attachment_bytes(GLib.Bytes.new(b".a line with a leading dot\r\n"), "dot.txt",
                                     "text/plain")
        message.send(None)
        (mail_from, rcpts, data), = server.messages
    finally:
        server.stop()
    assert "hidden@example.test" in rcpts
    # The server un-dot-stuffed the DATA: these are the signed bytes.
    assert all(byte < 128 for byte in data)
    assert b"Bcc" not in data
    assert b"Content-Transfer-Encoding: base64" in data or b"quoted-printable" in data
    assert b"\r\n.a line with a leading dot\r\n" in data
    key.assert_verifies(data, str(tmp_path))
    key.assert_tampering_fails(data, str(tmp_path))


def test_message_from_a_drop_directory_is_signed_again(keys, tmp_path):
    first, second = keys["rsa-sha256"], keys["ed25519-sha256"]
    os.makedirs(tmp_path / "a")
    os.makedirs(tmp_path / "b")
    data = sent_pickup_bytes(text_message(pickup_config(first, str(tmp_path / "a"))))
    path = tmp_path / "dropped.eml"
    path.write_bytes(data)
    message = MsgObj.Message.new_from_file(str(path))
    message.set_configuration(pickup_config(second, str(tmp_path / "b")))
    resigned = sent_pickup_bytes(message)
    assert resigned.count(b"DKIM-Signature: ") == 2
    second.assert_verifies(resigned, str(tmp_path))


def test_key_readable_by_others_is_refused_and_nothing_sent(keys, tmp_path):
    key = keys["rsa-sha256"]
    loose = tmp_path / "loose.private"
    loose.write_bytes(open(key.private, "rb").read())
    os.chmod(loose, 0o640)
    directory = tmp_path / "pickup"
    directory.mkdir()
    config = pickup_config(key, str(directory), dkimprivatekeyfile=str(loose))
    with pytest.raises(GLib.Error) as info:
        text_message(config).send(None)
    assert info.value.matches(MsgObj.ConfigurationError.quark(), MsgObj.ConfigurationError.INVALID_VALUE)
    assert str(loose) in info.value.message and "chmod 600" in info.value.message
    assert os.listdir(directory) == []


def test_invalid_key_is_refused_before_connecting(keys, tmp_path):
    bad = tmp_path / "bad.private"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    os.chmod(bad, 0o600)
    server = SmtpServer()
    try:
        config = signing_config(keys["rsa-sha256"], dkimprivatekeyfile=str(bad))
        config.set_field("sendusing", "smtp")
        config.set_field("smtpserver", "127.0.0.1")
        config.set_field("smtpserverport", str(server.port))
        with pytest.raises(GLib.Error) as info:
            text_message(config).send(None)
    finally:
        server.stop()
    assert str(bad) in info.value.message
    assert server.connections == 0 and server.messages == []


def test_send_dkim_option(keys, tmp_path):
    key = keys["ed25519-sha256"]
    directory = tmp_path / "pickup"
    directory.mkdir()
    result = subprocess.run([TOOL, "send", "--dkim",
                             "--set", "smtpserverpickupdirectory=%s" % directory,
                             "--set", "dkimdomain=" + DOMAIN,
                             "--set", "dkimselector=" + key.selector,
                             "--set", "dkimalgorithm=" + key.algorithm,
                             "--set", "dkimprivatekeyfile=" + key.private,
                             "--from", "alice@example.test", "--to", "bob@example.test",
                             "--subject", "From the command line", "--text", "Hello"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    data = (directory / os.listdir(directory)[0]).read_bytes()
    key.assert_verifies(data, str(tmp_path))


def test_keygen_refuses_to_overwrite(tmp_path):
    args = [TOOL, "dkim-keygen", "--domain", DOMAIN, "--selector", "once",
            "--algorithm", "ed25519-sha256", "--output-dir", str(tmp_path)]
    subprocess.run(args, check=True, capture_output=True)
    assert os.stat(tmp_path / "once.private").st_mode & 0o777 == 0o600
    result = subprocess.run(args, capture_output=True, text=True)
    assert result.returncode != 0 and "once.private" in result.stderr


def test_async_sends_on_one_transport_are_each_signed(keys, tmp_path):
    # Queued async sends: each is signed by its own operation's signer,
    # in the transport's worker thread, over one kept connection.
    key = keys["ed25519-sha256"]
    server = SmtpServer()
    try:
        config = signing_config(key)
        config.set_field("smtpserver", "127.0.0.1")
        config.set_field("smtpserverport", str(server.port))
        config.set_field("smtpconnectiontimeout", "5")
        transport = MsgObj.Transport.new_for_name("smtp", config)
        for shape in sorted(SHAPES):
            run_async(transport.send_message_async, transport.send_message_finish,
                      SHAPES[shape](config), None)
        transport.close(None)
        messages = list(server.messages)
    finally:
        server.stop()
    assert len(messages) == len(SHAPES)
    assert server.connections == 1
    for _, _, data in messages:
        key.assert_verifies(data, str(tmp_path))
