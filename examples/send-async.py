#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""send-async.py: a text + HTML message with an attachment, sent through
SMTP with STARTTLS and authentication, asynchronously, printing the
progress. The same program as send-async.c, send-async.js and
send-async.vala; the test suite runs all four against one scripted server
and checks that they send the same message.

    SMTP_PASSWORD=secret python3 send-async.py mail.example.org:587 alice report.pdf

Arguments: SERVER[:PORT] USER ATTACHMENT. The password comes from the
environment (SMTP_PASSWORD), so that it is not on the command line;
SMTP_CAFILE, when set, names a PEM file of the certificate authorities to
trust instead of the system's (a test server's own CA).

It uses the PyGObject override installed with the library (keyword
construction, the transport as a context manager, MsgObj.Future); the
plain GObject calls work as well."""
import os
import sys

import gi

gi.require_version("MsgObj", "1.0")
from gi.repository import GLib, MsgObj  # noqa: E402

TEXT = "Hello Bob,\n\nthe report is attached.\n\nAlice\n"
HTML = "<p>Hello Bob,</p>\n<p>the report is <b>attached</b>.</p>\n<p>Alice</p>\n"


def main(argv):
    password = os.environ.get("SMTP_PASSWORD")
    if len(argv) != 4 or password is None:
        print("usage: SMTP_PASSWORD=… [SMTP_CAFILE=ca.pem] %s SERVER[:PORT] USER ATTACHMENT"
              % argv[0], file=sys.stderr)
        return 2
    server, user, attachment = argv[1:]

    try:
        # STARTTLS is required: the password never goes over plain text.
        config = MsgObj.Configuration(smtpserver=server, smtpstarttls="required",
                                      smtpauthenticate="basic", sendusername=user,
                                      sendpassword=password, smtpconnectiontimeout=30)
        if os.environ.get("SMTP_CAFILE"):
            config.set_field("tlscafile", os.environ["SMTP_CAFILE"])

        message = MsgObj.Message(from_="Alice <alice@example.org>",
                                 to="Bob <bob@example.org>", subject="The report",
                                 configuration=config)
        # HTML first: with auto-generate-text-body on, setting it would
        # replace the text body.
        message.set_html_body(HTML)
        message.set_text_body(TEXT)
        # Streamed from the file when the message is sent.
        message.add_attachment(attachment)
    except GLib.Error as e:
        print("send-async: %s" % e.message, file=sys.stderr)
        return 1

    # Closed (QUIT) when the block ends.
    with MsgObj.Transport.new_for_name("smtp", config) as transport:
        transport.connect("progress", lambda t, sent, total:
                          print("progress: %d/%d bytes" % (sent, total)))
        loop = GLib.MainLoop()
        future = transport.send_message_future(message)
        future.add_done_callback(lambda future: loop.quit())
        loop.run()
        try:
            report = future.result()
        except GLib.Error as e:
            # Errors have a domain and a code: a refused recipient, a failed
            # authentication and a time-out can each be told apart.
            if e.matches(MsgObj.TransportError.quark(),
                         MsgObj.TransportError.AUTHENTICATION_FAILED):
                print("send-async: the server refused the user name or password",
                      file=sys.stderr)
            print("send-async: not sent: %s" % e.message, file=sys.stderr)
            return 1
    print("sent: %s" % report.get_server_response())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
