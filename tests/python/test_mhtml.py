# SPDX-License-Identifier: LGPL-2.1-or-later
"""CreateMHTMLBody and attachments from URLs through PyGObject, against
Python's http.server started on 127.0.0.1 (a free port) and stopped by
PID: the MIME tree read back with the email package, the error codes,
the async variant, and the peak memory of a 200 MiB attachment measured
in a subprocess."""

import email
import email.policy
import os
import re
import signal
import subprocess
import sys
import textwrap

import pytest
from gi.repository import GLib, MsgObj

DOMAIN = "msg-message-error-quark"

SITE = {
    "page.html": (
        '<html><head><link rel="stylesheet" href="css/main.css">'
        '<script src="app.js"></script></head>'
        '<body background="img/bg.gif"><h1>Caf\u00e9 &amp; co</h1>'
        '<img src="img/a.gif"><iframe src="frame.html"></iframe>'
        '<a href="elsewhere.html">link</a></body></html>'),
    "css/main.css": '@import "more.css"; p { background: url(../img/b.gif) }',
    "css/more.css": "h1 { background: url('../img/c.gif') }",
    "frame.html": '<img src="img/a.gif"><img src="img/d.gif">',
    "app.js": "var x = 1;",
    "img/a.gif": "GIF89a-a", "img/b.gif": "GIF89a-b", "img/c.gif": "GIF89a-c",
    "img/d.gif": "GIF89a-d", "img/bg.gif": "GIF89a-bg",
    "broken.html": '<img src="img/a.gif"><img src="img/missing.gif">',
}
# main.css, more.css, app.js, bg, a, b, c, d, frame.html
PARTS = 9


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    for name, text in SITE.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    with open(root / "big.bin", "wb") as f:  # sparse: quick to make
        f.truncate(200 * 1024 * 1024)
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
         "--directory", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        port = int(re.search(r"port (\d+)", line).group(1))
        yield "http://127.0.0.1:%d/" % port, root
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        server.stdout.close()


def parse(message):
    return email.message_from_bytes(message.to_bytes().get_data(),
                                    policy=email.policy.default)


def related_parts(tree):
    for part in tree.walk():
        if part.get_content_type() == "multipart/related":
            return list(part.iter_parts())
    return []


def check_references(tree):
    """Every cid: in the HTML and CSS names a part; returns the ids."""
    ids = {p["Content-ID"].strip("<>") for p in tree.walk() if p["Content-ID"]}
    texts = [p.get_content() for p in tree.walk()
             if p.get_content_type() in ("text/html", "text/css")]
    used = set()
    for text in texts:
        for cid in re.findall(r"cid:([^\"')\s>]+)", text):
            assert cid in ids, cid
            used.add(cid)
    return ids, used


def test_create_mhtml_body(site):
    base, _ = site
    m = MsgObj.Message.new()
    assert m.create_mhtml_body(base + "page.html", MsgObj.MHTMLFlags.SUPPRESS_NONE,
                               None, None, None)
    tree = parse(m)
    parts = related_parts(tree)
    assert parts[0].get_content_type() == "text/html"
    assert len(parts) == 1 + PARTS
    ids, used = check_references(tree)
    assert len(ids) == len(used) == PARTS
    html = m.get_html_body()
    assert 'href="elsewhere.html"' in html
    assert "src=\"img/" not in html
    assert "Caf\u00e9 & co" in m.get_text_body()


def test_flags(site):
    base, _ = site
    m = MsgObj.Message.new()
    flags = MsgObj.MHTMLFlags.SUPPRESS_IMAGES | MsgObj.MHTMLFlags.SUPPRESS_FRAMES
    assert m.create_mhtml_body(base + "page.html", flags, None, None, None)
    types = sorted(p.get_content_type() for p in related_parts(parse(m))[1:])
    assert len(types) == 3 and types.count("text/css") == 2
    m.create_mhtml_body(base + "page.html", MsgObj.MHTMLFlags.SUPPRESS_ALL, None, None, None)
    assert related_parts(parse(m)) == []
    assert m.get_html_body() == SITE["page.html"]


def test_content_location(site):
    base, _ = site
    m = MsgObj.Message.new()
    assert m.create_mhtml_body(base + "page.html",
                               MsgObj.MHTMLFlags.USE_CONTENT_LOCATION, None, None, None)
    locations = {p["Content-Location"] for p in related_parts(parse(m))[1:]}
    assert base + "img/a.gif" in locations and len(locations) == PARTS
    assert 'src="%simg/a.gif"' % base in m.get_html_body()


