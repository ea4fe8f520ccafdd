"""Sample-data generator: realistic landing exports for Kith plus the ground truth behind them.

See docs/landing_formats.md for the files it writes.
"""

from kith.generate.run import CHUNK_SIZE, GenerateSummary, generate

__all__ = ["CHUNK_SIZE", "GenerateSummary", "generate"]
