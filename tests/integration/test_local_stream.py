"""The local stream pump's footprint (local/postbox_local/pump.py, docs/local.md): records every consumer has read are
released from moto's stream, batches given up stay readable for `postbox redrive`, and an idle pump backs off while
still delivering a write at once."""

import time

from postbox_local import moto_streams


def send(api, text: str) -> dict:
    response = api.post("/api/v1/messaging", user="alice",
                        json={"target_type": "user", "target_id": "bob", "message": text})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_consumed_stream_records_are_released(api, stream, aws, published):
    for n in range(40):
        send(api, f"m{n}")
    assert moto_streams.stream_length(aws["stream_arn"]) >= 80  # the messages and then their inbox entries
    stream.drain()
    assert moto_streams.stream_length(aws["stream_arn"]) == 0
    assert len(published("postbox/user/bob/inbox")) == 40
    # New records after a release get the next sequence numbers and are delivered as usual.
    send(api, "after")
    stream.drain()
    assert [p["entry"]["text"] for _, p in published("postbox/user/bob/inbox")][-1] == "after"
    assert moto_streams.stream_length(aws["stream_arn"]) == 0


def test_an_idle_pump_backs_off_and_still_delivers_at_once(api, stream, published, monkeypatch):
    pump = stream.pump
    reads = []
    original = pump.streams.get_records
    monkeypatch.setattr(pump.streams, "get_records", lambda **kw: reads.append(time.monotonic()) or original(**kw))
    pump.start()
    try:
        assert pump.wait_idle(10)
        time.sleep(6.5)
        idle_reads = [t for t in reads if t > reads[-1] - 3]
        # Backed off to one round every 2 s: at most 2 rounds (one get_records per consumer each) in the last 3 s.
        assert len(idle_reads) <= 2 * len(pump.consumers), len(idle_reads)
        sent = time.monotonic()
        send(api, "wake up")
        deadline = sent + 5
        while not published("postbox/user/bob/inbox") and time.monotonic() < deadline:
            time.sleep(0.01)
        delivered = time.monotonic() - sent
        assert published("postbox/user/bob/inbox"), "not delivered"
        assert delivered < 1.0, delivered  # woken by the write, not by the next 2 s poll
    finally:
        pump.stop()
