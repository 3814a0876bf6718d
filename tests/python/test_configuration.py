# SPDX-License-Identifier: LGPL-2.1-or-later
"""MsgObj.Configuration through PyGObject."""

import os
import subprocess
import sys
import textwrap

import gi

gi.require_version("MsgObj", "1.0")
from gi.repository import GLib, MsgObj  # noqa: E402

import pytest  # noqa: E402

NS = "http://schemas.microsoft.com/cdo/configuration/"
DOMAIN = "msg-configuration-error-quark"

CDO_FIELDS = [
    "sendusing", "smtpserver", "smtpserverport", "smtpusessl",
    "smtpauthenticate", "sendusername", "sendpassword",
    "smtpconnectiontimeout", "smtpaccountname", "sendemailaddress",
    "senduserreplyemailaddress", "smtpserverpickupdirectory",
    "flushbuffersonwrite", "postusing", "nntpserver", "nntpserverport",
    "nntpusessl", "nntpauthenticate", "postusername", "postpassword",
    "nntpconnectiontimeout", "nntpaccountname", "postemailaddress",
    "postuserreplyemailaddress", "nntpserverpickupdirectory",
    "autopromotebodyparts", "httpcookies", "languagecode",
    "usemessageresponsetext", "urlgetlatestversion", "urlproxyserver",
    "urlproxybypass", "savesentitems", "timezoneid",
]


def assert_config_error(excinfo, code):
    err = excinfo.value
    assert err.domain == DOMAIN, err.domain
    assert err.code == int(code), (err.code, err.message)
    assert err.matches(MsgObj.ConfigurationError.quark(), code)
    return err.message


def test_defaults():
    cfg = MsgObj.Configuration.new()
    assert cfg.get_field("sendusing") == "pickup"
    assert cfg.get_int("sendusing") == 1
    assert cfg.get_field("postusing") == "pickup"
    assert cfg.get_int("smtpserverport") == 25
    assert cfg.get_int("nntpserverport") == 119
    assert cfg.get_seconds("smtpconnectiontimeout") == 30.0
    assert cfg.get_field("smtpauthenticate") == "anonymous"
    assert cfg.get_int("smtpstarttls") == int(MsgObj.StartTlsMode.OPPORTUNISTIC)
    assert cfg.get_boolean("flushbuffersonwrite") is True
    assert cfg.get_boolean("autopromotebodyparts") is True
    assert cfg.get_boolean("usemessageresponsetext") is True
    assert cfg.get_boolean("smtpusessl") is False
    assert cfg.get_field("smtpserver") is None
    assert cfg.is_field_set("smtpserverport") is False


def test_list_fields_and_types():
    cfg = MsgObj.Configuration.new()
    names = cfg.list_fields()
    assert names == sorted(names)
    for name in CDO_FIELDS + ["smtpstarttls", "nntpstarttls", "tlsverify",
                              "smtpoperationtimeout", "smtpauthmechanisms"]:
        assert name in names
        assert MsgObj.Configuration.has_field(NS + name)
    assert MsgObj.Configuration.get_field_type("sendpassword") == MsgObj.FieldType.SECRET
    assert MsgObj.Configuration.get_field_type("smtpserverport") == MsgObj.FieldType.INT
    assert MsgObj.Configuration.get_field_type(NS + "smtpconnectiontimeout") == MsgObj.FieldType.SECONDS
    assert not MsgObj.Configuration.has_field("smtpusetls")


def test_both_name_forms():
    cfg = MsgObj.Configuration.new()
    assert cfg.set_field(NS + "smtpserver", "mail.example.org")
    assert cfg.get_field("smtpserver") == "mail.example.org"
    cfg.set_field("smtpserverport", "587")
    assert cfg.get_int(NS + "smtpserverport") == 587
    cfg.set_field("urn:schemas:calendar:timezoneid", "UTC")
    assert cfg.get_field("timezoneid") == "UTC"


