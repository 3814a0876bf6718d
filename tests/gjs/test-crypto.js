// SPDX-License-Identifier: LGPL-2.1-or-later
// PGP/MIME through gjs (issue 19): sign and verify, encrypt and decrypt,
// the configuration's cryptosign at send time, with the real gpg and a
// throw-away keyring, as tests/python/test_crypto.py.
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import MsgObj from 'gi://MsgObj?version=1.0';
import System from 'system';
import * as H from './harness.js';

// Short, in /tmp: gpg-agent's sockets live in the home directory (a
// socket path has at most 107 octets).
const home = GLib.dir_make_tmp('msgobj-gpg-XXXXXX');
GLib.setenv('GNUPGHOME', home, true);
GLib.file_set_contents(GLib.build_filenamev([home, 'gpg-agent.conf']),
    'allow-loopback-pinentry\ndefault-cache-ttl 0\nmax-cache-ttl 0\n');

function run(argv) {
    const launcher = new Gio.SubprocessLauncher({
        flags: Gio.SubprocessFlags.STDOUT_PIPE | Gio.SubprocessFlags.STDERR_PIPE,
    });
    launcher.setenv('GNUPGHOME', home, true);
    const process = launcher.spawnv(argv);
    const [, out, err] = process.communicate_utf8(null, null);
    if (!process.get_successful())
        throw new Error(`${argv.join(' ')} failed: ${err}`);
    return out;
}

for (const [uid, passphrase] of [['Alice <alice@example.org>', ''], ['Bob <bob@example.org>', ''],
    ['Carol <carol@example.org>', 'carol secret']]) {
    run(['gpg', '--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', passphrase,
        '--quick-gen-key', uid, 'future-default', 'default', 'never']);
}

function newMessage(config = MsgObj.Configuration.new()) {
    const message = MsgObj.Message.new_with_configuration(config);
    message.set_from('Alice <alice@example.org>');
    message.set_to('Bob <bob@example.org>');
    message.set_subject('Grüße aus gjs');
    message.set_text_body('Grüße aus Köln.\nFrom here it looks fine.\n');
    return message;
}

function reparse(message) {
    return MsgObj.Message.new_from_bytes(message.to_bytes());
}

function assertGoodByAlice(signatures, what) {
    H.assertEqual(signatures.length, 1, `${what}: one signature`);
    H.assertEqual(signatures[0].get_status(), MsgObj.SignatureStatus.GOOD, `${what}: status`);
    H.assertEqual(signatures[0].get_address(), 'alice@example.org', `${what}: signer`);
    H.assertEqual(signatures[0].get_protocol(), MsgObj.CryptoProtocol.OPENPGP, `${what}: protocol`);
}

H.test('sign and verify round trip', () => {
    const message = newMessage();
    H.assert(message.sign(MsgObj.CryptoProtocol.OPENPGP, 'alice@example.org', null), 'signed');
    const data = message.to_bytes().get_data();
    H.assert(data.every(b => b < 0x80), 'every octet 7-bit');
    const parsed = reparse(message);
    assertGoodByAlice(parsed.verify(null), 'verify');
    H.assert(parsed.get_text_body().includes('Grüße aus Köln.'), 'the text is read back');
});

H.test('a changed body verifies BAD', () => {
    const message = newMessage();
    message.sign(MsgObj.CryptoProtocol.OPENPGP, 'alice@example.org', null);
    const text = new TextDecoder().decode(message.to_bytes().get_data());
    const tampered = MsgObj.Message.new_from_bytes(
        new GLib.Bytes(new TextEncoder().encode(text.replace('looks fine', 'looks FINE'))));
    const signatures = tampered.verify(null);
    H.assertEqual(signatures.length, 1, 'one signature');
    H.assertEqual(signatures[0].get_status(), MsgObj.SignatureStatus.BAD, 'bad');
});

H.test('async sign and verify', () => {
    const message = newMessage();
    H.assert(H.runAsync(message.sign_async.bind(message), message.sign_finish.bind(message),
        MsgObj.CryptoProtocol.OPENPGP, 'alice@example.org', null), 'signed');
    const parsed = reparse(message);
    assertGoodByAlice(H.runAsync(parsed.verify_async.bind(parsed), parsed.verify_finish.bind(parsed), null),
        'verify_async');
});

H.test('encrypt and decrypt', () => {
    const message = newMessage();
    H.assert(message.sign_and_encrypt(MsgObj.CryptoProtocol.OPENPGP, 'alice@example.org', null, null),
        'sealed');
    const parsed = reparse(message);
    H.assert(!new TextDecoder().decode(parsed.to_bytes().get_data()).includes('Köln'), 'no clear text');
    const [clear, signatures] = parsed.decrypt(null);
    H.assert(clear.get_text_body().includes('Grüße aus Köln.'), 'decrypted');
    assertGoodByAlice(signatures, 'decrypt');
});

H.test('errors: no key, no passphrase', () => {
    const e = H.assertThrowsGError(() => newMessage().sign(MsgObj.CryptoProtocol.OPENPGP, 'dave@example.org', null),
        MsgObj.crypto_error_quark(), MsgObj.CryptoError.NO_KEY, 'no key');
    H.assert(e.message.includes('dave@example.org'), 'the error names the signer');
    H.assertThrowsGError(() => newMessage().sign(MsgObj.CryptoProtocol.OPENPGP, 'carol@example.org', null),
        MsgObj.crypto_error_quark(), MsgObj.CryptoError.NO_PASSPHRASE, 'no passphrase function');
    H.assertThrowsGError(() => reparse(newMessage()).verify(null),
        MsgObj.crypto_error_quark(), MsgObj.CryptoError.NOT_SIGNED, 'not signed');
});

