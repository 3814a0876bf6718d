// send-async.js: a text + HTML message with an attachment, sent through
// SMTP with STARTTLS and authentication, asynchronously, printing the
// progress. The same program as send-async.c, send-async.py and
// send-async.vala; the test suite runs all four against one scripted
// server and checks that they send the same message.
//
//   SMTP_PASSWORD=secret gjs -m send-async.js mail.example.org:587 alice report.pdf
//
// Arguments: SERVER[:PORT] USER ATTACHMENT. The password comes from the
// environment (SMTP_PASSWORD), so that it is not on the command line;
// SMTP_CAFILE, when set, names a PEM file of the certificate authorities
// to trust instead of the system's (a test server's own CA).
//
// SPDX-License-Identifier: LGPL-2.1-or-later
import GLib from 'gi://GLib';
import MsgObj from 'gi://MsgObj?version=1.0';
import System from 'system';

const TEXT = 'Hello Bob,\n\nthe report is attached.\n\nAlice\n';
const HTML = '<p>Hello Bob,</p>\n<p>the report is <b>attached</b>.</p>\n<p>Alice</p>\n';

function buildMessage(config, attachment) {
    const message = MsgObj.Message.new_with_configuration(config);
    message.set_from('Alice <alice@example.org>');
    message.set_to('Bob <bob@example.org>');
    message.set_subject('The report');
    // HTML first: with auto-generate-text-body on, setting it would
    // replace the text body.
    message.set_html_body(HTML);
    message.set_text_body(TEXT);
    // Streamed from the file when the message is sent.
    message.add_attachment(attachment);
    return message;
}

function main(args) {
    const password = GLib.getenv('SMTP_PASSWORD');
    const caFile = GLib.getenv('SMTP_CAFILE');
    if (args.length !== 3 || password === null) {
        printerr('usage: SMTP_PASSWORD=… [SMTP_CAFILE=ca.pem] gjs -m send-async.js SERVER[:PORT] USER ATTACHMENT');
        return 2;
    }
    const [server, user, attachment] = args;

    let message, transport;
    try {
        const config = MsgObj.Configuration.new();
        // STARTTLS is required: the password never goes over plain text.
        config.set_field('smtpserver', server);
        config.set_field('smtpstarttls', 'required');
        config.set_field('smtpauthenticate', 'basic');
        config.set_field('sendusername', user);
        config.set_field('sendpassword', password);
        config.set_field('smtpconnectiontimeout', '30');
        if (caFile)
            config.set_field('tlscafile', caFile);
        message = buildMessage(config, attachment);
        transport = MsgObj.Transport.new_for_name('smtp', config);
    } catch (e) {
        printerr(`send-async: ${e.message}`);
        return 1;
    }

    transport.connect('progress', (t, sent, total) => print(`progress: ${sent}/${total} bytes`));
    const loop = new GLib.MainLoop(null, false);
    let status = 1;
    transport.send_message_async(message, null, (t, result) => {
        try {
            const report = t.send_message_finish(result);
            print(`sent: ${report.get_server_response()}`);
            status = 0;
        } catch (e) {
            // Errors have a domain and a code: a refused recipient, a failed
            // authentication and a time-out can each be told apart.
            if (e.matches(MsgObj.TransportError, MsgObj.TransportError.AUTHENTICATION_FAILED))
                printerr('send-async: the server refused the user name or password');
            printerr(`send-async: not sent: ${e.message}`);
        }
        loop.quit();
    });
    loop.run();
    // QUIT; a failure to say goodbye does not unsend the message.
    try {
        transport.close(null);
    } catch (e) {
        printerr(`send-async: ${e.message}`);
    }
    return status;
}

System.exit(main(ARGV));
