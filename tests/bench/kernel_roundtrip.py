"""Kernel timings through a real client: start → first result, and a trivial cell's round trip.

Usage: python kernel_roundtrip.py KERNEL_NAME [--runs N]   (prints one JSON object)
"""
import argparse
import collections
import json
import statistics
import subprocess
import time

from jupyter_client.manager import KernelManager


PHASES = collections.defaultdict(list)


def run(kc, code, timeout=300):
    """Runs a cell; returns its text result. cellar's replies say how long each evcxr phase took."""
    msg_id = kc.execute(code)
    result = None
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "execute_result":
            result = msg["content"]["data"]["text/plain"]
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    reply = kc.get_shell_msg(timeout=timeout)
    for name, seconds in reply["content"].get("cellar_phases", {}).items():
        PHASES[name].append(seconds)
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("kernel")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()

    starts, trips = [], []
    for _ in range(args.starts):
        began = time.perf_counter()
        km = KernelManager(kernel_name=args.kernel)
        # A kernel's own stdout is not ours to print: this script's stdout is one JSON object.
        km.start_kernel(stdout=subprocess.DEVNULL)
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=300)
        assert run(kc, "1 + 1") == "2"
        starts.append(time.perf_counter() - began)
        for _ in range(args.runs):
            t = time.perf_counter()
            assert run(kc, "1 + 1") == "2"
            trips.append(time.perf_counter() - t)
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    print(json.dumps({
        "kernel": args.kernel,
        "start_to_first_result_s": statistics.median(starts),
        "trivial_cell_round_trip_s": statistics.median(trips),
        "starts": starts,
        "round_trips": len(trips),
        "phases_s": {name: statistics.median(times) for name, times in PHASES.items()},
    }))


if __name__ == "__main__":
    main()
