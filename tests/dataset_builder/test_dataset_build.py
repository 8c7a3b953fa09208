"""Building CodecFake on a synthetic VCTK with the tiny EnCodec: splits, counts, bad files, resume after
SIGKILL, the Hub layout (data_files sharing, card) and loading it back with ``load_dataset``."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import soundfile as sf
import torch
import yaml

from dataset_builder import DatasetBuildError
from dataset_builder import build as build_module
from dataset_builder.build import BuildOptions, build_codecfake, make_examples
from dataset_builder.synthetic import make_synthetic_vctk

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEAKERS = ("p225", "p226", "p227", "p228", "p229", "p315")
OPTIONS = BuildOptions(tiny=True, shard_size=2, batch_size=4)
CLI_OPTIONS = ["--tiny", "--shard-size", "2", "--batch-size", "4"]
EXPECTED = {
    "train": {"p225_001", "p225_002", "p315_001", "p315_002"},
    "validation": {"p226_001", "p226_002", "p229_001", "p229_002"},
    "test": {"p227_001", "p227_002", "p228_001", "p228_002"},
}
BAD = {"p225_003", "p225_004"}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Six speakers x 2 clips (0.3-0.6 s), p315 without text, plus an empty (0-byte) and a corrupt file."""
    root = make_synthetic_vctk(
        tmp_path_factory.mktemp("vctk") / "VCTK-Corpus-0.92",
        speakers=SPEAKERS,
        utterances_per_speaker=2,
        seconds=(0.3, 0.6),
    )
    (root / "wav48_silence_trimmed/p225/p225_003_mic1.flac").write_bytes(b"")
    (root / "wav48_silence_trimmed/p225/p225_004_mic1.flac").write_bytes(b"fLaC but not really" * 10)
    return root


