# The NNTP transport against a real INN 2.7 (Debian's inn2), started by
# these tests as a private instance on 127.0.0.1 (inn_server.py). Articles
# are posted through libmsgobj and read back with a raw-socket NNTP client.
#
# INN missing is a failure, not a skip: install it with install-inn.sh.
import atexit
import email
import email.policy
import os
import shutil
import signal
import tempfile
import time
import uuid

# An isolated home for the XDG directories, set before GLib reads them.
_home = tempfile.mkdtemp(prefix="msgobj-inn-pytest-")
atexit.register(shutil.rmtree, _home, True)
for _var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "HOME"):
    os.environ[_var] = os.path.join(_home, _var.lower())
    os.makedirs(os.environ[_var], exist_ok=True)
os.environ.pop("MSGOBJ_CONFIG", None)

import gi  # noqa: E402

gi.require_version("MsgObj", "1.0")
gi.require_version("Gio", "2.0")

import pytest  # noqa: E402
from gi.repository import Gio, GLib, MsgObj  # noqa: E402

from inn_server import InnServer, NntpReader, process_gone  # noqa: E402
from msgobj_testing import run_async  # noqa: E402

GROUP = "local.test"
USER, PASSWORD = "bob", "s3cret pass"

# Lines that must survive dot-stuffing on the way in and out.
DOT_LINES = [".", ".dot line", "..two dots", "...", ". space", "end."]


@pytest.fixture(scope="module")
def inn():
    """Anonymous posting allowed."""
    with InnServer(groups=[GROUP, "local.other"]) as server:
        yield server


@pytest.fixture(scope="module")
def inn_auth():
    """Anonymous readers read; only USER may post (ckpasswd)."""
    with InnServer(groups=[GROUP], users={USER: PASSWORD}) as server:
        yield server


@pytest.fixture(scope="module")
def inn_transit():
    """Debian's incoming.conf: 127.0.0.1 is a feed peer, so a connection
    starts in transit mode and POST gets 401 MODE-READER."""
    with InnServer(groups=[GROUP], feeder=True) as server:
        yield server


def configuration(server, **fields):
    config = MsgObj.Configuration.new()
    config.set_field("postusing", "nntp")
    config.set_field("nntpserver", "127.0.0.1")
    config.set_field("nntpserverport", str(server.port))
    config.set_field("nntpconnectiontimeout", "20")
    config.set_field("nntpstarttls", "never")
    for name, value in fields.items():
        config.set_field(name, value)
    return config


def new_message_id():
    return "<%s@msgobj.example.test>" % uuid.uuid4().hex


def make_article(config, subject=None, groups=GROUP, body_lines=None, message_id=None):
    message = MsgObj.Message.new_with_configuration(config)
    if message_id is not None:
        message.set_message_id(message_id)
    message.set_from("Alice Poster <alice@example.test>")
    message.set_newsgroups(groups)
    message.set_subject(subject or "integration " + uuid.uuid4().hex)
    lines = body_lines if body_lines is not None else ["Hello, INN."] + DOT_LINES
    message.set_text_body("\n".join(lines) + "\n")
    return message


def read_back(server, message_id, group=GROUP, mode_reader=False):
    with NntpReader(server.port) as reader:
        if mode_reader:
            assert reader.command("MODE READER")[:3] in (b"200", b"201")
        return reader.article(message_id, group)


def article_exists(server, message_id):
    with NntpReader(server.port) as reader:
        reply = reader.command("STAT " + message_id)
    return reply.startswith(b"223")


def assert_posted(server, report, message, body_lines=None, mode_reader=False):
    """The article INN stores carries what we posted."""
    assert report.get_transport_name() == "nntp"
    message_id = report.get_message_id()
    assert message_id.startswith("<") and message_id.endswith(">")
    assert message_id in report.get_server_response()
    headers, head, body = read_back(server, message_id, mode_reader=mode_reader)
    assert headers["message-id"] == message_id
    assert headers["newsgroups"] == message.get_newsgroups()
    assert headers["subject"] == message.get_subject()
    assert headers["from"] == "Alice Poster <alice@example.test>"
    # Added by INN, so the article really went through innd.
    assert headers["path"].startswith("inn.localdomain!")
    assert GROUP in headers["xref"]
    assert "bcc" not in headers
    expected = body_lines if body_lines is not None else ["Hello, INN."] + DOT_LINES
    assert [line.decode() for line in body] == expected
    return headers


