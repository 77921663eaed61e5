"""Reads criterion's estimates (median, seconds) for the cache benches into one JSON line."""
import json
import pathlib
import sys

root, rows = pathlib.Path(sys.argv[1]), int(sys.argv[2])
out = {"rows": rows}
for estimates in root.glob("**/new/estimates.json"):
    name = "/".join(estimates.parent.parent.relative_to(root).parts)
    out[name] = json.loads(estimates.read_text())["median"]["point_estimate"] / 1e9
print(json.dumps(out))
