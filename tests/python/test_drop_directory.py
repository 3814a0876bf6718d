# The drop directory from Python: CDO's IDropDirectory.GetMessages and
# IMessages, and claims that hold across processes.
import os
import subprocess
import sys
import textwrap

import pytest
from gi.repository import Gio, GLib, MsgObj


def write_message(directory, name, subject=None):
    with open(os.path.join(directory, name), "wb") as f:
        f.write(b"From: alice@example.test\r\nTo: bob@example.test\r\n"
                b"Subject: " + (subject or name).encode() + b"\r\n\r\nbody\r\n")


def test_get_messages(tmp_dir):
    for name in ("b.eml", "a.eml"):
        write_message(tmp_dir, name)
    with open(os.path.join(tmp_dir, ".a.eml.tmp"), "w") as f:
        f.write("partial")
    with open(os.path.join(tmp_dir, "bad.eml"), "w") as f:
        f.write("")

    directory = MsgObj.DropDirectory.new(tmp_dir)
    messages = directory.get_messages(None)
    assert messages.get_item_type() == MsgObj.DropMessage.__gtype__
    names = [item.get_name() for item in messages]
    assert names == ["a.eml", "b.eml", "bad.eml"]
    assert not any(item.is_parsed() for item in messages)

    message = messages[0].get_message()
    assert message.get_subject() == "a.eml"
    assert messages[0].get_message() is message
    with pytest.raises(GLib.Error) as excinfo:
        messages[2].get_message()
    assert excinfo.value.matches(MsgObj.MessageError.quark(), MsgObj.MessageError.PARSE)
    assert "bad.eml" in excinfo.value.message

    messages[1].delete()
    assert not os.path.exists(os.path.join(tmp_dir, "b.eml"))
    assert directory.delete_all(None) == (True, 2)
    assert os.listdir(tmp_dir) == [".a.eml.tmp"]


def test_for_file_and_move(tmp_dir):
    write_message(tmp_dir, "m.eml")
    directory = MsgObj.DropDirectory.new_for_file(Gio.File.new_for_path(tmp_dir))
    assert directory.get_path() == tmp_dir
    item = directory.get_messages(None)[0]
    assert item.claim()
    assert item.is_claimed()
    assert [i.get_name() for i in directory.get_messages(None)] == []
    moved = item.move_to("failed")
    assert moved.get_path() == os.path.join(tmp_dir, "failed", "m.eml")
    assert not item.is_claimed()


CLAIMER = textwrap.dedent("""
    import sys
    import gi
    gi.require_version("MsgObj", "1.0")
    from gi.repository import GLib, MsgObj
    directory = MsgObj.DropDirectory.new(sys.argv[1])
    for item in directory.get_messages(None):
        try:
            item.claim()
        except GLib.Error:
            continue
        print(item.get_name(), flush=True)
        item.delete()
""")


def test_two_processes_never_claim_one_file(tmp_dir):
    names = ["%04d.eml" % i for i in range(400)]
    for name in names:
        write_message(tmp_dir, name)
    claimers = [subprocess.Popen([sys.executable, "-c", CLAIMER, tmp_dir],
                                 stdout=subprocess.PIPE, text=True)
                for _ in range(3)]
    outputs = [c.communicate(timeout=120)[0].split() for c in claimers]
    assert all(c.returncode == 0 for c in claimers)
    claimed = [name for output in outputs for name in output]
    assert sorted(claimed) == names  # each exactly once
    assert os.listdir(tmp_dir) == []


def test_dead_claimer_is_recovered(tmp_dir):
    write_message(tmp_dir, "a.eml")
    script = textwrap.dedent("""
        import os, sys
        import gi
        gi.require_version("MsgObj", "1.0")
        from gi.repository import MsgObj
        item = MsgObj.DropDirectory.new(sys.argv[1]).get_messages(None)[0]
        item.claim()
        os._exit(0)
    """)
    subprocess.run([sys.executable, "-c", script, tmp_dir], check=True, timeout=60)
    directory = MsgObj.DropDirectory.new(tmp_dir)
    assert [i.get_name() for i in directory.get_messages(None)] == []
    assert directory.recover_claims(None, None) == (True, 1, 0)
    assert [i.get_name() for i in directory.get_messages(None)] == ["a.eml"]


