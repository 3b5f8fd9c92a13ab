"""Paho subscriber for the console test: connects in Signature mode
(username Signature|<AccessKeyId>|<InstanceId>, password Base64(HMAC-SHA1(secret,
client id))), subscribes, prints READY, then one JSON line per message.
Run with Debian's /usr/bin/python3 (python3-paho-mqtt)."""
import base64
import hashlib
import hmac
import json
import sys

import paho.mqtt.client as mqtt

host, port, instance, key_id, secret, client_id, topic = sys.argv[1:8]
password = base64.b64encode(hmac.new(secret.encode(), client_id.encode(), hashlib.sha1).digest()).decode()


def on_connect(c, userdata, flags, rc, props=None):
    if rc != 0:
        print(json.dumps({"error": f"connect refused: {rc}"}), flush=True)
        sys.exit(1)
    c.subscribe(topic, qos=1)


def on_subscribe(c, userdata, mid, granted, props=None):
    codes = [getattr(g, "value", g) for g in granted]
    if any(x >= 0x80 for x in codes):
        print(json.dumps({"error": f"subscribe refused: {codes}"}), flush=True)
        sys.exit(1)
    print("READY", flush=True)


def on_message(c, userdata, m):
    print(json.dumps({"topic": m.topic, "payload": m.payload.decode("utf-8", "replace")}), flush=True)


c = mqtt.Client(client_id, protocol=mqtt.MQTTv311)
c.username_pw_set(f"Signature|{key_id}|{instance}", password)
c.on_connect = on_connect
c.on_subscribe = on_subscribe
c.on_message = on_message
c.connect(host, int(port), keepalive=30)
c.loop_forever()
