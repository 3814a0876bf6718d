// SPDX-License-Identifier: LGPL-2.1-or-later
// The registry, validation, errors and the pickup transport through gjs.
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import MsgObj from 'gi://MsgObj?version=1.0';
import System from 'system';
import * as H from './harness.js';

H.test('list names', () => {
    const names = MsgObj.Transport.list_names();
    H.assert(names.includes('pickup') && names.includes('smtp') && names.includes('nntp'),
        `built-in transports in ${names}`);
});

H.test('unknown transport is a configuration error', () => {
    const e = H.assertThrowsGError(() => MsgObj.Transport.new_for_name('carrier-pigeon', null),
        MsgObj.ConfigurationError, MsgObj.ConfigurationError.UNKNOWN_TRANSPORT, 'unknown');
    H.assert(e.message.includes('carrier-pigeon'), 'the error names the transport');
});

H.test('send to a pickup directory', () => {
    const dir = H.makeTempDir();
    const config = MsgObj.Configuration.new();
    config.set_field('smtpserverpickupdirectory', dir);
    const report = H.makeMessage(config).send(null);
    H.assertEqual(report.get_transport_name(), 'pickup', 'transport');
    const path = report.get_pickup_file();
    H.assertEqual(GLib.path_get_dirname(path), dir, 'pickup directory');
    H.assert(path.endsWith('.eml'), 'an .eml file');
    const text = H.readFile(path);
    H.assert(text.includes('Subject: =?UTF-8?'), 'the subject is encoded');
    H.assert(text.toLowerCase().includes(`message-id: ${report.get_message_id()}`.toLowerCase()),
        'the report has the id');
    H.assert(!text.replace(/\r\n/g, '').includes('\n'), 'CRLF line ends');
    H.assertEqual(report.get_recipient_status('bob@example.test').get_code(), 250, 'status');
});

H.test('send async into a directory', () => {
    const dir = H.makeTempDir();
    const config = MsgObj.Configuration.new();
    config.set_field('smtpserverpickupdirectory', dir);
    const transport = MsgObj.Transport.new_for_name('pickup', config);
    const report = H.runAsync(transport.send_message_async.bind(transport),
        transport.send_message_finish.bind(transport), H.makeMessage(config), null);
    H.assertEqual(report.get_accepted_recipients().sort(),
        ['bob@example.test', 'hidden@example.test'], 'accepted');
    H.assertEqual(H.listDir(dir).length, 1, 'one file');
});

H.test('validation before any I/O, errors by domain and code', () => {
    const dir = H.makeTempDir();
    const config = MsgObj.Configuration.new();
    config.set_field('smtpserverpickupdirectory', dir);
    const message = MsgObj.Message.new_with_configuration(config);
    H.assertThrowsGError(() => message.send(null),
        MsgObj.MessageError, MsgObj.MessageError.NO_RECIPIENTS, 'no recipients');
    message.set_to('bob@example.test');
    H.assertThrowsGError(() => message.send(null),
        MsgObj.MessageError, MsgObj.MessageError.NO_SENDER, 'no sender');
    H.assertThrowsGError(() => message.set_subject('x\r\nBcc: evil@example.test'),
        MsgObj.MessageError, MsgObj.MessageError.INVALID_HEADER, 'injection');
    H.assertEqual(H.listDir(dir), [], 'nothing written');
});

H.test('no server for smtp', () => {
    const config = MsgObj.Configuration.new();
    config.set_field('sendusing', 'smtp');
    H.assertThrowsGError(() => H.makeMessage(config).send(null),
        MsgObj.TransportError, MsgObj.TransportError.NO_SERVER, 'no server');
});

H.test('cancelled before the call', () => {
    const dir = H.makeTempDir();
    const config = MsgObj.Configuration.new();
    config.set_field('smtpserverpickupdirectory', dir);
    const cancellable = new Gio.Cancellable();
    cancellable.cancel();
    H.assertThrowsGError(() => H.makeMessage(config).send(cancellable),
        Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'cancelled');
    H.assertEqual(H.listDir(dir), [], 'nothing written');
});

H.test('post async to a pickup directory', () => {
    const dir = H.makeTempDir();
    const config = MsgObj.Configuration.new();
    config.set_field('nntpserverpickupdirectory', dir);
    const message = H.makeMessage(config);
    message.set_newsgroups('local.test');
    const report = H.runAsync(message.post_async.bind(message),
        message.post_finish.bind(message), null);
    H.assert(report.get_pickup_file().startsWith(dir), 'posted into the directory');
});

H.test('configuration fields typed and checked', () => {
    const config = MsgObj.Configuration.new();
    config.set_field('smtpserverport', '2525');
    H.assertEqual(config.get_field('smtpserverport'), '2525', 'the port');
    H.assertThrowsGError(() => config.set_field('smtpserverport', 'many'),
        MsgObj.ConfigurationError, MsgObj.ConfigurationError.INVALID_VALUE, 'bad port');
});

System.exit(H.run() > 0 ? 1 : 0);
