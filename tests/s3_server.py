"""An S3-compatible server for the remote-tier tests and benchmarks: s3s-fs, which speaks S3 with
SigV4 over a local folder (a bucket is a folder in it), so its objects survive a restart.
tests/run.sh installs it outside the clone and names it in CELLAR_S3_SERVER.
"""
import os
import pathlib
import socket
import subprocess
import time

BUCKET = "cellar-tests"
ACCESS_KEY, SECRET_KEY = "cellar-test-access", "cellar-test-secret"


def s3_server_binary():
    named = os.environ.get("CELLAR_S3_SERVER")
    path = pathlib.Path(named) if named else pathlib.Path.home() / ".cache/cellar/tools/bin/s3s-fs"
    if not path.is_file():
        raise FileNotFoundError(
            f"the S3-compatible server is missing ({path}): tests/install-s3-server.sh installs it "
            "(tests/run.sh and tests/bench/run.sh run it)"
        )
    return path


class S3Server:
    """s3s-fs on a free port over `root`, which keeps the objects across a restart."""

    def __init__(self, root):
        self.root = root
        (root / BUCKET).mkdir(parents=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [str(s3_server_binary()), "--host", "127.0.0.1", "--port", str(self.port),
             "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY, str(self.root)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("s3s-fs did not start listening")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    def objects(self, prefix):
        return sorted(p for p in (self.root / BUCKET / prefix).rglob("*.entry") if p.is_file())

    def env(self, prefix):
        """The variables that point a kernel at `prefix` in the bucket."""
        return {
            "CELLAR_CACHE_URL": f"s3://{BUCKET}/{prefix}",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.port}",
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
        }
