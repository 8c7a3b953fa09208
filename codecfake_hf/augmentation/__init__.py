"""Data augmentation for training detectors."""

from .rawboost import RAWBOOST_ALGORITHMS, RawBoostConfig, rawboost, rawboost_transform

__all__ = ["RAWBOOST_ALGORITHMS", "RawBoostConfig", "rawboost", "rawboost_transform"]
