# libmsgobj's SASL (GNU SASL) against real servers: a private Postfix smtpd
# with Cyrus SASL (postfix_sasl.py), which offers SCRAM-SHA-1/-256,
# DIGEST-MD5, CRAM-MD5, NTLM, PLAIN and LOGIN but no -PLUS, and aiosmtpd:
# its authenticator (PLAIN, LOGIN) and aiosmtpd_server.py's XOAUTH2 and
# OAUTHBEARER (--oauth-token). Postfix's log says which mechanism and user
# each accepted message came with.
import pytest
from gi.repository import GLib, MsgObj

from conftest import smtp_config
from postfix_sasl import PostfixSasl

PASSWORD = "s3cret pass"
TRANSPORT_ERROR = MsgObj.TransportError.quark()


@pytest.fixture(scope="module")
def postfix(test_ca):
    # One server for the module: starting Postfix takes seconds. Each test
    # looks only at the log lines its own send added.
    server = PostfixSasl(test_ca.cert, test_ca.key, {"alice": PASSWORD})
    yield server
    server.cleanup()


def config_for(server, test_ca, **fields):
    fields.setdefault("smtpauthenticate", "basic")
    fields.setdefault("sendusername", "alice")
    fields.setdefault("sendpassword", PASSWORD)
    fields.setdefault("smtpstarttls", "required")
    return smtp_config(server.port, tlscafile=test_ca.ca_cert, **fields)


def send(config):
    message = MsgObj.Message.new_with_configuration(config)
    message.set_from("alice@example.test")
    message.set_to("bob@example.test")
    message.set_subject("SASL against a real server")
    message.set_text_body("Authenticated.\n")
    transport = MsgObj.Transport.new_for_name("smtp", config)
    try:
        return transport.send_message(message, None)
    finally:
        transport.close(None)


def send_and_check(postfix, config, mechanism):
    before = len(postfix.authentications())
    send(config)
    accepted = postfix.wait_authentications(before + 1)
    assert accepted[before:] == [(mechanism, "alice@example.test")], postfix.log()


def test_postfix_automatic_choice_is_scram_sha_256(postfix, test_ca):
    # Cyrus offers no -PLUS (Postfix passes no channel binding), so the
    # client says "y" (it could bind, the server did not offer it): a
    # server without channel binding accepts that.
    send_and_check(postfix, config_for(postfix, test_ca), "SCRAM-SHA-256")


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-1", "DIGEST-MD5",
                                       "CRAM-MD5", "PLAIN", "LOGIN"])
def test_postfix_pinned(postfix, test_ca, mechanism):
    config = config_for(postfix, test_ca, smtpauthmechanisms=mechanism)
    send_and_check(postfix, config, mechanism)


def test_postfix_ntlm(postfix, test_ca):
    # smtpauthenticate=ntlm: Postfix offers no GSSAPI, so NTLM. Cyrus's
    # NTLMv2 check upper-cases user and domain together, libntlm only the
    # user: a domain written in upper case is what both agree on (field
    # notes, "Real Postfix as a test server").
    config = config_for(postfix, test_ca, smtpauthenticate="ntlm",
                        sendusername="EXAMPLE.TEST\\alice")
    send_and_check(postfix, config, "NTLM")


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "CRAM-MD5", "PLAIN", "NTLM"])
def test_postfix_wrong_password(postfix, test_ca, mechanism):
    fields = {"sendpassword": "wrong horse", "smtpauthmechanisms": mechanism}
    if mechanism == "NTLM":
        fields.update(smtpauthenticate="ntlm", sendusername="EXAMPLE.TEST\\alice")
    before = len(postfix.authentications())
    with pytest.raises(GLib.Error) as info:
        send(config_for(postfix, test_ca, **fields))
    error = info.value
    assert error.matches(TRANSPORT_ERROR, MsgObj.TransportError.AUTHENTICATION_FAILED), \
        "%s %d: %s" % (error.domain, error.code, error.message)
    assert "535" in error.message or mechanism in error.message, error.message
    assert "wrong horse" not in error.message
    assert len(postfix.authentications()) == before


