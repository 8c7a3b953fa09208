"""Subsets F1-F6: FunCodec, implemented natively from ``alibaba-damo-academy/FunCodec`` at ``3435d87``.

Two model types share this module (:attr:`FunCodecConfig.model`, a checkpoint's ``config.yaml``
``model:``):

- ``encodec`` (F3-F6): time-domain SEANet encoder (1-D) -> 32-stage residual VQ -> SEANet decoder.
- ``freq_codec`` with ``codec_domain: [mag_phase, mag_phase]`` (F1, F2): STFT (n_fft 512, hop 160)
  -> log-magnitude / unit-phase planes -> 2-D SEANet encoder -> RVQ -> 2-D decoder -> softplus
  magnitude x phase -> inverse STFT.

The networks are the shared SEANet of :mod:`codecfake_hf.codecs.layers.seanet` and a
:class:`~codecfake_hf.codecs.layers.quantization.ResidualVectorQuantizer`; the upstream ``config.yaml``
and checkpoint keys map onto them in :mod:`codecfake_hf.codecs.convert_funcodec`.

The official path (``Speech2Token`` with CodecFake's defaults) is reproduced: per-clip RMS scale
(``audio_normalize``) divided out before encoding and multiplied back after decoding, all 32
quantizers, output cut to the input length. ``GroupNorm(1, C)`` normalises over the whole clip and
the scale is per clip, so :meth:`FunCodecModel.encode_decode` computes every statistic over each
row's own valid samples: a padded batch gives each clip's stand-alone result.

Checkpoints (``config.yaml`` + ``model.pth``) load strictly (:mod:`~codecfake_hf.codecs.convert_funcodec`,
where the config options that no released checkpoint uses and that are not implemented raise an error
naming the option).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from codecfake_hf.codecs.base import CodecModel
from codecfake_hf.codecs.layers.masking import Lengths, reflect_pad_rows, row_lengths, valid_mask
from codecfake_hf.codecs.layers.quantization import ResidualVectorQuantizer
from codecfake_hf.codecs.layers.seanet import SEANetConfig, SEANetDecoder, SEANetEncoder
from codecfake_hf.codecs.spec import CodecSpec

#: The model types (:attr:`FunCodecConfig.model`).
MODELS = ("encodec", "freq_codec")


@dataclass(frozen=True)
class FunCodecConfig:
    """Every hyper-parameter a FunCodec model reads at inference (defaults: the F3 ``encodec``).

    Attributes:
        model: ``"encodec"`` (time domain) or ``"freq_codec"`` (mag-phase STFT planes, 2-D SEANet).
        encoder: the SEANet encoder (``encoder_conf``).
        decoder: the SEANet decoder (``decoder_conf``).
        codebook_size: codewords per residual stage.
        num_quantizers: residual stages (all used at decode).
        codec_dim: codebook dimension when it differs from the latent's (linear projections), else None.
        codec_range: latents are bounded by ``tanh(x) * codec_range`` before quantizing, if set.
        sampling_rate: audio rate in Hz (``target_sample_hz``).
        audio_normalize: divide each clip by its RMS scale before encoding, multiply after decoding.
        segment_dur: encode in segments of this many seconds (None: whole clips).
        overlap_ratio: overlap of consecutive segments (with ``segment_dur``).
        n_fft: FreqCodec STFT size.
        stft_hop: FreqCodec STFT hop, in samples.
        mel_bins: mel bands of the training loss (its buffers are in the checkpoint).
        spectral_window_powers: window sizes ``2 ** p`` of the training loss's spectrograms.
    """

    model: str = "encodec"
    encoder: SEANetConfig = SEANetConfig(dimension=128, norm="time_group_norm")
    decoder: SEANetConfig = SEANetConfig(dimension=128, norm="time_group_norm")
    codebook_size: int = 1024
    num_quantizers: int = 32
    codec_dim: int | None = None
    codec_range: float | None = None
    sampling_rate: int = 16000
    audio_normalize: bool = True
    segment_dur: float | None = None
    overlap_ratio: float | None = None
    n_fft: int = 512
    stft_hop: int = 160
    mel_bins: int = 64
    spectral_window_powers: tuple[int, ...] = (5, 6, 7, 8, 9, 10)

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"FunCodec model {self.model!r} is not one of {', '.join(MODELS)}")
        if self.encoder.two_d != self.two_d or self.decoder.two_d != self.two_d:
            raise ValueError(f"FunCodec {self.model}: the SEANets must be {'2-D' if self.two_d else '1-D'}")
        if self.segment_dur is not None and self.overlap_ratio is None:
            raise ValueError("FunCodec segment_dur is set but overlap_ratio is None")

    @property
    def two_d(self) -> bool:
        """Whether the SEANets are 2-D (FreqCodec)."""
        return self.model == "freq_codec"

    @property
    def hop_length(self) -> int:
        """Input samples per code frame: the SEANet hop (times the STFT hop for FreqCodec)."""
        return self.encoder.hop_length * (self.stft_hop if self.two_d else 1)

    @property
    def segment_length(self) -> int | None:
        """Samples per encoded segment (None: whole clips)."""
        return None if self.segment_dur is None else int(self.segment_dur * self.sampling_rate)

    @property
    def segment_stride(self) -> int | None:
        """Samples between the starts of consecutive segments."""
        if self.segment_length is None:
            return None
        return max(1, int((1 - self.overlap_ratio) * self.segment_length))


class FunCodecQuantizer(ResidualVectorQuantizer):
    """FunCodec's residual VQ (``costume_quantizer``, ``use_ddp: true``) at inference: optional
    ``input_proj`` / ``output_proj`` to ``codec_dim`` and a ``tanh * codec_range`` bound before
    quantizing. Latents ``[B, input_size, frames]``, codes ``[B, num_quantizers, frames]``."""

    def __init__(self, input_size: int, config: FunCodecConfig) -> None:
        dim = config.codec_dim or input_size
        super().__init__(config.num_quantizers, config.codebook_size, dim)
        if dim != input_size:
            self.input_proj = nn.Linear(input_size, dim)
            self.output_proj = nn.Linear(dim, input_size)
        else:
            self.input_proj = self.output_proj = None
        self.codec_range = config.codec_range

    def encode(self, latent: torch.Tensor) -> torch.Tensor:
        if self.input_proj is not None or self.codec_range is not None:
            frames_last = latent.transpose(1, 2)
            if self.input_proj is not None:
                frames_last = self.input_proj(frames_last)
            if self.codec_range is not None:
                frames_last = torch.tanh(frames_last) * self.codec_range
            latent = frames_last.transpose(1, 2)
        return super().encode(latent)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        quantized = super().decode(codes)
        if self.output_proj is None:
            return quantized
        return self.output_proj(quantized.transpose(1, 2)).transpose(1, 2)


class LossBuffers(nn.Module):
    """Persistent buffers of an upstream training-loss module (``mel_basis``, ``window``), kept only so
    that ``model.pth`` loads strictly; never used at inference."""

    def __init__(self, shapes: dict[str, tuple[int, ...]]) -> None:
        super().__init__()
        for name, shape in shapes.items():
            self.register_buffer(name, torch.zeros(shape))


@dataclass
class FunCodecCodes:
    """What :meth:`FunCodecModel.encode` returns.

    Attributes:
        codes: ``[n_q, B, T']`` int64, the upstream ``code_indices[0]`` layout.
        scale: ``[B, 1]`` per-clip RMS scale (``audio_normalize``), or None when it is off.
    """

    codes: torch.Tensor
    scale: torch.Tensor | None


class FunCodecModel(CodecModel):
    """A FunCodec ``encodec`` or ``freq_codec`` (mag-phase) model.

    ``sampling_rate`` is ``config.sampling_rate``; ``hop_length`` is samples per code frame
    (``prod(ratios)``, or the STFT hop times the time ratios).
    """

    def __init__(self, config: FunCodecConfig) -> None:
        super().__init__()
        self.config = config
        self.two_d = config.two_d
        self.sampling_rate = config.sampling_rate
        self.hop_length = config.hop_length
        self.audio_normalize = config.audio_normalize
        self.segment_length, self.segment_stride = config.segment_length, config.segment_stride
        self.n_fft, self.stft_hop = config.n_fft, config.stft_hop
        self.encoder = SEANetEncoder(config.encoder)
        self.decoder = SEANetDecoder(config.decoder)
        if self.two_d:
            self.enc_trans_func = LossBuffers({"window": (self.n_fft,)})
            self.dec_trans_func = LossBuffers({"window": (self.n_fft,)})
            for module in (self.enc_trans_func, self.dec_trans_func):
                module.window.copy_(torch.hann_window(self.n_fft))
        self.mel_spec_transforms = nn.ModuleList(
            LossBuffers({"mel_basis": (config.mel_bins, 513), "window": (2**power,)})
            for power in config.spectral_window_powers
        )
        self.quantizer = FunCodecQuantizer(config.encoder.dimension, config)  # codebooks drawn last
        #: How :meth:`encode_decode` batches clips of unequal length: True = one masked padded batch,
        #: False = equal-length groups, None = masked on accelerators only.
        self.masked_batching: bool | None = None

    # -- analysis / synthesis -------------------------------------------------------------------

    def _scale(self, x: torch.Tensor, lengths: Lengths) -> torch.Tensor:
        """Per-clip RMS ``1e-8 + sqrt(mean_t(mean_c(x)^2))`` over the valid samples, ``[B, 1, 1]``."""
        mono = x.mean(dim=1, keepdim=True)
        if lengths is None:
            return 1e-8 + mono.pow(2).mean(dim=2, keepdim=True).sqrt()
        count = torch.tensor(lengths, device=x.device, dtype=x.dtype).view(-1, 1, 1)
        return 1e-8 + (mono.pow(2).sum(dim=2, keepdim=True) / count).sqrt()

    def _spectral_planes(self, x: torch.Tensor, lengths: Lengths) -> tuple[torch.Tensor, Lengths]:
        """``[B, 1, T]`` -> ``[B, 3, n_fft/2+1, frames]`` (log |X|, Re and Im of X/|X|; |X| floored at
        1e-6) of a centred, reflect-padded, Hann STFT; ``1 + T // hop`` frames per row."""
        half = self.n_fft // 2
        signal = x[:, 0]
        shortest = signal.shape[-1] if lengths is None else min(lengths)
        if shortest <= half:
            raise ValueError(f"FunCodec FreqCodec needs clips longer than {half} samples (got {shortest})")
        window = self.enc_trans_func.window
        if lengths is None:
            spec = torch.stft(
                signal,
                self.n_fft,
                self.stft_hop,
                window=window,
                center=True,
                pad_mode="reflect",
                return_complex=True,
            )
            frame_lengths = None
        else:
            padded = reflect_pad_rows(signal, lengths, [half] * len(lengths), [half] * len(lengths))
            spec = torch.stft(
                padded, self.n_fft, self.stft_hop, window=window, center=False, return_complex=True
            )
            frame_lengths = [1 + n // self.stft_hop for n in lengths]
        magnitude = spec.abs().clamp(min=1e-6)
        phase = spec / magnitude
        return torch.stack([magnitude.log(), phase.real, phase.imag], dim=1), frame_lengths

    def _inverse_stft(self, spec: torch.Tensor, frame_lengths: Lengths) -> torch.Tensor:
        """Complex ``[B, bins, frames]`` -> ``[B, 1, hop * (frames - 1)]``: centred inverse STFT with
        the Hann window (window-envelope normalised); per row only its own frames count."""
        window = self.dec_trans_func.window
        if frame_lengths is None:
            return torch.istft(spec, self.n_fft, self.stft_hop, window=window, center=True)[:, None]
        frames = torch.fft.irfft(spec, n=self.n_fft, dim=1) * window[None, :, None]
        mask = valid_mask(frame_lengths, spec.shape[-1], spec.device)[:, None, :].to(frames.dtype)
        total = self.n_fft + self.stft_hop * (spec.shape[-1] - 1)

        def overlap_add(columns: torch.Tensor) -> torch.Tensor:
            return F.fold(columns, (1, total), (1, self.n_fft), stride=(1, self.stft_hop))[:, 0, 0]

        signal = overlap_add(frames * mask)
        envelope = overlap_add((window.square()[None, :, None] * mask).expand_as(frames))
        half = self.n_fft // 2
        width = self.stft_hop * (max(frame_lengths) - 1)
        signal, envelope = signal[:, half : half + width], envelope[:, half : half + width]
        inside = valid_mask([self.stft_hop * (n - 1) for n in frame_lengths], width, spec.device)
        return torch.where(inside, signal / torch.where(inside, envelope, 1.0), 0.0)[:, None]

    def _encode(self, x: torch.Tensor, lengths: Lengths) -> tuple[torch.Tensor, torch.Tensor | None, Lengths]:
        """``[B, 1, T]`` -> ``(codes [B, n_q, T'], scale [B, 1, 1] | None, latent frames per row)``."""
        scale = self._scale(x, lengths) if self.audio_normalize else None
        if scale is not None:
            x = x / scale
        features, feature_lengths = self._spectral_planes(x, lengths) if self.two_d else (x, lengths)
        latent, latent_lengths = self.encoder(features, feature_lengths)
        return self.quantizer.encode(latent), scale, latent_lengths

    def _decode(self, codes: torch.Tensor, lengths: Lengths) -> torch.Tensor:
        """codes ``[B, n_q', T']`` -> unscaled waveform ``[B, 1, samples]``."""
        out, out_lengths = self.decoder(self.quantizer.decode(codes), lengths)
        if not self.two_d:
            return out
        spec = F.softplus(out[:, 0]) * torch.complex(out[:, 1], out[:, 2])
        return self._inverse_stft(spec, out_lengths)

    # -- CodecModel API -------------------------------------------------------------------------

    def encode(self, waveforms: torch.Tensor) -> FunCodecCodes | list[FunCodecCodes]:
        """``waveforms [B, 1, T]`` (every row a whole clip) -> :class:`FunCodecCodes` (codes
        ``[n_q, B, T']``, ``T' = ceil(T / hop_length)`` for ``encodec``, ``ceil((1 + T // 160) / 2)``
        for ``freq_codec``; the per-clip scale). With ``segment_dur`` set: one per segment (segments
        of ``segment_length`` samples every ``segment_stride``, each with its own scale)."""
        if self.segment_length is not None:
            starts = range(0, waveforms.shape[-1], self.segment_stride)
            return [
                self._encode_clip(waveforms[..., start : start + self.segment_length]) for start in starts
            ]
        return self._encode_clip(waveforms)

    def _encode_clip(self, waveforms: torch.Tensor) -> FunCodecCodes:
        codes, scale, _ = self._encode(waveforms, None)
        return FunCodecCodes(codes.transpose(0, 1), None if scale is None else scale.view(-1, 1))

    def decode(self, codes: FunCodecCodes | list[FunCodecCodes] | torch.Tensor) -> torch.Tensor:
        """Codes -> ``[B, 1, T']`` waveform. :class:`FunCodecCodes` restores the scale (a list of
        segments is cross-faded, :func:`linear_overlap_add`); a bare ``[n_q, B, T']`` tensor is
        upstream's ``run_mod="decode"`` path (no scale, no trim)."""
        if isinstance(codes, list):
            return linear_overlap_add([self.decode(segment) for segment in codes], self.segment_stride)
        if isinstance(codes, FunCodecCodes):
            out = self._decode(codes.codes.transpose(0, 1), None)
            return out if codes.scale is None else out * codes.scale.view(-1, 1, 1)
        return self._decode(codes.transpose(0, 1), None)

    def encode_decode(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The official ``inference`` path on a zero-padded batch ``[B, 1, T]`` with ``lengths [B]``
        valid samples: every row gives its stand-alone result (own RMS scale, own GroupNorm
        statistics, own reflect padding). Returns ``[B, 1, >= T]``, zero past each row's output
        (FreqCodec's iSTFT yields ``T - T % 160`` samples when ``T // 160`` is odd).

        With :attr:`masked_batching` (default: on for accelerators, off on CPU) the whole padded
        batch runs at once with per-row masked statistics; otherwise rows of equal length run
        together, unpadded, as do segmented models (on CPU the convolutions are compute-bound, so batching gains little
        and padding costs its full share; measured in docs/codecs.md, "FunCodec").
        """
        masked = self.masked_batching if self.masked_batching is not None else waveforms.device.type != "cpu"
        if masked and self.segment_length is None:
            out = self._encode_decode(waveforms, row_lengths(lengths, waveforms.shape[-1]))
        else:
            out = torch.zeros_like(waveforms)
            lengths = [int(n) for n in lengths]
            for length in sorted(set(lengths)):
                rows = [row for row, n in enumerate(lengths) if n == length]
                result = self._encode_decode(waveforms[rows, :, :length], None)[..., :length]
                out[rows, :, : result.shape[-1]] = result
        return F.pad(out, (0, max(0, waveforms.shape[-1] - out.shape[-1])))

    def _encode_decode(self, waveforms: torch.Tensor, lengths: Lengths) -> torch.Tensor:
        """Encode, quantize, decode and rescale; ``lengths`` (per-row masking) as in :meth:`_encode`."""
        if lengths is None:
            return self.decode(self.encode(waveforms))
        codes, scale, latent_lengths = self._encode(waveforms, lengths)
        out = self._decode(codes, latent_lengths)
        if scale is not None:
            out = out * scale
        return out * valid_mask(lengths, out.shape[-1], out.device)[:, None, :].to(out.dtype)


def linear_overlap_add(frames: list[torch.Tensor], stride: int) -> torch.Tensor:
    """Cross-fade decoded segments ``[B, 1, L_k]`` that start every ``stride`` samples: each is
    weighted by a triangle over the first segment's length (peak in the middle, never zero) and
    the sum is divided by the summed weights. Returns ``[B, 1, stride * (K - 1) + L_last]``."""
    length = frames[0].shape[-1]
    t = torch.linspace(0, 1, length + 2, device=frames[0].device, dtype=frames[0].dtype)[1:-1]
    weight = 0.5 - (t - 0.5).abs()
    total = stride * (len(frames) - 1) + frames[-1].shape[-1]
    out = frames[0].new_zeros(*frames[0].shape[:-1], total)
    weights = frames[0].new_zeros(total)
    for index, frame in enumerate(frames):
        start, size = index * stride, frame.shape[-1]
        out[..., start : start + size] += weight[:size] * frame
        weights[start : start + size] += weight[:size]
    return out / weights


def official_config(spec: CodecSpec) -> FunCodecConfig:
    """The architecture of the official checkpoint of ``spec``, chosen by ``spec.options``: ``{"model":
    "encodec", "ratios": ...}`` is the egs ``encodec_16k_n32_600k_step`` config (ratios ``(8, 5, 4, 2)``,
    or ``(8, 5, 4, 2, 2)`` for ``…_ds640``; F3-F6); ``{"model": "freq_codec"}`` the closest public
    FreqCodec config (``freqcodec_mag_phase_16k_n32_600k_step``; F1/F2), which does NOT match the
    released checkpoints."""
    elu = {"activation_params": {"alpha": 1.0}, "norm": "time_group_norm"}
    if spec.options["model"] == "freq_codec":
        ratios = ((4, 1), (4, 1), (4, 2), (4, 1))
        seanet = SEANetConfig(
            channels=3, ratios=ratios, dilation_base=1, two_d=True, norm_params={"num_groups": 1}, **elu
        )
    else:
        seanet = SEANetConfig(ratios=tuple(spec.options["ratios"]), norm_params={}, **elu)
    return FunCodecConfig(model=spec.options["model"], encoder=seanet, decoder=seanet)


def _random_model(config: FunCodecConfig, seed: int) -> FunCodecModel:
    """The model of ``config`` with seeded random weights and codebooks."""
    torch.manual_seed(seed)
    return FunCodecModel(config).eval()


def tiny_codec(spec: CodecSpec, seed: int = 0) -> FunCodecModel:
    """The real classes at a tiny width (n_filters 4, latent 16, 32 x 16 codewords), random weights:
    FreqCodec for F1/F2, Encodec (the spec's ratios) for F3-F6."""
    config = official_config(spec)
    seanet = replace(config.encoder, n_filters=4, dimension=16)
    tiny = replace(
        config, encoder=seanet, decoder=seanet, codebook_size=16, mel_bins=8, spectral_window_powers=(5,)
    )
    return _random_model(tiny, seed)


def random_codec(spec: CodecSpec, seed: int = 0) -> FunCodecModel:
    """The full official architecture (:func:`official_config`) with random weights (benchmarks)."""
    return _random_model(official_config(spec), seed)
