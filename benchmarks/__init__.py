"""Speed measurements, reported as ratios measured side by side in one run.

Run with ``python -m benchmarks``. These are not tests: machines are noisy, so
targets are ratios between methods timed in the same process.
"""