def test_flusher_rate_limit_and_relays(tmp_dir):
    # The flusher's rate limit is a property (as `msgobj flush --limit`),
    # and a list of relays is a value of smtpserver, from Python too.
    outbox = os.path.join(tmp_dir, "outbox")
    pickup = os.path.join(tmp_dir, "pickup")
    os.mkdir(outbox)
    os.mkdir(pickup)
    for i in range(3):
        write_message(outbox, "m%d.eml" % i)
    config = MsgObj.Configuration.new()
    config.set_field("sendusing", "pickup")
    config.set_field("smtpserverpickupdirectory", pickup)
    flusher = MsgObj.Flusher.new(config, MsgObj.DropDirectory.new(outbox))
    assert flusher.props.rate_limit == 0
    flusher.props.rate_limit = 1000
    flusher.set_rate_limit(500.5)
    assert flusher.get_rate_limit() == 500.5
    assert flusher.run(None)
    assert flusher.get_n_sent() == 3
    assert len(os.listdir(pickup)) == 3

    relays = MsgObj.Configuration.new()
    relays.set_field("smtpserver", "relay1.example.org,relay2.example.org:587")
    assert relays.get_field("smtpserver") == "relay1.example.org, relay2.example.org:587"
    relays.set_field("smtprelaymode", "spread")
    assert relays.get_int("smtprelaymode") == 1
    assert MsgObj.TransportError.RECIPIENTS_DEFERRED != MsgObj.TransportError.RECIPIENTS_REJECTED


def test_flusher_post(tmp_dir):
    # Post mode from Python: a directory of articles posted through
    # postusing (here the news pickup), an article without Newsgroups set
    # aside in failed/; sendusing is not read.
    outbox = os.path.join(tmp_dir, "outbox")
    news = os.path.join(tmp_dir, "news")
    os.mkdir(outbox)
    os.mkdir(news)
    for i in range(3):
        with open(os.path.join(outbox, "a%d.eml" % i), "wb") as f:
            f.write(b"From: alice@example.test\r\nNewsgroups: local.test\r\n"
                    b"Subject: article %d\r\n\r\nbody\r\n" % i)
    with open(os.path.join(outbox, "lost.eml"), "wb") as f:
        f.write(b"From: alice@example.test\r\nSubject: no groups\r\n\r\nbody\r\n")
    config = MsgObj.Configuration.new()
    config.set_field("sendusing", "nntp")
    config.set_field("postusing", "pickup")
    config.set_field("nntpserverpickupdirectory", news)
    flusher = MsgObj.Flusher.new(config, MsgObj.DropDirectory.new(outbox))
    assert flusher.props.post is False
    flusher.props.post = True
    assert flusher.get_post()
    assert flusher.run(None)
    assert flusher.get_n_sent() == 3
    assert flusher.get_n_failed() == 1
    assert len([n for n in os.listdir(news) if n.endswith(".eml")]) == 3
    assert sorted(n for n in os.listdir(outbox) if n.endswith(".eml")) == []
    assert "lost.eml" in os.listdir(os.path.join(outbox, "failed"))
    for name in os.listdir(news):
        with open(os.path.join(news, name), "rb") as f:
            assert b"Newsgroups: local.test\r\n" in f.read()


def test_flusher_deferral_error(tmp_dir):
    # Why a run left messages for later, from Python: the relay refused.
    import socket
    # Bound, never listening, and kept bound: connecting is refused and no
    # parallel test's server can take the port meanwhile.
    refuser = socket.socket()
    refuser.bind(("127.0.0.1", 0))
    port = refuser.getsockname()[1]
    write_message(tmp_dir, "m.eml")
    config = MsgObj.Configuration.new()
    config.set_field("sendusing", "smtp")
    config.set_field("smtpserver", "127.0.0.1")
    config.set_field("smtpserverport", str(port))
    flusher = MsgObj.Flusher.new(config, MsgObj.DropDirectory.new(tmp_dir))
    assert flusher.dup_deferral_error() is None
    assert flusher.run(None)
    assert flusher.get_n_deferred() == 1
    error = flusher.dup_deferral_error()
    assert error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CONNECTION_REFUSED)
    assert "127.0.0.1:%d" % port in error.message
    assert os.path.exists(os.path.join(tmp_dir, "m.eml"))
    refuser.close()