def test_validation():
    cfg = MsgObj.Configuration.new()
    cfg.set_field("sendusing", "2")
    assert cfg.get_field("sendusing") == "smtp"
    assert cfg.get_int("sendusing") == 2
    cfg.set_field("smtpauthenticate", "1")
    assert cfg.get_field("smtpauthenticate") == "basic"
    cfg.set_field("smtpstarttls", "Required")
    assert cfg.get_int("smtpstarttls") == int(MsgObj.StartTlsMode.REQUIRED)
    cfg.set_field("smtpusessl", "True")
    assert cfg.get_boolean("smtpusessl") is True
    cfg.set_field("smtpconnectiontimeout", "0.25")
    assert cfg.get_seconds("smtpconnectiontimeout") == 0.25

    for name, value in [("smtpserverport", "0"), ("smtpserverport", "65536"),
                        ("smtpusessl", "maybe"), ("smtpauthenticate", "3"),
                        ("smtpconnectiontimeout", "nan"),
                        ("smtpconnectiontimeout", "-1"),
                        ("smtpserver", "mail.example.org\r\nRSET"),
                        ("sendusing", "3")]:
        with pytest.raises(GLib.Error) as excinfo:
            cfg.set_field(name, value)
        message = assert_config_error(excinfo, MsgObj.ConfigurationError.INVALID_VALUE)
        assert name in message
        assert "\n" not in message and "\r" not in message
    assert cfg.get_int("smtpserverport") == 25


def test_typed_values():
    cfg = MsgObj.Configuration.new()
    # set_field takes strings only (TypeError for an int); set_field_value
    # converts by the field's type.
    with pytest.raises(TypeError):
        cfg.set_field("smtpserverport", 2525)
    assert cfg.set_field_value("smtpserverport", 2525)
    assert cfg.get_int("smtpserverport") == 2525
    cfg.set_field_value("tlsverify", False)
    assert cfg.get_boolean("tlsverify") is False
    cfg.set_field_value("smtpusessl", 1)
    assert cfg.get_boolean("smtpusessl") is True
    cfg.set_field_value("smtpconnectiontimeout", 2.5)
    assert cfg.get_seconds("smtpconnectiontimeout") == 2.5
    cfg.set_field_value("smtpoperationtimeout", 60)
    assert cfg.get_seconds("smtpoperationtimeout") == 60.0
    cfg.set_field_value("smtpstarttls", MsgObj.StartTlsMode.REQUIRED)
    assert cfg.get_field("smtpstarttls") == "required"
    cfg.set_field_value("sendusing", 2)
    assert cfg.get_field("sendusing") == "smtp"
    cfg.set_field_value("smtpserver", "mail.example.org")
    assert cfg.get_field("smtpserver") == "mail.example.org"
    cfg.set_field_value("smtpserver", None)
    assert not cfg.is_field_set("smtpserver")


@pytest.mark.parametrize("name,value", [
    ("smtpserverport", True),          # a boolean is not a port
    ("smtpserverport", 0),             # out of range
    ("smtpserverport", 2.5),           # not an integer
    ("smtpserver", 25),                # a number is not a host
    ("smtpusessl", 2),                 # a boolean is 0 or 1
    ("smtpconnectiontimeout", -1.0),   # negative
    ("smtpconnectiontimeout", float("nan")),
    ("smtpstarttls", 7),               # no such choice
])
def test_typed_values_invalid(name, value):
    cfg = MsgObj.Configuration.new()
    before = cfg.get_field(name)
    with pytest.raises(GLib.Error) as excinfo:
        cfg.set_field_value(name, value)
    message = assert_config_error(excinfo, MsgObj.ConfigurationError.INVALID_VALUE)
    assert name in message
    assert cfg.get_field(name) == before


def test_set_fields_from_dict():
    cfg = MsgObj.Configuration.new()
    assert cfg.set_fields({"smtpserver": "127.0.0.1", "smtpserverport": 2525,
                           "smtpusessl": False, "smtpconnectiontimeout": 2.5,
                           NS + "sendusername": "me"})
    assert cfg.get_field("smtpserver") == "127.0.0.1"
    assert cfg.get_int("smtpserverport") == 2525
    assert cfg.get_boolean("smtpusessl") is False
    assert cfg.get_seconds("smtpconnectiontimeout") == 2.5
    assert cfg.get_field("sendusername") == "me"

    # All or nothing: one bad value and nothing changes.
    with pytest.raises(GLib.Error) as excinfo:
        cfg.set_fields({"smtpserverport": 2000, "tlsverify": "maybe"})
    message = assert_config_error(excinfo, MsgObj.ConfigurationError.INVALID_VALUE)
    assert "tlsverify" in message
    assert cfg.get_int("smtpserverport") == 2525
    with pytest.raises(GLib.Error) as excinfo:
        cfg.set_fields({"smtpserverport": 2000, "smtpusetls": True})
    assert_config_error(excinfo, MsgObj.ConfigurationError.UNKNOWN_FIELD)
    assert cfg.get_int("smtpserverport") == 2525


