#!/usr/bin/python3
# Helpers for bench/run.sh: the test messages and the Python peer clients.
#
#   peers.py mkmsg DIR             msg-1k.eml (exactly 1024 bytes), a 100 MiB
#                                  attachment (attach.bin) and big.eml, the
#                                  same attachment base64-encoded in a
#                                  multipart/mixed message, for the peers
#   peers.py smtplib PORT N FILE   one smtplib.SMTP, N x sendmail(bytes)
#   peers.py nntplib PORT N GROUP  one nntplib.NNTP, N x post() of 1 KiB
#   peers.py nntphigh PORT GROUP   the group's high article number
#   peers.py nntpraw PORT N GROUP [pipe]
#                                  the least a client can do: one socket,
#                                  N x POST, the prebuilt article, its
#                                  reply; with "pipe" the next POST goes
#                                  right behind the article (RFC 3977 3.5)
#
# Run with /usr/bin/python3 (Debian's; nntplib is deprecated in 3.11).
import base64
import io
import os
import smtplib
import socket
import sys
import time
import warnings

SENDER, RCPT = "sender@example.test", "rcpt@example.test"
ATTACH_MIB = 100


def mkmsg(directory):
    header = ("From: sender@example.test\r\nTo: rcpt@example.test\r\n"
              "Subject: bench 1 KiB\r\nMessage-ID: <bench-1k@example.test>\r\n"
              "Date: Mon, 30 Nov 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\n"
              "Content-Type: text/plain; charset=us-ascii\r\n\r\n").encode()
    line = b"The quick brown fox jumps over the lazy dog 0123456789 abcdefghij.\r\n"
    body = b""
    while len(header) + len(body) + len(line) <= 1024:
        body += line
    body += b"x" * (1024 - len(header) - len(body) - 2) + b"\r\n"
    with open(os.path.join(directory, "msg-1k.eml"), "wb") as f:
        f.write(header + body)

    # Incompressible content, written and encoded 3 MiB at a time (a
    # multiple of 3 bytes keeps the base64 lines whole).
    attach = os.path.join(directory, "attach.bin")
    big = os.path.join(directory, "big.eml")
    chunk = 3 * 1024 * 1024
    with open(attach, "wb") as a, open(big, "wb") as b:
        b.write(b"From: sender@example.test\r\nTo: rcpt@example.test\r\n"
                b"Subject: bench big attachment\r\nMessage-ID: <bench-big@example.test>\r\n"
                b"Date: Mon, 30 Nov 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\n"
                b"Content-Type: multipart/mixed; boundary=\"=-bench\"\r\n\r\n"
                b"--=-bench\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
                b"See the attachment.\r\n\r\n--=-bench\r\n"
                b"Content-Type: application/octet-stream\r\n"
                b"Content-Disposition: attachment; filename=\"attach.bin\"\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\n")
        left = ATTACH_MIB * 1024 * 1024
        while left > 0:
            data = os.urandom(min(chunk, left))
            left -= len(data)
            a.write(data)
            b.write(base64.encodebytes(data).replace(b"\n", b"\r\n"))
        b.write(b"\r\n--=-bench--\r\n")


def send_smtplib(port, n, path):
    with open(path, "rb") as f:
        data = f.read()
    with smtplib.SMTP("127.0.0.1", port, local_hostname="localhost") as smtp:
        for _ in range(n):
            smtp.sendmail(SENDER, [RCPT], data)


def send_smtplib_ssl(port, n, path, cafile):
    """Implicit TLS (SMTP_SSL), the certificate checked against @cafile."""
    import ssl
    with open(path, "rb") as f:
        data = f.read()
    context = ssl.create_default_context(cafile=cafile)
    with smtplib.SMTP_SSL("127.0.0.1", port, local_hostname="localhost", context=context) as smtp:
        for _ in range(n):
            smtp.sendmail(SENDER, [RCPT], data)


def article(i):
    body = "The quick brown fox jumps over the lazy dog 0123456789.\r\n" * 15
    return ("From: Bench <sender@example.test>\r\nNewsgroups: %s\r\n"
            "Subject: nntplib bench article\r\nMessage-ID: <nntplib.%d.%d.%d@example.test>\r\n"
            "\r\n%s" % (GROUP, os.getpid(), time.time_ns(), i, body)).encode()


def post_nntplib(port, n, first=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import nntplib
    with nntplib.NNTP("127.0.0.1", port) as nntp:
        for i in range(first, first + n):
            nntp.post(io.BytesIO(article(i)))


def in_parallel(post, port, n, conns):
    """@post over @conns connections at once, in threads, @n in all."""
    import threading
    counts = [n // conns + (1 if k < n % conns else 0) for k in range(conns)]
    threads = [threading.Thread(target=post, args=(port, c, sum(counts[:k])))
               for k, c in enumerate(counts) if c > 0]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def post_raw(port, n, first=0, pipe=False):
    """What INN allows at best: no parsing, no building, one socket."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    replies = sock.makefile("rb")

    def reply(code):
        # nnrpd writes a 240 and the 340 of a pipelined POST in two small
        # writes without TCP_NODELAY: acknowledge at once, or Nagle holds
        # the 340 for our delayed ACK (40 ms).
        if pipe:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        line = replies.readline()
        if not line.startswith(code):
            sys.exit("peers.py nntpraw: expected %s, got %r" % (code.decode(), line))

    reply(b"200")
    if pipe:
        sock.sendall(b"POST\r\n")
    for i in range(first, first + n):
        if not pipe:
            sock.sendall(b"POST\r\n")
        reply(b"340")
        data = article(i).replace(b"\r\n.", b"\r\n..") + b".\r\n"
        sock.sendall(data + (b"POST\r\n" if pipe and i + 1 < first + n else b""))
        reply(b"240")
    sock.sendall(b"QUIT\r\n")
    reply(b"205")
    sock.close()


def mkarticles(directory, n, group):
    """@n article files for msgobj flush --post, without Message-ID (the
    library adds one to each)."""
    body = "The quick brown fox jumps over the lazy dog 0123456789.\r\n" * 15
    for i in range(n):
        with open(os.path.join(directory, "a%05d.eml" % i), "wb") as f:
            f.write(("From: Bench <sender@example.test>\r\nNewsgroups: %s\r\n"
                     "Subject: flush bench article %d\r\n\r\n%s" % (group, i, body)).encode())


def nntp_high(port, group):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import nntplib
    with nntplib.NNTP("127.0.0.1", port) as nntp:
        _, _, _, last, _ = nntp.group(group)
        print(last)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "mkmsg":
        mkmsg(sys.argv[2])
    elif cmd == "smtplib":
        send_smtplib(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif cmd == "smtplib-ssl":
        send_smtplib_ssl(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif cmd == "nntplib":
        GROUP = sys.argv[4]
        if sys.argv[5:6] == ["conns"]:
            in_parallel(post_nntplib, int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[6]))
        else:
            post_nntplib(int(sys.argv[2]), int(sys.argv[3]))
    elif cmd == "nntpraw":
        GROUP = sys.argv[4]
        if sys.argv[5:6] == ["conns"]:
            in_parallel(post_raw, int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[6]))
        else:
            post_raw(int(sys.argv[2]), int(sys.argv[3]), pipe=sys.argv[5:] == ["pipe"])
    elif cmd == "mkarticles":
        mkarticles(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif cmd == "nntphigh":
        nntp_high(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit("peers.py: unknown command %r" % cmd)
