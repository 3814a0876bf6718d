#!/usr/bin/python3
# An aiosmtpd server for the integration suite, run as its own process by
# conftest.py (Debian's python3-aiosmtpd). It listens on 127.0.0.1, on the
# port given (0: a free one), prints "PORT <n>" once it is listening, and
# stops on SIGTERM or SIGINT.
#
# Every accepted message is written to STATE/messages/<n>.json (atomically:
# written to a temporary name, then renamed) with its envelope, the raw DATA
# bytes after dot-unstuffing, the peer address and whether TLS and AUTH were
# in force. Every AUTH attempt is appended to STATE/auth.log as
# "MECHANISM LOGIN ok|fail".
import argparse
import asyncio
import base64
import itertools
import json
import logging
import os
import re
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, state, reject, queue_prefix, pipelining, max_recipients,
                 oauth_token=None):
        self.state = state
        self.oauth_token = oauth_token
        self.max_recipients = max_recipients
        self.pipelining = pipelining
        self.reject = {a.lower() for a in reject}
        self.counter = itertools.count(1)
        self.queue_prefix = queue_prefix
        os.makedirs(os.path.join(state, "messages"), exist_ok=True)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # aiosmtpd never advertises PIPELINING but handles a pipelined
        # batch correctly; --pipelining adds the keyword.
        session.host_name = hostname
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if self.max_recipients and len(envelope.rcpt_tos) >= self.max_recipients:
            # Postfix's wording for smtpd_recipient_limit.
            return "452 4.5.3 Error: too many recipients"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Ok"

    # OAuth 2 (--oauth-token): aiosmtpd calls a handler's auth_<NAME>
    # methods for AUTH <NAME>. A wrong token gets RFC 7628's error JSON as
    # a challenge, then 535 once the client has answered it.
    async def auth_XOAUTH2(self, server, args):
        return await self._oauth(server, args, "XOAUTH2")

    async def auth_OAUTHBEARER(self, server, args):
        return await self._oauth(server, args, "OAUTHBEARER")

    async def _oauth(self, server, args, mechanism):
        if len(args) > 1:
            try:
                line = base64.b64decode(args[1], validate=True)
            except ValueError:
                return AuthResult(success=False, handled=False)
        else:
            line = await server.challenge_auth("")
            if not isinstance(line, bytes):
                return AuthResult(success=False, handled=True)
        text = line.decode("utf-8", "replace")
        user = re.search(r"(?:^user=|^n,a=)([^\x01,]*)", text)
        token = re.search(r"\x01auth=Bearer ([^\x01]*)\x01", text)
        login = user.group(1) if user else ""
        ok = token is not None and token.group(1) == self.oauth_token
        with open(os.path.join(self.state, "auth.log"), "a") as f:
            f.write("%s %s %s\n" % (mechanism, login, "ok" if ok else "fail"))
        if ok:
            return AuthResult(success=True, auth_data={"login": login, "mechanism": mechanism})
        error = json.dumps({"status": "invalid_token", "schemes": "bearer", "scope": "mail"})
        if not isinstance(await server.challenge_auth(error), bytes):
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        queue_id = "%s%04d" % (self.queue_prefix, n)
        auth = session.auth_data if session.authenticated else None
        record = {
            "queue_id": queue_id,
            "peer": list(session.peer[:2]),
            "tls": session.ssl is not None or
                   server.transport.get_extra_info("sslcontext") is not None,
            "auth": auth,
            "helo": session.host_name,
            "mail_from": envelope.mail_from,
            "mail_options": envelope.mail_options,
            "rcpt_tos": envelope.rcpt_tos,
            "rcpt_options": envelope.rcpt_options,
            "content": base64.b64encode(envelope.original_content).decode("ascii"),
        }
        directory = os.path.join(self.state, "messages")
        tmp = os.path.join(directory, ".%d.tmp" % n)
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(directory, "%d.json" % n))
        return "250 2.0.0 Ok: queued as %s" % queue_id


class Authenticator:
    def __init__(self, state, credentials):
        self.log = os.path.join(state, "auth.log")
        self.credentials = credentials

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = False
        login = ""
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode("utf-8", "replace")
            password = auth_data.password.decode("utf-8", "replace")
            ok = self.credentials.get(login) == password
        with open(self.log, "a") as f:
            f.write("%s %s %s\n" % (mechanism, login, "ok" if ok else "fail"))
        if ok:
            return AuthResult(success=True, auth_data={"login": login, "mechanism": mechanism})
        # handled=False makes aiosmtpd send its 535 reply; the default
        # (handled=True) sends nothing and leaves the client waiting.
        return AuthResult(success=False, handled=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state", required=True)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--require-starttls", action="store_true")
    parser.add_argument("--implicit-tls", action="store_true",
                        help="TLS from the first byte (SMTPS) instead of STARTTLS")
    parser.add_argument("--auth", action="append", default=[], metavar="USER:PASSWORD")
    parser.add_argument("--oauth-token", metavar="TOKEN",
                        help="offer XOAUTH2 and OAUTHBEARER, accepting this token")
    parser.add_argument("--auth-plaintext", action="store_true",
                        help="offer AUTH without TLS")
    parser.add_argument("--reject", action="append", default=[], metavar="ADDRESS",
                        help="answer 550 to RCPT TO for this address")
    parser.add_argument("--max-recipients", type=int, default=0, metavar="N",
                        help="answer 452 4.5.3 to RCPT TO beyond N per transaction")
    parser.add_argument("--smtputf8", action="store_true")
    parser.add_argument("--pipelining", action="store_true",
                        help="advertise PIPELINING")
    parser.add_argument("--size", type=int, default=64 * 1024 * 1024)
    parser.add_argument("--queue-prefix", default="Q")
    args = parser.parse_args()

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="aiosmtpd: %(levelname)s %(message)s")
    # aiosmtpd 1.4.3 warns about its own use of Session.login_data on
    # every successful AUTH.
    logging.getLogger("mail.log").addFilter(
        lambda record: "login_data is deprecated" not in record.getMessage())

    tls_context = None
    if args.tls_cert:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)

    credentials = dict(c.split(":", 1) for c in args.auth)
    handler = Handler(args.state, args.reject, args.queue_prefix, args.pipelining,
                      args.max_recipients, args.oauth_token)
    authenticator = Authenticator(args.state, credentials) if credentials else None

    def factory():
        return SMTP(handler,
                    hostname="aiosmtpd.test",
                    data_size_limit=args.size,
                    enable_SMTPUTF8=args.smtputf8,
                    tls_context=None if args.implicit_tls else tls_context,
                    require_starttls=args.require_starttls,
                    authenticator=authenticator,
                    auth_exclude_mechanism=(None if args.oauth_token
                                            else ["XOAUTH2", "OAUTHBEARER"]),
                    # With implicit TLS aiosmtpd does not know the channel
                    # is encrypted: let it offer AUTH.
                    auth_require_tls=not (args.auth_plaintext or args.implicit_tls),
                    timeout=60)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(factory, host="127.0.0.1", port=args.port,
                           ssl=tls_context if args.implicit_tls else None))
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("PORT %d" % port, flush=True)
    loop.run_until_complete(stop.wait())
    server.close()
    loop.run_until_complete(server.wait_closed())
    loop.close()


if __name__ == "__main__":
    main()
