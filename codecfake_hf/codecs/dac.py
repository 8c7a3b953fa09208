"""Subsets D1-D3: Descript Audio Codec (16 / 24 / 44.1 kHz) on ``transformers.DacModel``.

Two paths, chosen by ``CodecSpec.options["mode"]``:

``"compress"`` (the official CodecFake data: ``descript-audio-codec`` 1.0.0, as the generation code
  ``roger-tseng/AudioDecBenchmark`` at ``5bb2b98`` calls it):
  the behaviour of upstream ``DAC.compress`` then ``DAC.decompress`` with their defaults.

  1. Measure the input's BS.1770 loudness (:mod:`codecfake_hf.codecs.loudness`), scale it to
     -16 LUFS, and divide by its peak if the peak then exceeds 1.
  2. Inputs longer than 1 s (``window_s``) are cut into windows of ``ceil(sr / hop) * hop`` samples
     taken every ``chunk_hop`` samples from the signal zero-padded by ``delay`` on both sides, and
     every window is encoded and decoded with all conv padding off (:func:`no_conv_padding`), so
     each window yields exactly ``chunk_hop`` output samples and the pieces are concatenated.
     Inputs of at most 1 s are encoded in one pass with conv padding on.
  3. Decoding is from the codes (``quantizer.from_codes``), then the whole decoded signal is scaled
     back to the input's loudness and trimmed to the input length.

  A padded batch stays on the model's device: loudness is measured for all rows at once
  (:func:`~codecfake_hf.codecs.loudness.batched_integrated_loudness`, per-row lengths), the windows
  of every utterance (all the same length) are cut with one ``unfold`` and run through the model
  together (``max_batch_samples`` window samples per forward pass), and each row's result equals its
  stand-alone result. :meth:`DacCodec.compress_decompress` with one signal is the per-utterance reference.

  **Short inputs.** Upstream ``decompress`` raises for some inputs of at most 1 s (at 16 and 24 kHz
  every length with ``T mod 320`` in ``{0, 313..319}``, e.g. exactly 1.0 s or 0.7 s at 16 kHz): the
  padded decoder returns ``320 * frames - 8`` samples, fewer than ``T``. Here those inputs do not
  raise: the output is what upstream had computed just before its failing reshape (loudness
  restored over the decoded samples), followed by zeros for the at most 8 missing final samples
  (0.5 ms at 16 kHz). Every other length, including all chunked (> 1 s) inputs, matches upstream.

``"plain"``: ``DacModel.encode`` on the input right-padded to a hop multiple, then ``decode`` of the
  codes (no loudness normalisation, no chunking); the same 8-sample shortfall is zero-filled.

Weights (:mod:`codecfake_hf.codecs.convert_dac`): the transformers-format Hub repos
``descript/dac_{16,24,44}khz``, with weight-norm pairs (``weight_g``/``weight_v`` or
``parametrizations.weight.original0/1``) folded on load, so both converted and weight-normed
checkpoints load strictly; or the ``descript-audio-codec`` package's own state dict, key names mapped.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import torch
from transformers import DacConfig, DacModel

from codecfake_hf.codecs.loudness import batched_integrated_loudness
from codecfake_hf.codecs.spec import CodecSpec
from codecfake_hf.codecs.transformers_codec import TransformersCodec

#: dB -> natural-log amplitude factor of upstream's gain arithmetic (float64 constant).
GAIN_FACTOR = math.log(10) / 20
_CONVS = (torch.nn.Conv1d, torch.nn.ConvTranspose1d)


@contextlib.contextmanager
def no_conv_padding(model: torch.nn.Module) -> Iterator[None]:
    """Temporarily set ``padding = 0`` on every Conv1d / ConvTranspose1d of ``model`` (upstream's
    ``model.padding = False``); the original paddings are restored on exit, also after an error.
    The residual units of DacModel already centre-crop their skip path when the conv output is
    shorter, so the padding-free network is exactly upstream's."""
    convs = [module for module in model.modules() if isinstance(module, _CONVS)]
    saved = [conv.padding for conv in convs]
    try:
        for conv in convs:
            conv.padding = (0,)
        yield
    finally:
        for conv, padding in zip(convs, saved):
            conv.padding = padding


def padding_free_length(model: torch.nn.Module, input_length: int) -> int:
    """Output length (samples) of encoder + decoder of ``model`` without conv padding, for an input
    of ``input_length`` samples (from kernel sizes, strides and dilations only)."""
    length = input_length
    for conv in (module for module in model.modules() if isinstance(module, _CONVS)):
        span = conv.dilation[0] * (conv.kernel_size[0] - 1)
        if isinstance(conv, torch.nn.ConvTranspose1d):
            length = (length - 1) * conv.stride[0] + span + 1
        else:
            length = math.floor((length - span - 1) / conv.stride[0] + 1)
    return length


