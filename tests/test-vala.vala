/* test-vala.vala: a small program built against the generated
 * msgobj-1.0.vapi, so that the Vala bindings are known to compile and
 * work.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

static void check (bool condition, string what) {
    if (!condition) {
        stderr.printf ("FAIL: %s\n", what);
        Process.exit (1);
    }
}

public static int main (string[] args) {
    var config = new Msg.Configuration ();
    var message = new Msg.Message.with_configuration (config);

    try {
        message.set_from ("Ann Example <ann@example.com>");
        message.set_to ("bob@example.org");
        message.set_subject ("Grüße from Vala");
        message.add_attachment_bytes (new Bytes ("a,b\n".data), "data.csv", "text/csv");
    } catch (Error e) {
        check (false, "setters: " + e.message);
    }
    message.html_body = "<p>Hello <b>Bob</b></p>";
    check (message.auto_generate_text_body, "auto-generate-text-body is on");
    check ("Hello Bob" in message.text_body, "text generated from the HTML");

    /* Injection is an error of the MessageError domain. */
    try {
        message.set_subject ("x\r\nBcc: y@evil.example");
        check (false, "CRLF in a subject was accepted");
    } catch (Msg.MessageError.INVALID_HEADER e) {
        check ("Subject" in e.message, "the error names the field");
    } catch (Error e) {
        check (false, "unexpected error: " + e.message);
    }

    try {
        var bytes = message.to_bytes ();
        var text = (string) bytes.get_data ()[0:bytes.get_size ()];
        check ("multipart/mixed" in text, "attachments give multipart/mixed");
        check ("multipart/alternative" in text, "HTML gives multipart/alternative");
        check (!("evil" in text), "nothing injected");

        var parsed = new Msg.Message.from_bytes (bytes);
        check (parsed.get_subject () == "Grüße from Vala", "the subject round-trips");
        var attachments = parsed.get_attachments ();
        check (attachments.length () == 1, "one attachment");
        check (attachments.data.filename == "data.csv", "its file name");
    } catch (Error e) {
        check (false, "writing or parsing: " + e.message);
    }

    string[] names = Msg.Transport.list_names ();
    check ("pickup" in names, "the pickup transport is registered");
    try {
        var transport = Msg.Transport.new_for_name ("pickup", config);
        check (transport.name == "pickup", "a transport by name");
    } catch (Error e) {
        check (false, "new_for_name: " + e.message);
    }

    print ("ok\n");
    return 0;
}
