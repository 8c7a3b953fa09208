import io

import numpy as np
import pytest
import soundfile as sf
from datasets import Audio, ClassLabel, Dataset, Features, Value

from codecfake_hf.audio.audio_io import AudioError
from codecfake_hf.data.loading import folder_dataset, load_labelled_dataset, load_waveform


def _tone(seconds, rate, freq=220.0):
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def label_folder(tmp_path):
    for name, count in (("bonafide", 2), ("spoof", 3)):
        (tmp_path / name / "sub").mkdir(parents=True)
        for i in range(count):
            sf.write(tmp_path / name / "sub" / f"{i}.wav", _tone(0.2, 48000), 48000)
    return tmp_path


def test_folder_dataset_labels_and_resamples(label_folder):
    dataset = load_labelled_dataset(label_folder)
    assert dataset["label"] == [1, 1, 0, 0, 0]
    assert (
        dataset["codec"][:2] == ["bonafide", "bonafide"]
        and dataset["utterance_id"][0] == "bonafide/sub/0.wav"
    )
    waveform = load_waveform(dataset[0]["audio"], 16000)
    assert waveform.dtype == np.float32 and waveform.shape == (3200,)


def test_folder_without_subfolders_is_a_clear_error(tmp_path):
    (tmp_path / "bonafide").mkdir()
    (tmp_path / "spoof").mkdir()
    with pytest.raises(FileNotFoundError, match="no audio files"):
        folder_dataset(tmp_path)


def _flac(waveform, rate):
    buffer = io.BytesIO()
    sf.write(buffer, waveform, rate, format="FLAC")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "feature, values, expected",
    [
        (ClassLabel(names=["real", "fake"]), [0, 1], [1, 0]),
        (Value("string"), ["Bonafide", "spoof"], [1, 0]),
        (Value("int64"), [1, 0], [1, 0]),
    ],
)
def test_foreign_dataset_labels_are_normalised(tmp_path, feature, values, expected):
    audio = [{"bytes": _flac(_tone(0.1, 16000), 16000), "path": None}] * 2
    features = Features({"speech": Audio(decode=False), "is_real": feature})
    foreign = Dataset.from_dict({"speech": audio, "is_real": values}, features=features)
    foreign.to_parquet(tmp_path / "hub" / "test.parquet")  # a Hub-layout folder: load_dataset
    foreign.save_to_disk(tmp_path / "disk")  # a save_to_disk folder: load_from_disk
    for source in ("hub", "disk"):
        dataset = load_labelled_dataset(tmp_path / source, audio_column="speech", label_column="is_real")
        assert dataset["label"] == expected
        assert dataset.column_names == ["audio", "label", "utterance_id", "codec"]
        assert load_waveform(dataset[0]["audio"], 24000).shape == (2400,)


def test_bad_integer_labels_and_corrupt_bytes():
    features = Features({"audio": Audio(decode=False), "label": Value("int64")})
    with pytest.raises(AudioError, match="clip-7"):
        load_waveform({"bytes": b"garbage", "path": "clip-7.flac"})
    dataset = Dataset.from_dict({"audio": [{"bytes": b"x", "path": None}], "label": [2]}, features=features)
    from codecfake_hf.data.loading import _label_to_int

    with pytest.raises(ValueError, match="must be 1"):
        _label_to_int(dataset, "label")


def _hub_folder(root, rows: int):
    """A one-config Hub-layout folder named ``codecfake`` under ``root`` with ``rows`` rows."""
    features = Features({"audio": Audio(decode=False), "label": ClassLabel(names=["spoof", "bonafide"])})
    audio = [{"bytes": _flac(_tone(0.05, 16000), 16000), "path": None}] * rows
    folder = root / "codecfake"
    Dataset.from_dict({"audio": audio, "label": [i % 2 for i in range(rows)]}, features=features).to_parquet(
        folder / "data" / "E" / "test-00000-of-00001.parquet"
    )
    (folder / "README.md").write_text(
        "---\nconfigs:\n- config_name: E\n  data_files:\n  - split: test\n    path:\n    - data/E/test-*.parquet\n---\n"
    )
    return folder


def test_rebuilt_or_other_local_folders_never_load_stale_rows(tmp_path, monkeypatch):
    # datasets keys load_dataset(folder, config) on the folder name and config only; ours must not
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    first = _hub_folder(tmp_path / "one", 4)
    assert len(load_labelled_dataset(first, "E")) == 4
    second = _hub_folder(tmp_path / "two", 6)
    assert len(load_labelled_dataset(second, "E")) == 6
    (first / "data" / "E" / "test-00000-of-00001.parquet").unlink()
    _hub_folder(tmp_path / "one", 2)
    assert len(load_labelled_dataset(first, "E")) == 2
    with pytest.raises(ValueError, match="no split 'train'"):
        load_labelled_dataset(first, "E", split="train")
