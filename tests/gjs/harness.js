// SPDX-License-Identifier: LGPL-2.1-or-later
// A small TAP harness for the gjs suite: each file registers tests with
// test() and calls run(); meson reads the TAP output.
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import MsgObj from 'gi://MsgObj?version=1.0';

const tests = [];

export function test(name, fn) {
    tests.push([name, fn]);
}

export function assert(condition, what) {
    if (!condition)
        throw new Error(`assertion failed: ${what}`);
}

export function assertEqual(actual, expected, what) {
    const a = JSON.stringify(actual), e = JSON.stringify(expected);
    if (a !== e)
        throw new Error(`${what}: expected ${e}, got ${a}`);
}

// Runs fn, which must throw a GLib.Error of domain and code; returns it.
export function assertThrowsGError(fn, domain, code, what) {
    try {
        fn();
    } catch (e) {
        if (!(e instanceof GLib.Error))
            throw e;
        if (!e.matches(domain, code))
            throw new Error(`${what}: wrong error ${e.domain}/${e.code}: ${e.message}`);
        return e;
    }
    throw new Error(`${what}: no error`);
}

// Runs an _async/_finish pair on a GLib.MainLoop: returns the result or
// throws the GLib.Error, like the sync call. The guard ends a hung call:
// every operation under test has its own, shorter clocks.
export function runAsync(start, finish, ...args) {
    const loop = new GLib.MainLoop(null, false);
    let box = null;
    start(...args, (source, result) => {
        try {
            box = {value: finish(result)};
        } catch (e) {
            box = {error: e};
        }
        loop.quit();
    });
    const guard = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, 30, () => {
        loop.quit();
        return GLib.SOURCE_REMOVE;
    });
    loop.run();
    if (box === null)
        throw new Error('the async call did not finish in 30 s');
    GLib.source_remove(guard);
    if (box.error)
        throw box.error;
    return box.value;
}

// Dispatches what is still queued in the default main context.
export function drainMainContext() {
    const context = GLib.MainContext.default();
    while (context.iteration(false))
        ;
}

export function makeTempDir() {
    return GLib.dir_make_tmp('msgobj-gjs-XXXXXX');
}

export function listDir(path) {
    const names = [];
    const enumerator = Gio.File.new_for_path(path).enumerate_children(
        'standard::name', Gio.FileQueryInfoFlags.NONE, null);
    for (let info = enumerator.next_file(null); info; info = enumerator.next_file(null))
        names.push(info.get_name());
    return names.sort();
}

export function readFile(path) {
    const [, contents] = GLib.file_get_contents(path);
    return new TextDecoder().decode(contents);
}

export function makeMessage(config, to = 'Bob <bob@example.test>') {
    const message = MsgObj.Message.new_with_configuration(config);
    message.set_from('Alice <alice@example.test>');
    message.set_to(to);
    message.set_bcc('hidden@example.test');
    message.set_subject('Grüße aus gjs');
    message.set_text_body('Hello from gjs.\n.dot line\n');
    return message;
}

export function run() {
    print(`1..${tests.length}`);
    let failed = 0;
    tests.forEach(([name, fn], i) => {
        try {
            fn();
            print(`ok ${i + 1} ${name}`);
        } catch (e) {
            failed++;
            print(`not ok ${i + 1} ${name}`);
            for (const line of `${e}\n${e.stack ?? ''}`.split('\n'))
                print(`# ${line}`);
        }
    });
    return failed;
}
