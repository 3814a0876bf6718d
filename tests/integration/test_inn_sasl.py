# libmsgobj's AUTHINFO SASL (GNU SASL) against a real INN: nnrpd is built
# with Cyrus SASL, which it configures from INN.conf in the Cyrus
# configuration path; the fixture points SASL_CONF_PATH at a temporary
# directory with a sasldb (Debian "sasl2-bin" for saslpasswd2,
# "libsasl2-modules"). nnrpd then offers SASL SCRAM-SHA-256 SCRAM-SHA-1
# CRAM-MD5 PLAIN, without -PLUS (it passes Cyrus no channel binding).
import glob
import os
import shutil
import subprocess
import tempfile

import pytest
from gi.repository import GLib, MsgObj

from conftest import fail_missing
from inn_server import InnServer
from test_inn import GROUP, assert_posted, configuration, make_article

USER, PASSWORD = "carol", "c4rol pass"
SASLPASSWD2 = "/usr/sbin/saslpasswd2"
MECHANISMS = "SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN"


@pytest.fixture(scope="module")
def inn_sasl():
    if not os.access(SASLPASSWD2, os.X_OK):
        fail_missing("Cyrus SASL's saslpasswd2 (Debian sasl2-bin)")
    if not glob.glob("/usr/lib/*/sasl2/libsasldb.so*"):
        fail_missing("Cyrus SASL's modules (Debian libsasl2-modules)")
    directory = tempfile.mkdtemp(prefix="msgobj-inn-sasl-", dir="/tmp")
    os.chmod(directory, 0o755)
    db = os.path.join(directory, "sasldb2")
    # No realm given: Cyrus uses the host name, as nnrpd does.
    subprocess.run([SASLPASSWD2, "-f", db, "-c", "-p", USER], input=PASSWORD.encode(),
                   check=True, capture_output=True)
    shutil.chown(db, "news", "news")
    os.chmod(db, 0o600)
    with open(os.path.join(directory, "INN.conf"), "w") as f:
        f.write("pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s\n"
                "mech_list: %s\n" % (db, MECHANISMS))
    # innd, and the nnrpd it forks, read it from their environment.
    saved = os.environ.get("SASL_CONF_PATH")
    os.environ["SASL_CONF_PATH"] = directory
    try:
        # The access block for USER allows posting (readers.conf); the
        # ckpasswd file is not what SASL checks.
        with InnServer(groups=[GROUP], users={USER: "not the SASL password"}) as server:
            yield server
    finally:
        if saved is None:
            os.environ.pop("SASL_CONF_PATH", None)
        else:
            os.environ["SASL_CONF_PATH"] = saved
        shutil.rmtree(directory, ignore_errors=True)


def sasl_configuration(server, password=PASSWORD, **fields):
    return configuration(server, nntpauthenticate="basic", postusername=USER,
                         postpassword=password, nntpstarttls="required",
                         tlscafile=server.ca_file, **fields)


@pytest.mark.parametrize("mechanism", [None, "SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN"])
def test_inn_sasl_post(inn_sasl, mechanism):
    # None: the automatic choice, SCRAM-SHA-256 (with the GS2 "y" flag: no
    # -PLUS offered over TLS). Anonymous readers may not post and the
    # ckpasswd password differs from the SASL one, so a post that goes
    # through was authenticated by Cyrus SASL.
    fields = {"nntpauthmechanisms": mechanism} if mechanism else {}
    config = sasl_configuration(inn_sasl, **fields)
    message = make_article(config)
    report = message.post(None)
    assert_posted(inn_sasl, report, message)


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "PLAIN"])
def test_inn_sasl_wrong_password(inn_sasl, mechanism):
    config = sasl_configuration(inn_sasl, password="wrong horse", nntpauthmechanisms=mechanism)
    with pytest.raises(GLib.Error) as info:
        make_article(config).post(None)
    error = info.value
    assert error.matches(MsgObj.TransportError.quark(),
                         MsgObj.TransportError.AUTHENTICATION_FAILED), error.message
    assert "wrong horse" not in error.message

