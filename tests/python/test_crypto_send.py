# Signing and encrypting at send time from Python (issue 19): the
# cryptoprotocol, cryptosign and cryptoencrypt fields, through the pickup
# and SMTP transports, with the real gpg and a throw-away keyring; DKIM,
# when on too, signs the sealed message, as dkimpy checks.
import os

import pytest
from gi.repository import GLib, MsgObj

from test_crypto import keyring, new_message  # noqa: F401 (a fixture)
from test_dkim import Key, signing_config
from test_smtp import SmtpServer


@pytest.fixture(scope="module")
def dkim_key(tmp_path_factory):
    return Key(str(tmp_path_factory.mktemp("dkim-keys")), "ed25519-sha256", "crypto")


def configured(message, config):
    message.set_configuration(config)
    return message


def test_fields_and_default_protocol(keyring):
    config = MsgObj.Configuration.new()
    assert config.get_field("cryptoprotocol") == "openpgp"
    assert config.get_field("cryptosign") == ""
    assert config.get_boolean("cryptoencrypt") is False
    with pytest.raises(GLib.Error) as info:
        config.set_field("cryptoprotocol", "pgp")
    assert "cryptoprotocol" in info.value.message
    with pytest.raises(GLib.Error) as info:
        config.set_field("cryptosign", "alice@example.org; bob@example.org")
    assert "one signing key" in info.value.message

    message = configured(new_message(), config)
    # No signer given and none configured: a clear error, not a crash.
    with pytest.raises(GLib.Error) as info:
        message.sign(MsgObj.CryptoProtocol.DEFAULT, None, None)
    assert info.value.matches(MsgObj.crypto_error_quark(), MsgObj.CryptoError.NO_KEY)
    assert "cryptosign" in info.value.message
    config.set_field("cryptosign", "alice@example.org")
    assert message.sign(MsgObj.CryptoProtocol.DEFAULT, None, None)
    [signature] = MsgObj.Message.new_from_bytes(message.to_bytes()).verify(None)
    assert signature.get_status() == MsgObj.SignatureStatus.GOOD
    assert signature.get_protocol() == MsgObj.CryptoProtocol.OPENPGP


def test_pickup_sign_and_encrypt(keyring, tmp_path):
    config = MsgObj.Configuration.new()
    config.set_field("sendusing", "pickup")
    config.set_field("smtpserverpickupdirectory", str(tmp_path))
    config.set_field("cryptosign", "alice@example.org")
    config.set_field("cryptoencrypt", "true")
    message = configured(new_message(), config)
    message.set_bcc("carol@example.org")
    before = message.to_bytes().get_data()
    report = message.send(None)
    with open(report.get_pickup_file(), "rb") as f:
        sent = f.read()
    assert b"multipart/encrypted" in sent and "Köln".encode() not in sent
    clear, signatures = MsgObj.Message.new_from_bytes(GLib.Bytes.new(sent)).decrypt(None)
    assert "Grüße aus Köln" in clear.get_text_body()
    assert [s.get_status() for s in signatures] == [MsgObj.SignatureStatus.GOOD]
    # The caller's message is left as it was.
    after = message.to_bytes().get_data()
    assert b"multipart/encrypted" not in after and b"multipart/signed" not in after
    # (the send added Date and Message-ID: compare the bodies)
    assert before.split(b"\r\n\r\n", 1)[1] == after.split(b"\r\n\r\n", 1)[1]


def test_missing_key_sends_nothing(keyring, tmp_path):
    config = MsgObj.Configuration.new()
    config.set_field("sendusing", "pickup")
    config.set_field("smtpserverpickupdirectory", str(tmp_path))
    config.set_field("cryptoencrypt", "true")
    message = configured(new_message(), config)
    message.set_bcc("nobody@example.org")
    with pytest.raises(GLib.Error) as info:
        message.send(None)
    assert info.value.matches(MsgObj.crypto_error_quark(), MsgObj.CryptoError.NO_KEY)
    assert "nobody@example.org" in info.value.message
    assert os.listdir(tmp_path) == []

    server = SmtpServer()
    try:
        config.set_field("sendusing", "smtp")
        config.set_field("smtpserver", "127.0.0.1")
        config.set_field("smtpserverport", str(server.port))
        with pytest.raises(GLib.Error) as info:
            message.send(None)
    finally:
        server.stop()
    assert "nobody@example.org" in info.value.message
    assert server.connections == 0 and server.messages == []


def test_smtp_dkim_signs_the_sealed_message(keyring, dkim_key, tmp_path):
    server = SmtpServer(eightbitmime=False)
    try:
        config = signing_config(dkim_key)
        config.set_field("sendusing", "smtp")
        config.set_field("smtpserver", "127.0.0.1")
        config.set_field("smtpserverport", str(server.port))
        config.set_field("smtpconnectiontimeout", "5")
        config.set_field("cryptoprotocol", "openpgp")
        config.set_field("cryptosign", "alice@example.org")
        configured(new_message(), config).send(None)
    finally:
        server.stop()
    [(_, _, data)] = server.messages
    # DKIM came last: its field heads the message, it covers the
    # multipart/signed as sent, and the PGP/MIME signature inside holds.
    dkim_key.assert_verifies(data, str(tmp_path))
    dkim_key.assert_tampering_fails(data, str(tmp_path))
    assert b"multipart/signed" in data
    [signature] = MsgObj.Message.new_from_bytes(GLib.Bytes.new(data)).verify(None)
    assert signature.get_status() == MsgObj.SignatureStatus.GOOD
    assert signature.get_address() == "alice@example.org"