@pytest.fixture(scope="module")
def built(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "codecfake"
    build_codecfake(corpus, out, ["E"], OPTIONS)
    return out


def _rows(out: Path, config: str) -> list[dict]:
    rows = []
    for path in sorted((out / "data" / config).glob("*.parquet")):
        table = pq.read_table(path, columns=["label", "utterance_id", "codec", "speaker_id", "text"])
        for row in table.to_pylist():
            rows.append(row | {"split": path.name.split("-")[0]})
    return rows


def test_splits_counts_and_each_utterance_exactly_once(built):
    for config, label in (("bonafide", 1), ("E", 0)):
        rows = _rows(built, config)
        for split, expected in EXPECTED.items():
            ids = [r["utterance_id"] for r in rows if r["split"] == split]
            assert sorted(ids) == sorted(expected), (config, split)
        assert {r["label"] for r in rows} == {label}
        assert {r["codec"] for r in rows} == {config}
    assert {r["text"] for r in _rows(built, "bonafide") if r["speaker_id"] == "p315"} == {""}
    report = json.loads((built / "build_report.json").read_text())
    assert report["configs"] == ["bonafide", "E"]
    assert {s: v["utterances"] for s, v in report["splits"].items()} == {s: 4 for s in EXPECTED}
    assert report["splits"]["train"]["paper_utterances"] == 42752
    assert report["untranscribed"]["speakers"] == ["p315"]


def test_bad_source_files_are_reported_and_excluded_everywhere(built):
    report = json.loads((built / "build_report.json").read_text())
    excluded = {e["utterance_id"]: e["error"] for e in report["excluded"]}
    assert set(excluded) == BAD
    for utterance, error in excluded.items():
        assert f"{utterance}_mic1.flac: cannot decode audio" in error and "corrupt" in error
    for config in ("bonafide", "E"):
        assert not BAD & {r["utterance_id"] for r in _rows(built, config)}
    assert "p225_003" in (built / "README.md").read_text()


def test_audio_is_flac_at_native_rates(built, corpus):
    bonafide = pq.read_table(sorted((built / "data/bonafide").glob("test-*"))[0]).to_pylist()[0]
    spoof = pq.read_table(sorted((built / "data/E").glob("test-*"))[0]).to_pylist()[0]
    assert bonafide["utterance_id"] == spoof["utterance_id"]
    for row, rate in ((bonafide, 48000), (spoof, 24000)):
        info = sf.info(io.BytesIO(row["audio"]["bytes"]))
        assert (info.format, info.subtype, info.samplerate) == ("FLAC", "PCM_16", rate)
    source, _ = sf.read(corpus / "wav48_silence_trimmed/p227/p227_001_mic1.flac")
    decoded, _ = sf.read(io.BytesIO(bonafide["audio"]["bytes"]))
    assert np.array_equal(decoded, source)  # bona fide: decoded and re-encoded, never resampled
    spoof_audio, _ = sf.read(io.BytesIO(spoof["audio"]["bytes"]))
    assert abs(len(spoof_audio) - len(source) / 2) <= 1 and np.abs(spoof_audio).max() <= 0.99


def test_config_data_files_share_the_bonafide_shards(built):
    card = (built / "README.md").read_text()
    header = yaml.safe_load(card.split("---")[1])
    configs = {c["config_name"]: c["data_files"] for c in header["configs"]}
    assert list(configs) == ["default", "bonafide", "E"]
    for entry in configs["E"]:
        assert entry["path"] == [
            f"data/bonafide/{entry['split']}-*.parquet",
            f"data/E/{entry['split']}-*.parquet",
        ]
    assert {r["label"] for r in _rows(built, "E")} == {0}  # no bona fide copy in the E folder
    assert "42,752" in card and "CC BY-NC 4.0" in card and "Test build" in card  # C's row of Table 1
    # E's weights are MIT (encodec since 2023-04-26): nothing in this build is non-commercial
    assert header["license"] == ["cc-by-4.0", "mit"] and "Non-commercial subsets" not in card
    for subset in ("A", "B1", "C", "D3", "E", "F6"):
        assert f"| {subset} |" in card
    assert "doi = {10.7488/ds/2645}" in card and "wu2024codecfake" in card
    assert header["language"] == ["en"] and "vctk" in header["tags"]
    assert "The bona fide speech is the CSTR VCTK corpus" in card and "validation = p226, p229" in card


def test_load_dataset_from_the_parent_folder(built, monkeypatch, tmp_path):
    import datasets

    monkeypatch.chdir(built.parent)
    ds = datasets.load_dataset("codecfake", "E", cache_dir=str(tmp_path))
    assert set(ds) == {"train", "validation", "test"}
    assert ds["train"].features["label"].names == ["spoof", "bonafide"]
    for split, expected in EXPECTED.items():
        assert ds[split].num_rows == 2 * len(expected)
        assert sorted(ds[split]["label"]) == [0] * len(expected) + [1] * len(expected)
    rates = {row["codec"]: row["audio"].get_all_samples().sample_rate for row in ds["test"]}
    assert rates == {"bonafide": 48000, "E": 24000}
    bonafide_only = datasets.load_dataset(
        "codecfake", "bonafide", split="validation", cache_dir=str(tmp_path)
    )
    assert set(bonafide_only["codec"]) == {"bonafide"}


def test_streaming(built, tmp_path):
    import datasets

    stream = datasets.load_dataset(str(built), "E", split="test", streaming=True, cache_dir=str(tmp_path))
    rows = list(stream)
    assert sorted((r["codec"], r["utterance_id"]) for r in rows) == sorted(
        (codec, u) for codec in ("bonafide", "E") for u in EXPECTED["test"]
    )
    samples = rows[-1]["audio"].get_all_samples()
    assert samples.sample_rate == 24000 and samples.data.shape[1] > 0


def test_rerun_rewrites_nothing(built, corpus):
    shards = sorted(built.glob("data/*/*.parquet"))
    stamps = [p.stat().st_mtime_ns for p in shards]
    build_codecfake(corpus, built, ["E"], OPTIONS)
    assert sorted(built.glob("data/*/*.parquet")) == shards
    assert [p.stat().st_mtime_ns for p in shards] == stamps


def test_sigkill_then_resume_equals_uninterrupted_build(built, corpus, tmp_path):
    out = tmp_path / "codecfake"
    env = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "codecfake_cli", "build", "--vctk", str(corpus), "--configs", "E"]
    process = subprocess.Popen(
        [*command, "--out", str(out), *CLI_OPTIONS],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240
    while not list(out.glob("data/E/*.parquet")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.poll() is None, "the build ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    planned = len(list(built.glob("data/E/*.parquet")))
    assert len(list(out.glob("data/E/*.parquet"))) < planned and not (out / "build_report.json").exists()

    build_codecfake(corpus, out, ["E"], OPTIONS)
    reference = sorted(p.relative_to(built) for p in built.glob("data/*/*.parquet"))
    assert sorted(p.relative_to(out) for p in out.glob("data/*/*.parquet")) == reference
    for relative in reference:
        assert pq.read_table(out / relative).equals(pq.read_table(built / relative)), relative
    assert not list(out.rglob("*.tmp"))


def test_codec_failure_names_the_utterance(corpus, monkeypatch):
    class Broken:
        sampling_rate = 24000

        def resynthesize(self, waveforms, sampling_rate, batch_size):
            if any(len(w) == self.bad_length for w in waveforms):
                raise RuntimeError("kernel exploded")
            return [np.zeros(len(w) // 2, np.float32) for w in waveforms]

    paths = sorted((corpus / "wav48_silence_trimmed/p226").glob("*_mic1.flac"))
    Broken.bad_length = sf.info(paths[1]).frames
    monkeypatch.setattr(build_module, "_codec", lambda *args: Broken())
    batch = {"path": [str(p) for p in paths], "utterance_id": ["p226_001", "p226_002"]}
    with pytest.raises(
        DatasetBuildError, match="codec E failed on utterance p226_002: RuntimeError: kernel exploded"
    ):
        make_examples(batch, subset="E", tiny=True, device="cpu", batch_size=4)

    Broken.bad_length = -1
    Broken.resynthesize = lambda self, w, r, b: [np.full(10, np.nan, np.float32) for _ in w]
    with pytest.raises(DatasetBuildError, match="codec E output for utterance p226_001: .*NaN"):
        make_examples(batch, subset="E", tiny=True, device="cpu", batch_size=4)


def test_worker_processes_share_out_the_cores(tmp_path, monkeypatch):
    """With several processes each worker sets its torch threads to its share of the cores (thread
    pools of all workers on all cores made a tiny LSTM 1,800x slower); one process keeps torch's own."""
    monkeypatch.setattr(build_module.os, "cpu_count", lambda: 16)
    assert BuildOptions(num_proc=2).threads_per_process() == 8
    assert BuildOptions(num_proc=32).threads_per_process() == 1
    assert BuildOptions().threads_per_process() is None
    corpus = make_synthetic_vctk(tmp_path / "vctk", speakers=("p226",), utterances_per_speaker=1)
    batch = {"path": [str(next(corpus.rglob("*_mic1.flac")))], "utterance_id": ["p226_001"]}
    threads = torch.get_num_threads()
    try:
        make_examples(batch, subset="bonafide", tiny=True, device="cpu", batch_size=4, threads=1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)


def test_layout_080_bonafide_only(tmp_path):
    corpus = make_synthetic_vctk(
        tmp_path / "VCTK-Corpus", "0.80", speakers=("p225", "p226", "p227"), seconds=(0.1, 0.2)
    )
    report = build_codecfake(tmp_path, tmp_path / "out", [], BuildOptions(shard_size=100))
    assert report["configs"] == ["bonafide"] and report["vctk"]["layout"] == "0.80"
    assert report["vctk"]["root"] == str(corpus)
    header = yaml.safe_load((tmp_path / "out/README.md").read_text().split("---")[1])
    assert [c["config_name"] for c in header["configs"]] == ["default", "bonafide"]
    assert {e["split"] for e in header["configs"][1]["data_files"]} == {"train", "validation", "test"}


def _cli(args: list[str], **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"} | env
    return subprocess.run(
        [sys.executable, "-m", "codecfake_cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )


def test_push_fails_clearly_offline_or_without_token(built, tmp_path):
    offline = _cli(
        ["push", str(built), "--repo", "org/codecfake"], HF_HUB_OFFLINE="1", HF_TOKEN="hf_SECRETVALUE"
    )
    assert offline.returncode == 2 and "HF_HUB_OFFLINE is set" in offline.stderr
    no_token = _cli(
        ["push", str(built), "--repo", "org/codecfake"], HF_HUB_OFFLINE="0", HF_HOME=str(tmp_path)
    )
    assert no_token.returncode == 2 and "no Hugging Face token" in no_token.stderr
    unreachable = _cli(
        ["push", str(built), "--repo", "org/codecfake"],
        HF_HUB_OFFLINE="0",
        HF_HOME=str(tmp_path),
        HF_TOKEN="hf_SECRETVALUE",
        HF_ENDPOINT="http://127.0.0.1:9",
    )
    assert unreachable.returncode == 2 and "cannot reach http://127.0.0.1:9" in unreachable.stderr
    for result in (offline, no_token, unreachable):
        assert "SECRETVALUE" not in result.stdout + result.stderr and "Traceback" not in result.stderr
    not_built = _cli(["push", str(tmp_path), "--repo", "org/codecfake"], HF_HUB_OFFLINE="0")
    assert not_built.returncode == 2 and "not a built CodecFake folder" in not_built.stderr


def test_push_uploads_the_folder_without_the_build_cache(built, monkeypatch, tmp_path):
    import shutil

    from huggingface_hub import constants

    from codecfake_hf.files import hub_io as codecfake_hub
    from dataset_builder.publishing import push_to_hub

    built = Path(shutil.copytree(built, tmp_path / "codecfake"))  # the push rewrites the unedited card
    calls = []

    class FakeApi:
        def __init__(self, token):
            calls.append(("token", token))

        def whoami(self):
            calls.append(("whoami",))
            return {"auth": {"accessToken": {"role": "write"}}}

        def create_repo(self, repo_id, **kwargs):
            calls.append(("create_repo", repo_id, kwargs))

        def upload_folder(self, **kwargs):
            calls.append(("upload_folder", kwargs))

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(codecfake_hub, "HfApi", FakeApi)
    monkeypatch.setenv("HF_TOKEN", "hf_SECRETVALUE")
    assert push_to_hub(built, "org/codecfake").endswith("/datasets/org/codecfake")
    assert calls[:2] == [("token", "hf_SECRETVALUE"), ("whoami",)]
    assert calls[2] == (
        "create_repo",
        "org/codecfake",
        {"repo_type": "dataset", "private": False, "exist_ok": True},
    )
    upload = calls[3][1]
    assert (upload["repo_id"], upload["folder_path"], upload["repo_type"]) == (
        "org/codecfake",
        built,
        "dataset",
    )
    assert ".build/**" in upload["ignore_patterns"] and (built / ".build").is_dir()
    assert 'load_dataset("org/codecfake", "E")' in (built / "README.md").read_text()


def test_one_device_per_rank(monkeypatch):
    from dataset_builder.build_processes import rank_device

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert [rank_device("cuda", r) for r in (0, 1, 2, None)] == ["cuda:0", "cuda:1", "cuda:0", "cuda"]
    assert rank_device("cpu", 1) == "cpu" and rank_device("cuda:1", 0) == "cuda:1"
    assert BuildOptions(device="cuda").processes() == 2 and BuildOptions().processes() == 1
    assert BuildOptions(num_proc=4).map_num_proc(3) == 3 and BuildOptions(num_proc=4).map_num_proc(1) is None


@pytest.mark.slow
def test_two_processes_give_the_same_rows(built, corpus, tmp_path):
    """``num_proc=2`` (ranks) writes the same shards and rows; audio may differ by 1 LSB where the
    padded batches differ."""
    out = tmp_path / "codecfake"
    build_codecfake(corpus, out, ["E"], BuildOptions(tiny=True, shard_size=2, batch_size=4, num_proc=2))
    for config in ("bonafide", "E"):
        assert _rows(out, config) == _rows(built, config)
    assert pq.read_table(out / "data/bonafide/test-00000-of-00002.parquet").equals(
        pq.read_table(built / "data/bonafide/test-00000-of-00002.parquet")
    )
