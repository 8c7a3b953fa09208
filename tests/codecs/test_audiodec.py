"""AudioDec (subset C): parity with the upstream golden vectors, checkpoint layout, streaming state,
offline behaviour and batching."""

from __future__ import annotations

import json
from collections import OrderedDict

import numpy as np
import pytest
import torch
import yaml

from codecfake_hf.codecs import audiodec, convert_audiodec
from codecfake_hf.codecs.registry import get_spec, load_codec
from codecfake_hf.files.hub_io import CheckpointUnavailableError
from tests.codecs import upstream_checkpoints

# Golden waveforms are reproduced to ~5e-8; the policy tolerance is 1e-4 (golden README: ~1e-5).
WAVE_ATOL = 1e-5
NEAR_TIE = 1e-4


@pytest.fixture(scope="module")
def golden(fixtures_dir):
    return dict(np.load(fixtures_dir / "codec_golden" / "audiodec_small.npz"))


def _upstream_parts(golden) -> tuple[dict, dict]:
    config = json.loads(str(golden["config_json"]))
    return config, {k: v for k, v in golden.items() if k.startswith(("autoencoder/", "vocoder/"))}


@pytest.fixture(scope="module", params=[160, 48], ids=["one-pass", "chunked"])
def codec(golden, request):
    """The golden model; with 48 frames per chunk the 80-frame clips run in uneven time chunks
    (48 or 24 + 24 + 24 + 8 frames) with the causal context carried between them."""
    torch.set_num_threads(1)
    codec = convert_audiodec.from_upstream(*_upstream_parts(golden))
    codec.chunk_frames = request.param
    return codec


def _assert_codes_match(codes: np.ndarray, expected: np.ndarray, margin: np.ndarray) -> None:
    """Codes ``[B, n_q, F]`` equal wherever the decision is clear. A near tie (relative margin <=
    NEAR_TIE) may go either way; if it flips, the later residual layers of that frame quantize a
    different residual and are not compared."""
    for clip, frame in np.ndindex(codes.shape[0], codes.shape[2]):
        for layer in range(codes.shape[1]):
            if codes[clip, layer, frame] != expected[clip, layer, frame]:
                assert margin[clip, layer, frame] <= NEAR_TIE, (clip, layer, frame)
                break


def test_encode_matches_golden_per_clip_and_batched(codec, golden):
    inputs = torch.from_numpy(golden["inputs"])[:, None]
    with torch.no_grad():
        per_clip = torch.cat([codec.encode(inputs[i : i + 1]) for i in range(len(inputs))])
        batched = codec.encode(inputs)
        latents = codec.autoencoder.latents(inputs)
    assert per_clip.dtype == torch.int64 and per_clip.shape == golden["codes"].shape  # [B, 8, 80]
    np.testing.assert_allclose(latents.numpy(), golden["z"], atol=WAVE_ATOL)
    for codes in (per_clip, batched):
        _assert_codes_match(codes.numpy(), golden["codes"], golden["code_rel_margin"])


def test_decode_stored_codes_matches_golden(codec, golden):
    codes = torch.from_numpy(golden["codes"])
    with torch.no_grad():
        zq = codec.autoencoder.quantizer.decode(codes).transpose(1, 2)  # the golden's is [B, F, D]
        batched = codec.decode(codes)
        per_clip = torch.cat([codec.decode(codes[i : i + 1]) for i in range(len(codes))])
    np.testing.assert_allclose(zq.numpy(), golden["zq"], atol=1e-6)
    assert batched.shape == golden["outputs"].shape  # [B, 1, 300 * frames]
    np.testing.assert_allclose(batched.numpy(), golden["outputs"], atol=WAVE_ATOL, rtol=0)
    np.testing.assert_allclose(per_clip.numpy(), golden["outputs"], atol=WAVE_ATOL, rtol=0)


def test_carry_state_matches_primed_golden_and_depends_on_order(golden):
    codec = convert_audiodec.from_upstream(*_upstream_parts(golden), streaming_state="carry")
    codes = torch.from_numpy(golden["codes"])
    primed = golden["outputs_primed"]
    with torch.no_grad():
        first = codec.decode(codes[:1])
        after_first = codec.decode(codes[1:2])[0, 0].numpy()
        codec.reset_streaming_state()
        fresh = codec.decode(codes[1:2])
        with pytest.raises(ValueError, match="one utterance"):
            codec.decode(codes)
    np.testing.assert_allclose(first.numpy(), primed[:1], atol=WAVE_ATOL, rtol=0)
    np.testing.assert_allclose(fresh.numpy(), primed[1:2], atol=WAVE_ATOL, rtol=0)
    # carried state: the start depends on the previous utterance, the rest does not
    assert np.abs(after_first[:6000] - primed[1, 0, :6000]).max() > 1e-5
    np.testing.assert_allclose(after_first[12000:], primed[1, 0, 12000:], atol=1e-6, rtol=0)


