"""X-codec 2 (Ye et al., 2025, the Llasa codec) on ``transformers.Xcodec2Model`` (``hf-audio/xcodec2``).

A single finite-scalar quantiser (FSQ, 8 dimensions x 4 levels = 65536 codes) over the concatenation
of an acoustic encoder's latents and w2v-BERT 2.0 features (semantic); a Vocos-style decoder
(Transformer + inverse STFT head). 16 kHz, 50 code frames per second (hop 320): 50 x 16 bit =
0.8 kbps.

The semantic branch reads 80-bin Kaldi log-mel filterbanks (25 ms / 10 ms, two frames stacked, each
bin normalised over the utterance). ``Xcodec2FeatureExtractor`` computes them with torchaudio, which
this project does not use; the original X-codec 2 code computed them with
``SeamlessM4TFeatureExtractor`` (numpy, the same Kaldi options), which is what :func:`semantic_features`
does. Input handling follows the feature extractor: one zero sample appended, zero-padded to a
multiple of the hop, and the filterbank input padded by half a hop on each side.

Global attention and per-utterance normalisation: each utterance is coded at its own length.
"""

from __future__ import annotations

import numpy as np
import torch
from transformers import SeamlessM4TFeatureExtractor, Xcodec2Config, Xcodec2Model

from codecfake_hf.codecs.spec import CodecSpec
from codecfake_hf.codecs.transformers_codec import TransformersCodec, load_pretrained


class Xcodec2Codec(TransformersCodec):
    """X-codec 2. Codes: ``[B, 1, frames]`` (one FSQ codebook)."""

    per_utterance = True

    def __init__(self, model: Xcodec2Model) -> None:
        super().__init__(model, model.config.sampling_rate, model.config.hop_length)
        self.features = SeamlessM4TFeatureExtractor(
            feature_size=80, num_mel_bins=80, sampling_rate=self.sampling_rate, stride=2, padding_value=1.0
        )

    def semantic_features(self, waveforms: torch.Tensor) -> dict[str, torch.Tensor]:
        """Stacked filterbanks of hop-padded ``waveforms [B, 1, T]`` (``T`` a multiple of the hop):
        ``input_features [B, T / hop, 160]`` and ``input_features_mask [B, T / hop]``."""
        half_hop = self.hop_length // 2
        rows = [np.pad(row, (half_hop, half_hop)) for row in waveforms[:, 0].float().cpu().numpy()]
        batch = self.features(rows, sampling_rate=self.sampling_rate, return_tensors="pt", padding=True)
        return {
            "input_features": batch["input_features"].to(device=waveforms.device, dtype=waveforms.dtype),
            "input_features_mask": batch["attention_mask"].to(waveforms.device),
        }

    def encode(self, waveforms: torch.Tensor) -> torch.Tensor:
        length = waveforms.shape[-1] + 1
        waveforms = torch.nn.functional.pad(waveforms, (0, 1 + (-length % self.hop_length)))
        return self.model.encode(waveforms, **self.semantic_features(waveforms), return_dict=True).audio_codes

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return self.model.decode(codes, return_dict=True).audio_values


def tiny_codec(spec: CodecSpec, seed: int = 0) -> Xcodec2Codec:
    """The real classes at a tiny config with random weights (tests, offline demo): official hop
    (320), 4 FSQ dimensions of 4 levels, one Transformer layer, a one-layer w2v-BERT."""
    torch.manual_seed(seed)
    config = Xcodec2Config(
        sampling_rate=spec.sampling_rate,
        hidden_size=32,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=16,
        encoder_hidden_size=4,
        quantization_dim=48,  # hidden_size + semantic hidden_size
        quantization_levels=[4, 4, 4, 4],
        # at the default 0.02 the tiny encoder's latents all round to one FSQ code, and a constant
        # code decodes to silence; 0.1 gives varied codes and audible output
        initializer_range=0.1,
        semantic_model_config={
            "model_type": "wav2vec2-bert",
            "hidden_size": 16,
            "output_hidden_size": 16,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 16,
            "conv_depthwise_kernel_size": 3,
            "feature_projection_input_dim": 160,
        },
    )
    return Xcodec2Codec(Xcodec2Model(config).eval())


def random_codec(spec: CodecSpec, seed: int = 0) -> Xcodec2Codec:
    """The official architecture (``Xcodec2Config()`` defaults) with random weights."""
    torch.manual_seed(seed)
    return Xcodec2Codec(Xcodec2Model(Xcodec2Config()).eval())


def pretrained_codec(spec: CodecSpec, local_dir: str | None = None) -> Xcodec2Codec:
    """The official weights of ``spec.repo_id`` (Hub cache or ``local_dir``)."""
    return Xcodec2Codec(load_pretrained(Xcodec2Model, spec, local_dir))
