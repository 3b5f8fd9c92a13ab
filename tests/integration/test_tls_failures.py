#!/usr/bin/python3
"""TLS handshake and client-certificate failures (issue 7 §4): with client
certificates required, a client without one, or with one from another CA, is refused
during or right after the handshake; garbage, plain MQTT and a stalled handshake on
the TLS port are closed; and through all of it the server stays up and a client with
a good certificate connects and publishes."""
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import mqtt_raw as raw  # noqa: E402


def openssl(d, *args):
    subprocess.run(["openssl", *args], cwd=d, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_client_ca(d, name):
    """A CA and a client certificate it signed: (ca.pem, client.pem, client.key) in d/name-*."""
    openssl(d, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}-ca.key", "-out", f"{name}-ca.pem", "-days", "2", "-subj", f"/CN={name} CA")
    openssl(d, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}-client.key", "-out", f"{name}-client.csr", "-subj", f"/CN={name} device")
    with open(os.path.join(d, "client.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n")
    openssl(d, "x509", "-req", "-in", f"{name}-client.csr", "-CA", f"{name}-ca.pem", "-CAkey", f"{name}-ca.key",
            "-CAcreateserial", "-out", f"{name}-client.pem", "-days", "2", "-extfile", "client.ext")
    return tuple(os.path.join(d, f"{name}-{x}") for x in ("ca.pem", "client.pem", "client.key"))


@harness.skip_on_mosquitto("client-certificate settings are sluice's")
class TlsFailures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="sluice-tls-")
        cls.good_ca, cls.good_cert, cls.good_key = make_client_ca(cls.dir, "good")
        _, cls.rogue_cert, cls.rogue_key = make_client_ca(cls.dir, "rogue")
        saved = dict(os.environ)
        os.environ.update({"SLUICE_MQTT_TLS_CA": cls.good_ca, "SLUICE_MQTT_TLS_REQUIRE_CLIENT_CERT": "true",
                           "SLUICE_MQTT_CONNECT_TIMEOUT_MS": "1500"})
        try:
            cls.b = harness.Broker().start()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    @classmethod
    def tearDownClass(cls):
        cls.b.stop()

    def tearDown(self):
        self.assertTrue(self.b.alive(), "broker died:\n" + self.b.log_tail())

    def tls(self, cert=None, key=None, ragged_eof_ok=True):
        ctx = ssl.create_default_context(cafile=self.b.ca_file)
        if not ragged_eof_ok:  # Python ignores a close without close_notify by default; OpenSSL does not
            ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
        if cert:
            ctx.load_cert_chain(cert, key)
        s = socket.create_connection((harness.HOST, self.b.mqtts_port), timeout=5)
        return ctx.wrap_socket(s, server_hostname="localhost", suppress_ragged_eofs=ragged_eof_ok)

    def mqtt_over(self, s, cid):
        """CONNECT, then the first packet back (None: the server closed or reset)."""
        try:
            s.sendall(raw.connect(cid, version=4))
            data = s.recv(4)
            return data or None
        except (ssl.SSLError, OSError):
            return None

    def good_client_works(self):
        s = self.tls(self.good_cert, self.good_key)
        try:
            ack = self.mqtt_over(s, "good")
            self.assertIsNotNone(ack)
            self.assertEqual(ack[0] >> 4, raw.CONNACK)
            self.assertEqual(ack[3], 0)
            s.sendall(raw.publish("t/tls", b"ok", version=4))
        finally:
            s.close()

    def test_a_good_certificate_connects(self):
        self.good_client_works()

    def test_no_certificate_is_refused(self):
        try:
            s = self.tls()
        except (ssl.SSLError, OSError):
            s = None  # refused during the handshake (TLS 1.2)
        if s is not None:  # TLS 1.3: the refusal arrives as an alert after the client's side finished
            self.assertIsNone(self.mqtt_over(s, "nocert"))
            s.close()
        self.good_client_works()

    def test_a_certificate_from_another_ca_is_refused(self):
        try:
            s = self.tls(self.rogue_cert, self.rogue_key)
        except (ssl.SSLError, OSError):
            s = None
        if s is not None:
            self.assertIsNone(self.mqtt_over(s, "rogue"))
            s.close()
        self.good_client_works()

    def test_garbage_plain_mqtt_and_a_stalled_handshake_are_closed(self):
        for payload in (b"\x00" * 64 + b"GET / HTTP/1.1\r\n\r\n", raw.connect("plain", version=4)):
            c = socket.create_connection((harness.HOST, self.b.mqtts_port), timeout=5)
            c.sendall(payload)
            c.settimeout(5)
            try:
                while c.recv(4096):
                    pass  # a TLS alert, then EOF
            except OSError:
                pass  # reset
            c.close()
        stalled = socket.create_connection((harness.HOST, self.b.mqtts_port), timeout=5)
        start = time.monotonic()
        stalled.settimeout(10)
        try:
            self.assertEqual(stalled.recv(1), b"")  # closed by the server: no ClientHello in time
        except ConnectionResetError:
            pass
        self.assertLess(time.monotonic() - start, 6)
        stalled.close()
        self.good_client_works()

    def test_a_connection_the_server_ends_is_closed_with_close_notify(self):
        # The server ends a connection (here: the same client id connects again, MQTT 5
        # DISCONNECT 0x8E): the client reads the DISCONNECT, then a clean TLS end (close_notify),
        # not a truncation: OpenSSL 3 clients report a bare TCP close as "unexpected eof".
        first = self.tls(self.good_cert, self.good_key, ragged_eof_ok=False)
        self.addCleanup(first.close)
        first.sendall(raw.connect("notify", version=5))
        self.assertEqual(first.recv(64)[0] >> 4, raw.CONNACK)
        second = self.tls(self.good_cert, self.good_key)
        self.addCleanup(second.close)
        second.sendall(raw.connect("notify", version=5))
        got = b""
        first.settimeout(5)
        try:
            while True:
                data = first.recv(4096)
                if not data:
                    break  # close_notify: recv returns b""
                got += data
        except ssl.SSLError as e:
            self.fail(f"the server closed without close_notify ({e}); read {got!r}")
        self.assertEqual(got[0] >> 4, raw.DISCONNECT)
        self.assertEqual(got[2], 0x8E)


if __name__ == "__main__":
    unittest.main(verbosity=2)
