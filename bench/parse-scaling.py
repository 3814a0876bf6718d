#!/usr/bin/python3
# parse-scaling.py: does parsing and writing a hostile message grow
# linearly with its size?
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# For each shape (many headers, parameters, parts, ...), builds messages
# with N = 1000 .. 16000 repetitions, and times msg_message_new_from_bytes,
# the model's reads, msg_message_to_bytes, and a mutation (set a header,
# change a part's disposition, add an attachment) followed by a write. The
# growth exponent log2(t(16N)/t(N)) / 4 is about 1 for linear work and 2
# for quadratic work; anything above 1.5 is flagged and the exit status
# is 1. This found the quadratic repair of parsed parameters (issue 14).
#
#   GI_TYPELIB_PATH=_build/bindings LD_LIBRARY_PATH=_build/libmsgobj \
#       bench/parse-scaling.py [SHAPE...]

import math
import sys
import time

import gi

gi.require_version("MsgObj", "1.0")
from gi.repository import GLib, MsgObj  # noqa: E402

HEAD = "From: a@example.test\r\nTo: b@example.test\r\nSubject: s\r\nMessage-ID: <x@example.test>\r\n"
MIME = HEAD + "MIME-Version: 1.0\r\n"


def multipart(n, part):
    return (MIME + 'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
            + "".join("--B\r\n" + part(i) for i in range(n)) + "--B--\r\n")


SHAPES = {
    "headers": lambda n: HEAD + "".join("X-H%d: v\r\n" % i for i in range(n)) + "\r\nx\r\n",
    "same-header": lambda n: HEAD + "Received: from a by b\r\n" * n + "\r\nx\r\n",
    "folded": lambda n: HEAD + "X-F: a\r\n" + " b\r\n" * n + "\r\nx\r\n",
    "addresses": lambda n: ("From: a@example.test\r\nTo: "
                            + ", ".join("=?utf-8?q?n=C3=A9?= <u%d@example.test>" % i for i in range(n))
                            + "\r\nSubject: s\r\n\r\nx\r\n"),
    "groups": lambda n: ("From: a@example.test\r\nCc: "
                         + ", ".join("g%d: u%d@example.test;" % (i, i) for i in range(n))
                         + "\r\nSubject: s\r\n\r\nx\r\n"),
    "encoded-words": lambda n: HEAD + "X-S: " + " ".join(["=?utf-8?q?a=C3=A9?="] * n) + "\r\n\r\nx\r\n",
    "parameters": lambda n: (MIME + "Content-Type: text/plain;\r\n "
                             + ";\r\n ".join("p%d=v" % i for i in range(n)) + "\r\n\r\nx\r\n"),
    "parameters-controls": lambda n: (MIME + "Content-Type: text/plain;\r\n "
                                      + ";\r\n ".join("p%d*=utf-8''a%%0D" % i for i in range(n))
                                      + "\r\n\r\nx\r\n"),
    "parameters-twice": lambda n: (MIME + "Content-Type: text/plain;\r\n "
                                   + ";\r\n ".join("p%d=v; p%d=w" % (i, i) for i in range(n // 2))
                                   + "\r\n\r\nx\r\n"),
    "rfc2231-continuations": lambda n: multipart(1, lambda i: (
        "Content-Type: text/plain\r\nContent-Disposition: attachment;\r\n "
        + ";\r\n ".join("filename*%d=a" % j for j in range(n)) + "\r\n\r\nx\r\n")),
    "parts": lambda n: multipart(n, lambda i: (
        'Content-Type: text/plain; a=1; a=2\r\nContent-Disposition: attachment; filename="f%d.txt"\r\n'
        "\r\nx\r\n" % i)),
    "nested": lambda n: (MIME
                         + "".join('Content-Type: multipart/mixed; boundary="B%d"\r\n\r\n--B%d\r\n' % (i, i)
                                   for i in range(n))
                         + "Content-Type: text/plain\r\n\r\nx\r\n"
                         + "".join("--B%d--\r\n" % i for i in reversed(range(n)))),
    "body-lines": lambda n: HEAD + "\r\n" + "line\r\n" * (10 * n),
    "body-bare-cr": lambda n: HEAD + "\r\n" + "a\r" * (10 * n),
    "html": lambda n: (MIME + "Content-Type: text/html\r\n\r\n"
                       + "<table><tr><td><p>a<b>&amp;</b></td></tr></table><ul><li>x" * n + "\r\n"),
}


def run_once(data):
    """Seconds spent parsing, reading, writing, mutating and writing."""
    start = time.perf_counter()
    try:
        message = MsgObj.Message.new_from_bytes(GLib.Bytes.new(data))
    except GLib.Error:
        return time.perf_counter() - start
    message.get_text_body()
    message.get_html_body()
    message.get_to()
    message.get_cc()
    attachments = message.get_attachments()
    for part in attachments[:100]:
        part.get_filename()
    try:
        message.to_bytes()
        message.set_header("X-Scaling", "v")
        if attachments:
            attachments[0].set_content_disposition("inline")
        message.add_attachment_bytes(GLib.Bytes.new(b"x"), "x.txt", "text/plain")
        message.to_bytes()
    except GLib.Error:
        pass
    return time.perf_counter() - start


def best_of(data, reps=3):
    return min(run_once(data) for _ in range(reps))


def main(argv):
    shapes = argv[1:] or list(SHAPES)
    sizes = (1000, 2000, 4000, 8000, 16000)
    flagged = []
    print("%-22s %s  exponent" % ("shape", " ".join("%9s" % ("N=%d" % n) for n in sizes)))
    for name in shapes:
        times = [best_of(SHAPES[name](n).encode("utf-8")) for n in sizes]
        # Below a few milliseconds the clock and the machine dominate.
        base = max(times[0], 0.002)
        exponent = math.log2(max(times[-1], base) / base) / math.log2(sizes[-1] / sizes[0])
        mark = "  <-- superlinear" if exponent > 1.5 else ""
        print("%-22s %s  %.2f%s" % (name, " ".join("%7.1fms" % (t * 1000) for t in times), exponent, mark),
              flush=True)
        if mark:
            flagged.append(name)
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
