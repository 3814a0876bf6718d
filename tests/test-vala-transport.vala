/* test-vala-transport.vala: a transport written in Vala, registered by
 * name, sends and posts through Msg.Message.send () and through a kept
 * transport, sync and async, and a cancellation reaches it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

static void check (bool condition, string what) {
    if (!condition) {
        stderr.printf ("FAIL: %s\n", what);
        Process.exit (1);
    }
}

/* "hang" in the subject makes it wait for its cancellable, as a transport
 * blocked on the network would. */
public class ValaTransport : Msg.Transport {
    public int sends;
    public int posts;
    public int closes;
    public bool in_worker_thread;
    public int hang_started;
    public unowned Thread<void *> main_thread;

    private Msg.SendReport record (Msg.Message message, Cancellable? cancellable,
                                   string kind) throws Error {
        if (Thread.self<void *> () != main_thread) {
            in_worker_thread = true;
        }
        var config = get_operation_configuration ();
        check (config.get_field ("smtpserver") == "mail.example.test",
               "the operation's configuration reaches the transport");
        if ("hang" in message.get_subject ()) {
            check (cancellable != null, "a cancellable reaches the transport");
            AtomicInt.set (ref hang_started, 1);
            /* A bound, not a timing check: the test cancels at once. */
            for (int i = 0; i < 3000 && !cancellable.is_cancelled (); i++) {
                Thread.usleep (10000);
            }
            cancellable.set_error_if_cancelled ();
            throw new Msg.TransportError.FAILED ("never cancelled");
        }
        emit_progress (10, 10);
        var report = (Msg.SendReport) Object.new (typeof (Msg.SendReport),
                                                  "transport-name", get_name ());
        report.set_server_response ("250 " + kind + " by Vala");
        report.set_server_code (250);
        return report;
    }

    public override Msg.SendReport send_message_sync (Msg.Message message,
                                                      Cancellable? cancellable = null) throws Error {
        sends++;
        return record (message, cancellable, "send");
    }

    public override Msg.SendReport post_message_sync (Msg.Message message,
                                                      Cancellable? cancellable = null) throws Error {
        posts++;
        return record (message, cancellable, "post");
    }

    public override bool close_sync (Cancellable? cancellable = null) throws Error {
        closes++;
        return true;
    }
}

static Msg.Message make_message (Msg.Configuration config, string subject) throws Error {
    var message = new Msg.Message.with_configuration (config);
    message.set_from ("Ann Example <ann@example.com>");
    message.set_to ("bob@example.org");
    message.set_newsgroups ("local.test");
    message.set_subject (subject);
    message.text_body = "Hello from Vala.\n";
    return message;
}

static Msg.SendReport? run_send_async (Msg.Transport transport, Msg.Message message,
                                       Cancellable? cancellable, bool post) throws Error {
    var loop = new MainLoop ();
    AsyncResult? result = null;
    if (post) {
        transport.post_message_async.begin (message, cancellable, (obj, res) => {
            result = res;
            loop.quit ();
        });
    } else {
        transport.send_message_async.begin (message, cancellable, (obj, res) => {
            result = res;
            loop.quit ();
        });
    }
    /* A guard against a hang, not a timing check. */
    Timeout.add_seconds (60, () => { loop.quit (); return Source.REMOVE; });
    loop.run ();
    check (result != null, "the async call finished");
    return post ? transport.post_message_async.end (result)
                : transport.send_message_async.end (result);
}

public static int main (string[] args) {
    var config = new Msg.Configuration ();
    try {
        config.set_field ("sendusing", "vala");
        config.set_field ("postusing", "vala");
        config.set_field ("smtpserver", "mail.example.test");

        check (Msg.Transport.register_type ("vala", typeof (ValaTransport)),
               "the Vala transport registers");
        try {
            Msg.Transport.register_type ("vala", typeof (ValaTransport));
            check (false, "a name registered twice");
        } catch (IOError.EXISTS e) {
            check ("vala" in e.message, "the error names the transport");
        }

        /* Through Msg.Message.send () and post (), by name. */
        var report = make_message (config, "message send").send (null);
        check (report.get_transport_name () == "vala", "sent by the Vala transport");
        check (report.get_server_response () == "250 send by Vala", "the send report");
        report = make_message (config, "message post").post (null);
        check (report.get_server_response () == "250 post by Vala", "the post report");

        /* Through a kept transport, sync and async. */
        var transport = (ValaTransport) Msg.Transport.new_for_name ("vala", config);
        transport.main_thread = Thread.self<void *> ();
        uint64 last_sent = 0;
        transport.progress.connect ((sent, total) => { last_sent = sent; });
        transport.send_message (make_message (config, "sync"), null);
        check (!transport.in_worker_thread, "the sync call runs in the caller's thread");
        check (last_sent == 10, "progress from the Vala transport");
        report = run_send_async (transport, make_message (config, "async"), null, false);
        check (report.get_server_response () == "250 send by Vala", "the async send");
        check (transport.in_worker_thread, "the async call runs in a worker thread");
        report = run_send_async (transport, make_message (config, "async post"), null, true);
        check (report.get_server_response () == "250 post by Vala", "the async post");
        check (transport.sends == 2 && transport.posts == 1, "every call reached it");
        check (transport.close (null) && transport.closes == 1, "close reached it");

        /* A cancellation reaches the blocking virtual function. */
        var cancellable = new Cancellable ();
        Timeout.add (10, () => {
            if (AtomicInt.get (ref transport.hang_started) == 0) {
                return Source.CONTINUE;
            }
            cancellable.cancel ();
            return Source.REMOVE;
        });
        try {
            run_send_async (transport, make_message (config, "hang"), cancellable, false);
            check (false, "the cancelled send succeeded");
        } catch (IOError.CANCELLED e) {
        }
        check (transport.sends == 3, "the cancelled send reached the transport");
    } catch (Error e) {
        check (false, "unexpected error: " + e.message);
    }
    return 0;
}
