// SPDX-License-Identifier: LGPL-2.1-or-later
// A transport written in JavaScript: it overrides the virtual functions,
// registers its type under a name and is used like a plugin.
//
// Only the sync API: gjs (1.74) refuses to run JavaScript in another
// thread, and the base class runs the virtual functions of an async call
// in a worker thread.
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
    _record(kind, message, cancellable) {
        lastCancellable = cancellable;
        const config = this.get_operation_configuration();
        calls.push([kind, message.get_subject(), config.get_field('smtpserver')]);
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

System.exit(H.run() > 0 ? 1 : 0);
