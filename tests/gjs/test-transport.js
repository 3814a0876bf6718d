// SPDX-License-Identifier: LGPL-2.1-or-later
// A transport written in JavaScript: it overrides the virtual functions,
// registers its type under a name and is used like a plugin.
//
// gjs runs JavaScript in the main thread only: the transport sets
// run-in-caller-context, and the base class calls its virtual functions of
// an async call in the caller's main context instead of a worker thread.
import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';
import MsgObj from 'gi://MsgObj?version=1.0';
import System from 'system';
import * as H from './harness.js';

const calls = [];
let closes = 0;
let lastCancellable = null;

const JsTransport = GObject.registerClass({
    GTypeName: 'MsgTestJsTransport',
}, class JsTransport extends MsgObj.Transport {
    constructor(params) {
        super(params);
        this.run_in_caller_context = true;
    }

    _record(kind, message, cancellable) {
        lastCancellable = cancellable;
        const config = this.get_operation_configuration();
        calls.push([kind, message.get_subject(), config.get_field('smtpserver')]);
        if (message.get_subject() === 'cancelled while queued')
            throw new Error('a cancelled queued call reached the transport');
        if (message.get_subject() === 'cancel me') {
            // As a cancel from another thread would, while it works.
            cancellable.cancel();
            cancellable.set_error_if_cancelled();
        }
        if (message.get_subject() === 'refuse me') {
            throw new GLib.Error(MsgObj.TransportError,
                MsgObj.TransportError.MESSAGE_REJECTED, 'refused by JavaScript');
        }
        this.emit_progress(10, 10);
        const report = new MsgObj.SendReport({transport_name: this.get_name()});
        report.set_server_response(`250 ${kind} by gjs`);
        report.set_server_code(250);
        return report;
    }

    vfunc_send_message_sync(message, cancellable) {
        return this._record('send', message, cancellable);
    }

    vfunc_post_message_sync(message, cancellable) {
        return this._record('post', message, cancellable);
    }

    vfunc_close_sync(cancellable) {
        closes++;
        return true;
    }
});

function makeConfig() {
    const config = MsgObj.Configuration.new();
    config.set_field('sendusing', 'gjs');
    config.set_field('postusing', 'gjs');
    config.set_field('smtpserver', 'mail.example.test');
    return config;
}

function makeMessage(config, subject) {
    const message = H.makeMessage(config);
    message.set_newsgroups('local.test');
    message.set_subject(subject);
    return message;
}

H.test('registered by name', () => {
    H.assert(MsgObj.Transport.register_type('gjs', JsTransport.$gtype), 'registered');
    H.assert(MsgObj.Transport.list_names().includes('gjs'), 'listed');
    const transport = MsgObj.Transport.new_for_name('gjs', null);
    H.assert(transport instanceof JsTransport, 'made by name');
    H.assertEqual(transport.get_name(), 'gjs', 'its name');
    const e = H.assertThrowsGError(() => MsgObj.Transport.register_type('gjs', JsTransport.$gtype),
        Gio.IOErrorEnum, Gio.IOErrorEnum.EXISTS, 'twice');
    H.assert(e.message.includes('gjs'), 'the error names it');
});

H.test('send and post through Message', () => {
    calls.length = 0;
    const config = makeConfig();
    let report = makeMessage(config, 'message send').send(null);
    H.assertEqual(report.get_transport_name(), 'gjs', 'transport');
    H.assertEqual(report.get_server_response(), '250 send by gjs', 'send report');
    report = makeMessage(config, 'message post').post(null);
    H.assertEqual(report.get_server_response(), '250 post by gjs', 'post report');
    H.assertEqual(calls, [['send', 'message send', 'mail.example.test'],
        ['post', 'message post', 'mail.example.test']], 'calls');
    // Message.send() uses a one-shot transport, closed after the message.
    H.assertEqual(closes, 2, 'each one-shot transport closed');
});

H.test('kept transport', () => {
    calls.length = 0;
    closes = 0;
    const config = makeConfig();
    const transport = MsgObj.Transport.new_for_name('gjs', config);
    const progress = [];
    transport.connect('progress', (t, sent, total) => progress.push([sent, total]));
    transport.send_message(makeMessage(config, 'one'), null);
    transport.send_message(makeMessage(config, 'two'), null);
    transport.post_message(makeMessage(config, 'three'), null);
    H.assert(transport.close(null), 'closed');
    H.assertEqual(calls.map(c => c[1]), ['one', 'two', 'three'], 'in order');
    H.assertEqual(closes, 1, 'close reached it');
    H.assertEqual(progress[progress.length - 1], [10, 10], 'progress');
});

