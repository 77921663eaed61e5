"""Interrupts: an endless loop stops within seconds and the kernel stays usable."""
import signal
import threading
import time

from conftest import result_text, run_cell


def _interrupt_after(delay, action):
    timer = threading.Timer(delay, action)
    timer.start()
    return timer


def test_interrupt_request_stops_an_endless_loop(kernel):
    km, kc = kernel
    reply, _ = run_cell(kc, "let before = 5;")
    assert reply["status"] == "ok"
    _interrupt_after(3, km.interrupt_kernel)
    started = time.time()
    reply, outputs = run_cell(kc, 'println!("looping"); loop { std::hint::spin_loop(); }')
    assert time.time() - started < 30
    assert reply["status"] == "error"
    assert reply["ename"] == "Interrupted"
    assert [kind for kind, _ in outputs].count("error") == 1
    reply, outputs = run_cell(kc, "1 + 1")
    assert reply["status"] == "ok" and result_text(outputs) == "2"


def test_sigint_stops_an_endless_loop(kernel):
    km, kc = kernel
    _interrupt_after(3, lambda: km.signal_kernel(signal.SIGINT))
    reply, _ = run_cell(kc, "loop { std::hint::spin_loop(); }")
    assert reply["status"] == "error"
    reply, outputs = run_cell(kc, "2 + 2")
    assert result_text(outputs) == "4"


def test_interrupt_while_idle_changes_nothing(kernel):
    km, kc = kernel
    run_cell(kc, "let kept = 7;")
    km.interrupt_kernel()
    time.sleep(1)
    reply, outputs = run_cell(kc, "kept")
    assert reply["status"] == "ok" and result_text(outputs) == "7"
