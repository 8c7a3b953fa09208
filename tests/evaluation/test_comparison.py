"""``codecfake compare``: two tiny builds of one synthetic VCTK, one of them altered row by row (a known
gain, a known delay, another codec's audio, missing or renamed utterances), must give the analytic
numbers and the right verdicts; folders that cannot be compared are refused naming what is wrong."""

from __future__ import annotations

import io
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from codecfake_cli.main import main
from codecfake_hf.evaluation.comparison import (
    ComparisonOptions,
    best_lag,
    compare_datasets,
    compare_waveforms,
    log_spectral_distance,
    low_band_snr_db,
    snr_db,
    subset_verdict,
)
from dataset_builder.build import BuildOptions, build_codecfake
from dataset_builder.synthetic import make_synthetic_vctk

pytestmark = pytest.mark.usefixtures("one_thread")

SPEAKERS = ("p225", "p226", "p227")  # train, validation, test
OPTIONS = BuildOptions(tiny=True, shard_size=2, batch_size=4)  # several files and row groups per split
IDS = {f"{speaker}_{index:03d}" for speaker in SPEAKERS for index in (1, 2, 3)}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return make_synthetic_vctk(
        tmp_path_factory.mktemp("vctk") / "VCTK-Corpus-0.92", speakers=SPEAKERS, utterances_per_speaker=3,
        seconds=(0.3, 0.5),
    )  # fmt: skip


@pytest.fixture(scope="module")
def built(corpus, tmp_path_factory) -> Path:
    """bonafide (48 kHz), E (24 kHz) and F3 (16 kHz); 3 utterances per split in files of 2."""
    out = tmp_path_factory.mktemp("built") / "codecfake"
    build_codecfake(corpus, out, ["E", "F3"], OPTIONS)
    return out


@pytest.fixture(scope="module")
def built_e(corpus, tmp_path_factory) -> Path:
    """Another build of the same corpus with E only (the same audio: builds are deterministic)."""
    out = tmp_path_factory.mktemp("built_e") / "codecfake"
    build_codecfake(corpus, out, ["E"], OPTIONS)
    return out


def float_wav(waveform: np.ndarray, sampling_rate: int) -> bytes:
    """32-bit float WAV bytes: the altered audio is stored exactly, with no 16-bit rounding."""
    buffer = io.BytesIO()
    sf.write(buffer, np.asarray(waveform, np.float32), sampling_rate, format="WAV", subtype="FLOAT")
    return buffer.getvalue()


def decode(audio: dict) -> tuple[np.ndarray, int]:
    waveform, rate = sf.read(io.BytesIO(audio["bytes"]), dtype="float32")
    return waveform, rate


def altered_copy(source: Path, target: Path, subset: str, change: Callable[[dict], dict | None]) -> Path:
    """A copy of the dataset folder ``source`` at ``target`` whose ``data/<subset>/`` parquet rows went
    through ``change(row) -> row`` (None drops the row); schema and file names are kept."""
    shutil.copytree(source, target)
    for path in sorted((target / "data" / subset).glob("*.parquet")):
        table = pq.read_table(path)
        rows = [changed for row in table.to_pylist() if (changed := change(dict(row))) is not None]
        pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    return target


def with_audio(transform: Callable[[np.ndarray, int], tuple[np.ndarray, int]]) -> Callable[[dict], dict]:
    """A row change that replaces the audio by ``transform(waveform, rate)``, stored as float WAV."""

    def change(row: dict) -> dict:
        waveform, rate = transform(*decode(row["audio"]))
        return row | {"audio": {"bytes": float_wav(waveform, rate), "path": None}}

    return change


