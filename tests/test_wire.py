"""Bad input over the wire: the kernel drops what it must not run and keeps serving.

These tests speak ZeroMQ directly (pyzmq, with jupyter_client's Session for framing) so they can
send what no well-behaved client would: a wrong signature, truncated frames, invalid JSON, an
unknown message type.
"""
import json
import os
import tempfile
import time
import uuid

import pytest
import zmq
from jupyter_client.session import Session

from conftest import CELL_TIMEOUT, result_text, run_cell


@pytest.fixture()
def shell(kernel):
    """A raw DEALER socket on the kernel's shell channel, and a correctly keyed Session."""
    km, kc = kernel
    info = km.get_connection_info()
    key = info["key"].encode() if isinstance(info["key"], str) else info["key"]
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"{info['transport']}://{info['ip']}:{info['shell_port']}")
    yield sock, Session(key=key, signature_scheme="hmac-sha256"), info
    sock.close()


def recv_reply(sock, session, timeout):
    if not sock.poll(int(timeout * 1000)):
        return None
    frames = sock.recv_multipart()
    _, msg_frames = session.feed_identities(frames)
    return session.deserialize(msg_frames)


def test_a_wrongly_signed_request_is_not_executed(kernel, shell):
    sock, session, _ = shell
    marker = os.path.join(tempfile.mkdtemp(), "ran")
    forged = Session(key=b"not-the-key", signature_scheme="hmac-sha256")
    forged.send(sock, "execute_request", {"code": f'std::fs::write({json.dumps(marker)}, "1").unwrap();',
                                          "silent": False, "store_history": True, "allow_stdin": False,
                                          "user_expressions": {}, "stop_on_error": True})
    assert recv_reply(sock, session, timeout=3) is None
    # The kernel answers the next good request, and the forged one never ran.
    _, kc = kernel
    reply, outputs = run_cell(kc, "40 + 2")
    assert reply["status"] == "ok"
    assert result_text(outputs) == "42"
    assert not os.path.exists(marker)


def test_a_request_without_signature_is_dropped(kernel, shell):
    sock, session, _ = shell
    msg = session.msg("kernel_info_request", {})
    parts = [session.pack(p) for p in (msg["header"], {}, {}, {})]
    sock.send_multipart([b"<IDS|MSG>", b""] + parts)
    assert recv_reply(sock, session, timeout=2) is None


def test_truncated_frames_and_invalid_json_do_not_bring_it_down(kernel, shell):
    sock, session, _ = shell
    sock.send_multipart([b"<IDS|MSG>"])
    sock.send_multipart([b"<IDS|MSG>", b"abc", b"{}"])
    sock.send_multipart([b"no delimiter at all"])
    # Valid signature over frames that are not JSON.
    bad = [b"{not json", b"{}", b"{}", b"{}"]
    sock.send_multipart([b"<IDS|MSG>", session.sign(bad)] + bad)
    assert recv_reply(sock, session, timeout=2) is None
    session.send(sock, "kernel_info_request", {})
    reply = recv_reply(sock, session, timeout=30)
    assert reply is not None and reply["header"]["msg_type"] == "kernel_info_reply"
    assert reply["content"]["language_info"]["name"] == "rust"


def test_an_unknown_request_gets_an_error_reply(kernel, shell):
    sock, session, _ = shell
    session.send(sock, "frobnicate_request", {"x": 1})
    reply = recv_reply(sock, session, timeout=30)
    assert reply["header"]["msg_type"] == "frobnicate_reply"
    assert reply["content"]["status"] == "error"
    _, kc = kernel
    reply, outputs = run_cell(kc, "2 * 21")
    assert result_text(outputs) == "42"


def test_an_execute_request_missing_optional_fields_runs(kernel, shell):
    sock, session, _ = shell
    session.send(sock, "execute_request", {"code": "6 * 7"})
    reply = recv_reply(sock, session, timeout=CELL_TIMEOUT)
    assert reply["header"]["msg_type"] == "execute_reply"
    assert reply["content"]["status"] == "ok"