def padding_free_delay(model: torch.nn.Module) -> int:
    """Samples to zero-pad on each side so the padding-free network's output lines up with its
    input (upstream ``DAC.delay``): walk the layers backwards from the output length of 0."""
    output_length = padding_free_length(model, 0)
    length = output_length
    for conv in reversed([module for module in model.modules() if isinstance(module, _CONVS)]):
        span = conv.dilation[0] * (conv.kernel_size[0] - 1)
        if isinstance(conv, torch.nn.ConvTranspose1d):
            length = math.ceil((length - span - 1) / conv.stride[0] + 1)
        else:
            length = (length - 1) * conv.stride[0] + span + 1
    return (length - output_length) // 2


class DacCodec(TransformersCodec):
    """DAC on a ``transformers.DacModel``. Codes: ``[B, n_q, frames]`` int64. A padded batch runs in one
    :meth:`encode_decode` call, each row given its stand-alone result in ``"compress"`` mode.

    Args:
        model: the DacModel (its config gives rate, hop and codebooks).
        mode: ``"compress"`` (official CodecFake path) or ``"plain"``.
        n_quantizers: codebooks used at encode (None = all, the upstream default).
        window_s: compress window in seconds (upstream ``win_duration``).
        normalize_db: compress target loudness in LUFS.
        max_batch_samples: samples per forward pass when compress runs windows (memory bound);
            the :class:`~codecfake_hf.codecs.base.Resynthesizer` sets it to its own cap.
    """

    def __init__(
        self,
        model: DacModel,
        mode: str = "compress",
        n_quantizers: int | None = None,
        window_s: float = 1.0,
        normalize_db: float = -16.0,
        max_batch_samples: int = 16 * 16000,
    ) -> None:
        if mode not in ("compress", "plain"):
            raise ValueError(f"DAC mode must be 'compress' or 'plain', got {mode!r}")
        super().__init__(model, model.config.sampling_rate, model.config.hop_length)
        self.mode = mode
        self.n_quantizers = n_quantizers
        self.window_s = float(window_s)
        self.normalize_db = float(normalize_db)
        self.max_batch_samples = int(max_batch_samples)
        self.delay = padding_free_delay(model)
        self.window = math.ceil(self.window_s * self.sampling_rate / self.hop_length) * self.hop_length
        self.chunk_hop = padding_free_length(model, self.window)

    # -- plain path -------------------------------------------------------------------------------
    @torch.inference_mode()
    def encode(self, waveforms: torch.Tensor) -> torch.Tensor:
        """``[B, 1, T]`` -> codes ``[B, n_q, ceil(T / hop)]`` (input right-padded to a hop multiple,
        conv padding on)."""
        pad = -waveforms.shape[-1] % self.hop_length
        waveforms = torch.nn.functional.pad(waveforms, (0, pad))
        return self.model.encode(waveforms, self.n_quantizers, return_dict=False)[2]

    @torch.inference_mode()
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes ``[B, n_q, frames]`` -> ``[B, 1, T']`` (``T' = hop * frames - 8`` at 16/24 kHz
        with conv padding on; ``chunk_hop`` per window of codes inside :func:`no_conv_padding`)."""
        return self.model.decode(audio_codes=codes, return_dict=False)[0].unsqueeze(1)

    def encode_decode(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``[B, 1, T]`` zero-padded batch -> ``[B, 1, T]`` (see the module docstring); in compress
        mode float32 on the model's device, zeros past each row's length."""
        total = waveforms.shape[-1]
        if self.mode == "plain":
            return _fit(self.decode(self.encode(waveforms)), total)
        row_lengths = [int(length) for length in lengths.tolist()]
        restored, _ = self.compress_decompress_batch(waveforms[:, 0], row_lengths)
        restored = _fit(restored[:, None], total)
        past_end = torch.arange(total, device=restored.device) >= lengths.to(restored.device)[:, None, None]
        return restored.masked_fill(past_end, 0.0)

    # -- compress / decompress, batched on the model's device ---------------------------------------
    def normalize_loudness(
        self, signals: torch.Tensor, lengths: list[int]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """compress steps 4-6 on zero-padded float32 rows ``signals [B, T]``: loudness to
        ``normalize_db`` LUFS, then peak <= 1. Returns the normalised rows and ``input_db [B]``."""
        input_db = batched_integrated_loudness(signals, lengths, self.sampling_rate)
        signals = signals * torch.exp((self.normalize_db - input_db) * GAIN_FACTOR)[:, None]
        peak = signals.abs().amax(dim=-1, keepdim=True)
        return torch.where(peak > 1, signals * (1.0 / peak), signals), input_db

    def restore_loudness(
        self, decoded: torch.Tensor, lengths: list[int], input_db: torch.Tensor
    ) -> torch.Tensor:
        """decompress step 4: scale each zero-padded row of ``decoded [B, T']`` (``lengths`` valid
        samples) so its loudness is its ``input_db``."""
        decoded_db = batched_integrated_loudness(decoded, lengths, self.sampling_rate)
        return decoded * torch.exp((input_db - decoded_db) * GAIN_FACTOR)[:, None]

    def windows(self, signals: torch.Tensor, lengths: list[int]) -> tuple[torch.Tensor, list[int]]:
        """compress's chunking of zero-padded normalised rows ``signals [B, T]`` (each longer than
        ``window_s``): every row's windows in row order, ``[sum(counts), window]``, and ``counts``,
        ``ceil(length / chunk_hop)`` windows per row."""
        counts = [math.ceil(length / self.chunk_hop) for length in lengths]
        padded = torch.nn.functional.pad(signals, (self.delay, self.delay + self.window))
        frames = padded.unfold(-1, self.window, self.chunk_hop)[:, : max(counts)]
        return frames[self._window_mask(counts, signals.device)], counts

    def _window_mask(self, counts: list[int], device: torch.device) -> torch.Tensor:
        """``[B, max(counts)]``: True for the windows that belong to each row."""
        return torch.arange(max(counts), device=device) < torch.tensor(counts, device=device)[:, None]

    def _to_model(self, audio: torch.Tensor) -> torch.Tensor:
        """``audio`` on the model's device, in its floating-point type."""
        parameter = next(self.model.parameters())
        return audio.to(device=parameter.device, dtype=parameter.dtype)

    def _windows_per_pass(self) -> int:
        """Windows per forward pass, so a pass holds at most ``max_batch_samples`` samples."""
        return max(1, self.max_batch_samples // self.window)

    @torch.inference_mode()
    def encode_windows(self, windows: torch.Tensor) -> torch.Tensor:
        """compress's codes of ``[n, window]`` windows, conv padding off: ``[n, n_q, frames]``.
        Concatenating the windows along time gives upstream ``DACFile.codes``."""
        with no_conv_padding(self.model):
            codes = [
                self.model.encode(self._to_model(part[:, None]), self.n_quantizers, return_dict=False)[2]
                for part in windows.split(self._windows_per_pass())
            ]
        return torch.cat(codes)

    @torch.inference_mode()
    def decode_windows(self, codes: torch.Tensor) -> torch.Tensor:
        """decompress of window codes ``[n, n_q, frames]``, conv padding off: ``[n, chunk_hop]``
        float32 on the model's device."""
        with no_conv_padding(self.model):
            audio = [self.decode(part)[:, 0].float() for part in codes.split(self._windows_per_pass())]
        return torch.cat(audio)

    def _decode_chunked(self, signals: torch.Tensor, lengths: list[int]) -> torch.Tensor:
        """Rows longer than ``window_s``: windows of all rows through the network together, pieces
        put back in order: ``[B, max(counts) * chunk_hop]`` (row ``i`` valid over
        ``counts[i] * chunk_hop`` samples)."""
        windows, counts = self.windows(signals, lengths)
        audio = self.decode_windows(self.encode_windows(windows))
        pieces = audio.new_zeros(len(lengths), max(counts), self.chunk_hop)
        pieces[self._window_mask(counts, audio.device)] = audio
        return pieces.reshape(len(lengths), -1)

    def _decode_whole(self, signals: torch.Tensor, frames: int) -> torch.Tensor:
        """Rows of at most ``window_s`` with ``ceil(length / hop) == frames``, one pass with conv
        padding on (the batch padded to ``frames * hop``, so batching never changes what the network
        sees): ``[B, T']`` float32."""
        width = frames * self.hop_length
        batch = torch.nn.functional.pad(signals, (0, max(0, width - signals.shape[-1])))[:, :width]
        return self.decode(self.encode(self._to_model(batch[:, None])))[:, 0].float()

    @torch.inference_mode()
    def compress_decompress_batch(
        self, signals: torch.Tensor, lengths: list[int]
    ) -> tuple[torch.Tensor, list[int]]:
        """Official resynthesis of the zero-padded mono rows ``signals [B, T]`` at the codec rate
        (row ``i`` valid over ``lengths[i]`` samples), all on the model's device, batched: loudness,
        windows and restoration are tensor ops over the batch. Returns the decoded, loudness-restored
        rows ``[B, T']`` (float32, untrimmed) and each row's decoded length (``>= lengths[i]``,
        except the short-input cases, up to 8 fewer; see the module docstring)."""
        device = next(self.model.parameters()).device
        signals = signals.to(device=device, dtype=torch.float32)
        past_end = (
            torch.arange(signals.shape[-1], device=device) >= torch.tensor(lengths, device=device)[:, None]
        )
        signals = signals.masked_fill(past_end, 0.0)
        normalized, input_db = self.normalize_loudness(signals, lengths)

        chunked: list[int] = []
        groups: dict[int, list[int]] = {}  # unchunked rows by code frames
        for row, length in enumerate(lengths):
            if length / self.sampling_rate > self.window_s:
                chunked.append(row)
            else:
                groups.setdefault(math.ceil(length / self.hop_length), []).append(row)
        parts = []  # (rows, their decoded audio [rows, width], each row's decoded length)
        if chunked:
            chunked_lengths = [lengths[row] for row in chunked]
            audio = self._decode_chunked(normalized[chunked], chunked_lengths)
            counts = [math.ceil(length / self.chunk_hop) for length in chunked_lengths]
            parts.append((chunked, audio, [count * self.chunk_hop for count in counts]))
        for frames, members in groups.items():
            audio = self._decode_whole(normalized[members], frames)
            parts.append((members, audio, [audio.shape[-1]] * len(members)))

        decoded = normalized.new_zeros(len(lengths), max(audio.shape[-1] for _, audio, _ in parts))
        decoded_lengths = [0] * len(lengths)
        for members, audio, part_lengths in parts:
            decoded[members, : audio.shape[-1]] = audio
            for row, length in zip(members, part_lengths):
                decoded_lengths[row] = length
        return self.restore_loudness(decoded, decoded_lengths, input_db), decoded_lengths

    def compress_decompress(self, signals: list[torch.Tensor]) -> list[torch.Tensor]:
        """:meth:`compress_decompress_batch` of mono ``[T_i]`` float32 signals (one signal: the
        per-utterance reference); returns ``[T_i]`` each on the CPU (``[T_i - s]`` for the
        short-input cases, ``s <= 8``)."""
        lengths = [len(signal) for signal in signals]
        batch = torch.zeros(len(signals), max(lengths))
        for row, signal in enumerate(signals):
            batch[row, : len(signal)] = signal
        restored, decoded_lengths = self.compress_decompress_batch(batch, lengths)
        restored = restored.cpu()
        return [restored[row, : min(lengths[row], decoded_lengths[row])] for row in range(len(signals))]


def _fit(waveforms: torch.Tensor, length: int) -> torch.Tensor:
    """Trim or zero-pad ``[B, 1, T']`` to ``[B, 1, length]``."""
    if waveforms.shape[-1] >= length:
        return waveforms[..., :length]
    return torch.nn.functional.pad(waveforms, (0, length - waveforms.shape[-1]))


# -- family contract ------------------------------------------------------------------------------


def _config(spec: CodecSpec, **overrides) -> DacConfig:
    """The released architecture of ``spec`` (strides ``spec.options["downsampling_ratios"]``), with
    ``overrides`` (tiny widths) applied at construction."""
    settings = {
        "downsampling_ratios": list(spec.options["downsampling_ratios"]),
        "n_codebooks": spec.n_quantizers,
        "sampling_rate": spec.sampling_rate,
    }
    return DacConfig(**{**settings, **overrides})


def codec_options(spec: CodecSpec) -> dict:
    """The :class:`DacCodec` options of ``spec`` (its ``mode``)."""
    return {"mode": spec.options["mode"]}


def tiny_codec(spec: CodecSpec, seed: int = 0) -> DacCodec:
    """The spec's strides (so the same chunk geometry) at tiny widths, 4 codebooks of 64, random
    weights with non-zero biases (tests, offline demo)."""
    torch.manual_seed(seed)
    model = DacModel(
        _config(spec, encoder_hidden_size=4, decoder_hidden_size=32, codebook_size=64, n_codebooks=4)
    )
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, _CONVS) and module.bias is not None:
                module.bias.normal_(0.0, 0.02)
    return DacCodec(model.eval(), **codec_options(spec))


def random_codec(spec: CodecSpec, seed: int = 0) -> DacCodec:
    """The official architecture of the spec (64 / 1536 widths, its codebooks) with random weights."""
    torch.manual_seed(seed)
    return DacCodec(DacModel(_config(spec)).eval(), **codec_options(spec))
