"""The contract every codec family implements, and the batched resynthesis engine that drives it.

Each codec family (a ``CodecSpec.family_module`` in the registry's table,
:data:`~codecfake_hf.codecs.registry.FAMILY_MODULES`) has a family module, the architecture, exposing:

- ``tiny_codec(spec, seed=0) -> CodecModel``: the real classes at a tiny config, random weights;
- ``random_codec(spec, seed=0) -> CodecModel``: the full official architecture, random weights;

and a module that loads the official weights, ``pretrained_codec(spec, local_dir=None) -> CodecModel``
(Hub or a folder): the family module itself for a ``transformers`` checkpoint, else the family's
``convert_<family>`` module, which also maps an upstream-format config and state dict onto the model
(``from_upstream(config: dict, state_dict: dict)``, upstream key names) and imports the family module,
never the reverse.

Family options (variants, bandwidth, mode, ...) come from ``spec.options`` only.

The model is a ``torch.nn.Module`` subclassing :class:`CodecModel`:

- ``encode(waveforms [B, 1, T]) -> codes`` (family-specific layout, usually ``[B, n_q, frames]``);
- ``decode(codes) -> waveforms [B, 1, T']``;
- ``encode_decode(waveforms [B, 1, T], lengths [B]) -> [B, 1, >=T]``: encode then decode a
  zero-padded batch, each row as if alone. The default is ``decode(encode(x))``; families override
  it when that is not the official behaviour on a padded batch (DAC's chunked ``compress``,
  FunCodec's per-clip norms, ...);
- optionally a ``max_batch_samples`` attribute: a model that re-batches internally (DAC's windows)
  keeps each forward pass under it; the :class:`Resynthesizer` sets it to its own cap.

:class:`Resynthesizer` (the engine; :meth:`Resynthesizer.resynthesize`) turns a list of
variable-length mono arrays at any rate into codec output at the codec's rate: resample
(``codecfake_hf.audio.resample``), optional peak normalisation (spec), length bucketing into padded
batches, the model's ``encode_decode``, trimming each output to its own length and the official clamp
to +-0.99.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from codecfake_hf.audio.audio_io import clamp, peak_normalize, resample, validate_waveform


class CodecModel(torch.nn.Module):
    """Base class of the codec models (one per family). Subclasses set ``sampling_rate`` (Hz) and
    ``hop_length`` (samples per code frame) and implement :meth:`encode` / :meth:`decode`."""

    sampling_rate: int
    hop_length: int

    def encode(self, waveforms: torch.Tensor):
        """``waveforms [B, 1, T]`` float -> codes."""
        raise NotImplementedError

    def decode(self, codes) -> torch.Tensor:
        """codes -> ``waveforms [B, 1, T']`` float."""
        raise NotImplementedError

    def encode_decode(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Encode then decode a zero-padded batch ``[B, 1, T]``; ``lengths [B]`` are the valid samples
        of each row. Returns ``[B, 1, T'']`` with ``T'' >= lengths.max()`` (the engine trims each row).
        This default, ``decode(encode(x))``, suits causal models, where padding after a row cannot
        change it; other families give each row its stand-alone result."""
        return self.decode(self.encode(waveforms))


class Resynthesizer:
    """Runs a :class:`CodecModel` over many utterances, batched.

    Args:
        model: the codec model (moved to ``device``, put in eval mode).
        input_peak: if set, each utterance is peak-normalised to this value before encoding
            (HiFi-Codec's official 0.95); the output is not de-normalised.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...
        max_batch_samples: cap on ``batch_size * padded_length`` (samples at the codec rate), so
            long inputs form small batches and memory stays bounded. Default: 3,072,000 on CUDA;
            192,000 on CPU, where larger batches measured slower per audio second (every tensor
            over glibc's 32 MB mmap threshold is page-faulted afresh; benchmarks/RESULTS.md).
        max_padding: largest fraction of a batch's padded samples that may be padding; a shorter
            utterance that would exceed it starts a new batch (compute spent on zeros).
        dtype: the model's floating-point type: ``torch.float32`` (default) or ``torch.float64``, a
            reference in which batching changes results only by float64 rounding, too little to
            flip a code (in float32 a near-tie in a deep residual codebook can flip between the
            batched and the per-utterance run; benchmarks/RESULTS.md).
        allow_tf32: let CUDA convolutions and matrix products run in TF32 (faster on Ampere and newer
            GPUs, ~1e-3 relative error). Off by default, so that float32 means float32 as on CPU.
    """

    def __init__(
        self,
        model: CodecModel,
        *,
        input_peak: float | None = None,
        device: str | torch.device = "cpu",
        max_batch_samples: int | None = None,
        max_padding: float = 0.3,
        dtype: torch.dtype = torch.float32,
        allow_tf32: bool = False,
    ) -> None:
        self.device = torch.device(device)
        if max_batch_samples is None:
            max_batch_samples = 16 * 24000 * 8 if self.device.type == "cuda" else 8 * 24000
        self.dtype = dtype
        self.allow_tf32 = allow_tf32
        self.model = model.to(device=self.device, dtype=dtype).eval()
        self.input_peak = input_peak
        self.max_batch_samples = int(max_batch_samples)
        self.max_padding = float(max_padding)
        if hasattr(self.model, "max_batch_samples"):
            self.model.max_batch_samples = self.max_batch_samples

    @property
    def sampling_rate(self) -> int:
        """Output sample rate in Hz (the codec's own)."""
        return int(self.model.sampling_rate)

    def prepare(self, waveform: np.ndarray, sampling_rate: int) -> np.ndarray:
        """Per-utterance input processing: validate, resample to the codec rate, peak-normalise."""
        waveform = resample(validate_waveform(waveform), sampling_rate, self.sampling_rate)
        if self.input_peak is not None:
            waveform = peak_normalize(waveform, self.input_peak)
        return waveform

    def batches(self, lengths: Sequence[int], batch_size: int) -> list[list[int]]:
        """Group utterance indices by length (longest first) into batches of at most
        ``batch_size`` items and ``max_batch_samples`` padded samples, with at most
        ``max_padding`` of the padded samples being padding."""
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
        groups: list[list[int]] = []
        valid = 0
        for index in order:
            if groups:
                current = groups[-1]
                padded = lengths[current[0]] * (len(current) + 1)
                fits = len(current) < batch_size and padded <= self.max_batch_samples
                if fits and padded - (valid + lengths[index]) <= self.max_padding * padded:
                    current.append(index)
                    valid += lengths[index]
                    continue
            groups.append([index])
            valid = lengths[index]
        return groups

    @torch.inference_mode()
    def _run(self, waveforms: list[np.ndarray]) -> list[np.ndarray]:
        """Run one batch of prepared waveforms; returns the trimmed, clamped outputs."""
        lengths = [len(w) for w in waveforms]
        padded = np.zeros((len(waveforms), 1, max(lengths)), dtype=np.float32)
        for row, waveform in enumerate(waveforms):
            padded[row, 0, : len(waveform)] = waveform
        inputs = torch.from_numpy(padded).to(device=self.device, dtype=self.dtype)
        length_tensor = torch.tensor(lengths, device=self.device)
        with tensor_float32(self.allow_tf32):
            outputs = self.model.encode_decode(inputs, length_tensor).float().cpu().numpy()
        return [clamp(outputs[row, 0, :length]) for row, length in enumerate(lengths)]

    def resynthesize(
        self,
        waveforms: Sequence[np.ndarray],
        sampling_rate: int,
        batch_size: int = 16,
        progress: bool = False,
    ) -> list[np.ndarray]:
        """Resynthesize mono float arrays ``[T_i]`` at ``sampling_rate`` Hz.

        Returns one float32 array per input, at :attr:`sampling_rate`, of the resampled input's
        length, clamped to +-0.99 (16-bit quantisation happens when it is written).
        """
        prepared = [self.prepare(w, sampling_rate) for w in waveforms]
        outputs: list[np.ndarray | None] = [None] * len(prepared)
        groups = self.batches([len(w) for w in prepared], batch_size)
        for group in tqdm(groups, desc="resynthesizing", unit="batch", disable=not progress):
            for index, output in zip(group, self._run([prepared[i] for i in group])):
                outputs[index] = output
        return outputs  # type: ignore[return-value]

    def resynthesize_one(self, waveform: np.ndarray, sampling_rate: int) -> np.ndarray:
        """Reference per-utterance path (batch of one, no padding)."""
        return self._run([self.prepare(waveform, sampling_rate)])[0]


@contextlib.contextmanager
def tensor_float32(enabled: bool) -> Iterator[None]:
    """Switch CUDA's TF32 mode for convolutions and matrix products on or off inside the block
    (PyTorch's default lets cuDNN convolutions use it), restoring the previous settings after."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = enabled
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved
