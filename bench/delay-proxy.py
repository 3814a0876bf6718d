#!/usr/bin/python3
"""A TCP proxy that adds latency, for the latency rows of bench/run.sh.

    bench/delay-proxy.py --listen PORT --to PORT [--delay MS] [--lifetime S]
                         [--port-file FILE]

Forwards 127.0.0.1:LISTEN to 127.0.0.1:TO and delays every chunk of bytes
by DELAY milliseconds in each direction (so one round trip costs 2 x DELAY
more), keeping the byte order of each connection and each direction: the
delay is a pipe of fixed length, not a rate limit, so pipelined commands
that go out together arrive together. A half-close (EOF) is forwarded after
the bytes before it. `tc netem` does the same in the kernel but needs root
and a network namespace; this needs neither.

With --listen 0 the proxy takes a free port and writes it to --port-file
(or stdout) once it listens. It exits by itself after --lifetime seconds
(default 3600) so that a forgotten one does not linger; stop it with
SIGTERM to its PID.
"""

import argparse
import asyncio
import signal
import sys


async def pump(reader, writer, delay, loop):
    """Copies reader to writer, each chunk delivered delay seconds after
    it was read, in order."""
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    task = asyncio.ensure_future(deliver())
    try:
        while True:
            data = await reader.read(65536)
            queue.put_nowait((loop.time() + delay, data if data else None))
            if not data:
                break
        await task
    except (ConnectionError, OSError):
        pass
    finally:
        if not task.done():
            task.cancel()


async def handle(client_reader, client_writer, target, delay):
    loop = asyncio.get_running_loop()
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        client_writer.close()
        return
    try:
        await asyncio.gather(pump(client_reader, server_writer, delay, loop),
                             pump(server_reader, client_writer, delay, loop))
    finally:
        for w in (client_writer, server_writer):
            try:
                w.close()
            except OSError:
                pass


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--to", type=int, required=True)
    parser.add_argument("--delay", type=float, default=20.0, help="milliseconds each way")
    parser.add_argument("--lifetime", type=float, default=3600.0, help="seconds")
    parser.add_argument("--port-file")
    args = parser.parse_args()

    delay = args.delay / 1000.0
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, args.to, delay), "127.0.0.1", args.listen, backlog=256)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(f"{port}\n")
        import os
        os.rename(args.port_file + ".tmp", args.port_file)
    else:
        print(port, flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.call_later(args.lifetime, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(130)