def compare(built: Path, imported: Path, out: Path, **options) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``compare_datasets`` on E only: ``(summary, per-utterance table)``."""
    report = compare_datasets(
        built, imported, subsets=["E"], output_dir=out, options=ComparisonOptions(**options)
    )
    return report.summary, pd.read_csv(out / "compare_utterances.csv", keep_default_na=False, na_values=[""])


# --- the numbers of one pair ---------------------------------------------------------------------


def test_lag_is_found_within_the_window_in_both_directions():
    rng = np.random.default_rng(0)
    release = rng.standard_normal(4000)
    for delay in (0, 7, -12, 160):
        build = np.concatenate([np.zeros(delay), release]) if delay >= 0 else release[-delay:]
        assert best_lag(build, release, max_lag=200) == delay  # build[n + lag] == release[n]
    assert best_lag(np.concatenate([np.zeros(300), release]), release, max_lag=200) != 300  # outside
    assert best_lag(np.zeros(100), release, max_lag=50) == 0  # a silent clip has no lag


def test_snr_and_lsd_of_equal_scaled_and_silent_clips():
    rng = np.random.default_rng(1)
    reference = rng.standard_normal(16000)
    assert snr_db(reference, reference) == math.inf
    assert snr_db(0.5 * reference, reference) == pytest.approx(20 * math.log10(1 / 0.5), abs=1e-9)
    assert snr_db(reference, np.zeros_like(reference)) == -math.inf
    assert log_spectral_distance(reference, reference, 16000) == 0.0
    assert log_spectral_distance(2 * reference, reference, 16000) == pytest.approx(20 * math.log10(2))
    assert log_spectral_distance(np.zeros(100), np.zeros(100), 16000) == 0.0  # shorter than a frame


def test_lsd_leaves_out_the_band_where_resamplers_differ():
    rng = np.random.default_rng(3)
    reference = rng.standard_normal(16000)
    time = np.arange(16000) / 16000

    def with_tone(hz: float) -> np.ndarray:
        return reference + 3 * np.sin(2 * np.pi * hz * time)

    above, below = with_tone(6800), with_tone(4000)  # the low band ends at 5.6 kHz
    assert log_spectral_distance(above, reference, 16000) < 0.01  # window leakage only
    assert log_spectral_distance(below, reference, 16000) > 0.5
    assert low_band_snr_db(above, reference) > 60 and snr_db(above, reference) < 10
    assert low_band_snr_db(below, reference) < 10


def test_verdicts_from_the_medians():
    options = ComparisonOptions(min_snr_db=20, max_lsd_db=2)

    def verdict(snr: float, compensated: float, low_band: float, lsd: float) -> str:
        medians = {"median_snr_db": snr, "median_gain_compensated_snr_db": compensated,
                   "median_low_band_snr_db": low_band, "median_lsd_db": lsd}  # fmt: skip
        return subset_verdict(medians, options, 24000)

    assert verdict(math.inf, math.inf, math.inf, 0.0) == verdict(20.0, 20.0, 20.0, 2.0) == "same"
    assert verdict(30.0, 30.0, 30.0, 2.5) == "differs"  # the waveforms agree, the spectra do not
    assert verdict(5.0, 35.0, 35.0, 0.5) == "same after alignment"
    assert verdict(5.0, 8.0, 35.0, 0.5) == "same up to 8.4 kHz"
    assert verdict(19.9, 19.9, 19.9, 0.1) == "differs"
    assert verdict(math.nan, math.nan, math.nan, math.nan) == "not compared"


def test_pair_at_the_lower_rate_with_a_known_gain_and_delay():
    rng = np.random.default_rng(2)
    release = rng.standard_normal(8000).astype(np.float32)  # 0.5 s at 16 kHz
    build = np.concatenate([np.zeros(24, np.float32), 0.5 * release])  # 1.5 ms late, 6 dB quieter
    pair = compare_waveforms(build, 16000, release, 16000, max_lag_ms=5)
    assert pair["lag_samples"] == 24 and pair["lag_ms"] == pytest.approx(1.5)
    assert pair["length_difference_samples"] == 24 and pair["length_difference_ms"] == pytest.approx(1.5)
    assert pair["gain_db"] == pytest.approx(20 * math.log10(2), abs=1e-6)
    assert pair["aligned_snr_db"] == pytest.approx(20 * math.log10(1 / 0.5), abs=1e-6)
    assert pair["gain_compensated_snr_db"] > 100 and pair["lsd_db"] == pytest.approx(0, abs=1e-6)
    assert pair["snr_db"] < 3  # unaligned: noise against noise
    assert compare_waveforms(build, 16000, release, 16000, max_lag_ms=0)["lag_samples"] == 0
    upsampled = compare_waveforms(release, 16000, release, 48000)  # "release" read as 48 kHz: resampled
    assert upsampled["sampling_rate"] == 16000 and upsampled["samples_imported"] == 8000 // 3 + 1


# --- two folders ---------------------------------------------------------------------------------


def test_identical_builds_are_the_same(built, built_e, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compare", str(built), str(built_e), "--output-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "only in BUILT, not compared: F3" in printed
    summary = pd.read_csv(out / "compare_summary.csv", index_col="subset")
    assert list(summary.index) == ["bonafide", "E"] and set(summary["verdict"]) == {"same"}
    assert (summary[["n_built", "n_imported", "n_matched", "n_compared"]] == len(IDS)).all().all()
    assert summary.loc["bonafide", "sampling_rate"] == 48000 and summary.loc["E", "sampling_rate"] == 24000
    assert summary.loc["E", "median_snr_db"] == math.inf and summary.loc["E", "median_lsd_db"] == 0
    rows = pd.read_csv(out / "compare_utterances.csv")
    assert set(rows["utterance_id"][rows["subset"] == "E"]) == IDS
    assert (rows["status"] == "matched").all() and (rows["snr_db"] == math.inf).all()
    assert (rows["split_built"] == rows["split_imported"]).all()
    assert (out / "compare_snr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.glob("*.tmp"))


def test_a_known_gain_gives_the_analytic_snr_and_gain(built, tmp_path):
    gain = 0.8  # the release is the build times 0.8
    imported = altered_copy(built, tmp_path / "quieter", "E", with_audio(lambda w, rate: (gain * w, rate)))
    summary, rows = compare(built, imported, tmp_path / "out")
    assert rows["snr_db"].to_numpy() == pytest.approx(20 * math.log10(gain / (1 - gain)), abs=1e-4)
    assert rows["gain_db"].to_numpy() == pytest.approx(20 * math.log10(gain), abs=1e-5)
    assert (rows["gain_compensated_snr_db"] > 100).all() and (rows["lag_samples"] == 0).all()
    assert rows["lsd_db"].to_numpy() == pytest.approx(0, abs=1e-3)
    assert summary.at["E", "verdict"] == "same after alignment"


@pytest.mark.slow  # each spawned worker imports torch and the package first (minutes on a loaded 2-core machine)
def test_two_processes_write_what_one_writes(built, tmp_path):
    imported = altered_copy(built, tmp_path / "quieter", "E", with_audio(lambda w, rate: (0.5 * w, rate)))
    for num_proc in (1, 2):
        compare_datasets(built, imported, output_dir=tmp_path / str(num_proc), num_proc=num_proc)
    for name in ("compare_utterances.csv", "compare_summary.csv"):
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes()


@pytest.mark.parametrize("delayed_side", ["built", "imported"])
def test_a_known_delay_is_the_reported_lag(built, tmp_path, delayed_side):
    delay = 37  # samples at 24 kHz
    delayed = altered_copy(
        built,
        tmp_path / "delayed",
        "E",
        with_audio(lambda w, rate: (np.concatenate([np.zeros(delay), w]), rate)),
    )
    pair = (delayed, built) if delayed_side == "built" else (built, delayed)
    summary, rows = compare(*pair, tmp_path / "out")
    sign = 1 if delayed_side == "built" else -1  # positive: the build comes later
    assert (rows["lag_samples"] == sign * delay).all()
    assert rows["lag_ms"].to_numpy() == pytest.approx(sign * 1000 * delay / 24000)
    assert (rows["length_difference_samples"] == sign * delay).all()
    assert (rows["aligned_snr_db"] > 80).all() and (rows["snr_db"] < 10).all()
    assert summary.at["E", "verdict"] == "same after alignment"
    assert summary.at["E", "median_lag_ms"] == pytest.approx(sign * 1000 * delay / 24000)


def test_a_difference_above_the_low_band_is_the_resampling(built, tmp_path):
    """The release has a tone at 11 kHz the build lacks (at 24 kHz, above 0.7 x 12 kHz), as another
    resampler's band edge would leave: the low band agrees."""

    def with_tone(waveform: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
        return waveform + 0.3 * np.sin(2 * np.pi * 11000 * np.arange(waveform.size) / rate), rate

    imported = altered_copy(built, tmp_path / "band", "E", with_audio(with_tone))
    summary, rows = compare(built, imported, tmp_path / "out")
    assert summary.at["E", "verdict"] == "same up to 8.4 kHz"
    assert (
        (rows["snr_db"] < 20).all() and (rows["low_band_snr_db"] > 40).all() and (rows["lsd_db"] < 0.5).all()
    )


def test_another_codec_differs(built, tmp_path):
    """The release's E rows hold F3's audio (16 kHz) of the same utterances: compared at 16 kHz."""
    d1 = {
        row["utterance_id"]: row["audio"]
        for path in (built / "data" / "F3").glob("*.parquet")
        for row in pq.read_table(path).to_pylist()
    }
    imported = altered_copy(
        built, tmp_path / "other", "E", lambda row: row | {"audio": d1[row["utterance_id"]]}
    )
    summary, rows = compare(built, imported, tmp_path / "out")
    assert summary.at["E", "verdict"] == "differs" and summary.at["E", "sampling_rate"] == "16000"
    assert (rows["sampling_rate_built"] == 24000).all() and (rows["sampling_rate_imported"] == 16000).all()
    assert summary.at["E", "median_snr_db"] < 20


def test_utterances_on_one_side_only_are_counted(built, tmp_path):
    imported = altered_copy(
        built, tmp_path / "fewer", "E", lambda row: None if row["utterance_id"] == "p225_001" else row
    )
    ours = altered_copy(
        built, tmp_path / "ours", "E", lambda row: None if row["utterance_id"] == "p227_002" else row
    )
    summary, rows = compare(ours, imported, tmp_path / "out")
    counts = summary.loc["E", ["n_built", "n_imported", "n_matched", "n_only_built", "n_only_imported"]]
    assert (
        counts.tolist() == [len(IDS) - 1, len(IDS) - 1, len(IDS) - 2, 1, 1]
        and summary.at["E", "verdict"] == "same"
    )
    status = dict(zip(rows["utterance_id"], rows["status"]))
    assert status["p225_001"] == "only_built" and status["p227_002"] == "only_imported"
    assert math.isnan(rows.set_index("utterance_id").at["p225_001", "snr_db"])


def test_an_utterance_in_another_split_still_matches(built, tmp_path):
    def move(row: dict) -> dict | None:
        return None if row["utterance_id"] == "p225_001" else row

    imported = altered_copy(built, tmp_path / "moved", "E", move)
    test_file = sorted((imported / "data" / "E").glob("test-*.parquet"))[0]
    table = pq.read_table(test_file)
    moved = next(
        r
        for p in (built / "data/E").glob("train-*")
        for r in pq.read_table(p).to_pylist()
        if r["utterance_id"] == "p225_001"
    )
    pq.write_table(pa.Table.from_pylist([*table.to_pylist(), moved], schema=table.schema), test_file)
    summary, rows = compare(built, imported, tmp_path / "out")
    assert summary.at["E", "n_split_differs"] == 1 and summary.at["E", "n_matched"] == len(IDS)
    line = rows.set_index("utterance_id").loc["p225_001"]
    assert (line["split_built"], line["split_imported"], line["snr_db"]) == ("train", "test", math.inf)


def test_unreadable_audio_is_reported_and_the_rest_compared(built, tmp_path, capsys):
    def corrupt(row: dict) -> dict:
        broken = row["utterance_id"] == "p226_001"
        return row | {"audio": {"bytes": b"not audio", "path": None}} if broken else row

    imported = altered_copy(built, tmp_path / "broken", "E", corrupt)
    out = tmp_path / "out"
    assert main(["compare", str(built), str(imported), "--subsets", "E", "--output-dir", str(out)]) == 2
    assert "1 utterance(s) with unreadable audio were not compared" in capsys.readouterr().err
    rows = pd.read_csv(out / "compare_utterances.csv", keep_default_na=False).set_index("utterance_id")
    assert (
        rows.at["p226_001", "status"] == "unreadable"
        and "cannot decode audio" in rows.at["p226_001", "error"]
    )
    summary = pd.read_csv(out / "compare_summary.csv", index_col="subset")
    assert summary.loc["E", ["n_compared", "n_unreadable"]].tolist() == [len(IDS) - 1, 1]
    assert summary.at["E", "verdict"] == "same"


# --- what cannot be compared -----------------------------------------------------------------------


def _error(argv: list[str], capsys) -> str:
    assert main(["compare", *argv]) == 2
    error = capsys.readouterr().err
    assert error.startswith("codecfake compare: error: ") and error.count("\n") == 1
    return error


def test_a_folder_that_is_not_a_dataset(built, tmp_path, capsys):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "README.md").write_text("# my notes\n")
    error = _error([str(built), str(plain), "--output-dir", str(tmp_path / "out")], capsys)
    assert f"IMPORTED {plain}: not a dataset folder" in error
    error = _error([str(tmp_path / "absent"), str(built), "--output-dir", str(tmp_path / "out")], capsys)
    assert f"BUILT {tmp_path / 'absent'}: no such folder" in error
    assert not (tmp_path / "out").exists()


