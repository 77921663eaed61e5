"""Session scope: entries that belong to one client connection of the kernel.

Two real clients attach to one kernel. Each gets its own session-scoped resource and both share
the global one; when one client's connection goes away its entries are released (on_release
writes a file) after the grace period, while the other's stay; a restart releases everything.
"""
import os
import time

import pytest
from jupyter_client import BlockingKernelClient
from jupyter_client.manager import KernelManager

from conftest import CELL_TIMEOUT, STARTUP_TIMEOUT, result_text, run_cell, stream_text

GRACE = 2

DEFINE = r'''
struct Conn {
    owner: String,
}

#[cellar::cache_resource(
    scope = "session",
    on_release = |c: &Conn| std::fs::write(format!("released-{}", c.owner), "").unwrap(),
)]
fn connect(url: &str) -> Conn {
    Conn { owner: cellar::session::current_session().unwrap_or_default() }
}

#[cellar::cache_resource]
fn shared_pool() -> String {
    String::from("pool")
}
'''


def wait_for(predicate, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


@pytest.fixture()
def kernel_with_two_clients(tmp_path):
    km = KernelManager(kernel_name="cellar")
    env = dict(os.environ, CELLAR_SESSION_GRACE=str(GRACE))
    km.start_kernel(env=env, cwd=str(tmp_path))
    clients = []
    for _ in range(2):
        # Like `jupyter console --existing`: a client of its own, with its own session id.
        kc = BlockingKernelClient(connection_file=km.connection_file)
        kc.load_connection_file()
        kc.start_channels()
        kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
        clients.append(kc)
    try:
        yield km, clients, tmp_path
    finally:
        for kc in clients:
            kc.stop_channels()
        if km.is_alive():
            km.shutdown_kernel(now=False)


def owner_and_pool(kc):
    reply, outputs = run_cell(kc, 'let c = connect("db://x");\nprintln!("{} {:p}", c.owner, std::sync::Arc::as_ptr(&shared_pool()));')
    assert reply["status"] == "ok", reply
    owner, pool = stream_text(outputs).split()
    return owner, pool


def test_each_client_has_its_own_session_entries_and_they_go_with_it(kernel_with_two_clients):
    km, (first, second), folder = kernel_with_two_clients
    reply, _ = run_cell(first, DEFINE)
    assert reply["status"] == "ok", reply

    owner1, pool1 = owner_and_pool(first)
    owner2, pool2 = owner_and_pool(second)
    assert owner1 == first.session.session
    assert owner2 == second.session.session
    assert pool1 == pool2, "the global resource is shared"

    # The first client goes away: after the grace period its entry is released, the other's stays.
    first.stop_channels()
    assert wait_for(lambda: (folder / f"released-{owner1}").exists(), GRACE + 30)
    assert not (folder / f"released-{owner2}").exists()
    reply, outputs = run_cell(second, 'connect("db://x").owner.clone()')
    assert result_text(outputs) == f'"{owner2}"'

    # A restart releases everything that is left.
    km.restart_kernel(now=False)
    assert wait_for(lambda: (folder / f"released-{owner2}").exists(), 30)
