// SPDX-License-Identifier: LGPL-2.1-or-later
// The SMTP transport through gjs, against the Python suite's scripted
// server run as a process on 127.0.0.1 (a port the kernel picks).
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import MsgObj from 'gi://MsgObj?version=1.0';
import System from 'system';
import * as H from './harness.js';

const python = GLib.getenv('MSGOBJ_TEST_PYTHON') ?? 'python3';
const script = GLib.build_filenamev([GLib.path_get_dirname(
    GLib.filename_from_uri(import.meta.url)[0]), 'smtp-server.py']);

class Server {
    constructor() {
        this.process = Gio.Subprocess.new([python, script],
            Gio.SubprocessFlags.STDIN_PIPE | Gio.SubprocessFlags.STDOUT_PIPE);
        this.stdout = new Gio.DataInputStream({base_stream: this.process.get_stdout_pipe()});
        this.port = parseInt(this.readLine());
    }

    readLine() {
        const [line] = this.stdout.read_line_utf8(null);
        if (line === null)
            throw new Error('the scripted SMTP server ended');
        return line;
    }

    // What the server received so far.
    dump() {
        this.process.get_stdin_pipe().write_all(new TextEncoder().encode('dump\n'), null);
        return JSON.parse(this.readLine());
    }

    stop() {
        this.process.get_stdin_pipe().close(null);
        this.process.wait(null);
    }
}

function withServer(fn) {
    return () => {
        const server = new Server();
        try {
            fn(server);
        } finally {
            server.stop();
        }
    };
}

function makeConfig(server) {
    const config = MsgObj.Configuration.new();
    config.set_field('sendusing', 'smtp');
    config.set_field('smtpserver', '127.0.0.1');
    config.set_field('smtpserverport', `${server.port}`);
    config.set_field('smtpconnectiontimeout', '5');
    return config;
}

H.test('sync send', withServer(server => {
    const report = H.makeMessage(makeConfig(server)).send(null);
    H.assertEqual(report.get_transport_name(), 'smtp', 'transport');
    H.assertEqual(report.get_server_response(), '250 2.0.0 Ok: queued as PY1', 'response');
    H.assertEqual(report.get_server_code(), 250, 'code');
    H.assertEqual(report.server_code, 250, 'the property');
    H.assertEqual(report.get_accepted_recipients().sort(),
        ['bob@example.test', 'hidden@example.test'], 'accepted');
    const {messages} = server.dump();
    H.assertEqual(messages.length, 1, 'one message');
    const [mailFrom, rcpts, data] = messages[0];
    H.assert(mailFrom.startsWith('<alice@example.test> SIZE='), `MAIL FROM ${mailFrom}`);
    H.assertEqual(rcpts, ['bob@example.test', 'hidden@example.test'], 'RCPT TO');
    H.assert(!/^Bcc:/mi.test(data), 'no Bcc header on the wire');
    H.assert(data.includes('\r\n.dot line'), 'the dot line unstuffed');
}));

H.test('async send with progress on a GLib.MainLoop', withServer(server => {
    const config = makeConfig(server);
    const transport = MsgObj.Transport.new_for_name('smtp', config);
    const progress = [];
    transport.connect('progress', (t, sent, total) => progress.push([sent, total]));
    const report = H.runAsync(transport.send_message_async.bind(transport),
        transport.send_message_finish.bind(transport), H.makeMessage(config), null);
    H.assert(report.get_server_response().endsWith('queued as PY1'), 'response');
    H.drainMainContext();
    const [sent, total] = progress[progress.length - 1] ?? [0, -1];
    H.assert(sent === total && total > 0, `final progress ${sent}/${total}`);
    H.assertEqual(server.dump().messages.length, 1, 'one message');
}));

H.test('kept connection and close', withServer(server => {
    const config = makeConfig(server);
    const transport = MsgObj.Transport.new_for_name('smtp', config);
    for (let i = 0; i < 3; i++)
        transport.send_message(H.makeMessage(config), null);
    H.assert(transport.close(null), 'close');
    const {connections, messages, commands} = server.dump();
    H.assertEqual(connections, 1, 'one connection');
    H.assertEqual(messages.length, 3, 'three messages');
    H.assertEqual(commands[commands.length - 1], 'QUIT', 'QUIT last');
}));

H.test('recipient rejected, caught by domain and code', withServer(server => {
    const config = makeConfig(server);
    const e = H.assertThrowsGError(
        () => H.makeMessage(config, 'bob@example.test, nobody@example.test').send(null),
        MsgObj.TransportError, MsgObj.TransportError.RECIPIENTS_REJECTED, 'rejected');
    H.assert(e.message.includes('nobody@example.test: 550 5.1.1'), e.message);
    H.assertEqual(server.dump().messages, [], 'nothing sent');
}));

H.test('async error is thrown by finish', withServer(server => {
    const config = makeConfig(server);
    const transport = MsgObj.Transport.new_for_name('smtp', config);
    H.assertThrowsGError(() => H.runAsync(transport.send_message_async.bind(transport),
        transport.send_message_finish.bind(transport),
        H.makeMessage(config, 'nobody@example.test'), null),
    MsgObj.TransportError, MsgObj.TransportError.RECIPIENTS_REJECTED, 'rejected');
}));

H.test('partial send', withServer(server => {
    const config = makeConfig(server);
    config.set_field('smtpsendpartial', 'true');
    const report = H.makeMessage(config, 'bob@example.test, nobody@example.test').send(null);
    H.assert(report.get_rejected_recipients().includes('nobody@example.test'), 'rejected');
    H.assertEqual(report.get_recipient_status('nobody@example.test').get_code(), 550, 'code');
}));

H.test('connection refused', () => {
    // A port nobody listens on: bind one, then close it.
    const socket = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.STREAM,
        Gio.SocketProtocol.TCP);
    socket.bind(Gio.InetSocketAddress.new_from_string('127.0.0.1', 0), true);
    const port = socket.get_local_address().get_port();
    socket.close();
    const config = MsgObj.Configuration.new();
    config.set_field('smtpserver', '127.0.0.1');
    config.set_field('smtpserverport', `${port}`);
    H.assertThrowsGError(() => H.makeMessage(config).send(null),
        Gio.IOErrorEnum, Gio.IOErrorEnum.CONNECTION_REFUSED, 'refused');
});

System.exit(H.run() > 0 ? 1 : 0);