def open_fds():
    return sorted(os.listdir("/proc/self/fd"))


def open_sockets():
    sockets = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            continue
        if target.startswith("socket:"):
            sockets.add(target)
    return sockets


def wait_fds(expected, timeout=2.0):
    """The open descriptors once none is open beyond expected, or after
    timeout: a worker thread's main context (an eventfd) may be freed a
    moment after the call returned. One that was open in expected may have
    closed since (a thread of an earlier call letting go late): that is
    no leak, so it counts as expected."""
    deadline = time.monotonic() + timeout
    while not set(open_fds()) <= set(expected) and time.monotonic() < deadline:
        time.sleep(0.02)
    now = open_fds()
    return expected if set(now) <= set(expected) else now


def describe_fds(before):
    now = open_fds()
    links = {}
    for fd in set(now) ^ set(before):
        try:
            links[fd] = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            links[fd] = "?"
    return "descriptors before %s, now %s: %s" % (before, now, links)


def nnrpd_pid(headers):
    """The nnrpd process that took the article, from Injection-Info."""
    info = headers["injection-info"]
    start = info.index('logging-data="') + len('logging-data="')
    return int(info[start:info.index('"', start)])


def assert_transport_error(info, code):
    error = info.value
    assert error.matches(MsgObj.TransportError.quark(), code), \
        "expected %s, got %s %d: %s" % (code, error.domain, error.code, error.message)


# -- plain posting ----------------------------------------------------------


def test_post_and_read_back(inn):
    config = configuration(inn)
    message = make_article(config)
    message.set_bcc("hidden@example.test")
    report = message.post(None)
    assert_posted(inn, report, message)


def test_given_message_id_is_kept(inn):
    message_id = new_message_id()
    message = make_article(configuration(inn), message_id=message_id)
    report = message.post(None)
    assert report.get_message_id() == message_id
    assert_posted(inn, report, message)


def test_non_ascii_subject_and_body(inn):
    config = configuration(inn)
    message = make_article(config, subject="Grüße aus der Integration")
    message.set_text_body("Straße\n.ünïcödé dot line\n")
    report = message.post(None)
    with NntpReader(inn.port) as reader:
        _, head, body = reader.article(report.get_message_id(), GROUP)
    raw = b"\r\n".join(head + [b""] + body) + b"\r\n"
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "Grüße aus der Integration"
    assert parsed.get_content().replace("\r\n", "\n") == "Straße\n.ünïcödé dot line\n"


def test_two_posts_over_one_kept_connection(inn):
    config = configuration(inn)
    transport = MsgObj.Transport.new_for_name("nntp", config)
    try:
        first = make_article(config)
        second = make_article(config, groups=GROUP + ",local.other")
        report1 = transport.post_message(first, None)
        report2 = transport.post_message(second, None)
        assert report1.get_message_id() != report2.get_message_id()
        headers1 = assert_posted(inn, report1, first)
        headers2 = assert_posted(inn, report2, second)
        assert "local.other" in headers2["xref"]
        # INN forks one nnrpd per connection and names it in
        # Injection-Info: the same process took both articles.
        assert nnrpd_pid(headers1) == nnrpd_pid(headers2)
    finally:
        transport.close(None)
    # After close, the next post connects afresh (to a new nnrpd).
    third = make_article(config)
    report3 = transport.post_message(third, None)
    transport.close(None)
    assert nnrpd_pid(assert_posted(inn, report3, third)) != nnrpd_pid(headers1)


def test_post_async(inn):
    config = configuration(inn)
    transport = MsgObj.Transport.new_for_name("nntp", config)
    reports = []
    messages = [make_article(config), make_article(config)]
    for message in messages:
        reports.append(run_async(transport.post_message_async, transport.post_message_finish,
                                 message, None))
    transport.close(None)
    pids = {nnrpd_pid(assert_posted(inn, report, message))
            for report, message in zip(reports, messages)}
    assert len(pids) == 1


