"""Every golden parity figure in one table: how far the re-implementations are from upstream's outputs.

For each golden file in ``tests/fixtures`` (provenance in ``tests/fixtures/README.md``) this runs the
same inputs through our implementation and prints, per path:

- ``codes equal``: share of the code decisions upstream made clearly (relative margin > 1e-4) that
  we reproduce (1.0 = exact);
- ``max |diff|``: largest absolute difference of the waveform (or logits, EER) from upstream's.

Run it before and after a refactor: the figures must not move. One torch thread, float32 (the
tests' setting), so the figures are repeatable on one machine.

    python benchmarks/golden_parity.py [--fixtures tests/fixtures]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]


def _decided_equal(codes: np.ndarray, expected: np.ndarray, margin: np.ndarray) -> float:
    decided = margin > 1e-4
    return float((codes == expected)[decided].mean())


def _max_diff(a, b) -> float:
    return float(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).max())


@torch.inference_mode()
def speechtokenizer_rows(fixtures: Path) -> list[tuple]:
    from codecfake_hf.codecs import convert_speechtokenizer

    data = dict(np.load(fixtures / "codec_golden" / "speechtokenizer_small.npz"))
    arrays = {"config_json", "meta_json", "inputs", "codes", "outputs", "code_rel_margin", "encoder_out"}
    state_dict = {k: torch.from_numpy(v) for k, v in data.items() if k not in arrays}
    model = convert_speechtokenizer.from_upstream(json.loads(str(data["config_json"])), state_dict)
    stored = torch.from_numpy(data["codes"]).permute(1, 0, 2)  # [B, n_q, frames]
    margins = data["code_rel_margin"].transpose(1, 0, 2)
    equal, wave, decoded = [], [], []
    for index in range(data["inputs"].shape[0]):
        clip = torch.from_numpy(data["inputs"][index])[None, None]
        codes = model.encode(clip)
        equal.append(_decided_equal(codes[0].numpy(), stored[index].numpy(), margins[index]))
        wave.append(_max_diff(model.decode(codes)[0, 0], data["outputs"][index, 0]))
        decoded.append(
            _max_diff(model.decode(stored[index : index + 1].int())[0, 0], data["outputs"][index, 0])
        )
    return [
        ("A SpeechTokenizer", "encode + decode, per clip", min(equal), max(wave)),
        ("A SpeechTokenizer", "decode of stored codes", None, max(decoded)),
    ]


@torch.inference_mode()
def hificodec_rows(fixtures: Path) -> list[tuple]:
    from codecfake_hf.codecs import convert_hificodec

    data = dict(np.load(fixtures / "codec_golden" / "hificodec_small.npz"))
    weights = {key: torch.from_numpy(value) for key, value in data.items() if "/" in key}
    model = convert_hificodec.from_upstream(json.loads(str(data["config_json"])), weights)
    inputs = torch.from_numpy(data["inputs"])[:, None]
    codes = model.encode(inputs)
    expected = data["codes"].transpose(0, 2, 1)
    margin = data["code_rel_margin"].transpose(0, 2, 1)
    stored = torch.from_numpy(data["codes"]).transpose(1, 2)
    return [
        ("B HiFi-Codec", "encode + decode, batched", _decided_equal(codes.numpy(), expected, margin),
         _max_diff(model.decode(codes), data["outputs"])),
        ("B HiFi-Codec", "decode of stored codes", None, _max_diff(model.decode(stored), data["outputs"])),
    ]  # fmt: skip


@torch.inference_mode()
def audiodec_rows(fixtures: Path) -> list[tuple]:
    from codecfake_hf.codecs import convert_audiodec

    data = dict(np.load(fixtures / "codec_golden" / "audiodec_small.npz"))
    config = json.loads(str(data["config_json"]))
    weights = {k: v for k, v in data.items() if k.startswith(("autoencoder/", "vocoder/"))}
    model = convert_audiodec.from_upstream(config, weights)
    inputs = torch.from_numpy(data["inputs"])[:, None]
    codes = model.encode(inputs)
    stored = torch.from_numpy(data["codes"])
    return [
        ("C AudioDec", "encode + decode, batched", _decided_equal(codes.numpy(), data["codes"], data["code_rel_margin"]),
         _max_diff(model.decode(codes), data["outputs"])),
        ("C AudioDec", "decode of stored codes", None, _max_diff(model.decode(stored), data["outputs"])),
    ]  # fmt: skip


@torch.inference_mode()
def dac_rows(fixtures: Path) -> list[tuple]:
    from codecfake_hf.codecs import convert_dac

    data = np.load(fixtures / "codec_golden" / "dac_compress_small.npz")
    torch.manual_seed(0)
    state_dict = {key: torch.from_numpy(data[key]) for key in data.files if "." in key}
    codec = convert_dac.from_upstream(json.loads(str(data["config_json"])), state_dict)
    compress, plain_equal, plain = [], [], []
    for clip in range(3):
        signal = torch.from_numpy(data[f"inputs_{clip}"])
        output = codec.compress_decompress([signal])[0].numpy()
        reference = data[f"outputs_{clip}"][0, 0]
        compress.append(_max_diff(output, reference))
        codes = codec.encode(signal[None, None])
        plain_equal.append(
            _decided_equal(codes.numpy(), data[f"codes_plain_{clip}"], data[f"code_rel_margin_plain_{clip}"])
        )
        decoded = codec.decode(torch.from_numpy(data[f"codes_plain_{clip}"])).numpy()
        plain.append(_max_diff(decoded, data[f"outputs_plain_{clip}"]))
    return [
        ("D DAC", "compress + decompress, 3 clips", None, max(compress)),
        ("D DAC", "plain encode; decode of stored codes", min(plain_equal), max(plain)),
    ]  # fmt: skip


@torch.inference_mode()
def funcodec_rows(fixtures: Path) -> list[tuple]:
    from codecfake_hf.codecs.convert_funcodec import from_upstream

    rows = []
    arrays = {"config_json", "meta_json", "inputs", "codes", "outputs", "code_rel_margin", "scale",
              "encoder_out", "quantized", "outputs_decode_codes", "encoder_input", "decoder_out"}  # fmt: skip
    for name, label in (("encodec", "F3-F6 FunCodec EnCodec"), ("freqcodec", "F1-F2 FunCodec FreqCodec")):
        data = np.load(fixtures / "codec_golden" / f"funcodec_{name}_small.npz")
        state_dict = {k: torch.from_numpy(data[k]) for k in data.files if k not in arrays}
        model = from_upstream(json.loads(str(data["config_json"])), state_dict)
        inputs = torch.from_numpy(data["inputs"])[:, None]
        equal, wave, decoded = [], [], []
        for row in range(inputs.shape[0]):
            clip = inputs[row : row + 1]
            encoded = model.encode(clip)
            equal.append(
                _decided_equal(
                    encoded.codes[:, 0].numpy(), data["codes"][:, row], data["code_rel_margin"][:, row]
                )
            )
            output = model.encode_decode(clip, torch.tensor([clip.shape[-1]]))[..., : clip.shape[-1]]
            wave.append(_max_diff(output[0], data["outputs"][row]))
            stored = torch.from_numpy(data["codes"][:, row : row + 1])
            decoded.append(_max_diff(model.decode(stored)[0], data["outputs_decode_codes"][row]))
        rows.append((label, "encode + decode, per clip", min(equal), max(wave)))
        rows.append((label, "decode of stored codes", None, max(decoded)))
    return rows  # fmt: skip


@torch.inference_mode()
def aasist_rows(fixtures: Path) -> list[tuple]:
    from transformers import AutoModelForAudioClassification

    from codecfake_hf.metrics import compute_eer
    from codecfake_hf.models.aasist.convert_aasist_checkpoint import convert_aasist_checkpoint

    golden = dict(np.load(fixtures / "aasist" / "golden_public.npz"))
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for variant, key in (("AASIST-L", "aasist_l_logits"), ("AASIST", "aasist_logits")):
            convert_aasist_checkpoint(
                fixtures / "aasist" / f"{variant}.pth", Path(scratch) / variant, variant=variant
            )
            model = AutoModelForAudioClassification.from_pretrained(Path(scratch) / variant).eval()
            logits = model(torch.from_numpy(golden["inputs"])).logits.numpy()
            rows.append((variant, "logits of the official checkpoint", None, _max_diff(logits, golden[key])))
            model.set_implementation("eager")  # the readable path, as the paper describes it
            logits = model(torch.from_numpy(golden["inputs"])).logits.numpy()
            rows.append((variant, "the same, implementation='eager'", None, _max_diff(logits, golden[key])))
    eer_golden = np.load(fixtures / "aasist" / "eer_golden_public.npz")
    worst = max(
        abs(
            compute_eer(eer_golden[f"scores_{k}"], eer_golden[f"labels_{k}"])[0]
            - float(eer_golden[f"eer_{k}"])
        )
        for k in range(5)
    )
    rows.append(("EER", "ASVspoof compute_eer, 5 score sets", None, worst))
    return rows  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=REPO_ROOT / "tests" / "fixtures")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from codecfake_hf.markdown import markdown_table
    from codecfake_hf.models.families import register_auto_classes

    register_auto_classes()  # AASIST by its model type, without trust_remote_code

    rows = []
    for collect in (
        speechtokenizer_rows,
        hificodec_rows,
        audiodec_rows,
        dac_rows,
        funcodec_rows,
        aasist_rows,
    ):
        rows += collect(args.fixtures)
    cells = [
        (name, path, "" if equal is None else f"{equal:.4f}", f"{diff:.3g}")
        for name, path, equal, diff in rows
    ]
    print(markdown_table(cells, ["golden", "path", "codes equal", "max abs diff"]))


if __name__ == "__main__":
    main()
