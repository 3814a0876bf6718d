#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compiles and runs every whole program in README.md and docs/*.md.

A fenced ```c block with a main() is a program: it is compiled against the
build tree (-Wall -Wextra -Werror) and run. A ```python block is a program
and is run with PyGObject (with --python). A block that is only a fragment
says so on its first line, in a comment starting with "fragment" or "A
fragment" (/* A fragment: ... */, # A fragment: ...); any other c or python
block is an error, so that no example escapes the test by accident.

How a program is run is said by HTML comments (invisible on GitHub) on the
lines just above its fence, one per run; without one, a program runs once
with no arguments and must exit 0:

    <!-- doc-test: run STATUS [ARG...] [=> REGEX] [2> STDERR_REGEX] -->

STATUS is the expected exit status and REGEX, if given, must match the
standard output for status 0 (a program that exits 0 having done nothing
fails), standard error otherwise; STDERR_REGEX must match standard
error; in ARGs, {smtp} is HOST:PORT of a
small SMTP server this script runs on 127.0.0.1, {file} a file that exists
and {tmp} an empty directory. A run that exits 0 with {smtp} in its
arguments must have delivered one message to that server. No run may print
a GLib CRITICAL or WARNING.

Usage: check-doc-examples.py SRCDIR BUILDDIR [--python PYTHON]
"""

import argparse
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import threading

FENCE = re.compile(r"^```(\S*)")
DIRECTIVE = re.compile(r"^<!--\s*doc-test:\s*run\s+(\d+)(.*?)(?:\s=>\s*(.*?))?(?:\s2>\s*(.*?))?\s*-->\s*$")
FRAGMENT = re.compile(r"^\s*(/\*|//|#)\s*(a\s+)?fragment\b", re.IGNORECASE)
MAIN = re.compile(r"\bmain\s*\(")


class SmtpServer:
    """Accepts any message, counts them; one connection at a time."""

    def __init__(self):
        self.messages = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                try:
                    self._session(conn)
                except OSError:
                    pass

    def _session(self, conn):
        reader = conn.makefile("rb")

        def reply(text):
            conn.sendall(text.encode() + b"\r\n")

        reply("220 doc-test ESMTP")
        for line in reader:
            verb = line[:4].upper()
            if verb == b"EHLO":
                reply("250-doc-test")
                reply("250 8BITMIME")
            elif verb == b"DATA":
                reply("354 go ahead")
                for data in reader:
                    if data == b".\r\n":
                        break
                self.messages += 1
                reply("250 2.0.0 Ok: queued as DOC%d" % self.messages)
            elif verb == b"QUIT":
                reply("221 2.0.0 Bye")
                return
            else:
                reply("250 2.0.0 Ok")


def blocks(path):
    """Yields (line, language, body lines, directives) for each fenced block."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start = i
        language = m.group(1).lower()
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        directives = []
        j = start - 1
        while j >= 0 and DIRECTIVE.match(lines[j]):
            d = DIRECTIVE.match(lines[j])
            directives.insert(0, (int(d.group(1)), shlex.split(d.group(2)), d.group(3), d.group(4)))
            j -= 1
        yield start + 1, language, body, directives
        i += 1


def pkg_config(*args):
    return shlex.split(subprocess.run(["pkg-config", *args], check=True,
                                      capture_output=True, text=True).stdout)