def test_a_subset_or_split_missing_on_one_side(built, built_e, tmp_path, capsys):
    out = ["--output-dir", str(tmp_path / "out")]
    error = _error([str(built), str(built_e), "--subsets", "E,F3", *out], capsys)
    assert f"IMPORTED {built_e}: no subset F3 (its subsets: bonafide, E)" in error
    error = _error([str(built_e), str(built), "--subsets", "F3", *out], capsys)
    assert f"BUILT {built_e}: no subset F3" in error
    error = _error([str(built), str(built_e), "--splits", "dev", *out], capsys)
    assert "subset bonafide has no split dev (its splits: train, validation, test)" in error


def test_no_utterance_in_common_names_the_subset(built, tmp_path, capsys):
    renamed = altered_copy(
        built, tmp_path / "renamed", "E", lambda row: row | {"utterance_id": "x" + row["utterance_id"]}
    )
    error = _error([str(built), str(renamed), "--output-dir", str(tmp_path / "out")], capsys)
    assert (
        "share no utterance_id in subset E" in error
        and "e.g. p225_001" in error
        and "e.g. xp225_001" in error
    )
    assert not (tmp_path / "out").exists()  # refused before any audio was compared


def test_an_utterance_twice_on_one_side_is_refused(built, tmp_path, capsys):
    twice = altered_copy(built, tmp_path / "twice", "E", lambda row: row | {"utterance_id": "p225_001"})
    error = _error([str(built), str(twice), "--subsets", "E", "--output-dir", str(tmp_path / "out")], capsys)
    assert "subset E holds utterance_id 'p225_001' twice" in error


