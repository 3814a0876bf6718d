# A private Postfix smtpd with Cyrus SASL for the integration suite
# (Debian "postfix", "sasl2-bin" for saslpasswd2, "libsasl2-modules"),
# started by the tests: everything lives in one temporary directory, the
# master runs in the foreground (master -d) as the test's child on a free
# port of 127.0.0.1 and is stopped by its PID; mail is accepted only from
# an authenticated client and then discarded (no delivery, no network).
#
# Cyrus SASL (auxprop + sasldb) offers SCRAM-SHA-1/-256, DIGEST-MD5,
# CRAM-MD5, NTLM, PLAIN and LOGIN, never -PLUS (Postfix passes no channel
# binding): docs/security.md, "Tested against real servers".
import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile

from conftest import (START_TIMEOUT, WAIT_TIMEOUT, fail_missing, free_port,
                      listening_inodes, process_socket_inodes, stop_process, wait_until)

POSTFIX_MASTER = "/usr/lib/postfix/sbin/master"
POSTCONF = "/usr/sbin/postconf"
SASLPASSWD2 = "/usr/sbin/saslpasswd2"
REALM = "example.test"
MECHANISMS = "SCRAM-SHA-256 SCRAM-SHA-1 DIGEST-MD5 CRAM-MD5 NTLM PLAIN LOGIN"

# Only the services an smtpd that discards needs; none is chrooted.
MASTER_CF = """\
{listen} inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
tlsmgr unix - - n 1000? 1 tlsmgr
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
proxymap unix - - n - - proxymap
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
config_directory = {dir}/etc
queue_directory = {dir}/queue
data_directory = {dir}/data
meta_directory = /etc/postfix
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.test
mydomain = example.test
mydestination =
relay_domains =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
default_transport = discard:
relay_transport = discard:
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = {dir}/etc/sasl
smtpd_sasl_local_domain = {realm}
smtpd_sasl_security_options = noanonymous
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_session_cache_database =
smtpd_forbid_unauth_pipelining = yes
smtpd_banner = $myhostname ESMTP
# No DNS: the client is not looked up, nothing is delivered.
smtpd_peername_lookup = no
biff = no
alias_maps =
alias_database =
notify_classes =
"""

SMTPD_CONF = """\
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: {dir}/sasldb2
mech_list: {mechanisms}
"""


class PostfixSasl:
    """A private Postfix smtpd with Cyrus SASL; users is a dict of user
    name to password, stored in sasldb under the realm example.test."""

    def __init__(self, cert, key, users):
        for path in (POSTFIX_MASTER, POSTCONF):
            if not os.access(path, os.X_OK):
                fail_missing("Postfix (%s)" % path)
        if not os.access(SASLPASSWD2, os.X_OK):
            fail_missing("Cyrus SASL's saslpasswd2 (Debian sasl2-bin)")
        if not glob.glob("/usr/lib/*/sasl2/libsasldb.so*") + glob.glob("/usr/lib/sasl2/libsasldb.so*"):
            fail_missing("Cyrus SASL's modules (Debian libsasl2-modules)")
        if os.geteuid() != 0:
            fail_missing("root, which a private Postfix master needs")
        self.dir = tempfile.mkdtemp(prefix="msgobj-postfix-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.proc = None
        self.port = None
        # smtpd reads its key as root before it drops privileges; copies
        # keep the CA's directory private.
        self.cert = shutil.copy(cert, os.path.join(self.dir, "cert.pem"))
        self.key = shutil.copy(key, os.path.join(self.dir, "key.pem"))
        os.makedirs(os.path.join(self.dir, "etc", "sasl"))
        postfix = pwd.getpwnam("postfix")
        for sub in ("queue", "data"):
            os.mkdir(os.path.join(self.dir, sub))
        os.chown(os.path.join(self.dir, "data"), postfix.pw_uid, postfix.pw_gid)
        with open(os.path.join(self.dir, "etc", "sasl", "smtpd.conf"), "w") as f:
            f.write(SMTPD_CONF.format(dir=self.dir, mechanisms=MECHANISMS))
        self._add_users(users)
        self._start()

    def _add_users(self, users):
        db = os.path.join(self.dir, "sasldb2")
        for user, password in users.items():
            result = subprocess.run([SASLPASSWD2, "-f", db, "-c", "-p", "-u", REALM, user],
                                    input=password.encode(), capture_output=True)
            assert result.returncode == 0, "saslpasswd2: %s" % result.stderr.decode()
        # smtpd runs as postfix and reads the database.
        postfix = pwd.getpwnam("postfix")
        os.chown(db, postfix.pw_uid, postfix.pw_gid)
        os.chmod(db, 0o600)

    def _write_config(self, port):
        etc = os.path.join(self.dir, "etc")
        with open(os.path.join(etc, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(dir=self.dir, realm=REALM, cert=self.cert, key=self.key))
        with open(os.path.join(etc, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(listen="127.0.0.1:%d" % port))
        # Creates the queue's subdirectories with their owners and modes.
        result = subprocess.run(["/usr/sbin/postfix", "-c", etc, "check"],
                                stdin=subprocess.DEVNULL, capture_output=True)
        assert result.returncode == 0, "postfix check: %s" % result.stderr.decode()

    def _start(self):
        # The master cannot report a port it chose: take a free one and
        # try another if something else took it in between.
        for attempt in range(5):
            port = free_port()
            self._write_config(port)
            log = open(os.path.join(self.dir, "master.log"), "wb")
            proc = subprocess.Popen([POSTFIX_MASTER, "-c", os.path.join(self.dir, "etc"), "-d"],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            log.close()

            def ready():
                if proc.poll() is not None:
                    return "exited"
                # The master itself holds the listening socket.
                inodes = listening_inodes(port)
                return bool(inodes and inodes & process_socket_inodes(proc.pid))

            state = wait_until(ready, START_TIMEOUT, "Postfix to listen on %d" % port)
            if state != "exited":
                self.proc, self.port = proc, port
                return
        raise AssertionError("Postfix did not start: %s\n%s" % (self._read("master.log"),
                                                                 self.log()))

    def _read(self, name):
        try:
            with open(os.path.join(self.dir, name), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log(self):
        return self._read("maillog")

    def authentications(self):
        """(method, username) of every message accepted after AUTH, from
        smtpd's "client=..., sasl_method=..., sasl_username=..." lines."""
        return re.findall(r"smtpd\[\d+\]: \w+: client=\S+, sasl_method=(\S+), sasl_username=(\S+)",
                          self.log())

    def wait_authentications(self, count, timeout=WAIT_TIMEOUT):
        wait_until(lambda: len(self.authentications()) >= count, timeout,
                   "%d authenticated message(s) in Postfix's log" % count)
        return self.authentications()

    def stop(self):
        if self.proc:
            # The master stops its children before it exits.
            stop_process(self.proc, timeout=30)
            self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
