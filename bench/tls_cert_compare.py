#!/usr/bin/env python3
"""TLS handshakes per second with client-certificate authentication (issue 18):
Sluice on a mutual-TLS instance against mosquitto with `require_certificate true`,
on the same machine, one after the other, repeated; medians.

A cycle: TCP connect, TLS handshake presenting a device certificate (EC P-256,
issued by a test root CA), MQTT 3.1.1 CONNECT, CONNACK (must be 0), DISCONNECT,
close. WORKERS client processes run cycles back to back for SECONDS.

Rows:
  mosquitto      require_certificate true, cafile = the device CA, allow_anonymous
  sluice mutual  the instance's TlsAuthMode mutual (its CA registered), Signature mode
  sluice one-way the same certificate presented to a one-way instance: the same
                 handshake, no CA lookup / chain check / status check, so
                 (1/one-way - 1/mutual) is what the certificate check adds per CONNECT.

Usage: SLUICE_BIN=build/sluice [TLS_VERSION=1.2] /usr/bin/python3 bench/tls_cert_compare.py [SECONDS] [ROUNDS] [WORKERS]

Under TLS 1.3 the client's CONNECT leaves with its Finished; mosquitto 2.0.11 then
answers it 40-60 ms later (the record waits in OpenSSL's buffer until its loop
wakes), so its rate there is bounded by that wait, not by cryptography. TLS 1.2
(TLS_VERSION=1.2: the server speaks last in the handshake) compares the work."""
import multiprocessing as mp
import os
import socket
import ssl
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import harness  # noqa: E402
from auth_harness import HOST, AuthBroker, Tenant, sign  # noqa: E402
from test_device_certs import make_pki, read, verification_cert  # noqa: E402