def test_not_found(site):
    base, _ = site
    m = MsgObj.Message.new()
    with pytest.raises(GLib.Error) as excinfo:
        m.create_mhtml_body(base + "broken.html", 0, None, None, None)
    assert excinfo.value.domain == DOMAIN
    assert excinfo.value.code == int(MsgObj.MessageError.HTTP_NOT_FOUND)
    assert "missing.gif" in excinfo.value.message
    assert m.get_html_body() is None
    assert m.create_mhtml_body(base + "broken.html", MsgObj.MHTMLFlags.SKIP_MISSING,
                               None, None, None)
    assert 'src="img/missing.gif"' in m.get_html_body()
    assert len(related_parts(parse(m))) == 2


def test_async(site):
    base, _ = site
    m = MsgObj.Message.new()
    loop = GLib.MainLoop()
    results = []

    def done(message, result):
        results.append(message.create_mhtml_body_finish(result))
        loop.quit()

    m.create_mhtml_body_async(base + "page.html", 0, None, None, None, done)
    loop.run()
    assert results == [True]
    assert len(related_parts(parse(m))) == 1 + PARTS


def test_file_url(site):
    _, root = site
    m = MsgObj.Message.new()
    assert m.create_mhtml_body((root / "page.html").as_uri(), 0, None, None, None)
    assert len(related_parts(parse(m))) == 1 + PARTS


def test_attachment_and_related_part_urls(site):
    base, _ = site
    m = MsgObj.Message.new()
    m.set_html_body('<img src="cid:a@example"><img src="http://example.invalid/b.gif">')
    m.add_related_body_part(base + "img/a.gif", "cid:a@example")
    m.add_related_body_part_full(base + "img/b.gif", "http://example.invalid/b.gif",
                                 MsgObj.ReferenceType.LOCATION, None, None, None)
    part = m.add_attachment_url(base + "app.js", None, None, None)
    assert part.get_decoded_content().get_data() == b"var x = 1;"
    tree = parse(m)
    parts = related_parts(tree)
    assert parts[1]["Content-ID"] == "<a@example>"
    assert parts[2]["Content-Location"] == "http://example.invalid/b.gif"
    assert m.get_attachment_count() == 1


def test_size_limit_and_peak_memory(site):
    """200 MiB: over the default limit; with the limit raised it is kept in
    a temporary file, and the process's peak RSS stays far below it."""
    base, _ = site
    m = MsgObj.Message.new()
    with pytest.raises(GLib.Error) as excinfo:
        m.add_attachment_url(base + "big.bin", None, None, None)
    assert excinfo.value.code == int(MsgObj.MessageError.TOO_LARGE)

    # VmHWM, not ru_maxrss, which Linux carries over exec() from the
    # (larger) parent process.
    script = textwrap.dedent("""
        import re, sys, gi
        gi.require_version("MsgObj", "1.0")
        from gi.repository import MsgObj
        cfg = MsgObj.Configuration.new()
        cfg.set_field("urlmaxresourcesize", "300000000")
        cfg.set_field("urlmaxpagesize", "300000000")
        m = MsgObj.Message.new_with_configuration(cfg)
        def peak():
            with open("/proc/self/status") as f:
                return int(re.search(r"VmHWM:\\s*(\\d+)", f.read()).group(1))
        before = peak()
        m.add_attachment_url(sys.argv[1], None, None, None)
        print(before, peak())
    """)
    out = subprocess.run([sys.executable, "-c", script, base + "big.bin"],
                         check=True, capture_output=True, text=True, timeout=300)
    before, after = (int(x) for x in out.stdout.split())
    # KiB: the fetch adds far less than the 200 MiB it fetched.
    assert after - before < 32 * 1024, (before, after)


def test_configuration_fields_typed():
    cfg = MsgObj.Configuration.new()
    cfg.set_field("urlproxyserver", "proxy.example:3128")
    cfg.set_field("httpcookies", "a=b")
    assert cfg.get_seconds("urlconnectiontimeout") == 30
    assert cfg.get_int("urlmaxpagesize") == 250 * 1024 * 1024
    with pytest.raises(GLib.Error):
        cfg.set_field("urlproxyserver", "http://proxy.example:3128")