def test_queued_posts_pipelined_with_a_duplicate(inn):
    # Five posts queued at once: each POST goes behind the article before
    # it (RFC 3977 3.5). The third reuses the first's Message-ID, so INN
    # refuses it (441): that post alone fails.
    config = configuration(inn)
    transport = MsgObj.Transport.new_for_name("nntp", config)
    duplicate = new_message_id()
    messages = [make_article(config, message_id=duplicate if i in (0, 2) else None)
                for i in range(5)]
    results = {}
    loop = GLib.MainLoop()

    def done(source, result, index):
        try:
            results[index] = source.post_message_finish(result)
        except GLib.Error as error:
            results[index] = error
        if len(results) == len(messages):
            loop.quit()

    for i, message in enumerate(messages):
        transport.post_message_async(message, None, done, i)
    timer = GLib.timeout_add_seconds(60, loop.quit)
    loop.run()
    GLib.source_remove(timer)
    transport.close(None)
    assert len(results) == len(messages)
    error = results[2]
    assert isinstance(error, GLib.Error), error
    assert error.matches(MsgObj.TransportError.quark(), MsgObj.TransportError.MESSAGE_REJECTED), \
        error.message
    assert "441" in error.message
    pids = [nnrpd_pid(assert_posted(inn, results[i], messages[i])) for i in (0, 1, 3, 4)]
    # One connection up to the refusal, which closes it; one after.
    assert pids[0] == pids[1] and pids[2] == pids[3]


def test_message_post_async(inn):
    message = make_article(configuration(inn))
    report = run_async(message.post_async, message.post_finish, None)
    assert_posted(inn, report, message)


def test_large_article_with_many_dot_lines(inn):
    # About 290 KB, several 64 KiB write blocks of the data stream:
    # dot-stuffing and line ends must hold across block boundaries.
    lines = []
    for i in range(20000):
        lines.append((".", "..", "", "x" * (i % 97), ".line %d" % i)[i % 5])
    config = configuration(inn)
    message = make_article(config, body_lines=lines)
    report = message.post(None)
    assert_posted(inn, report, message, body_lines=lines)


def test_reconnects_after_server_closed_kept_connection(inn):
    config = configuration(inn)
    transport = MsgObj.Transport.new_for_name("nntp", config)
    first = make_article(config)
    pid1 = nnrpd_pid(assert_posted(inn, transport.post_message(first, None), first))
    # The server ends the kept connection (as after its idle time-out).
    inn.kill_reader(pid1)
    second = make_article(config)
    report = transport.post_message(second, None)
    transport.close(None)
    assert nnrpd_pid(assert_posted(inn, report, second)) != pid1


def test_folded_subject_and_spaced_group_list(inn):
    # INN refuses white space in Newsgroups; a long Subject is folded.
    subject = "a long subject " + " ".join("word%d" % i for i in range(60))
    message = make_article(configuration(inn), subject=subject,
                           groups="local.test, local.other")
    report = message.post(None)
    headers, head, _ = read_back(inn, report.get_message_id())
    assert headers["newsgroups"] == "local.test,local.other"
    assert headers["subject"] == subject
    assert all(len(line) <= 998 for line in head)


def test_news_headers(inn):
    config = configuration(inn)
    message = make_article(config, groups=GROUP + ",local.other")
    message.set_followup_to("local.other")
    message.set_keywords("msgobj, integration")
    message.set_organization("The msgobj test suite")
    message.set_to("mail-only@example.test")
    message.set_bcc("hidden@example.test")
    report = message.post(None)
    headers = assert_posted(inn, report, message)
    assert headers["followup-to"] == "local.other"
    assert headers["keywords"] == "msgobj, integration"
    # INN adds its own Organization only when the article has none.
    assert headers["organization"] == "The msgobj test suite"
    assert "bcc" not in headers