def test_full_config_matches_upstream_state_dict(fixtures_dir):
    rows = (fixtures_dir / "codec_facts" / "audiodec_full_state_dict.tsv").read_text().split("\n")
    upstream = {f"{part}/{key}": json.loads(shape) for part, key, shape in (r.split("\t") for r in rows if r)}
    assert len(upstream) == 258
    codec = audiodec.random_codec(get_spec("C"))
    mapped = upstream_checkpoints.audiodec(codec.state_dict())
    ours = {name: list(t.shape) for name, t in mapped.items()}
    used = {k: v for k, v in upstream.items() if not convert_audiodec.is_unused_upstream_key(k)}
    assert ours == used
    dropped = set(upstream) - set(used)  # symmetric decoder, EMA statistics, streaming buffers
    assert {k.split("/")[0] for k in dropped if k.endswith(".pad_buffer")} == {"autoencoder", "vocoder"}
    assert len([k for k in dropped if k.startswith("autoencoder/decoder.")]) > 0
    assert (codec.sampling_rate, codec.hop_length) == (24000, 300)
    # the real checkpoints' key set (unused parts included) loads
    full = {k: torch.full(shape, 0.0 if k.endswith("pad_buffer") else 0.5) for k, shape in upstream.items()}
    config = {
        "autoencoder": {"mode": "causal", "codec": "audiodec", "decode_channels": 32, "codebook_size": 1024},
        "vocoder": {"in_channels": 64, "stats": "stats.npy", "resblock_dilations": [[1, 3, 5]]},
    }
    loaded = convert_audiodec.from_upstream(config, full)
    assert float(loaded.vocoder.mean[0]) == 0.5
    with pytest.warns(UserWarning, match="non-zero pad_buffer"):
        convert_audiodec.from_upstream(
            config, {**full, "vocoder/input_conv.pad_buffer": torch.ones(1, 64, 6)}
        )
    del full["vocoder/blocks.3.conv_out.weight_v"]
    with pytest.raises(ValueError, match=r"1 missing key\(s\), first 'vocoder/blocks.3.conv_out.weight_v'"):
        convert_audiodec.from_upstream(config, full)


def _write_upstream_files(root, golden) -> None:
    """The golden weights in the upstream file layout: ``{'model': {'generator': ...}}`` pickles
    and ``config.yml`` with ``generator_params``, at the registry's relative paths."""
    config, state = _upstream_parts(golden)
    for name in get_spec("C").files:
        part = name.split("/")[0]
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".pkl"):
            weights = OrderedDict(
                (k.split("/", 1)[1], torch.from_numpy(v)) for k, v in state.items() if k.startswith(part)
            )
            torch.save({"model": {"generator": weights}, "steps": 500000}, path)
        else:
            path.write_text(yaml.safe_dump({"model_type": "x", "generator_params": config[part]}))


def test_pretrained_loads_upstream_files(tmp_path, golden):
    _write_upstream_files(tmp_path, golden)
    codec = convert_audiodec.pretrained_codec(get_spec("C"), local_dir=str(tmp_path))
    with torch.no_grad():
        out = codec.decode(torch.from_numpy(golden["codes"]))
    np.testing.assert_allclose(out.numpy(), golden["outputs"], atol=WAVE_ATOL, rtol=0)
    broken = tmp_path / get_spec("C").files[0]
    broken.write_bytes(b"<html>rate limited</html>")
    with pytest.raises(ValueError, match="checkpoint-500000steps.pkl: not an AudioDec checkpoint"):
        convert_audiodec.pretrained_codec(get_spec("C"), local_dir=str(tmp_path))


def test_offline_pretrained_fails_fast_and_clearly():
    spec = get_spec("C")
    with pytest.raises(CheckpointUnavailableError, match="AudioDecBenchmark/AudioDec") as error:
        convert_audiodec.pretrained_codec(spec)
    assert all(name in str(error.value) for name in spec.files)


def test_tiny_batched_matches_per_utterance():
    resynthesizer = load_codec("C", tiny=True)
    rng = np.random.default_rng(0)
    waveforms = [0.3 * rng.standard_normal(n).astype(np.float32) for n in (24000, 7000, 15301, 301)]
    batched = resynthesizer.resynthesize(waveforms, 24000, batch_size=4)
    for waveform, output in zip(waveforms, batched):
        single = resynthesizer.resynthesize_one(waveform, 24000)
        assert output.shape == single.shape == waveform.shape
        assert np.abs(single).max() > 1e-3  # a real signal, not silence
        snr = 10 * np.log10(np.sum(single**2) / max(np.sum((output - single) ** 2), 1e-30))
        assert snr >= 40, snr


def test_streaming_state_is_validated():
    codec = audiodec.tiny_codec(get_spec("C"))
    with pytest.raises(ValueError, match="streaming_state must be one of"):
        codec.set_streaming_state("keep")


def test_lengths_skip_padding_in_any_row_order():
    codec = audiodec.tiny_codec(get_spec("C"))
    codec.chunk_frames = 48  # 16 frames per chunk for a batch of 3
    codes = torch.randint(0, 16, (3, 8, 70))
    lengths = torch.tensor([30, 70, 5])
    with torch.no_grad():
        batched = codec.decode(codes, lengths)
        for row, frames in enumerate(lengths.tolist()):
            single = codec.decode(codes[row : row + 1, :, :frames])
            torch.testing.assert_close(batched[row : row + 1, :, : 300 * frames], single, atol=1e-6, rtol=0)
            assert not batched[row, :, 300 * (frames + 16) :].any()  # past its last chunk: not computed
