"""The traffic shape a `fathom` binary simulates, to tell a cached scenario of another shape apart.

perf_bench.py and sweep_bench.py cache their scenarios under Benchmarks/work/; a scenario made
before a shape preset changed (a knob added, a share moved) would otherwise be measured as if it
were the current one. `stale(fathom, shape, expected_json)` compares the `scenario.shape` knobs of
a cached scenario's expected.json with those of a one-hour simulation of the same preset.
"""
import json
import os
import shutil
import subprocess
import tempfile

_known = {}


def knobs(fathom, shape):
    """The knobs `fathom simulate --shape SHAPE` writes into expected.json (empty for the default)."""
    if (fathom, shape) not in _known:
        folder = tempfile.mkdtemp(prefix="fathom-shape-")
        try:
            subprocess.run([fathom, "simulate", "--out", os.path.join(folder, "s"), "--days", "1", "--scale", "2000",
                            "--shape", shape], check=True, capture_output=True)
            with open(os.path.join(folder, "s", "expected.json")) as f:
                _known[(fathom, shape)] = json.load(f)["scenario"].get("shape", {})
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return _known[(fathom, shape)]


def stale(fathom, shape, expected_json):
    """Whether the scenario whose expected.json is at `expected_json` has another shape than the
    one `fathom` simulates now (client counts aside: they follow the scale)."""
    try:
        with open(expected_json) as f:
            cached = json.load(f)["scenario"].get("shape", {})
    except (OSError, ValueError, KeyError):
        return True
    current = knobs(fathom, shape)
    drop = lambda d: {k: v for k, v in d.items() if k != "clients"}
    return drop(cached) != drop(current)
