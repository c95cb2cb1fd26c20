"""Time the digits example's stages (prepare, train, evaluate) against the 60 s target on 2 CPU cores.

    python benchmarks/example_training.py            # pins itself to 2 cores where it can

Prints each stage's wall time and the total as a ratio of the target (< 1.0 is within it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "digits"
TARGET_S = 60.0


def main() -> int:
    """Run the stages in a temp copy of the example and print the timings."""
    if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 2:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:2])
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    total = 0.0
    with tempfile.TemporaryDirectory(prefix="cml-bench-example-") as tmp:
        project = Path(tmp)
        shutil.copytree(EXAMPLE / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy2(EXAMPLE / "params.yaml", project / "params.yaml")
        for stage in ("prepare", "train", "evaluate"):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, f"src/{stage}.py"], cwd=project, env=env, check=True, capture_output=True
            )
            took = time.perf_counter() - start
            total += took
            print(f"{stage:9s} {took:6.1f} s")
    cores = len(os.sched_getaffinity(0))
    print(f"total     {total:6.1f} s on {cores} cores: {total / TARGET_S:.2f} of the {TARGET_S:.0f} s target")
    return 0 if total < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