H.test('the configuration signs at send time', () => {
    const dir = H.makeTempDir();
    const config = MsgObj.Configuration.new();
    config.set_field('smtpserverpickupdirectory', dir);
    config.set_field('cryptoprotocol', 'openpgp');
    config.set_field('cryptosign', 'alice@example.org');
    const message = newMessage(config);
    const report = message.send(null);
    const [, contents] = GLib.file_get_contents(report.get_pickup_file());
    assertGoodByAlice(MsgObj.Message.new_from_bytes(new GLib.Bytes(contents)).verify(null), 'pickup file');
    H.assert(!new TextDecoder().decode(message.to_bytes().get_data()).includes('multipart/signed'),
        'the message keeps its own body');
    // MSG_CRYPTO_PROTOCOL_DEFAULT and no signer: the same fields.
    H.assert(message.sign(MsgObj.CryptoProtocol.DEFAULT, null, null), 'signed from the configuration');
    assertGoodByAlice(reparse(message).verify(null), 'default protocol');
});

H.test('a missing recipient key sends nothing', () => {
    const dir = H.makeTempDir();
    const config = MsgObj.Configuration.new();
    config.set_field('smtpserverpickupdirectory', dir);
    config.set_field('cryptoencrypt', 'true');
    const message = newMessage(config);
    message.set_bcc('dave@example.org');
    const e = H.assertThrowsGError(() => message.send(null),
        MsgObj.crypto_error_quark(), MsgObj.CryptoError.NO_KEY, 'no key');
    H.assert(e.message.includes('dave@example.org'), 'the error names the recipient');
    H.assertEqual(H.listDir(dir), [], 'no file');
});

H.test('a JavaScript passphrase function, sync and async', () => {
    // The library calls it in the caller's thread (decision 18): gjs
    // runs JavaScript only there.
    const asked = [];
    const config = MsgObj.Configuration.new();
    config.set_passphrase_func((key, previousFailed) => {
        asked.push(key);
        return previousFailed ? null : 'carol secret';
    });
    const message = newMessage(config);
    H.assert(message.sign(MsgObj.CryptoProtocol.OPENPGP, 'carol@example.org', null), 'signed (sync)');
    H.assertEqual(asked.length, 1, 'asked once (sync)');
    H.assert(asked[0].includes('carol@example.org'), 'the key is named');
    let signatures = reparse(message).verify(null);
    H.assertEqual(signatures[0].get_status(), MsgObj.SignatureStatus.GOOD, 'sync: good');
    H.assertEqual(signatures[0].get_address(), 'carol@example.org', 'sync: carol');

    const other = newMessage(config);
    H.assert(H.runAsync(other.sign_async.bind(other), other.sign_finish.bind(other),
        MsgObj.CryptoProtocol.OPENPGP, 'carol@example.org', null), 'signed (async)');
    H.assertEqual(asked.length, 2, 'asked once (async)');
    signatures = reparse(other).verify(null);
    H.assertEqual(signatures[0].get_address(), 'carol@example.org', 'async: carol');

    // A wrong passphrase: a clear error, not a crash.
    const wrong = MsgObj.Configuration.new();
    wrong.set_passphrase_func(() => 'not carol\'s');
    H.assertThrowsGError(() => newMessage(wrong).sign(MsgObj.CryptoProtocol.OPENPGP, 'carol@example.org', null),
        MsgObj.crypto_error_quark(), MsgObj.CryptoError.BAD_PASSPHRASE, 'bad passphrase');
});

H.test('a flusher signs with a JavaScript passphrase function, sync and async', () => {
    // The flusher sends on threads of its own; the function must still
    // run in this thread (gjs aborts on JavaScript from another one).
    for (const async of [false, true]) {
        const drop = H.makeTempDir();
        const pickup = H.makeTempDir();
        const config = MsgObj.Configuration.new();
        config.set_field('smtpserverpickupdirectory', pickup);
        config.set_field('cryptosign', 'carol@example.org');
        const asked = [];
        config.set_passphrase_func(key => {
            asked.push(key);
            return 'carol secret';
        });
        for (const n of [1, 2])
            newMessage().save_to_file(GLib.build_filenamev([drop, `${n}.eml`]));
        const flusher = MsgObj.Flusher.new(config, MsgObj.DropDirectory.new(drop));
        flusher.set_connections(2);
        if (async)
            H.assert(H.runAsync(flusher.run_async.bind(flusher), flusher.run_finish.bind(flusher), null), 'run_async');
        else
            H.assert(flusher.run(null), 'run');
        H.assertEqual(flusher.get_n_sent(), 2, `sent (async: ${async})`);
        H.assertEqual(asked.length, 2, `asked once a message (async: ${async})`);
        for (const name of H.listDir(pickup)) {
            const [, contents] = GLib.file_get_contents(GLib.build_filenamev([pickup, name]));
            const signatures = MsgObj.Message.new_from_bytes(new GLib.Bytes(contents)).verify(null);
            H.assertEqual(signatures[0].get_address(), 'carol@example.org', `signed by carol (async: ${async})`);
        }
        H.assertEqual(H.listDir(pickup).length, 2, 'two files');
    }
});

const failed = H.run();
run(['gpgconf', '--kill', 'gpg-agent']);
GLib.spawn_command_line_sync(`rm -rf ${GLib.shell_quote(home)}`);
System.exit(failed > 0 ? 1 : 0);
