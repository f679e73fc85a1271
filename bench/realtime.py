"""Through the local stack: API -> MQTT subscriber latency, and the publisher's throughput (boto3 iot-data
over a kept-alive connection) against Ona's connect-publish-disconnect per message."""

import datetime
import json
import logging
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

    def drain(self, messages: int) -> None:
        """Wait for `messages` arrivals (of publishes sent before the timing starts)."""
        for _ in range(messages):
            assert self._received.acquire(timeout=30), "a message never arrived"

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


@contextmanager
def tls_broker():
    """A broker with a plain and a TLS listener, and the IoT data endpoint over HTTPS in front of it, all on
    loopback: yields (plain MQTT port, TLS MQTT port, HTTPS data endpoint port, certificate file)."""
    import asyncio

    from amqtt.broker import Broker

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
    try:
        yield plain_port, tls_port, https_port, cert
    finally:
        server.shutdown()
        dataplane.close()
        asyncio.run_coroutine_threadsafe(broker.shutdown(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)


def publish_throughput_tls(messages: int) -> dict:
    """The same comparison with TLS on both paths, as against IoT Core (where MQTT and HTTPS are both TLS):
    Postbox keeps one HTTPS connection; Ona's way does a TLS handshake per message."""
    import boto3
    from paho.mqtt import publish

    with tls_broker() as (plain_port, tls_port, https_port, cert):
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
    return {"messages": messages, "postbox_per_second": round(postbox, 1), "ona_per_second": round(ona, 1)}


BATCH_SIZE = 100  # template.yaml: the publisher's stream event source, BatchSize
_EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _message_record(sequence: int, topic_base: str) -> dict:
    """A stream record of a new Ona message to user target `u{sequence}` (each its own topic), as Lambda delivers
    it: the publisher publishes it on its target topic and reads nothing."""
    from boto3.dynamodb.types import TypeSerializer

    from postbox.dal.messages import NewMessage, message_item

    item = message_item(NewMessage(id=f"m{sequence:06d}", verb="message", message=f"bench {sequence}", user="alice",
                                   sender_id="alice", sender_kind="user", sender_name="Alice", target_type="user",
                                   target_id=f"u{sequence}", target_name="", created=_EPOCH,
                                   timestamp="2026-01-01T00:00:00.000000Z"))
    image = {name: TypeSerializer().serialize(value) for name, value in item.items()}
    return {"eventID": f"bench-{sequence}", "eventName": "INSERT", "eventSource": "aws:dynamodb",
            "eventSourceARN": f"arn:aws:dynamodb:us-east-1:123456789012:table/{topic_base}/stream/bench",
            "dynamodb": {"Keys": {"PK": image["PK"], "SK": image["SK"]}, "NewImage": image,
                         "SequenceNumber": str(sequence), "StreamViewType": "NEW_AND_OLD_IMAGES"}}


def _publisher_handler(endpoint: str, cert: str, topic_base: str, concurrency: int):
    """The stream publisher's Lambda handler (functions/stream/publisher/app.py) as a fresh container loads it,
    publishing to `endpoint`; the environment and the settings it read are restored by `restore()`."""
    import os

    from bench.common import ROOT
    from postbox import settings
    from postbox.integrations import iot
    from postbox_local.functions import LocalFunction

    environment = {"IOT_DATA_ENDPOINT": endpoint, "AWS_CA_BUNDLE": cert, "MQTT_TOPIC_BASE": topic_base,
                   "MQTT_PUBLISH_CONCURRENCY": str(concurrency), "MQTT_QOS": "1",
                   "TABLE_NAME": "postbox-bench", "CALLBACK_QUEUE_URL": "", "CHANNEL_QUEUE_URL": "",
                   "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                   "AWS_SECRET_ACCESS_KEY": "testing", "POWERTOOLS_METRICS_DISABLED": "true"}
    saved = {name: os.environ.get(name) for name in environment}

    def restore() -> None:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        settings.reset()
        iot.client.cache_clear()

    os.environ.update(environment)
    settings.reset()
    iot.client.cache_clear()
    function = LocalFunction("PublisherFunction", ROOT / "functions" / "stream" / "publisher")
    return function, restore


def publish_throughput_rtt(messages: int, rtt_ms: float = 20.0, concurrency: int | None = None) -> dict:
    """Publisher throughput with a network round trip of `rtt_ms` injected on both paths (bench/delay.py), TLS on
    both, as between Lambda and IoT Core. Postbox: the stream publisher's real handler, warm, given stream batches
    of 100 new messages (each to its own target topic), publishing through the delayed HTTPS data endpoint, with
    `concurrency` publishes in flight (MQTT_PUBLISH_CONCURRENCY; its default when None) and with one at a time.
    Ona: paho's publish.single (connect, TLS handshake, publish QoS 1, disconnect) per message through the delayed
    broker port. Rates are until a subscriber (on the broker directly) has received every message."""
    from paho.mqtt import publish

    from bench.delay import delayed
    from postbox.settings import MqttSettings

    default = MqttSettings.model_fields["MQTT_PUBLISH_CONCURRENCY"].default
    in_flight = concurrency or default
    results: dict = {"messages": messages, "rtt_ms": rtt_ms, "batch_size": BATCH_SIZE, "in_flight": in_flight}
    with tls_broker() as (plain_port, tls_port, https_port, cert), delayed(https_port, rtt_ms) as https_proxy, \
            delayed(tls_port, rtt_ms) as mqtt_proxy:
        receipts = Receipts(plain_port, "bench/rtt/#")
        try:
            for key, width in (("postbox_per_second", in_flight), ("postbox_one_at_a_time_per_second", 1)):
                topic_base = f"bench/rtt/{key}"
                function, restore = _publisher_handler(f"https://127.0.0.1:{https_proxy.port}", cert, topic_base,
                                                       width)
                try:
                    # A warm container: one batch first opens its connections (and imports the handler).
                    warm = [_message_record(n, topic_base) for n in range(1, BATCH_SIZE + 1)]
                    assert not function.invoke({"Records": warm}).get("batchItemFailures")
                    receipts.drain(len(warm))
                    records = [_message_record(n, topic_base)
                               for n in range(BATCH_SIZE + 1, BATCH_SIZE + messages + 1)]
                    batches = [records[i:i + BATCH_SIZE] for i in range(0, len(records), BATCH_SIZE)]

                    def send_batch(n: int, batches=batches, function=function) -> None:
                        if n % BATCH_SIZE == 0:
                            response = function.invoke({"Records": batches[n // BATCH_SIZE]})
                            assert not response.get("batchItemFailures"), response

                    results[key] = round(receipts.rate(messages, send_batch), 1)
                finally:
                    restore()
            # paho's publish.single logs an error when its loop outlives the disconnect; harmless, and noise here.
            paho_log = logging.getLogger("paho.mqtt.client")
            level, paho_log.level = paho_log.level, logging.CRITICAL
            try:
                results["ona_per_second"] = round(receipts.rate(messages, lambda n: publish.single(
                    "bench/rtt/ona", json.dumps({"n": n}), qos=1, hostname="127.0.0.1", port=mqtt_proxy.port,
                    tls={"ca_certs": cert})), 1)
            finally:
                paho_log.setLevel(level)
            results["ona_connections"] = mqtt_proxy.connections
            results["postbox_connections"] = https_proxy.connections
        finally:
            receipts.close()
    return results


def main() -> None:
    """`python -m bench.realtime`: the publisher against Ona's way with an injected round trip, alone."""
    import argparse

    from bench import report

    parser = argparse.ArgumentParser(prog="python -m bench.realtime")
    parser.add_argument("--publishes", type=int, default=500, help="messages per way")
    parser.add_argument("--rtt-ms", type=float, default=20.0, help="the round trip injected on both paths")
    parser.add_argument("--in-flight", type=int, default=None,
                        help="MQTT_PUBLISH_CONCURRENCY for the publisher (default: the setting's default)")
    args = parser.parse_args()
    result = publish_throughput_rtt(args.publishes, args.rtt_ms, args.in_flight)
    print(json.dumps(result, indent=2))
    print(report.markdown({"throughput_rtt": result}))


if __name__ == "__main__":
    main()
