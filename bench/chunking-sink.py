#!/usr/bin/python3
"""An SMTP sink that offers CHUNKING (RFC 3030), for the DATA/BDAT rows of
bench/run.sh (Postfix smtp-sink does not offer CHUNKING).

    bench/chunking-sink.py --port-file FILE --count-file FILE [--lifetime S]

Listens on a free 127.0.0.1 port (written to --port-file), answers EHLO
with PIPELINING, 8BITMIME, BINARYMIME and CHUNKING, accepts every
envelope, reads DATA up to the final dot and BDAT chunks by their length,
and writes "sess=N mesg=N" to --count-file when a session ends. Both
bodies are read by C code (readuntil / readexactly), so neither is
favoured. Stop it with SIGTERM to its PID; it exits by itself after
--lifetime seconds.
"""

import argparse
import asyncio
import os
import signal

counts = {"sess": 0, "mesg": 0}
count_file = None


def save_counts():
    with open(count_file + ".tmp", "w") as f:
        f.write("sess=%d mesg=%d\n" % (counts["sess"], counts["mesg"]))
    os.rename(count_file + ".tmp", count_file)


async def session(reader, writer):
    writer.write(b"220 chunking-sink ESMTP\r\n")
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-chunking-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
                             b"250-BINARYMIME\r\n250 CHUNKING\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                await reader.readuntil(b"\r\n.\r\n")
                counts["mesg"] += 1
                writer.write(b"250 2.0.0 queued\r\n")
            elif verb == b"BDAT":
                words = line.split()
                await reader.readexactly(int(words[1]))
                if len(words) > 2 and words[2].upper() == b"LAST":
                    counts["mesg"] += 1
                    writer.write(b"250 2.0.0 queued\r\n")
                else:
                    writer.write(b"250 2.0.0 chunk\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:
                writer.write(b"250 2.0.0 ok\r\n")
            # Replies go out when there is no more input (PIPELINING).
            if not reader._buffer:
                await writer.drain()
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        counts["sess"] += 1
        save_counts()
        writer.close()


async def main():
    global count_file
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--count-file", required=True)
    parser.add_argument("--lifetime", type=float, default=3600.0)
    args = parser.parse_args()
    count_file = args.count_file
    save_counts()
    # readuntil() holds a whole DATA body: no 64 KiB limit.
    server = await asyncio.start_server(session, "127.0.0.1", 0, limit=1 << 30)
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % server.sockets[0].getsockname()[1])
    os.rename(args.port_file + ".tmp", args.port_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.call_later(args.lifetime, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