def test_cancel_while_writing_article(inn):
    config = configuration(inn)
    transport = MsgObj.Transport.new_for_name("nntp", config)
    cancellable = Gio.Cancellable()
    seen = []

    def on_progress(transport, sent, total):
        seen.append((sent, total))
        if sent < total:
            cancellable.cancel()

    handler = transport.connect("progress", on_progress)
    message_id = new_message_id()
    # Several MB would exceed INN's size limit; 600 KB is many writes.
    big = make_article(config, message_id=message_id,
                       body_lines=["%06d %s" % (i, "y" * 50) for i in range(10000)])
    with pytest.raises(GLib.Error) as info:
        transport.post_message(big, cancellable)
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED), \
        info.value.message
    assert seen and seen[0][0] < seen[0][1]
    transport.disconnect(handler)
    # INN dropped the partial article with the connection.
    assert not article_exists(inn, message_id)
    # The same transport posts the next article.
    good = make_article(config)
    report = transport.post_message(good, None)
    transport.close(None)
    assert_posted(inn, report, good)


def test_article_over_size_limit_is_rejected(inn):
    # INN's localmaxartsize is 1000000 bytes: nnrpd reads the whole article,
    # then answers 441.
    config = configuration(inn)
    transport = MsgObj.Transport.new_for_name("nntp", config)
    message_id = new_message_id()
    big = make_article(config, message_id=message_id,
                       body_lines=["%06d %s" % (i, "z" * 70) for i in range(15000)])
    with pytest.raises(GLib.Error) as info:
        transport.post_message(big, None)
    assert_transport_error(info, MsgObj.TransportError.MESSAGE_REJECTED)
    assert "441" in info.value.message
    assert not article_exists(inn, message_id)
    good = make_article(config)
    report = transport.post_message(good, None)
    transport.close(None)
    assert_posted(inn, report, good)


def test_no_answer_after_the_article_is_outcome_unknown(inn):
    # innd stopped: nnrpd says 340, reads the article, then waits for innd
    # to take it, so our wait for the final reply runs out.
    timeout = 1.5
    config = configuration(inn, nntpconnectiontimeout=str(timeout))
    transport = MsgObj.Transport.new_for_name("nntp", config)
    first = make_article(config)
    assert_posted(inn, transport.post_message(first, None), first)
    message_id = new_message_id()
    os.kill(inn.pid, signal.SIGSTOP)
    try:
        start = time.monotonic()
        with pytest.raises(GLib.Error) as info:
            transport.post_message(make_article(config, message_id=message_id), None)
        elapsed = time.monotonic() - start
    finally:
        os.kill(inn.pid, signal.SIGCONT)
    assert_transport_error(info, MsgObj.TransportError.OUTCOME_UNKNOWN)
    # The clock runs from the final dot; POST, 340 and the article come
    # before it (about a millisecond here, more on a loaded machine).
    assert 1.0 <= elapsed <= timeout + 0.5, elapsed
    # Why the outcome is unknown: once innd runs again, the article is there.
    deadline = time.monotonic() + 20
    while not article_exists(inn, message_id):
        assert time.monotonic() < deadline, "the article never reached INN"
        time.sleep(0.05)
    # The transport connects afresh for the next post.
    good = make_article(config)
    report = transport.post_message(good, None)
    transport.close(None)
    assert_posted(inn, report, good)


def test_unknown_group_is_rejected(inn):
    config = configuration(inn)
    transport = MsgObj.Transport.new_for_name("nntp", config)
    bad = make_article(config, groups="local.does-not-exist")
    with pytest.raises(GLib.Error) as info:
        transport.post_message(bad, None)
    # INN: 441 No valid newsgroups in "local.does-not-exist".
    assert_transport_error(info, MsgObj.TransportError.MESSAGE_REJECTED)
    assert "441" in info.value.message or "No valid newsgroups" in info.value.message
    # The same transport posts the next article.
    good = make_article(config)
    report = transport.post_message(good, None)
    transport.close(None)
    assert_posted(inn, report, good)


def test_server_without_posting():
    with InnServer(groups=[GROUP], read_only=True) as server:
        with NntpReader(server.port) as reader:
            assert reader.greeting.startswith(b"201")
        message_id = new_message_id()
        with pytest.raises(GLib.Error) as info:
            make_article(configuration(server), message_id=message_id).post(None)
        assert_transport_error(info, MsgObj.TransportError.POSTING_NOT_ALLOWED)
        assert "201" in info.value.message
        assert not article_exists(server, message_id)


