# MsgFlusher (msgobj flush) against Postfix's smtp-sink: every message of a
# drop directory arrives once, over several connections, and the directory
# is left empty; two flushers at once do not send any message twice. In
# post mode, against a private INN (inn_server.py, started as root): every
# article of the directory is posted once.
import os
import re
import threading
import uuid

import pytest
from gi.repository import MsgObj

from conftest import smtp_config, wait_until
from inn_server import InnServer, NntpReader

NEWS_GROUP = "local.test"


@pytest.fixture(scope="module")
def inn():
    with InnServer(groups=[NEWS_GROUP]) as server:
        yield server


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


def high_water(server, group=NEWS_GROUP):
    """The group's high-water mark: 211 COUNT LOW HIGH GROUP."""
    with NntpReader(server.port) as reader:
        reply = reader.command("GROUP " + group)
    assert reply.startswith(b"211"), reply
    return int(reply.split()[3])


def write_articles(directory, count):
    for i in range(count):
        name = "a%04d" % i
        message_id = "<%s.%s@msgobj.example.test>" % (name, uuid.uuid4().hex)
        with open(os.path.join(directory, name + ".eml"), "wb") as f:
            f.write(b"From: Alice Poster <alice@example.test>\r\n"
                    b"Newsgroups: " + NEWS_GROUP.encode() + b"\r\n"
                    b"Subject: flushed " + name.encode() + b"\r\n"
                    b"Message-ID: " + message_id.encode() + b"\r\n"
                    b"\r\nbody of " + name.encode() + b"\r\n")


def test_flush_post_to_inn(inn, tmp_path):
    config = MsgObj.Configuration.new()
    config.set_field("postusing", "nntp")
    config.set_field("nntpserver", "127.0.0.1")
    config.set_field("nntpserverport", str(inn.port))
    config.set_field("nntpconnectiontimeout", "20")
    config.set_field("nntpstarttls", "never")
    before = high_water(inn)
    write_articles(str(tmp_path), 40)
    flusher = MsgObj.Flusher.new(config, MsgObj.DropDirectory.new(str(tmp_path)))
    flusher.set_post(True)
    flusher.set_connections(4)
    assert flusher.run(None)
    assert (flusher.get_n_sent(), flusher.get_n_failed(), flusher.get_n_deferred(),
            flusher.get_n_unknown(), flusher.get_n_skipped()) == (40, 0, 0, 0, 0)
    assert os.listdir(str(tmp_path)) == []
    # innd files each article before nnrpd answers 240; polled all the same,
    # within a deadline, in case the active file lags behind.
    wait_until(lambda: high_water(inn) >= before + 40, what="40 articles in " + NEWS_GROUP)
    assert high_water(inn) == before + 40
