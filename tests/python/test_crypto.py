# PGP/MIME from Python (issue 19): the same calls as tests/test-crypto.c,
# with the real gpg and a throw-away keyring, and the library's own
# passphrase function, which GMime's cannot offer to Python.
import os
import shutil
import subprocess
import tempfile
import threading
import time

import pytest
from gi.repository import Gio, GLib, MsgObj


def gpg(home, *args):
    env = dict(os.environ, GNUPGHOME=home)
    return subprocess.run(["gpg", "--batch", "--no-tty", *args], env=env, check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def keyring():
    # The ASan pass (build-aux/run-tests.sh) preloads the sanitizer runtime
    # into python3; gpg, gpg-agent and gpgsm, which are not built with it,
    # must not inherit it: with it they hang at start in glibc's gettext
    # lock (docs/promise.md). Neither these subprocess calls nor GPGME's
    # (which reads the C environment) pass it on once it is unset.
    preload = os.environ.pop("LD_PRELOAD", None)
    # Short, in /tmp: gpg-agent's sockets live in the home directory.
    home = tempfile.mkdtemp(prefix="msgobj-gpg-", dir="/tmp")
    with open(os.path.join(home, "gpg-agent.conf"), "w") as f:
        f.write("allow-loopback-pinentry\ndefault-cache-ttl 0\nmax-cache-ttl 0\n")
    for uid, passphrase in [("Alice <alice@example.org>", ""), ("Bob <bob@example.org>", ""),
                            ("Carol <carol@example.org>", "carol secret")]:
        gpg(home, "--pinentry-mode", "loopback", "--passphrase", passphrase,
            "--quick-gen-key", uid, "future-default", "default", "never")
    saved = os.environ.get("GNUPGHOME")
    os.environ["GNUPGHOME"] = home
    yield home
    if saved is None:
        del os.environ["GNUPGHOME"]
    else:
        os.environ["GNUPGHOME"] = saved
    # gpgconf --kill returns before the agent exits: wait for its PID.
    env = dict(os.environ, GNUPGHOME=home)
    out = subprocess.run(["gpg-connect-agent", "--no-autostart", "GETINFO pid", "/bye"], env=env,
                         capture_output=True, text=True).stdout
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, check=True)
    if out.startswith("D "):
        proc = "/proc/%d" % int(out.split()[1])
        deadline = time.monotonic() + 10
        while os.path.exists(proc) and time.monotonic() < deadline:
            time.sleep(0.02)
    shutil.rmtree(home)
    if preload is not None:
        os.environ["LD_PRELOAD"] = preload


def new_message():
    message = MsgObj.Message.new()
    message.set_from("Alice <alice@example.org>")
    message.set_to("Bob <bob@example.org>")
    message.set_subject("Grüße")
    message.set_text_body("Grüße aus Köln, it is sunny and warm in the city today.\n")
    return message


def reparse(message):
    return MsgObj.Message.new_from_bytes(message.to_bytes())


def test_sign_verify(keyring):
    message = new_message()
    assert message.sign(MsgObj.CryptoProtocol.OPENPGP, "alice@example.org", None)
    data = message.to_bytes().get_data()
    assert b"multipart/signed" in data
    assert all(b < 0x80 for b in data)
    signatures = reparse(message).verify(None)
    assert len(signatures) == 1
    assert signatures[0].get_status() == MsgObj.SignatureStatus.GOOD
    assert signatures[0].props.address == "alice@example.org"
    assert signatures[0].props.fingerprint != ""

    # A changed body verifies BAD (quoted-printable keeps the word).
    assert b"sunny" in data
    tampered = MsgObj.Message.new_from_bytes(GLib.Bytes.new(data.replace(b"sunny", b"rainy")))
    assert tampered.verify(None)[0].get_status() == MsgObj.SignatureStatus.BAD


def test_encrypt_decrypt(keyring):
    message = new_message()
    assert message.sign_and_encrypt(MsgObj.CryptoProtocol.OPENPGP, "alice@example.org",
                                    ["bob@example.org"], None)
    assert b"sunny" not in message.to_bytes().get_data()
    clear, signatures = reparse(message).decrypt(None)
    assert "it is sunny" in clear.get_text_body()
    assert clear.get_subject() == "Grüße"
    assert [s.get_status() for s in signatures] == [MsgObj.SignatureStatus.GOOD]

    with pytest.raises(GLib.Error) as failure:
        clear.decrypt(None)
    assert failure.value.matches(MsgObj.crypto_error_quark(), MsgObj.CryptoError.NOT_ENCRYPTED)


def test_passphrase_function(keyring):
    message = new_message()
    start = time.monotonic()
    with pytest.raises(GLib.Error) as failure:
        message.sign(MsgObj.CryptoProtocol.OPENPGP, "carol@example.org", None)
    assert failure.value.matches(MsgObj.crypto_error_quark(), MsgObj.CryptoError.NO_PASSPHRASE)
    # No prompt: two gpg runs, well under a second (scaled for slow runs).
    assert time.monotonic() - start < 1.0 * float(os.environ.get("MSGOBJ_TEST_TIME_SCALE", "1"))

    asked = []

    def passphrase(key, previous_failed):
        # Called in the caller's thread (decision 18).
        assert threading.current_thread() is threading.main_thread()
        asked.append(key)
        return None if previous_failed else "carol secret"

    message.get_configuration().set_passphrase_func(passphrase)
    assert message.sign(MsgObj.CryptoProtocol.OPENPGP, "carol@example.org", None)
    assert len(asked) == 1 and "carol@example.org" in asked[0]
    assert message.verify(None)[0].get_status() == MsgObj.SignatureStatus.GOOD


def test_cancel(keyring):
    message = new_message()
    cancellable = Gio.Cancellable.new()

    def passphrase(key, previous_failed):
        # A person who cancels while asked; the passphrase that comes
        # afterwards is not used.
        cancellable.cancel()
        return "carol secret"

    message.get_configuration().set_passphrase_func(passphrase)
    with pytest.raises(GLib.Error) as failure:
        message.sign(MsgObj.CryptoProtocol.OPENPGP, "carol@example.org", cancellable)
    assert failure.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED)
    assert b"multipart/signed" not in message.to_bytes().get_data()


def test_async(keyring):
    from msgobj_testing import run_async

    message = new_message()
    assert run_async(message.sign_async, message.sign_finish, MsgObj.CryptoProtocol.OPENPGP,
                     "alice@example.org", None)
    parsed = reparse(message)
    signatures = run_async(parsed.verify_async, parsed.verify_finish, None)
    assert [s.get_status() for s in signatures] == [MsgObj.SignatureStatus.GOOD]

    # The passphrase function of an _async call runs in the caller's
    # thread too, in its main context.
    asked = []

    def passphrase(key, previous_failed):
        asked.append(threading.current_thread())
        return "carol secret"

    message = new_message()
    message.get_configuration().set_passphrase_func(passphrase)
    assert run_async(message.sign_async, message.sign_finish, MsgObj.CryptoProtocol.OPENPGP,
                     "carol@example.org", None)
    assert asked == [threading.main_thread()]

    message = new_message()
    assert run_async(message.encrypt_async, message.encrypt_finish, MsgObj.CryptoProtocol.OPENPGP, None, None)
    parsed = reparse(message)
    clear, signatures = run_async(parsed.decrypt_async, parsed.decrypt_finish, None)
    assert "it is sunny" in clear.get_text_body()
    assert signatures == []