def test_server_chooses_transport_and_port():
    cfg = MsgObj.Configuration.new()
    assert cfg.get_field("sendusing") == "pickup"
    cfg.set_field("smtpserver", "127.0.0.1:2525")
    assert cfg.get_field("sendusing") == "smtp"
    assert cfg.get_field("smtpserver") == "127.0.0.1"
    assert cfg.get_int("smtpserverport") == 2525
    cfg.set_field("sendusing", "pickup")
    assert cfg.get_field("sendusing") == "pickup"
    cfg.set_field("nntpserver", "[::1]:1119")
    assert cfg.get_field("postusing") == "nntp"
    assert cfg.get_field("nntpserver") == "::1"
    assert cfg.get_int("nntpserverport") == 1119
    with pytest.raises(GLib.Error) as excinfo:
        cfg.set_field("smtpserver", "smtp://127.0.0.1:2525")
    message = assert_config_error(excinfo, MsgObj.ConfigurationError.INVALID_VALUE)
    assert "127.0.0.1:2525" in message and "URL" in message


def test_unknown_field_is_an_error():
    cfg = MsgObj.Configuration.new()
    with pytest.raises(GLib.Error) as excinfo:
        cfg.set_field(NS + "smtpusetls", "1")
    message = assert_config_error(excinfo, MsgObj.ConfigurationError.UNKNOWN_FIELD)
    assert "smtpusetls" in message


def test_reset():
    cfg = MsgObj.Configuration.new()
    cfg.set_field("smtpserverport", "2525")
    assert cfg.is_field_set("smtpserverport")
    cfg.set_field("smtpserverport", None)
    assert cfg.get_int("smtpserverport") == 25
    cfg.set_field("smtpserverport", "2525")
    cfg.reset_field(NS + "smtpserverport")
    assert not cfg.is_field_set("smtpserverport")


def test_secrets_never_leak():
    password = "pyth0n-s3cret"
    cfg = MsgObj.Configuration.new()
    cfg.set_field("sendpassword", password)
    assert cfg.get_field("sendpassword") is None
    assert cfg.get_secret("sendpassword") == password
    assert cfg.is_field_set("sendpassword")
    for name in cfg.list_fields():
        if MsgObj.Configuration.get_field_type(name) != MsgObj.FieldType.SECRET:
            assert password not in (cfg.get_field(name) or "")
    with pytest.raises(GLib.Error) as excinfo:
        cfg.set_field("sendpassword", password + "\n")
    message = assert_config_error(excinfo, MsgObj.ConfigurationError.INVALID_VALUE)
    assert password not in message
    with pytest.raises(GLib.Error) as excinfo:
        cfg.load_from_data("[configuration]\nsendpassword = %s\\n\n" % password, -1)
    assert password not in excinfo.value.message
    assert cfg.get_secret("sendpassword") == password


def test_key_file_data():
    cfg = MsgObj.Configuration.new()
    data = textwrap.dedent("""\
        # comment
        [configuration]
        sendusing = smtp
        smtpserver = mail.example.org
        smtpserverport = 465
        smtpusessl = yes
        """)
    assert cfg.load_from_data(data, -1)
    assert cfg.get_field("smtpserver") == "mail.example.org"
    assert cfg.get_int("smtpserverport") == 465
    assert cfg.get_boolean("smtpusessl")

    with pytest.raises(GLib.Error) as excinfo:
        cfg.load_from_data("[configuration]\nsmtpserver = other\nsmtpserverport = x\n", -1)
    message = assert_config_error(excinfo, MsgObj.ConfigurationError.INVALID_VALUE)
    assert "line 3" in message and "smtpserverport" in message
    # All or nothing.
    assert cfg.get_field("smtpserver") == "mail.example.org"

    with pytest.raises(GLib.Error) as excinfo:
        cfg.load_from_data("[configuration]\n\nsmtpusetls = true\n", -1)
    message = assert_config_error(excinfo, MsgObj.ConfigurationError.UNKNOWN_FIELD)
    assert "line 3" in message

    with pytest.raises(GLib.Error) as excinfo:
        cfg.load_from_data("[configuration]\njust words\n", -1)
    message = assert_config_error(excinfo, MsgObj.ConfigurationError.PARSE)
    assert "line 2" in message


def test_key_file_path(tmp_path):
    good = tmp_path / "good.conf"
    good.write_text("[configuration]\nnntpserver = news.example.org\n")
    bad = tmp_path / "bad.conf"
    bad.write_text("[configuration]\nnntpserverport = 0\n")
    cfg = MsgObj.Configuration.new()
    assert cfg.load_from_file(str(good))
    assert cfg.get_field("nntpserver") == "news.example.org"
    with pytest.raises(GLib.Error) as excinfo:
        cfg.load_from_file(str(bad))
    message = assert_config_error(excinfo, MsgObj.ConfigurationError.INVALID_VALUE)
    assert "bad.conf:2:" in message
    with pytest.raises(GLib.Error) as excinfo:
        cfg.load_from_file(str(tmp_path / "missing.conf"))
    assert_config_error(excinfo, MsgObj.ConfigurationError.PARSE)