def test_extra_columns_are_ignored(built, tmp_path):
    """An imported folder may carry more columns (codec_name, sampling_rate)."""
    path = sorted((built / "data" / "E").glob("test-*.parquet"))[0]
    imported = shutil.copytree(built, tmp_path / "extra")
    table = pq.read_table(imported / path.relative_to(built))
    table = table.append_column("codec_name", pa.array(["encodec_24khz"] * table.num_rows))
    pq.write_table(
        table.append_column("sampling_rate", pa.array([24000] * table.num_rows)),
        imported / path.relative_to(built),
    )
    summary, _ = compare(built, imported, tmp_path / "out")
    assert summary.at["E", "verdict"] == "same" and summary.at["E", "n_matched"] == len(IDS)


def test_the_help_states_the_defaults_the_library_uses():
    from codecfake_cli.main import build_parser
    from codecfake_hf.evaluation.comparison import DEFAULT_MAX_LAG_MS, DEFAULT_MAX_LSD_DB, DEFAULT_MIN_SNR_DB

    commands = next(action for action in build_parser()._actions if action.dest == "command")
    helps = {action.dest: action.help for action in commands.choices["compare"]._actions}
    for option, default in (("max_lag_ms", DEFAULT_MAX_LAG_MS), ("min_snr_db", DEFAULT_MIN_SNR_DB),
                            ("max_lsd_db", DEFAULT_MAX_LSD_DB)):  # fmt: skip
        assert f"default {default:g}" in helps[option], option