H.test('cancellation reaches it', () => {
    const config = makeConfig();
    const transport = MsgObj.Transport.new_for_name('gjs', config);
    const cancellable = new Gio.Cancellable();
    H.assertThrowsGError(() => transport.send_message(makeMessage(config, 'cancel me'),
        cancellable), Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'cancelled');
    H.assert(lastCancellable === cancellable, 'the caller\'s cancellable');
});

H.test('its errors reach the caller by domain and code', () => {
    const config = makeConfig();
    const e = H.assertThrowsGError(() => makeMessage(config, 'refuse me').send(null),
        MsgObj.TransportError, MsgObj.TransportError.MESSAGE_REJECTED, 'refused');
    H.assertEqual(e.message, 'refused by JavaScript', 'the message');
});

H.test('async send and post through a kept transport', () => {
    calls.length = 0;
    const config = makeConfig();
    const transport = MsgObj.Transport.new_for_name('gjs', config);
    const progress = [];
    transport.connect('progress', (t, sent, total) => progress.push([sent, total]));
    let report = H.runAsync(transport.send_message_async.bind(transport),
        transport.send_message_finish.bind(transport), makeMessage(config, 'async send'), null);
    H.assertEqual(report.get_server_response(), '250 send by gjs', 'send report');
    report = H.runAsync(transport.post_message_async.bind(transport),
        transport.post_message_finish.bind(transport), makeMessage(config, 'async post'), null);
    H.assertEqual(report.get_server_response(), '250 post by gjs', 'post report');
    H.assert(H.runAsync(transport.close_async.bind(transport),
        transport.close_finish.bind(transport), null), 'closed');
    H.drainMainContext();
    H.assertEqual(calls.map(c => c.slice(0, 2)), [['send', 'async send'],
        ['post', 'async post']], 'calls');
    H.assertEqual(progress[progress.length - 1], [10, 10], 'progress');
});

H.test('async through Message', () => {
    const config = makeConfig();
    let message = makeMessage(config, 'message async');
    let report = H.runAsync(message.send_async.bind(message), message.send_finish.bind(message),
        null);
    H.assertEqual(report.get_server_response(), '250 send by gjs', 'send report');
    message = makeMessage(config, 'message post async');
    report = H.runAsync(message.post_async.bind(message), message.post_finish.bind(message),
        null);
    H.assertEqual(report.get_server_response(), '250 post by gjs', 'post report');
});

H.test('async: cancellation and errors reach it and the caller', () => {
    const config = makeConfig();
    const transport = MsgObj.Transport.new_for_name('gjs', config);
    const cancellable = new Gio.Cancellable();
    H.assertThrowsGError(() => H.runAsync(transport.send_message_async.bind(transport),
        transport.send_message_finish.bind(transport), makeMessage(config, 'cancel me'),
        cancellable), Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'cancelled');
    H.assert(lastCancellable === cancellable, 'the caller\'s cancellable');
    H.assertThrowsGError(() => H.runAsync(transport.send_message_async.bind(transport),
        transport.send_message_finish.bind(transport), makeMessage(config, 'refuse me'), null),
    MsgObj.TransportError, MsgObj.TransportError.MESSAGE_REJECTED, 'refused');
});

H.test('async: a call cancelled while queued never reaches it', () => {
    const config = makeConfig();
    const transport = MsgObj.Transport.new_for_name('gjs', config);
    const loop = new GLib.MainLoop(null, false);
    const cancellable = new Gio.Cancellable();
    const outcomes = [];
    const done = (t, result) => {
        try {
            outcomes.push(t.send_message_finish(result).get_server_response());
        } catch (e) {
            outcomes.push(e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED) ? 'cancelled'
                : e.message);
        }
        if (outcomes.length === 2)
            loop.quit();
    };
    // The first runs in this context once the loop runs; the second waits
    // its turn and is cancelled before the loop runs at all.
    transport.send_message_async(makeMessage(config, 'first'), null, done);
    transport.send_message_async(makeMessage(config, 'cancelled while queued'), cancellable,
        done);
    cancellable.cancel();
    loop.run();
    // The cancelled call leaves the queue at once: the order of the two
    // callbacks is not fixed.
    H.assertEqual(outcomes.sort(), ['250 send by gjs', 'cancelled'], 'outcomes');
});

System.exit(H.run() > 0 ? 1 : 0);
