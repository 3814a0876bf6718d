# The out-of-tree sendmail transport (examples/sendmail-transport), loaded
# by name from its installed module, against fake sendmail programs.
# Run by tests/check-sendmail-transport.sh.
import email
import email.policy
import os
import threading
import time

import gi

gi.require_version("MsgObj", "1.0")
import pytest  # noqa: E402
from gi.repository import Gio, GLib, MsgObj  # noqa: E402

from msgobj_testing import run_async  # noqa: E402

# Timing bounds are generous (a loaded machine, valgrind-like slowness):
# they only tell "stopped at the deadline" from "waited for the child".
SCALE = float(os.environ.get("MSGOBJ_TEST_TIME_SCALE", "1"))


def fake_sendmail(tmp_path, body):
    path = tmp_path / "sendmail"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


RECORDER = """echo $$ > "$(dirname "$0")/pid"
printf '%s\\n' "$@" > "$(dirname "$0")/args"
cat > "$(dirname "$0")/stdin"
echo "queued as FAKE1"
"""

HANGER = """echo $$ > "$(dirname "$0")/pid"
exec sleep 600
"""


def make_message(program, **fields):
    config = MsgObj.Configuration.new()
    config.set_field("sendusing", "sendmail")
    config.set_field("sendmailpath", program)
    for name, value in fields.items():
        config.set_field(name, value)
    message = MsgObj.Message.new_with_configuration(config)
    message.set_from("Alice <alice@example.test>")
    message.set_to("Bob <bob@example.test>, carol@example.test")
    message.set_bcc("hidden@example.test")
    message.set_subject("Through sendmail")
    message.set_text_body("Hello.\n.\nA lone dot above.\n")
    return message


def assert_reaped(tmp_path):
    pid = int((tmp_path / "pid").read_text())
    # A zombie would still answer kill(pid, 0): reaped means gone.
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_registered():
    assert "sendmail" in MsgObj.Transport.list_names()
    assert MsgObj.Configuration.get_field_type("sendmailpath") == MsgObj.FieldType.PATH


def test_send(tmp_path):
    report = make_message(fake_sendmail(tmp_path, RECORDER)).send(None)
    assert report.get_transport_name() == "sendmail"
    assert report.get_server_response() == "queued as FAKE1"
    assert sorted(report.get_accepted_recipients()) == [
        "bob@example.test", "carol@example.test", "hidden@example.test"]
    args = (tmp_path / "args").read_text().split("\n")[:-1]
    assert args[:4] == ["-i", "-f", "alice@example.test", "--"]
    assert sorted(args[4:]) == ["bob@example.test", "carol@example.test", "hidden@example.test"]
    data = (tmp_path / "stdin").read_bytes()
    assert b"\r" not in data
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert parsed["Subject"] == "Through sendmail"
    assert parsed["Bcc"] is None
    assert parsed["Message-ID"] == report.get_message_id()
    assert "\n.\n" in parsed.get_content()
    assert_reaped(tmp_path)


def test_send_async_kept_transport(tmp_path):
    message = make_message(fake_sendmail(tmp_path, RECORDER))
    transport = MsgObj.Transport.new_for_name("sendmail", message.get_configuration())
    for _ in range(2):
        report = run_async(transport.send_message_async, transport.send_message_finish,
                           make_message(fake_sendmail(tmp_path, RECORDER)), None)
        assert report.get_server_response() == "queued as FAKE1"


def test_refused(tmp_path):
    program = fake_sendmail(tmp_path, "echo 'no such user' >&2\nexit 67\n")
    with pytest.raises(GLib.Error) as info:
        make_message(program).send(None)
    assert info.value.matches(MsgObj.TransportError.quark(),
                              MsgObj.TransportError.MESSAGE_REJECTED)
    assert "exit status 67" in info.value.message and "no such user" in info.value.message


def test_temporary_failure(tmp_path):
    program = fake_sendmail(tmp_path, "cat >/dev/null\necho 'queue full'\nexit 75\n")
    with pytest.raises(GLib.Error) as info:
        make_message(program).send(None)
    assert info.value.matches(MsgObj.TransportError.quark(),
                              MsgObj.TransportError.TEMPORARY_FAILURE)


def test_missing_program(tmp_path):
    with pytest.raises(GLib.Error) as info:
        make_message(str(tmp_path / "no-such-sendmail")).send(None)
    assert "no-such-sendmail" in info.value.message


def test_hanging_program_times_out_and_is_reaped(tmp_path):
    program = fake_sendmail(tmp_path, HANGER)
    start = time.monotonic()
    with pytest.raises(GLib.Error) as info:
        make_message(program, sendmailtimeout="1").send(None)
    elapsed = time.monotonic() - start
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT)
    # The deadline is 1 s; the child sleeps 600 s.
    assert elapsed < 30 * SCALE
    assert_reaped(tmp_path)


def test_cancel_kills_and_reaps(tmp_path):
    program = fake_sendmail(tmp_path, HANGER)
    cancellable = Gio.Cancellable()

    def cancel_when_started():
        for _ in range(3000):
            if (tmp_path / "pid").exists():
                break
            time.sleep(0.01)
        cancellable.cancel()

    threading.Thread(target=cancel_when_started, daemon=True).start()
    message = make_message(program)
    with pytest.raises(GLib.Error) as info:
        run_async(message.send_async, message.send_finish, cancellable)
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED)
    assert_reaped(tmp_path)
