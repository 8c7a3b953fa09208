"""The one audio-folder lister (:func:`codecfake_hf.audio.audio_folder.list_audio_folder`): a labelled folder
(``bonafide/`` + ``spoof/``, for evaluate and calibrate) and a corpus folder with ``metadata.csv`` (for
``codecfake build --source audiofolder:PATH``), and why ``datasets``' own audiofolder builder does not
list them."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from codecfake_hf.audio.audio_folder import AUDIO_SUFFIXES, list_audio_folder
from codecfake_hf.errors import CodecFakeError, InputFileError

LABELS = ("bonafide", "spoof")


class OwnError(CodecFakeError):
    """The caller's error class."""


def _wav(path):
    """A short WAV file at ``path`` (whatever its suffix: the lister goes by the name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(160, np.float32), 16000, format="WAV")


def test_a_labelled_folder_lists_every_audio_file_under_each_label_folder(tmp_path):
    for name in (
        "bonafide/b.wav",
        "bonafide/a.FLAC",
        "bonafide/c.aac",
        "spoof/valle/x.m4a",
        "spoof/y.aif",
        "spoof/v.mp4",
        "spoof/deep/er/z.wav",
    ):
        _wav(tmp_path / name)
    (tmp_path / "spoof" / "notes.txt").write_text("not audio")
    (tmp_path / "spoof" / "folder.wav").mkdir()  # a folder, whatever its name
    (tmp_path / "other").mkdir()
    _wav(tmp_path / "other" / "c.wav")  # not under a label folder
    listing = list_audio_folder(tmp_path, labels=LABELS)
    assert [(file.name, file.fields["label"]) for file in listing.files] == [
        ("bonafide/a.FLAC", "bonafide"),
        ("bonafide/b.wav", "bonafide"),
        ("bonafide/c.aac", "bonafide"),
        ("spoof/deep/er/z.wav", "spoof"),
        ("spoof/v.mp4", "spoof"),
        ("spoof/valle/x.m4a", "spoof"),
        ("spoof/y.aif", "spoof"),
    ]
    assert all(file.path == tmp_path / file.name for file in listing.files) and listing.columns == ["label"]


def test_a_labelled_folder_needs_every_label_folder_with_audio(tmp_path):
    (tmp_path / "bonafide").mkdir()
    with pytest.raises(
        InputFileError, match=f"^{tmp_path}: expected subfolders bonafide/ and spoof/ holding"
    ):
        list_audio_folder(tmp_path, labels=LABELS)
    (tmp_path / "spoof").mkdir()
    _wav(tmp_path / "bonafide" / "a.wav")
    with pytest.raises(
        OwnError, match=f"^{tmp_path / 'spoof'}: no audio files \\(.aac, .aif, .aiff, .amr, .au,"
    ):
        list_audio_folder(tmp_path, labels=LABELS, error=OwnError)


def test_metadata_values_stay_the_text_they_are(tmp_path):
    (tmp_path / "metadata.csv").write_text(
        "file_name,speaker_id,text,split\n"
        "train/a.wav,007,hello,\n"
        "sub\\b.m4a,225,,test\n"
        "c.wav,007\n"  # a short row: the missing values are ""
    )
    listing = list_audio_folder(tmp_path)
    assert listing.folder == tmp_path.resolve() and listing.columns == [
        "file_name",
        "speaker_id",
        "text",
        "split",
    ]
    assert [file.name for file in listing.files] == ["train/a.wav", "sub/b.m4a", "c.wav"]
    assert [file.path for file in listing.files] == [tmp_path.resolve() / f.name for f in listing.files]
    assert [dict(file.fields) for file in listing.files][1:] == [
        {"file_name": "sub\\b.m4a", "speaker_id": "225", "text": "", "split": "test"},
        {"file_name": "c.wav", "speaker_id": "007", "text": "", "split": ""},
    ]
    assert listing.files[0].fields["speaker_id"] == "007"  # not the number 7


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            None,
            r"metadata.csv: missing; an audio folder needs a metadata.csv with a file_name column \(audio paths "
            r"relative to the folder\) and optional speaker_id, text columns$",
        ),  # fmt: skip
        ("path,text\na.wav,x\n", r"metadata.csv: no file_name column \(columns: path, text\); add file_name"),
        ("file_name\n", "metadata.csv: no rows; list one audio file per line under the header$"),
        (
            "file_name\na.wav\n/etc/passwd\n",
            "metadata.csv, line 3: file_name '/etc/passwd' is not a path inside",
        ),
        (
            "file_name\nx/../../a.wav\n",
            r"metadata.csv, line 2: file_name 'x/../../a.wav' is not a path inside",
        ),
    ],
)
def test_metadata_problems_are_one_line_naming_the_file(tmp_path, content, message):
    if content is not None:
        (tmp_path / "metadata.csv").write_text(content)
    with pytest.raises(OwnError, match=message) as raised:
        list_audio_folder(tmp_path, error=OwnError, optional_columns=("speaker_id", "text"))
    assert "\n" not in str(raised.value) and str(raised.value).startswith(str(tmp_path.resolve()))


def test_datasets_audiofolder_still_drops_what_these_folders_hold():
    """Why the lister is ours (the module docstring): ``datasets``' audiofolder builder leaves out
    ``.m4a`` and ``.aif``, which :func:`codecfake_hf.audio.audio_io.load_audio` reads. When a ``datasets``
    release lists them, this fails: then see whether its builder can list these folders."""
    from datasets.packaged_modules.audiofolder.audiofolder import AudioFolder

    assert {".m4a", ".aif"} <= AUDIO_SUFFIXES
    assert ".m4a" not in AudioFolder.EXTENSIONS and ".aif" not in AudioFolder.EXTENSIONS


def test_a_labelled_folder_of_ffmpeg_only_formats_loads_and_decodes(tmp_path):
    """m4a, AAC and mp4 audio, which only FFmpeg decodes, are trials of a labelled folder
    (:func:`codecfake_hf.data.loading.load_labelled_dataset`), decoded at 16 kHz."""
    import subprocess

    from codecfake_hf.data.loading import load_labelled_dataset, load_waveform

    source = tmp_path / "tone.wav"
    sf.write(source, (0.3 * np.sin(np.arange(4800) / 10)).astype(np.float32), 48000)
    for name, codec in (("bonafide/a.m4a", "aac"), ("spoof/b.aac", "aac"), ("spoof/c.mp4", "aac")):
        (tmp_path / "set" / name).parent.mkdir(parents=True, exist_ok=True)
        command = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(source), "-c:a", codec]
        subprocess.run([*command, str(tmp_path / "set" / name)], check=True)
    dataset = load_labelled_dataset(tmp_path / "set")
    assert dataset["utterance_id"] == ["bonafide/a.m4a", "spoof/b.aac", "spoof/c.mp4"]
    assert dataset["label"] == [1, 0, 0]
    for row in dataset:
        waveform = load_waveform(row["audio"], 16000)
        assert waveform.dtype == np.float32 and 1600 <= waveform.shape[0] <= 2100  # 0.1 s + AAC padding
