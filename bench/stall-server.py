#!/usr/bin/python3
# An SMTP server that stalls, for the cancellation row of bench/run.sh.
#
#   stall-server.py STAGE EOFLOG
#
# Listens on a free port of 127.0.0.1 and prints it on stdout. Every
# connection stalls at STAGE:
#   greeting  never sends the greeting
#   ehlo      sends the greeting, never answers EHLO
#   data      answers up to 354, then stops reading the message
#   dot       reads the whole message, never answers the final dot
# and, without reading any further, waits for the client to close (or reset)
# the connection. It appends "stall N MONOTONIC_US" to EOFLOG when connection
# N (counting from 1) reaches the stall, and "eof N MONOTONIC_US" when it
# sees it closed. CLOCK_MONOTONIC is the clock g_get_monotonic_time()
# reads, so the client can tell how long after its cancel the close arrived.
# Stopped with SIGTERM by the PID run.sh started.
import select
import socket
import sys
import threading
import time

STAGE, EOF_LOG = sys.argv[1], sys.argv[2]
if STAGE not in ("greeting", "ehlo", "data", "dot"):
    sys.exit("stall-server.py: unknown stage %r" % STAGE)

log_lock = threading.Lock()


def log(line):
    with log_lock, open(EOF_LOG, "a") as f:
        f.write(line + "\n")


def stalled(number):
    log("stall %d %d" % (number, time.monotonic_ns() // 1000))


def wait_for_close(sock, number):
    # POLLRDHUP comes with the client's FIN even when unread data is queued.
    poller = select.poll()
    poller.register(sock, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
    while not poller.poll(1000):
        pass
    log("eof %d %d" % (number, time.monotonic_ns() // 1000))


def serve(sock, number):
    try:
        if STAGE == "greeting":
            stalled(number)
            return
        sock.sendall(b"220 stall ESMTP\r\n")
        reader = sock.makefile("rb")
        while True:
            line = reader.readline(8192)
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                if STAGE == "ehlo":
                    stalled(number)
                    return
                sock.sendall(b"250-stall\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                sock.sendall(b"250 2.0.0 Ok\r\n")
            elif verb == b"DATA":
                sock.sendall(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                if STAGE == "data":
                    stalled(number)
                    return
                while True:
                    line = reader.readline(1 << 20)
                    if not line:
                        return
                    if line == b".\r\n":
                        stalled(number)
                        return
            elif verb == b"QUIT":
                sock.sendall(b"221 Bye\r\n")
                return
            else:
                sock.sendall(b"500 5.5.1 Unknown command\r\n")
    except OSError:
        pass
    finally:
        wait_for_close(sock, number)
        sock.close()


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print(listener.getsockname()[1], flush=True)
    number = 0
    while True:
        sock, _ = listener.accept()
        number += 1
        threading.Thread(target=serve, args=(sock, number), daemon=True).start()


if __name__ == "__main__":
    main()
