"""Data augmentation for training detectors."""

from .rawboost import FIR_ALIGNMENTS, RAWBOOST_ALGORITHMS, RawBoostConfig, rawboost, rawboost_transform

__all__ = ["FIR_ALIGNMENTS", "RAWBOOST_ALGORITHMS", "RawBoostConfig", "rawboost", "rawboost_transform"]