def test_postfix_no_auth_without_tls(postfix, test_ca):
    # smtpd_tls_auth_only: Postfix offers no AUTH before STARTTLS; a client
    # told to go without TLS (and allowed plaintext) says so clearly and
    # sends no credentials.
    before = len(postfix.authentications())
    config = config_for(postfix, test_ca, smtpstarttls="never", smtpallowplaintextauth="true")
    with pytest.raises(GLib.Error) as info:
        send(config)
    assert "does not offer authentication" in info.value.message, info.value.message
    assert PASSWORD not in info.value.message
    assert len(postfix.authentications()) == before


# --- aiosmtpd ------------------------------------------------------------------


def test_aiosmtpd_automatic_choice_is_plain(aiosmtpd, test_ca):
    # aiosmtpd offers LOGIN and PLAIN: over TLS the automatic choice
    # takes PLAIN (one round trip) before LOGIN.
    server = aiosmtpd("--tls-cert", test_ca.cert, "--tls-key", test_ca.key,
                      "--require-starttls", "--auth", "alice:" + PASSWORD)
    send(smtp_config(server.port, smtpstarttls="required", tlscafile=test_ca.ca_cert,
                     smtpauthenticate="basic", sendusername="alice", sendpassword=PASSWORD))
    (received,) = server.messages(1)
    assert received.tls and received.auth == {"login": "alice", "mechanism": "PLAIN"}
    assert server.auth_log() == [["PLAIN", "alice", "ok"]]


def oauth_server(aiosmtpd, test_ca, token):
    return aiosmtpd("--tls-cert", test_ca.cert, "--tls-key", test_ca.key,
                    "--require-starttls", "--oauth-token", token)


def oauth_config(server, test_ca, mechanism, token):
    return smtp_config(server.port, smtpstarttls="required", tlscafile=test_ca.ca_cert,
                       smtpauthenticate="basic", sendusername="alice",
                       sendpassword=token, smtpauthmechanisms=mechanism)


@pytest.mark.parametrize("mechanism", ["OAUTHBEARER", "XOAUTH2"])
def test_aiosmtpd_oauth(aiosmtpd, test_ca, mechanism):
    server = oauth_server(aiosmtpd, test_ca, "fresh-token")
    send(oauth_config(server, test_ca, mechanism, "fresh-token"))
    (received,) = server.messages(1)
    assert received.auth == {"login": "alice", "mechanism": mechanism}
    assert server.auth_log() == [[mechanism, "alice", "ok"]]


@pytest.mark.parametrize("mechanism", ["OAUTHBEARER", "XOAUTH2"])
def test_aiosmtpd_oauth_refresh(aiosmtpd, test_ca, mechanism):
    # A stale token: aiosmtpd answers with RFC 7628's error JSON and 535;
    # MsgTransport::need-token is asked for a fresh one, which is accepted.
    server = oauth_server(aiosmtpd, test_ca, "fresh-token")
    config = oauth_config(server, test_ca, mechanism, "stale-token")
    message = MsgObj.Message.new_with_configuration(config)
    message.set_from("alice@example.test")
    message.set_to("bob@example.test")
    message.set_text_body("Refreshed.\n")
    transport = MsgObj.Transport.new_for_name("smtp", config)
    asked = []

    def on_need_token(transport, mech, user, server_error):
        asked.append((mech, user, server_error))
        return "fresh-token"

    transport.connect("need-token", on_need_token)
    transport.send_message(message, None)
    transport.close(None)
    (received,) = server.messages(1)
    assert received.auth == {"login": "alice", "mechanism": mechanism}
    assert server.auth_log() == [[mechanism, "alice", "fail"], [mechanism, "alice", "ok"]]
    assert len(asked) == 1 and asked[0][:2] == (mechanism, "alice")
    assert "invalid_token" in (asked[0][2] or ""), asked


def test_aiosmtpd_oauth_refused(aiosmtpd, test_ca):
    # No handler for need-token: the refusal is AUTHENTICATION_FAILED,
    # without the token in the message.
    server = oauth_server(aiosmtpd, test_ca, "fresh-token")
    with pytest.raises(GLib.Error) as info:
        send(oauth_config(server, test_ca, "OAUTHBEARER", "stale-token"))
    error = info.value
    assert error.matches(TRANSPORT_ERROR, MsgObj.TransportError.AUTHENTICATION_FAILED), \
        error.message
    assert "stale-token" not in error.message
    assert server.message_count() == 0
