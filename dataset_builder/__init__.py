"""Builds the CodecFake dataset: VCTK sources and split (``vctk``), codec resynthesis with
``datasets.map`` (``build``), and the Hub-format folder, card and upload (``hub``)."""

from codecfake_hf.errors import CodecFakeError


class DatasetBuildError(CodecFakeError, ValueError):
    """A user-fixable problem while preparing, building or pushing the dataset (bad corpus path,
    corrupt download, codec failure on a named utterance, offline push, missing token).

    The message names the file or utterance and says what to do.
    """
