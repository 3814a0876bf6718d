# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Python suite's scripted SMTP server (tests/python/test_smtp.py) as a
process for the gjs suite, whose sync calls block its only thread: prints
its port, then answers each "dump" line on stdin with what it received as
one JSON line; stops when stdin closes."""
import json
import os
import sys

_tests = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path[:0] = [os.path.join(_tests, "python"), _tests]

import gi  # noqa: E402

gi.require_version("MsgObj", "1.0")

from test_smtp import SmtpServer  # noqa: E402

server = SmtpServer(reject={"nobody@example.test"})
print(server.port, flush=True)
for line in sys.stdin:
    if line.strip() == "dump":
        print(json.dumps({
            "connections": server.connections,
            "commands": server.commands,
            "messages": [[mail_from, rcpts, data.decode("utf-8", "replace")]
                         for mail_from, rcpts, data in server.messages],
        }), flush=True)
server.stop()
