/* send-async.vala: a text + HTML message with an attachment, sent through
 * SMTP with STARTTLS and authentication, asynchronously, printing the
 * progress. The same program as send-async.c, send-async.py and
 * send-async.js; the test suite runs all four against one scripted server
 * and checks that they send the same message.
 *
 *   valac --pkg msgobj-1.0 send-async.vala
 *   SMTP_PASSWORD=secret ./send-async mail.example.org:587 alice report.pdf
 *
 * Arguments: SERVER[:PORT] USER ATTACHMENT. The password comes from the
 * environment (SMTP_PASSWORD), so that it is not on the command line;
 * SMTP_CAFILE, when set, names a PEM file of the certificate authorities
 * to trust instead of the system's (a test server's own CA).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
const string TEXT = "Hello Bob,\n\nthe report is attached.\n\nAlice\n";
const string HTML = "<p>Hello Bob,</p>\n<p>the report is <b>attached</b>.</p>\n<p>Alice</p>\n";

Msg.Message build_message (Msg.Configuration config, string attachment) throws Error {
    var message = new Msg.Message.with_configuration (config);
    message.set_from ("Alice <alice@example.org>");
    message.set_to ("Bob <bob@example.org>");
    message.set_subject ("The report");
    /* HTML first: with auto-generate-text-body on, setting it would
     * replace the text body. */
    message.html_body = HTML;
    message.text_body = TEXT;
    /* Streamed from the file when the message is sent. */
    message.add_attachment (attachment);
    return message;
}

public static int main (string[] args) {
    var password = Environment.get_variable ("SMTP_PASSWORD");
    var ca_file = Environment.get_variable ("SMTP_CAFILE");
    if (args.length != 4 || password == null) {
        stderr.printf ("usage: SMTP_PASSWORD=… [SMTP_CAFILE=ca.pem] %s SERVER[:PORT] USER ATTACHMENT\n",
                       args[0]);
        return 2;
    }

    Msg.Message message;
    Msg.Transport transport;
    try {
        var config = new Msg.Configuration ();
        /* STARTTLS is required: the password never goes over plain text. */
        config.set_field ("smtpserver", args[1]);
        config.set_field ("smtpstarttls", "required");
        config.set_field ("smtpauthenticate", "basic");
        config.set_field ("sendusername", args[2]);
        config.set_field ("sendpassword", password);
        config.set_field ("smtpconnectiontimeout", "30");
        if (ca_file != null && ca_file != "")
            config.set_field ("tlscafile", ca_file);
        message = build_message (config, args[3]);
        transport = Msg.Transport.new_for_name ("smtp", config);
    } catch (Error e) {
        stderr.printf ("send-async: %s\n", e.message);
        return 1;
    }

    transport.progress.connect ((sent, total) => {
        print ("progress: %llu/%llu bytes\n", sent, total);
    });
    var loop = new MainLoop ();
    int status = 1;
    transport.send_message_async.begin (message, null, (obj, res) => {
        try {
            var report = transport.send_message_async.end (res);
            print ("sent: %s\n", report.get_server_response ());
            status = 0;
        } catch (Msg.TransportError.AUTHENTICATION_FAILED e) {
            /* Errors have a domain and a code: a refused recipient, a
             * failed authentication and a time-out can each be told apart. */
            stderr.printf ("send-async: the server refused the user name or password: %s\n",
                           e.message);
        } catch (Error e) {
            stderr.printf ("send-async: not sent: %s\n", e.message);
        }
        loop.quit ();
    });
    loop.run ();
    /* QUIT; a failure to say goodbye does not unsend the message. */
    try {
        transport.close (null);
    } catch (Error e) {
        stderr.printf ("send-async: %s\n", e.message);
    }
    return status;
}
