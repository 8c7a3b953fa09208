"""What the codec families that run on a ``transformers`` audio-codec model share.

EnCodec, DAC, Mimi, X-codec, WavTokenizer and X-codec 2 (``encodec.py``, ``dac.py``, ``mimi.py``,
``xcodec.py``, ``wavtokenizer.py``, ``xcodec2.py``) differ in how they call the model's ``encode`` /
``decode``; holding the model, running a padded batch and loading the official weights are the same,
and live here:

- :class:`TransformersCodec` adds the padding policy: a causal model (EnCodec 24 kHz, Mimi) gives the
  same output for a zero-padded row as for the row alone, so a batch runs in one call; a model with
  global attention or normalisation over time (X-codec's HuBERT branch, WavTokenizer's Vocos backbone)
  would let the padding change every sample, so each row is encoded and decoded at its own length
  (the official per-utterance behaviour), still inside one :meth:`encode_decode` call. DAC's official
  ``compress`` path (loudness, 1 s windows) is its own :meth:`encode_decode` on top of this base.
- :func:`load_pretrained` fetches ``spec.files`` through
  :func:`codecfake_hf.codecs.spec.fetch_checkpoint` (fast, clear failure offline) and builds the
  model with ``from_pretrained`` on that folder, strictly: a checkpoint whose keys do not fit the
  class is an error naming them, never a codec with random weights. (DAC's checkpoints may hold
  weight-norm pairs, which :mod:`codecfake_hf.codecs.convert_dac` folds.)
"""

from __future__ import annotations

import torch

from codecfake_hf.codecs.base import CodecModel
from codecfake_hf.codecs.spec import CodecSpec, fetch_checkpoint
from codecfake_hf.files.strict_loading import from_pretrained_strict


class TransformersCodec(CodecModel):
    """A :class:`CodecModel` around a ``transformers`` codec ``model``.

    Subclasses implement :meth:`encode` / :meth:`decode` and set :attr:`per_utterance` to ``True``
    when zero right-padding changes the output of the valid samples.
    """

    #: Encode and decode each row of a padded batch at its own length (non-causal models).
    per_utterance: bool = False
    #: In per-utterance mode, zero-pad each row to a multiple of ``hop_length`` first, as the
    #: model's feature extractor does (X-codec: otherwise the output can end short of the input).
    pad_to_hop: bool = False

    def __init__(self, model: torch.nn.Module, sampling_rate: int, hop_length: int) -> None:
        super().__init__()
        self.model = model
        self.sampling_rate = int(sampling_rate)
        self.hop_length = int(hop_length)

    def encode_decode(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``waveforms [B, 1, T]`` zero-padded, ``lengths [B]`` valid samples -> ``[B, 1, T'']``.

        Per-utterance models return ``T'' = T``: row ``b`` holds the codec output of its first
        ``lengths[b]`` samples (zero-padded to a multiple of the hop if :attr:`pad_to_hop`), cut
        to ``lengths[b]``, then zeros.
        """
        if not self.per_utterance:
            return self.decode(self.encode(waveforms))
        output = torch.zeros_like(waveforms)
        for row, length in enumerate(lengths.tolist()):
            utterance = waveforms[row : row + 1, :, :length]
            if self.pad_to_hop:
                utterance = torch.nn.functional.pad(utterance, (0, -length % self.hop_length))
            decoded = self.decode(self.encode(utterance))[0, :, :length]
            if decoded.shape[-1] < length:
                raise RuntimeError(f"{type(self).__name__} returned {decoded.shape[-1]} < {length} samples")
            output[row, :, :length] = decoded
        return output


def load_pretrained(model_class: type, spec: CodecSpec, local_dir: str | None = None) -> torch.nn.Module:
    """``model_class.from_pretrained`` on the official checkpoint ``spec.repo_id`` / ``spec.files``
    (Hub cache or ``local_dir``), in eval mode.

    Raises:
        CheckpointUnavailableError: the files are neither local nor downloadable (offline).
        CheckpointMismatchError: the checkpoint's keys or shapes do not fit ``model_class``.
    """
    paths = fetch_checkpoint(spec, local_dir=local_dir)
    return from_pretrained_strict(model_class, paths["config.json"].parent).eval()
