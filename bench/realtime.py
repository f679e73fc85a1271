"""Through the local stack: API -> MQTT subscriber latency, and the publisher's throughput (boto3 iot-data
over a kept-alive connection) against Ona's connect-publish-disconnect per message."""

import json
import statistics
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from bench.common import auth, percentile


def _summary(samples: list[float]) -> dict:
    return {"p50_ms": statistics.median(samples), "p99_ms": percentile(samples, 0.99)}


class Receipts:
    """A QoS 1 subscriber that counts what arrives on `topic_filter`, and times a burst of publishes until all
    of them have arrived."""

    def __init__(self, port: int, topic_filter: str):
        import paho.mqtt.client as mqtt

        self._received = threading.Semaphore(0)
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{time.monotonic_ns()}")
        self._client.on_message = lambda *_: self._received.release()
        self._client.connect("127.0.0.1", port)
        self._client.subscribe(topic_filter, qos=1)
        self._client.loop_start()
        time.sleep(0.5)

    def rate(self, messages: int, send) -> float:
        started = time.perf_counter()
        for n in range(messages):
            send(n)
        for _ in range(messages):
            assert self._received.acquire(timeout=30), "a message never arrived"
        return messages / (time.perf_counter() - started)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


@contextmanager
def local_stack():
    from postbox_local import launcher

    stack = launcher.start(Path(tempfile.mkdtemp(prefix="postbox-bench-")) / "stack.log")
    try:
        yield stack
    finally:
        stack.stop()


def latency(stack, messages: int) -> dict:
    """Time from the create request to arrival at a subscriber, on the target topic and the inbox topic."""
    import requests
    from AWSIoTPythonSDK.MQTTLib import AWSIoTMQTTClient

    arrivals: dict[tuple[str, str], float] = {}
    arrived = threading.Condition()

    def on_message(_client, _userdata, message) -> None:
        payload = json.loads(message.payload)
        message_id = payload.get("id") or payload.get("entry", {}).get("id")
        with arrived:
            arrivals[(message.topic, message_id)] = time.perf_counter()
            arrived.notify_all()

    subscriber = AWSIoTMQTTClient("bench-subscriber")
    subscriber.configureEndpoint("127.0.0.1", stack.mqtt_port)
    subscriber.connect()
    target_topic, inbox_topic = "postbox/user/bob/messages/publish", "postbox/user/bob/inbox"
    subscriber.subscribe(target_topic, 1, on_message)
    subscriber.subscribe(inbox_topic, 1, on_message)
    session = requests.Session()
    headers = auth("alice")
    target_ms, inbox_ms, api_ms = [], [], []
    for n in range(messages):
        started = time.perf_counter()
        response = session.post(f"{stack.url}/api/v1/messaging", headers=headers, timeout=30,
                                json={"target_type": "user", "target_id": "bob", "message": f"latency {n}"})
        api_ms.append((time.perf_counter() - started) * 1000)
        message_id = response.json()["id"]
        wanted = {(target_topic, message_id), (inbox_topic, message_id)}
        with arrived:
            arrived.wait_for(lambda wanted=wanted: wanted <= arrivals.keys(), timeout=30)
        target_ms.append((arrivals[(target_topic, message_id)] - started) * 1000)
        inbox_ms.append((arrivals[(inbox_topic, message_id)] - started) * 1000)
    subscriber.disconnect()
    return {"messages": messages, "api_response": _summary(api_ms), "target_topic": _summary(target_ms),
            "inbox_topic": _summary(inbox_ms)}


def publish_throughput(stack, messages: int) -> dict:
    """Messages per second to a subscriber: Postbox's way (one boto3 iot-data client, HTTP keep-alive, QoS 1,
    through the local IoT data endpoint) and Ona's way (paho's publish.single: connect, publish, disconnect)."""
    import boto3
    from paho.mqtt import publish

    from postbox_local.state import REGION

    receipts = Receipts(stack.mqtt_port, "bench/throughput/#")
    iot = boto3.client("iot-data", endpoint_url=f"http://127.0.0.1:{stack.iot_port}", region_name=REGION,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    postbox = receipts.rate(messages, lambda n: iot.publish(topic="bench/throughput/postbox", qos=1,
                                                            payload=json.dumps({"n": n})))
    ona = receipts.rate(messages, lambda n: publish.single("bench/throughput/ona", json.dumps({"n": n}), qos=1,
                                                           hostname="127.0.0.1", port=stack.mqtt_port))
    receipts.close()
    return {"messages": messages, "postbox_per_second": round(postbox, 1), "ona_per_second": round(ona, 1)}


def _self_signed(directory: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key (PEM files), for TLS on loopback."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def publish_throughput_tls(messages: int) -> dict:
    """The same comparison with TLS on both paths, as against IoT Core (where MQTT and HTTPS are both TLS):
    Postbox keeps one HTTPS connection; Ona's way does a TLS handshake per message."""
    import asyncio

    import boto3
    from amqtt.broker import Broker
    from paho.mqtt import publish

    from postbox_local.dataplane import IotDataPlane, serve
    from postbox_local.launcher import free_ports

    directory = Path(tempfile.mkdtemp(prefix="postbox-bench-tls-"))
    cert, key = _self_signed(directory)
    plain_port, tls_port, https_port = free_ports(3)
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    config = {"listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{plain_port}"},
                            "tls": {"type": "tcp", "bind": f"127.0.0.1:{tls_port}", "ssl": True,
                                    "certfile": cert, "keyfile": key}},
              "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}}

    async def start() -> Broker:
        broker = Broker(config, loop=loop)
        await broker.start()
        return broker

    broker = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=30)
    dataplane = IotDataPlane(plain_port)
    server = serve(dataplane, https_port, ssl_context=(cert, key))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dataplane.connect()
    receipts = Receipts(plain_port, "bench/tls/#")
    try:
        iot = boto3.client("iot-data", endpoint_url=f"https://127.0.0.1:{https_port}", region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing", verify=cert)
        postbox = receipts.rate(messages, lambda n: iot.publish(topic="bench/tls/postbox", qos=1,
                                                                payload=json.dumps({"n": n})))
        ona = receipts.rate(messages, lambda n: publish.single("bench/tls/ona", json.dumps({"n": n}), qos=1,
                                                               hostname="127.0.0.1", port=tls_port,
                                                               tls={"ca_certs": cert}))
    finally:
        receipts.close()
        server.shutdown()
        dataplane.close()
        asyncio.run_coroutine_threadsafe(broker.shutdown(), loop).result(timeout=30)
    return {"messages": messages, "postbox_per_second": round(postbox, 1), "ona_per_second": round(ona, 1)}
