# MsgFlusher (msgobj flush) against Postfix's smtp-sink: every message of a
# drop directory arrives once, over several connections, and the directory
# is left empty; two flushers at once do not send any message twice.
import os
import re
import threading

from gi.repository import MsgObj

from conftest import smtp_config


def write_messages(directory, count, prefix="m"):
    for i in range(count):
        subject = "%s%04d" % (prefix, i)
        with open(os.path.join(directory, subject + ".eml"), "wb") as f:
            f.write(b"From: alice@example.test\r\nTo: bob@example.test\r\n"
                    b"Bcc: hidden@example.test\r\n"
                    b"Subject: " + subject.encode() + b"\r\n\r\nbody\r\n")


def subjects(transactions):
    found = []
    for t in transactions:
        m = re.search(rb"^Subject: (\S+)$", t.message, re.MULTILINE)
        assert m, t.message
        found.append(m.group(1).decode())
    return sorted(found)


def test_flush_to_smtp_sink(smtp_sink, tmp_path):
    write_messages(str(tmp_path), 120)
    flusher = MsgObj.Flusher.new(smtp_config(smtp_sink.port),
                                 MsgObj.DropDirectory.new(str(tmp_path)))
    flusher.set_connections(4)
    assert flusher.run(None)
    assert flusher.get_n_sent() == 120
    transactions = smtp_sink.transactions(120)
    assert subjects(transactions) == ["m%04d" % i for i in range(120)]
    for t in transactions:
        assert any("hidden@example.test" in a for a in t.rcpt_to)
        assert b"hidden@" not in t.message
    assert smtp_sink.counters()["sess"] <= 4
    assert os.listdir(str(tmp_path)) == []


def test_two_flushers_to_smtp_sink(smtp_sink, tmp_path):
    write_messages(str(tmp_path), 200)
    flushers = [MsgObj.Flusher.new(smtp_config(smtp_sink.port),
                                   MsgObj.DropDirectory.new(str(tmp_path)))
                for _ in range(2)]
    threads = [threading.Thread(target=f.run, args=(None,)) for f in flushers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(f.get_n_sent() for f in flushers) == 200
    assert subjects(smtp_sink.transactions(200)) == ["m%04d" % i for i in range(200)]
    assert os.listdir(str(tmp_path)) == []