def test_transit_mode_needs_mode_reader(inn_transit):
    # Checks the fixture: this instance really answers POST with 401.
    with NntpReader(inn_transit.port) as reader:
        assert b"transit mode" in reader.greeting
        assert reader.command("POST").startswith(b"401")
    message = make_article(configuration(inn_transit))
    report = message.post(None)
    assert_posted(inn_transit, report, message, mode_reader=True)


# -- AUTHINFO ---------------------------------------------------------------


def test_authinfo_required(inn_auth):
    config = configuration(inn_auth)
    message_id = new_message_id()
    with pytest.raises(GLib.Error) as info:
        make_article(config, message_id=message_id).post(None)
    assert not article_exists(inn_auth, message_id)
    # INN lists no POST in CAPABILITIES for this reader (and would answer
    # POST with 480): posting needs an account we were not given. The error
    # must say so.
    assert info.value.matches(MsgObj.TransportError.quark(),
                              MsgObj.TransportError.AUTHENTICATION_FAILED) or \
        info.value.matches(MsgObj.TransportError.quark(),
                           MsgObj.TransportError.POSTING_NOT_ALLOWED), info.value.message
    assert "480" in info.value.message or "AUTHINFO" in info.value.message


def auth_configuration(server, password, **fields):
    return configuration(server, nntpauthenticate="basic", postusername=USER,
                         postpassword=password, **fields)


def test_authinfo_plaintext(inn_auth):
    config = auth_configuration(inn_auth, PASSWORD, nntpallowplaintextauth="true")
    message = make_article(config)
    report = message.post(None)
    assert_posted(inn_auth, report, message)


def test_authinfo_wrong_password(inn_auth):
    config = auth_configuration(inn_auth, "not the password", nntpallowplaintextauth="true")
    message_id = new_message_id()
    with pytest.raises(GLib.Error) as info:
        make_article(config, message_id=message_id).post(None)
    assert_transport_error(info, MsgObj.TransportError.AUTHENTICATION_FAILED)
    assert "not the password" not in info.value.message
    assert not article_exists(inn_auth, message_id)


def test_authinfo_never_in_clear_unless_allowed(inn_auth):
    config = auth_configuration(inn_auth, PASSWORD)
    message_id = new_message_id()
    with pytest.raises(GLib.Error) as info:
        make_article(config, message_id=message_id).post(None)
    assert not article_exists(inn_auth, message_id)
    assert_transport_error(info, MsgObj.TransportError.TLS_UNAVAILABLE)
    assert PASSWORD not in info.value.message


# -- STARTTLS ---------------------------------------------------------------


def test_starttls(inn):
    config = configuration(inn, nntpstarttls="required", tlscafile=inn.ca_file)
    message = make_article(config)
    report = message.post(None)
    assert_posted(inn, report, message)


def test_starttls_opportunistic_by_default(inn):
    config = configuration(inn, tlscafile=inn.ca_file)
    config.set_field("nntpstarttls", "opportunistic")
    message = make_article(config)
    report = message.post(None)
    assert_posted(inn, report, message)


@pytest.mark.parametrize("mode", ["required", "opportunistic"])
def test_starttls_untrusted_certificate(inn, mode):
    # Without the test CA, INN's certificate must not be accepted: this
    # shows the handshake really happens (also when opportunistic, as INN
    # offers STARTTLS) and is verified.
    config = configuration(inn, nntpstarttls=mode)
    message_id = new_message_id()
    with pytest.raises(GLib.Error) as info:
        make_article(config, message_id=message_id).post(None)
    assert not article_exists(inn, message_id)
    error = info.value
    assert error.matches(Gio.tls_error_quark(), Gio.TlsError.BAD_CERTIFICATE), \
        "%s %d: %s" % (error.domain, error.code, error.message)


def test_starttls_with_authinfo(inn_auth):
    # No plaintext permission: the credentials go only over TLS.
    config = auth_configuration(inn_auth, PASSWORD, nntpstarttls="required",
                                tlscafile=inn_auth.ca_file)
    transport = MsgObj.Transport.new_for_name("nntp", config)
    messages = [make_article(config), make_article(config)]
    reports = [transport.post_message(m, None) for m in messages]
    transport.close(None)
    pids = {nnrpd_pid(assert_posted(inn_auth, r, m)) for r, m in zip(reports, messages)}
    assert len(pids) == 1


