"""The remote tier against the cache folder: what a hit from the bucket costs a new machine, and
what uploading adds to the cell that computes an entry.

For each size, a `persist = "disk"` function returns a `Vec<f64>` of that many values:
- machine A computes it with the remote tier on, machine A' without; the kernel reports how long
  each cell's reply waited for the entry to be stored in every tier;
- machine B, with an empty cache folder, gets it from the bucket (timed inside the cell, the
  copy into B's cache folder included), then a new kernel on B gets it from that folder, then a
  second call there gets it from memory.
Each machine is a new kernel with a working folder of its own; the server is s3s-fs on loopback.
Usage: python remote_tier.py ROWS...   (prints one JSON object)
"""
import json
import os
import pathlib
import sys
import tempfile
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from kernels import kernel, run_ok  # noqa: E402
from s3_server import S3Server  # noqa: E402

DEFINE = r'''
#[cellar::cache_data(persist = "disk", show_spinner = false)]
fn column(rows: usize) -> Vec<f64> {
    (0..rows).map(|i| (i as f64).sqrt()).collect()
}
'''
TIMED = r'''
let began = std::time::Instant::now();
let got = column(%ROWS%);
println!("{} {}", began.elapsed().as_secs_f64(), got.len());
'''


def machine(env, cwd, rows, calls=1):
    """A new kernel in `cwd`: defines the function, then times `calls` calls inside the cell,
    and how long each cell's reply waited for its entries to be stored (the kernel's phase)."""
    with kernel("cellar", env={**env, "CELLAR_CACHE_DIR": str(cwd / ".cellar-cache")}) as (kc, _, _):
        run_ok(kc, DEFINE)
        inside, storing = [], []
        for _ in range(calls):
            reply = run_ok(kc, TIMED.replace("%ROWS%", str(rows)))
            seconds, length = reply.stdout.split()
            assert int(length) == rows
            inside.append(float(seconds))
            storing.append(reply.phases["Storing cached entries"])
        return inside, storing


def main():
    sizes = [int(n) for n in sys.argv[1:]] or [1_000_000, 10_000_000]
    base = pathlib.Path(tempfile.mkdtemp(prefix="cellar-bench-remote-"))
    server = S3Server(base / "bucket-root")
    server.start()
    rows_out = []
    try:
        for rows in sizes:
            prefix = f"bench-{uuid.uuid4().hex[:8]}"
            remote = server.env(prefix)
            local_only = {key: "" for key in remote}
            a, a_local, b = (base / f"{name}-{rows}" for name in ("a", "a-local", "b"))
            for folder in (a, a_local, b):
                folder.mkdir()
            (compute,), (store_remote,) = machine(remote, a, rows)
            _, (store_local,) = machine(local_only, a_local, rows)
            (remote_hit,), _ = machine(remote, b, rows)
            (folder_hit, memory_hit), _ = machine(remote, b, rows, calls=2)
            entry_bytes = sum(p.stat().st_size for p in server.objects(prefix))
            rows_out.append({
                "rows": rows, "entry_bytes": entry_bytes,
                "compute_s": compute, "store_remote_s": store_remote, "store_local_s": store_local,
                "remote_hit_s": remote_hit, "folder_hit_s": folder_hit, "memory_hit_s": memory_hit,
            })
    finally:
        server.stop()
    print(json.dumps({"server": "s3s-fs 0.14.1 on loopback", "sizes": rows_out}))


if __name__ == "__main__":
    main()