class Checker:
    def __init__(self, srcdir, builddir, python):
        self.srcdir = srcdir
        self.builddir = builddir
        self.python = python
        self.server = SmtpServer()
        self.failures = []
        self.ran = 0

    def fail(self, where, text):
        self.failures.append("%s: %s" % (where, text))

    def environment(self, tmp):
        env = dict(os.environ)
        env.pop("MSGOBJ_CONFIG", None)
        env.pop("G_MESSAGES_DEBUG", None)
        for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "HOME"):
            path = os.path.join(tmp, name.lower())
            os.makedirs(path, exist_ok=True)
            env[name] = path
        env["LANG"] = "C.UTF-8"
        env.pop("LC_ALL", None)
        env["LD_LIBRARY_PATH"] = os.path.join(self.builddir, "libmsgobj")
        env["GI_TYPELIB_PATH"] = os.path.join(self.builddir, "bindings")
        # The PyGObject override module, gi/overrides/MsgObj.py.
        env["PYTHONPATH"] = os.pathsep.join(
            [os.path.join(self.srcdir, "bindings", "python")]
            + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        transports = [os.path.join(self.builddir, "transports", "smtp"),
                      os.path.join(self.builddir, "transports", "nntp")]
        if env.get("MSGOBJ_TRANSPORT_PATH"):
            transports.append(env["MSGOBJ_TRANSPORT_PATH"])
        env["MSGOBJ_TRANSPORT_PATH"] = ":".join(transports)
        return env

    def compile_c(self, where, source, tmp):
        src = os.path.join(tmp, "example.c")
        exe = os.path.join(tmp, "example")
        with open(src, "w", encoding="utf-8") as f:
            f.write(source)
        libdir = os.path.join(self.builddir, "libmsgobj")
        command = (["cc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-o", exe, src,
                    "-I" + os.path.join(self.srcdir, "libmsgobj"), "-I" + libdir]
                   + pkg_config("--cflags", "--libs", "gio-2.0", "gmime-3.0")
                   + ["-L" + libdir, "-lmsgobj-1.0", "-Wl,-rpath," + libdir])
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            self.fail(where, "does not compile:\n" + result.stderr)
            return None
        return [exe]

    def run(self, where, command, directives, tmp):
        attachment = os.path.join(tmp, "report.pdf")
        with open(attachment, "wb") as f:
            f.write(b"%PDF-1.4\n% a test attachment\n")
        for status, args, expected, expected_err in directives or [(0, [], None, None)]:
            workdir = tempfile.mkdtemp(dir=tmp)
            values = {"smtp": "127.0.0.1:%d" % self.server.port, "file": attachment,
                      "tmp": workdir}
            argv = [a.format(**values) for a in args]
            before = self.server.messages
            try:
                result = subprocess.run(command + argv, capture_output=True, text=True,
                                        env=self.environment(tmp), cwd=workdir, timeout=60)
            except subprocess.TimeoutExpired:
                self.fail(where, "run %s timed out" % argv)
                continue
            self.ran += 1
            shown = "run %s: status %d\nstdout:\n%s\nstderr:\n%s" % (
                argv, result.returncode, result.stdout, result.stderr)
            if result.returncode != status:
                self.fail(where, "expected status %d; %s" % (status, shown))
            elif "CRITICAL" in result.stderr or "WARNING" in result.stderr:
                self.fail(where, "GLib complained; %s" % shown)
            elif status == 0 and any("{smtp}" in a for a in args) and self.server.messages != before + 1:
                self.fail(where, "the SMTP server received no message; %s" % shown)
            elif expected and not re.search(expected, result.stdout if status == 0 else result.stderr,
                                            re.MULTILINE):
                self.fail(where, "the output does not match %r; %s" % (expected, shown))
            elif expected_err and not re.search(expected_err, result.stderr, re.MULTILINE):
                self.fail(where, "stderr does not match %r; %s" % (expected_err, shown))
            else:
                print("ok: %s run %s -> %d" % (where, argv, status))

    def check(self, path):
        name = os.path.relpath(path, self.srcdir)
        for line, language, body, directives in blocks(path):
            where = "%s:%d" % (name, line)
            if language not in ("c", "python"):
                continue
            first = next((l for l in body if l.strip()), "")
            if FRAGMENT.match(first):
                print("skip: %s (a fragment)" % where)
                continue
            source = "\n".join(body) + "\n"
            with tempfile.TemporaryDirectory() as tmp:
                if language == "c":
                    if not MAIN.search(source):
                        self.fail(where, "a C block without main() must say on its first line "
                                  "that it is a fragment (/* A fragment: ... */)")
                        continue
                    command = self.compile_c(where, source, tmp)
                else:
                    if self.python is None:
                        print("skip: %s (no PyGObject)" % where)
                        continue
                    script = os.path.join(tmp, "example.py")
                    with open(script, "w", encoding="utf-8") as f:
                        f.write(source)
                    command = [self.python, script]
                if command is not None:
                    self.run(where, command, directives, tmp)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("srcdir")
    parser.add_argument("builddir")
    parser.add_argument("--python")
    options = parser.parse_args()
    checker = Checker(os.path.abspath(options.srcdir), os.path.abspath(options.builddir),
                      options.python)
    docs = os.path.join(checker.srcdir, "docs")
    paths = [os.path.join(checker.srcdir, "README.md")] + sorted(
        os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md"))
    for path in paths:
        checker.check(path)
    for failure in checker.failures:
        print("FAIL: " + failure, file=sys.stderr)
    if checker.ran == 0:
        print("FAIL: no example ran", file=sys.stderr)
        return 1
    return 1 if checker.failures else 0


if __name__ == "__main__":
    sys.exit(main())
