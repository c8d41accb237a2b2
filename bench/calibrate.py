"""Choose decision thresholds: `python -m bench.calibrate` runs bench/calibrate_devsets.py, which
calibrates on the realistic dev sets together with the val splits of the public benchmarks.

The former search over the val splits alone (a score bar, a margin and a "supported" path for
answers backed by several nearest phrasings) went with that path: see memory/decision.py for why.
"""

from __future__ import annotations

from bench.calibrate_devsets import main

if __name__ == "__main__":
    main()
