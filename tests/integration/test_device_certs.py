#!/usr/bin/env python3
"""Device certificates and mutual TLS per instance (issue 18).

Certificates are made here with the openssl CLI: a root CA, an intermediate CA
under it, device certificates (under the intermediate, under the root, expired,
not yet valid, self-signed, from another CA), and the verification certificate
that proves possession of the root's key (CN = the instance's registration code).
Only the root is registered on the instance. Paho and mosquitto_pub connect
with them; every refusal is a CONNACK 0x87 with its reason in the audit log; an
inactivated or deleted CA or device certificate drops its connected device
within a second."""
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from auth_harness import HOST, MqttClient, TenantTestCase, sign  # noqa: E402


def read(*parts):
    with open(os.path.join(*parts)) as f:
        return f.read()


def openssl(d, *args):
    subprocess.run(["openssl", *args], cwd=d, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


CA_EXT = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
LEAF_EXT = "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n"


def make_pki(d):
    """Files in d: root, inter, other (CAs); dev_inter (+ chain), dev_root, expired,
    future, selfsigned, wrong (device certs, each with its .key)."""
    with open(os.path.join(d, "ca.ext"), "w") as f:
        f.write(CA_EXT)
    with open(os.path.join(d, "leaf.ext"), "w") as f:
        f.write(LEAF_EXT)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("root", "other"):
        openssl(d, "req", "-x509", *ec, "-keyout", f"{ca}.key", "-out", f"{ca}.pem", "-days", "30",
                "-subj", f"/CN=Device {ca} CA", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl(d, "req", *ec, "-keyout", "inter.key", "-out", "inter.csr", "-subj", "/CN=Device Intermediate CA")
    openssl(d, "x509", "-req", "-in", "inter.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial", "0x1001",
            "-out", "inter.pem", "-days", "20", "-extfile", "ca.ext")

    def leaf(name, ca, serial, days=10):
        openssl(d, "req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        openssl(d, "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
                "-set_serial", serial, "-out", f"{name}.pem", "-days", str(days), "-extfile", "leaf.ext")

    leaf("dev_inter", "inter", "0x2001")
    leaf("dev_root", "root", "0x2002")
    leaf("dev_root2", "root", "0x2003")
    leaf("wrong", "other", "0x2004")
    with open(os.path.join(d, "dev_inter_chain.pem"), "w") as f:
        f.write(read(d, "dev_inter.pem") + read(d, "inter.pem"))
    # Expired and not-yet-valid: `openssl ca` sets the dates exactly.
    os.makedirs(os.path.join(d, "db"), exist_ok=True)
    open(os.path.join(d, "db", "index.txt"), "w").close()
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write(f"""[ca]
default_ca = c
[c]
dir = {d}/db
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
default_md = sha256
policy = p
unique_subject = no
copy_extensions = none
x509_extensions = leaf
[p]
commonName = supplied
[leaf]
{LEAF_EXT}""")
    for name, serial, start, end in (("expired", "3001", "200101000000Z", "200201000000Z"),
                                     ("future", "3002", "390101000000Z", "390201000000Z")):
        with open(os.path.join(d, "db", "serial"), "w") as f:
            f.write(serial + "\n")
        openssl(d, "req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        openssl(d, "ca", "-batch", "-config", "ca.cnf", "-cert", "root.pem", "-keyfile", "root.key", "-in",
                f"{name}.csr", "-out", f"{name}.pem", "-startdate", start, "-enddate", end, "-notext")
    openssl(d, "req", "-x509", *ec, "-keyout", "selfsigned.key", "-out", "selfsigned.pem", "-days", "10",
            "-subj", "/CN=selfsigned")


def verification_cert(d, code, ca="root", name="verify"):
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl(d, "req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={code}")
    openssl(d, "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-set_serial", str(int(time.time() * 1000)), "-out", f"{name}.pem", "-days", "5")
    return read(d, f"{name}.pem")


def connect_packet(cid, user, password):
    """An MQTT 3.1.1 CONNECT (clean session, keep alive 30) with a username and password."""
    def utf8(v):
        b = v.encode()
        return len(b).to_bytes(2, "big") + b
    body = utf8("MQTT") + bytes([4, 0xC2]) + (30).to_bytes(2, "big") + utf8(cid) + utf8(user) + utf8(password)
    n, rem = len(body), b""
    while True:
        d, n = n % 128, n // 128
        rem += bytes([d | (0x80 if n else 0)])
        if not n:
            return b"\x10" + rem + body


def serial_of(d, name):
    out = subprocess.run(["openssl", "x509", "-in", os.path.join(d, f"{name}.pem"), "-noout", "-serial"],
                         capture_output=True, text=True, check=True).stdout
    return out.strip().split("=", 1)[1].lower()  # whole bytes, as the server writes it


@harness.skip_on_mosquitto("device certificates are sluice-specific")
class MutualTls(TenantTestCase):
    TENANTS = ("acme",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pki = tempfile.mkdtemp(prefix="sluice-pki-")
        make_pki(cls.pki)
        t = cls.t
        status, body = t.rpc("OnsMqtt", "GetRegisterCode", MqttInstanceId=t.instance)
        assert status == 200, body
        cls.code = body["RegisterCode"]
        ca = read(cls.pki, "root.pem")
        status, body = t.rpc("OnsMqtt", "RegisterCaCertificate", MqttInstanceId=t.instance, CaName="root",
                             CaContent=ca, VerificationContent=verification_cert(cls.pki, cls.code))
        assert status == 200, body
        cls.ca_sn = body["Sn"]
        status, body = t.rpc("OnsMqtt", "UpdateInstance", InstanceId=t.instance, TlsAuthMode="mutual")
        assert status == 200, body

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        subprocess.run(["rm", "-rf", cls.pki])

    def device(self, device, cert, version=5, transport="tls", chain=None):
        """A Signature-mode client presenting `cert` (a name in the PKI dir, or None)."""
        t = self.t
        cid = t.cid(device)
        c = MqttClient.__new__(MqttClient)
        pki = self.pki
        certfile = os.path.join(pki, f"{chain or cert}.pem") if cert else None
        keyfile = os.path.join(pki, f"{cert}.key") if cert else None
        import paho.mqtt.client as mqtt
        real_tls_set = mqtt.Client.tls_set

        def tls_set(self_, ca_certs=None, **kw):
            return real_tls_set(self_, ca_certs=ca_certs, certfile=certfile, keyfile=keyfile)
        mqtt.Client.tls_set = tls_set
        try:
            MqttClient.__init__(c, self.b, cid, t.sig_user(t.key_id), sign(t.secret, cid), version=version,
                                transport=transport)
        finally:
            mqtt.Client.tls_set = real_tls_set
        return self.track(c)

    def audited(self, reason, timeout=5.0):
        db = os.path.join(self.b.data_dir, "sluice.db")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if reason in self.b.log_tail(400000):
                return True
            try:
                con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=2)
                try:
                    rows = con.execute("SELECT event_name, error_message FROM audit_events").fetchall()
                finally:
                    con.close()
                if any(r[0] == "mqtt.connect.denied" and reason in (r[1] or "") for r in rows):
                    return True
            except sqlite3.Error:
                pass
            time.sleep(0.2)
        return False

    def audit_rows(self, event):
        db = os.path.join(self.b.data_dir, "sluice.db")
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=2)
        try:
            return con.execute("SELECT event_name, error_message, source_ip, parameters FROM audit_events "
                               "WHERE event_name = ?", (event,)).fetchall()
        except sqlite3.Error:
            return []
        finally:
            con.close()

    def devices(self):
        status, body = self.t.rpc("OnsMqtt", "ListDeviceCertificate", MqttInstanceId=self.t.instance,
                                  PageNo=1, PageSize=100)
        self.assertEqual(status, 200, body)
        return {d["DeviceSn"]: d for d in body["Data"]["DeviceCertificateVOS"]}

    def test_device_under_root_connects_and_is_registered(self):
        c = self.device("d1", "dev_root")
        self.assertEqual(c.rc, 0)
        c.subscribe(f"{self.t.topic}/x")
        c.publish(f"{self.t.topic}/x", b"hello")
        self.assertEqual(c.get().payload, b"hello")
        sn = serial_of(self.pki, "dev_root")
        d = self.devices()[sn]
        self.assertEqual(d["Status"], "1")
        self.assertEqual(d["CaSn"], self.ca_sn)
        self.assertEqual(d["DeviceName"], "dev_root")
        self.assertGreater(int(d["LastConnectionTime"]), 0)
        status, body = self.t.rpc("OnsMqtt", "GetDeviceCertificate", MqttInstanceId=self.t.instance,
                                  CaSn=self.ca_sn, DeviceSn=sn)
        self.assertEqual(status, 200, body)
        self.assertIn("BEGIN CERTIFICATE", body["Data"]["DeviceContent"])

    def test_chain_through_intermediate_with_mosquitto_pub(self):
        p = self.pki
        cid = self.t.cid("mos1")
        r = subprocess.run(["mosquitto_pub", "-h", HOST, "-p", str(self.b.mqtts_port), "-V", "mqttv5",
                            "--cafile", self.b.ca_file, "--cert", os.path.join(p, "dev_inter_chain.pem"),
                            "--key", os.path.join(p, "dev_inter.key"), "-i", cid,
                            "-u", self.t.sig_user(self.t.key_id), "-P", sign(self.t.secret, cid),
                            "-t", f"{self.t.topic}/m", "-m", "x", "-q", "1"],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(serial_of(p, "dev_inter"), self.devices())

    def refused(self, device, cert, reason, chain=None):
        c = self.device(device, cert, chain=chain)
        self.assertEqual(c.rc, 135, f"{cert}: CONNACK {c.rc}")
        self.assertTrue(self.audited(reason), f"{cert}: '{reason}' not audited")

    def test_refusals(self):
        self.refused("r1", None, "mutual TLS: no client certificate presented")
        self.refused("r2", "expired", "certificate expired")
        self.refused("r3", "future", "certificate not yet valid")
        self.refused("r4", "wrong", "certificate not issued by a CA registered on the instance")
        self.refused("r5", "selfsigned", "self-signed certificate")
        # Truncated: the intermediate's certificate not sent, so nothing leads to the root.
        self.refused("r6", "dev_inter", "certificate not issued by a CA registered on the instance")
        for name in ("expired", "future", "wrong", "selfsigned"):
            self.assertNotIn(serial_of(self.pki, name), self.devices())

    def test_wss_with_and_without_certificate(self):
        self.assertEqual(self.device("wss1", "dev_root", transport="wss").rc, 0)
        self.assertEqual(self.device("wss2", None, transport="wss").rc, 135)

    def test_plain_tcp_refused_on_mutual_instance(self):
        t = self.t
        cid = t.cid("tcp1")
        c = self.track(MqttClient(self.b, cid, t.sig_user(t.key_id), sign(t.secret, cid)))
        self.assertEqual(c.rc, 135)
        self.assertTrue(self.audited("mutual TLS: connected without TLS"))

    def test_device_revocation_drops_and_refuses(self):
        t = self.t
        c = self.device("rev1", "dev_root2")
        self.assertEqual(c.rc, 0)
        sn = serial_of(self.pki, "dev_root2")
        start = time.monotonic()
        status, body = t.rpc("OnsMqtt", "InactivateDeviceCertificate", MqttInstanceId=t.instance, CaSn=self.ca_sn,
                             DeviceSn=sn)
        self.assertEqual((status, body.get("DeviceSn")), (200, sn), body)
        self.assertTrue(c.disconnected.wait(1.5), "a connected device outlived its inactivated certificate")
        self.assertLess(time.monotonic() - start, 1.5)
        self.assertEqual(self.devices()[sn]["Status"], "0")
        self.assertEqual(self.device("rev2", "dev_root2").rc, 135)
        self.assertTrue(self.audited("device certificate " + sn + " is inactive"))
        status, _ = t.rpc("OnsMqtt", "ActiveDeviceCertificate", MqttInstanceId=t.instance, CaSn=self.ca_sn,
                          DeviceSn=sn)
        self.assertEqual(status, 200)
        self.assertEqual(self.device("rev3", "dev_root2").rc, 0)

    def raw_cycle(self, device, ctx, session=None):
        """TLS (resuming `session` if given), MQTT 3.1.1 CONNECT; returns (CONNACK code or None,
        whether the session was resumed, the session to resume next time)."""
        import socket
        import ssl
        t = self.t
        cid = t.cid(device)
        with socket.create_connection((HOST, self.b.mqtts_port), timeout=10) as raw:
            with ctx.wrap_socket(raw, session=session) as s:
                s.sendall(connect_packet(cid, t.sig_user(t.key_id), sign(t.secret, cid)))
                ack = b""
                try:
                    while len(ack) < 4:
                        chunk = s.recv(4 - len(ack))
                        if not chunk:
                            break
                        ack += chunk
                except (ssl.SSLError, OSError):
                    pass
                reused = s.session_reused
                code = ack[3] if len(ack) == 4 else None
                if code == 0:
                    s.sendall(b"\xe0\x00")
                return code, reused, s.session

    def test_resumed_session_keeps_the_chain_through_an_intermediate(self):
        # A device issued by the intermediate resumes its TLS session: the server
        # still has the chain its CONNECT is checked against (a stateless TLS 1.2
        # ticket carries only the device's own certificate, so the resumed CONNECT
        # was refused as chaining to no registered CA).
        import ssl
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.minimum_version = ctx.maximum_version = version
            ctx.load_cert_chain(os.path.join(self.pki, "dev_inter_chain.pem"), os.path.join(self.pki, "dev_inter.key"))
            code, reused, session = self.raw_cycle(f"res{version.name}a", ctx)
            self.assertEqual((code, reused), (0, False), version)
            self.assertIsNotNone(session, version)
            code, reused, _ = self.raw_cycle(f"res{version.name}b", ctx, session)
            self.assertTrue(reused, f"{version}: the session was not resumed")
            self.assertEqual(code, 0, f"{version}: a resumed device was refused (CONNACK {code})")

    def sni_cycle(self, device, cert, server_name, chain=None):
        """TLS 1.2 and 1.3 with `server_name` as SNI, then an MQTT 3.1.1 CONNECT. Per version:
        the CONNACK code, or the TLS error that ended the connection before any CONNACK."""
        import ssl
        out = []
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.minimum_version = ctx.maximum_version = version
            if cert:
                ctx.load_cert_chain(os.path.join(self.pki, f"{chain or cert}.pem"), os.path.join(self.pki, f"{cert}.key"))
            t = self.t
            cid = t.cid(f"{device}{version.name[-1]}")
            import socket
            try:
                with socket.create_connection((HOST, self.b.mqtts_port), timeout=10) as raw:
                    with ctx.wrap_socket(raw, server_hostname=server_name) as s:
                        s.sendall(connect_packet(cid, t.sig_user(t.key_id), sign(t.secret, cid)))
                        ack = s.recv(4)
                        out.append(ack[3] if len(ack) == 4 else "closed")
            except ssl.SSLError as e:
                out.append(e.reason or str(e))
            except OSError as e:
                out.append(type(e).__name__)
        return out

    def test_sni_naming_the_instance_checks_the_certificate_in_the_handshake(self):
        # A client whose SNI names the instance (<instance id>.mqtt.<domain>, any case) has its
        # certificate verified against the instance's CAs in the TLS handshake: without one,
        # or from another CA, the handshake fails with a TLS alert and no CONNECT is read.
        # Before, the handshake completed and the CONNECT was refused (CONNACK 5).
        sni = f"{self.t.instance.upper()}.mqtt.example.com"
        self.assertEqual(self.sni_cycle("sni-ok", "dev_inter", sni, chain="dev_inter_chain"), [0, 0])
        for device, cert, alert in (("sni-none", None, ("CERTIFICATE_REQUIRED", "HANDSHAKE_FAILURE")),
                                    ("sni-wrong", "wrong", ("UNKNOWN_CA",)),
                                    ("sni-trunc", "dev_inter", ("UNKNOWN_CA",))):
            for got in self.sni_cycle(device, cert, sni):
                self.assertIsInstance(got, str, f"{device}: the handshake completed (CONNACK {got})")
                self.assertTrue(any(a in got.upper() for a in alert), f"{device}: {got}")
        # Each refusal is a denial of the instance, audited though no CONNECT was read
        # (ActionTrail LookupEvents shows it), with the client's address and why.
        deadline, rows = time.monotonic() + 5, []
        while time.monotonic() < deadline and not rows:
            rows = self.audit_rows("mqtt.tls.denied")
            time.sleep(0.2)
        self.assertTrue(rows, "a refused handshake was not audited")
        for _, message, source_ip, params in rows:
            self.assertEqual(source_ip, HOST)
            self.assertIn(self.t.instance, params)
            self.assertTrue(message, "no reason recorded")
        # A name that is no instance, or an IP address (no SNI): the CONNECT decides, as before.
        self.assertEqual(self.sni_cycle("sni-other", "wrong", "nothing.mqtt.example.com"), [5, 5])
        self.assertEqual(self.sni_cycle("sni-ip", "wrong", None), [5, 5])

    def test_z_ca_inactivation_and_deletion(self):
        t = self.t
        c = self.device("ca1", "dev_root")
        self.assertEqual(c.rc, 0)
        status, body = t.rpc("OnsMqtt", "InactivateCaCertificate", MqttInstanceId=t.instance, Sn=self.ca_sn)
        self.assertEqual((status, body.get("Sn")), (200, self.ca_sn), body)
        self.assertTrue(c.disconnected.wait(1.5), "a device outlived its inactivated CA")
        self.assertEqual(self.device("ca2", "dev_root").rc, 135)
        self.assertTrue(self.audited(f"CA certificate {self.ca_sn} is inactive"))
        self.assertEqual(t.rpc("OnsMqtt", "ActiveCaCertificate", MqttInstanceId=t.instance, Sn=self.ca_sn)[0], 200)
        c = self.device("ca3", "dev_root")
        self.assertEqual(c.rc, 0)
        status, body = t.rpc("OnsMqtt", "DeleteCaCertificate", MqttInstanceId=t.instance, Sn=self.ca_sn)
        self.assertEqual(status, 200, body)
        self.assertTrue(c.disconnected.wait(1.5), "a device outlived its deleted CA")
        self.assertEqual(self.devices(), {})  # deleted with their CA
        status, body = t.rpc("OnsMqtt", "GetCaCertificate", MqttInstanceId=t.instance, Sn=self.ca_sn)
        self.assertEqual((status, body["Code"]), (404, "FindCaBySnError"))
        self.assertEqual(self.device("ca4", "dev_root").rc, 135)


@harness.skip_on_mosquitto("device certificates are sluice-specific")
class Registration(TenantTestCase):
    """RegisterCaCertificate's proof of possession, and one-way instances untouched."""
    TENANTS = ("acme",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pki = tempfile.mkdtemp(prefix="sluice-pki-")
        make_pki(cls.pki)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        subprocess.run(["rm", "-rf", cls.pki])

    def register(self, ca, verification):
        return self.t.rpc("OnsMqtt", "RegisterCaCertificate", MqttInstanceId=self.t.instance, CaName="n",
                          CaContent=ca, VerificationContent=verification)

    def test_proof_of_possession(self):
        t, p = self.t, self.pki
        root = read(p, "root.pem")
        status, body = self.register(root, verification_cert(p, "anything"))
        self.assertEqual((status, body["Code"]), (400, "ParameterFieldCheckFailed"), body)  # no code yet
        code = t.rpc("OnsMqtt", "GetRegisterCode", MqttInstanceId=t.instance)[1]["RegisterCode"]
        self.assertEqual(t.rpc("OnsMqtt", "GetRegisterCode", MqttInstanceId=t.instance)[1]["RegisterCode"], code)
        cases = [
            (root, verification_cert(p, "not-the-code", name="v1"), "CN must be"),
            (root, verification_cert(p, code, ca="other", name="v2"), "not signed by the CA"),
            (read(p, "dev_root.pem"), verification_cert(p, code, name="v3"), "not a CA"),
            ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "x", "CaContent"),
            (root + read(p, "other.pem"), verification_cert(p, code, name="v4"), "bundle"),
        ]
        for ca, ver, why in cases:
            status, body = self.register(ca, ver)
            self.assertEqual((status, body["Code"]), (400, "ParameterFieldCheckFailed"), body)
            self.assertIn(why, body["Message"])
        # The cloud's examples write newlines as the two characters "\n": accepted too.
        status, body = self.register(root.replace("\n", "\\n"), verification_cert(p, code, name="v5"))
        self.assertEqual(status, 200, body)
        sn = body["Sn"]
        self.assertEqual(sn, serial_of(p, "root"))
        status, body = self.register(root, verification_cert(p, code, name="v6"))
        self.assertEqual((status, body["Code"]), (409, "CaAlreadyExists"))
        status, body = t.rpc("OnsMqtt", "ListCaCertificate", MqttInstanceId=t.instance, PageNo=1, PageSize=10)
        self.assertEqual(status, 200, body)
        vo = body["Data"]["CaCertificateVOS"][0]
        self.assertEqual((vo["Sn"], vo["Status"], vo["RegistrationCode"], body["Data"]["Total"]), (sn, "1", code, 1))
        self.assertNotIn("PRIVATE", str(body))

    def test_one_way_instance_accepts_tls_with_and_without_certificate(self):
        t = self.t
        for i, cert in enumerate((None, "dev_root", "selfsigned")):
            cid = t.cid(f"ow{i}")
            import paho.mqtt.client as mqtt
            real = mqtt.Client.tls_set
            certfile = os.path.join(self.pki, f"{cert}.pem") if cert else None
            keyfile = os.path.join(self.pki, f"{cert}.key") if cert else None
            mqtt.Client.tls_set = lambda s, ca_certs=None, **kw: real(s, ca_certs=ca_certs, certfile=certfile,
                                                                      keyfile=keyfile)
            try:
                c = self.track(MqttClient(self.b, cid, t.sig_user(t.key_id), sign(t.secret, cid), transport="tls"))
            finally:
                mqtt.Client.tls_set = real
            self.assertEqual(c.rc, 0, cert)

    def test_bad_serial_numbers_and_pages(self):
        t = self.t
        status, body = t.rpc("OnsMqtt", "GetDeviceCertificate", MqttInstanceId=t.instance, CaSn="ab", DeviceSn="cd")
        self.assertEqual((status, body["Code"]), (404, "FindDeviceBySnError"))
        status, body = t.rpc("OnsMqtt", "ActiveCaCertificate", MqttInstanceId=t.instance, Sn="x" * 200)
        self.assertEqual((status, body["Code"]), (400, "ParameterFieldCheckFailed"))
        status, body = t.rpc("OnsMqtt", "ListCaCertificate", MqttInstanceId=t.instance, PageSize=1000)
        self.assertEqual(status, 400)
        status, body = t.rpc("OnsMqtt", "UpdateInstance", InstanceId=t.instance, TlsAuthMode="both")
        self.assertEqual((status, body["Code"]), (400, "InvalidParameter.TlsAuthMode"))


if __name__ == "__main__":
    harness.main()