def test_new_default_env(tmp_path, monkeypatch):
    conf = tmp_path / "env.conf"
    conf.write_text("[configuration]\nsmtpserver = env.example.org\n")
    monkeypatch.setenv("MSGOBJ_CONFIG", str(conf))
    cfg = MsgObj.Configuration.new_default()
    assert cfg.get_field("smtpserver") == "env.example.org"

    monkeypatch.setenv("MSGOBJ_CONFIG", str(tmp_path / "missing.conf"))
    with pytest.raises(GLib.Error) as excinfo:
        MsgObj.Configuration.new_default()
    assert_config_error(excinfo, MsgObj.ConfigurationError.PARSE)


def test_new_default_xdg(tmp_path):
    # g_get_user_config_dir() is cached per process: use a fresh one.
    (tmp_path / "msgobj").mkdir()
    (tmp_path / "msgobj" / "msgobj.conf").write_text(
        "[configuration]\nsmtpserver = xdg.example.org\n")
    script = textwrap.dedent("""\
        import gi
        gi.require_version("MsgObj", "1.0")
        from gi.repository import MsgObj
        print(MsgObj.Configuration.new_default().get_field("smtpserver"))
        """)
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path))
    env.pop("MSGOBJ_CONFIG", None)
    out = subprocess.run([sys.executable, "-c", script], env=env,
                         capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "xdg.example.org"


def test_register_field():
    assert MsgObj.Configuration.register_field(
        "pytestcompression", MsgObj.FieldType.ENUM, "none", ["none", "gzip", "zstd"])
    cfg = MsgObj.Configuration.new()
    assert cfg.get_field("pytestcompression") == "none"
    cfg.set_field(NS + "pytestcompression", "2")
    assert cfg.get_field("pytestcompression") == "zstd"
    assert cfg.get_int("pytestcompression") == 2
    assert "pytestcompression" in cfg.list_fields()
    # The same type again is fine; another type is not.
    assert MsgObj.Configuration.register_field(
        "pytestcompression", MsgObj.FieldType.ENUM, None, ["none", "gzip", "zstd"])
    with pytest.raises(GLib.Error) as excinfo:
        MsgObj.Configuration.register_field(
            "pytestcompression", MsgObj.FieldType.INT, None, None)
    assert_config_error(excinfo, MsgObj.ConfigurationError.FAILED)


def test_copy_is_independent():
    cfg = MsgObj.Configuration.new()
    cfg.set_field("smtpserver", "a.example.org")
    cfg.set_field("sendpassword", "pw")
    copy = cfg.copy()
    cfg.set_field("smtpserver", "b.example.org")
    copy.set_field("smtpserverport", "2525")
    assert copy.get_field("smtpserver") == "a.example.org"
    assert copy.get_secret("sendpassword") == "pw"
    assert cfg.get_int("smtpserverport") == 25


def test_equal_compares_values():
    """Issue 18: equal() is what a transport checks before reading its
    settings again; canonical values compare equal, a change does not."""
    cfg = MsgObj.Configuration.new()
    cfg.set_field("smtpserver", "a.example.org")
    cfg.set_field("smtpusessl", "True")
    copy = cfg.copy()
    assert cfg.equal(copy)
    other = MsgObj.Configuration.new()
    other.set_field("smtpusessl", "yes")
    other.set_field("smtpserver", "a.example.org")
    assert other.equal(cfg)
    cfg.set_field("smtpserver", "b.example.org")
    assert not cfg.equal(copy)
    assert copy.equal(other)


def test_key_file_secret_needs_private_file(tmp_path):
    """Issue 14, item 5: a password in a file others can read is refused,
    naming the file and the fix; chmod 600 makes it load."""
    conf = tmp_path / "secret.conf"
    conf.write_text("[configuration]\nsendpassword = hunter2\n")
    conf.chmod(0o644)
    cfg = MsgObj.Configuration.new()
    with pytest.raises(GLib.Error) as excinfo:
        cfg.load_from_file(str(conf))
    message = assert_config_error(excinfo, MsgObj.ConfigurationError.PARSE)
    assert str(conf) in message
    assert "chmod 600" in message
    assert "hunter2" not in message
    assert not cfg.is_field_set("sendpassword")
    conf.chmod(0o600)
    assert cfg.load_from_file(str(conf))
    assert cfg.is_field_set("sendpassword")