def utf8(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def connect_packet(cid, user=None, password=None):
    flags = 0x02 | (0x80 if user else 0) | (0x40 if password else 0)
    var = utf8("MQTT") + bytes([4, flags]) + struct.pack("!H", 30)
    payload = utf8(cid) + (utf8(user) if user else b"") + (utf8(password) if password else b"")
    body = var + payload
    n, rem = len(body), b""
    while True:
        d, n = n % 128, n // 128
        rem += bytes([d | (0x80 if n else 0)])
        if not n:
            break
    return b"\x10" + rem + body


def worker(port, cert, key, user_fmt, secret, seconds, wid, out):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(cert, key)
    if os.environ.get("TLS_VERSION") == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    n = fails = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        cid = f"GID_bench@@@w{wid}c{n}"
        user = user_fmt if user_fmt else None
        pw = sign(secret, cid) if secret else None
        try:
            with socket.create_connection((HOST, port), timeout=5) as raw:
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with ctx.wrap_socket(raw) as s:
                    s.sendall(connect_packet(cid, user, pw))
                    ack = b""
                    while len(ack) < 4:
                        chunk = s.recv(4 - len(ack))
                        if not chunk:
                            break
                        ack += chunk
                    if len(ack) == 4 and ack[3] == 0:
                        n += 1
                    else:
                        fails += 1
                    s.sendall(b"\xe0\x00")
        except OSError:
            fails += 1
    out.put((n, fails))


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(port, cert, key, user, secret, seconds, workers):
    q = mp.Queue()
    ps = [mp.Process(target=worker, args=(port, cert, key, user, secret, seconds, i, q)) for i in range(workers)]
    for p in ps:
        p.start()
    res = [q.get() for _ in ps]
    for p in ps:
        p.join()
    ok = sum(r[0] for r in res)
    bad = sum(r[1] for r in res)
    return ok / seconds, bad, ok


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    pki = tempfile.mkdtemp(prefix="sluice-bench-pki-")
    make_pki(pki)
    cert, key = os.path.join(pki, "dev_root.pem"), os.path.join(pki, "dev_root.key")

    b = AuthBroker()
    b.prepare()
    t = Tenant(b, "bench", group="GID_bench")
    one_way = b.admin("instance", "create", "--account", "bench", "--name", "oneway")
    b.admin("mq-group", "create", "--account", "bench", "--instance", one_way, "--group", "GID_bench")
    b.start()
    code = t.rpc("OnsMqtt", "GetRegisterCode", MqttInstanceId=t.instance)[1]["RegisterCode"]
    st, body = t.rpc("OnsMqtt", "RegisterCaCertificate", MqttInstanceId=t.instance, CaName="root",
                     CaContent=read(pki, "root.pem"), VerificationContent=verification_cert(pki, code))
    assert st == 200, body
    assert t.rpc("OnsMqtt", "UpdateInstance", InstanceId=t.instance, TlsAuthMode="mutual")[0] == 200

    mdir = tempfile.mkdtemp(prefix="sluice-bench-mosq-")
    mport = harness.free_ports(1)[0]
    conf = os.path.join(mdir, "m.conf")
    with open(conf, "w") as f:
        # as root, mosquitto would drop to user "mosquitto", who cannot read the 0700 temp dirs
        f.write(("user root\n" if os.geteuid() == 0 else "") + f"listener {mport} {HOST}\ncafile {os.path.join(pki, 'root.pem')}\n"
                f"certfile {b.cert_file}\nkeyfile {b.key_file}\nrequire_certificate true\n"
                "allow_anonymous true\npersistence false\nlog_type error\n")
    mos = subprocess.Popen([os.environ.get("MOSQUITTO_BIN", "/usr/sbin/mosquitto"), "-c", conf],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    names = ("mosquitto (require_certificate true)", "sluice, mutual instance",
             "sluice, one-way instance (same certificate)")
    rows = {k: [] for k in names}
    cpu = {k: [] for k in names}  # broker CPU microseconds per completed cycle
    perf_out = os.environ.get("BENCH_PERF")  # profile Sluice's mutual row once: perf record -g
    try:
        deadline = time.monotonic() + 10
        while not harness.port_open(mport) and time.monotonic() < deadline:
            time.sleep(0.05)
        for r in range(rounds):
            order = [
                (names[0], (mport, None, None), mos.pid),
                (names[1], (b.mqtts_port, t.sig_user(t.key_id), t.secret), b.pid),
                (names[2], (b.mqtts_port, f"Signature|{t.key_id}|{one_way}", t.secret), b.pid),
            ]
            if r % 2:  # interleave: half the rounds start with Sluice
                order.reverse()
            for name, args, pid in order:
                perf = None
                if perf_out and r == 0 and name == names[1]:
                    perf = subprocess.Popen(["perf", "record", "-g", "-q", "-o", perf_out, "-p", str(pid)],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(0.5)
                c0 = cpu_seconds(pid)
                rate, bad, ok = run(args[0], cert, key, args[1], args[2], seconds, workers)
                used = cpu_seconds(pid) - c0
                if perf:
                    perf.send_signal(2)
                    perf.wait()
                if bad:
                    print(f"warning: {name}: {bad} failed cycles", file=sys.stderr)
                rows[name].append(rate)
                cpu[name].append(used / ok * 1e6 if ok else float("nan"))
    finally:
        mos.terminate()
        mos.wait()
        b.stop()
        subprocess.run(["rm", "-rf", pki, mdir])
    med = {k: statistics.median(v) for k, v in rows.items()}
    mcpu = {k: statistics.median(v) for k, v in cpu.items()}
    m = med[names[0]] or float("nan")
    mc = mcpu[names[0]] or float("nan")
    print(f"| broker | cycles per second (median of {rounds}, {workers} client processes) | ratio "
          "| broker CPU per cycle, us (median) | CPU ratio (mosquitto / this) |")
    print("|---|---|---|---|---|")
    for k in names:
        v = med[k]
        print(f"| {k} | {v:.0f} ({', '.join(f'{x:.0f}' for x in rows[k])}) | {v / m:.2f} "
              f"| {mcpu[k]:.0f} ({', '.join(f'{x:.0f}' for x in cpu[k])}) | {mc / mcpu[k]:.2f} |")
    mu, ow = med[names[1]], med[names[2]]
    print(f"\nadded per CONNECT by the certificate check: broker CPU {mcpu[names[1]] - mcpu[names[2]]:.0f} us; "
          f"wall (1/mutual - 1/one-way, client-paced) {(1 / mu - 1 / ow) * 1e6 * workers:.0f} us per cycle per client")

if __name__ == "__main__":
    main()