def test_starttls_with_wrong_password(inn_auth):
    config = auth_configuration(inn_auth, "wrong", nntpstarttls="required",
                                tlscafile=inn_auth.ca_file)
    with pytest.raises(GLib.Error) as info:
        make_article(config).post(None)
    assert_transport_error(info, MsgObj.TransportError.AUTHENTICATION_FAILED)


def test_transit_mode_starttls_and_authinfo():
    # The whole chain: MODE READER, STARTTLS, AUTHINFO, POST.
    with InnServer(groups=[GROUP], feeder=True, users={USER: PASSWORD}) as server:
        config = auth_configuration(server, PASSWORD, nntpstarttls="required",
                                    tlscafile=server.ca_file)
        message = make_article(config)
        report = message.post(None)
        assert_posted(server, report, message, mode_reader=True)


def test_implicit_tls(inn):
    # nnrpd -S: TLS from the first byte, as on port 563 (nntpusessl).
    port = inn.start_tls_reader()
    config = configuration(inn, nntpserverport=str(port), nntpusessl="true",
                           tlscafile=inn.ca_file)
    transport = MsgObj.Transport.new_for_name("nntp", config)
    messages = [make_article(config), make_article(config)]
    reports = [transport.post_message(m, None) for m in messages]
    transport.close(None)
    pids = {nnrpd_pid(assert_posted(inn, r, m)) for r, m in zip(reports, messages)}
    assert len(pids) == 1
    # Without the CA the certificate is refused.
    config = configuration(inn, nntpserverport=str(port), nntpusessl="true")
    with pytest.raises(GLib.Error) as info:
        make_article(config).post(None)
    assert info.value.matches(Gio.tls_error_quark(), Gio.TlsError.BAD_CERTIFICATE), \
        info.value.message


def test_async_cancel_while_server_is_stuck(inn):
    # The nnrpd of a kept connection is stopped (SIGSTOP by its PID): POST
    # gets no answer. A cancellation from the main loop must end the post
    # at once, close the connection (nnrpd sees it once continued) and
    # leave the transport usable.
    config = configuration(inn)
    fds = open_fds()
    sockets = open_sockets()
    transport = MsgObj.Transport.new_for_name("nntp", config)
    first = make_article(config)
    pid = nnrpd_pid(assert_posted(inn, transport.post_message(first, None), first))
    message_id = new_message_id()
    cancellable = Gio.Cancellable()
    loop = GLib.MainLoop()
    box = {}

    def cancel():
        box["cancelled_at"] = time.monotonic()
        cancellable.cancel()
        return GLib.SOURCE_REMOVE

    def done(source, result, *unused):
        box["returned_at"] = time.monotonic()
        try:
            box["value"] = transport.post_message_finish(result)
        except GLib.Error as error:
            box["error"] = error
        loop.quit()

    os.kill(pid, signal.SIGSTOP)
    try:
        transport.post_message_async(make_article(config, message_id=message_id),
                                     cancellable, done)
        GLib.timeout_add(200, cancel)
        guard = GLib.timeout_add_seconds(30, loop.quit)
        loop.run()
        GLib.source_remove(guard)
    finally:
        # The socket is closed by the time the callback runs.
        sockets_after = open_sockets()
        os.kill(pid, signal.SIGCONT)
    assert sockets_after == sockets
    assert "error" in box, box
    assert box["error"].matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED), \
        box["error"].message
    assert box["returned_at"] - box["cancelled_at"] <= 0.5
    # Our side closed the socket: the continued nnrpd reads EOF and exits.
    deadline = time.monotonic() + 20
    while not process_gone(pid):
        assert time.monotonic() < deadline, "nnrpd %d still serves the cancelled connection" % pid
        time.sleep(0.05)
    assert not article_exists(inn, message_id)
    good = make_article(config)
    report = transport.post_message(good, None)
    transport.close(None)
    assert_posted(inn, report, good)
    # Every descriptor the posts used is closed again.
    assert wait_fds(fds) == fds, describe_fds(fds)
