"""Small look-alikes of the published corpora, written from what is known of their layout (tests,
benchmarks, trying ``codecfake import`` offline). The audio is synthetic (tones in noise); everything
``codecfake import`` reads is shaped as in the corpus:

- the release (:func:`make_release_lookalike`): ``data/train-NNNNN-of-MMMMM.parquet`` with the columns
  ``audio`` (``Audio()``: WAV bytes and the path ``<codec_name>+<spk>_<utt>.wav``), ``label``
  (``genuine`` / ``spoofing``), ``speaker_id``, ``codec_name`` (the fifteen codec names, ``genuine``, and
  optionally one name no paper subset has), rows grouped by codec across several shards, each codec at its
  own rate (16, 24 or 44.1 kHz), and ``datalist.csv`` with its header and dummy row, in an order of its
  own (the importer must not use it);
- ASVspoof 2019 LA (:func:`make_asvspoof2019_lookalike`): ``LA/ASVspoof2019_LA_cm_protocols/`` with the
  three five-field protocols and ``LA/ASVspoof2019_LA_{train,dev,eval}/flac/*.flac`` at 16 kHz, attacks
  A01..A06 in train and dev, A07..A19 in eval.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from dataset_builder.corpora.asvspoof2019 import PARTS, PROTOCOL_DIR
from dataset_builder.corpora.release import BONAFIDE_LABEL, CODEC_NAMES, SPOOF_LABEL

#: A codec name of no paper subset, the look-alike's unknown key.
UNKNOWN_CODEC = "mystery-codec_16k"
#: The rate of the bona fide rows (the release's is not known: 16 or 48 kHz).
BONAFIDE_RATE = 16000
RELEASE_SPEAKERS = ("p225", "p226", "p227", "p228", "p229", "p230", "s5")
#: Rows per parquet row group of the release look-alike: what ``datasets`` 2.x wrote for audio datasets
#: (``PARQUET_ROW_GROUP_SIZE_FOR_AUDIO_DATASETS``); the release's own size is not known.
ROW_GROUP_ROWS = 100


def _wav(rng: np.random.Generator, sampling_rate: int, seconds: float, subtype: str = "PCM_16") -> bytes:
    """Encoded audio: a tone in noise, ``seconds`` long at ``sampling_rate`` Hz (WAV, or FLAC for
    ``subtype="FLAC"``)."""
    import soundfile

    length = max(1, int(seconds * sampling_rate))
    time = np.arange(length) / sampling_rate
    waveform = 0.2 * np.sin(2 * np.pi * rng.uniform(100, 300) * time) + 0.01 * rng.standard_normal(length)
    buffer = io.BytesIO()
    if subtype == "FLAC":
        soundfile.write(buffer, waveform.astype(np.float32), sampling_rate, format="FLAC", subtype="PCM_16")
    else:
        soundfile.write(buffer, waveform.astype(np.float32), sampling_rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


def codec_rate(codec_name: str) -> int:
    """The rate of a release codec name's audio: its subset's codec rate; 16 kHz otherwise."""
    from codecfake_hf.codecs.registry import get_spec

    return get_spec(CODEC_NAMES[codec_name]).sampling_rate if codec_name in CODEC_NAMES else BONAFIDE_RATE


def release_rows(
    speakers: Sequence[str] = RELEASE_SPEAKERS,
    utterances_per_speaker: int = 2,
    codec_names: Sequence[str] = (*CODEC_NAMES, UNKNOWN_CODEC),
    seconds: tuple[float, float] = (0.05, 0.15),
    seed: int = 0,
) -> list[dict]:
    """The rows of a release look-alike, grouped by codec (``genuine`` last), each
    ``{"audio": {"bytes", "path"}, "label", "speaker_id", "codec_name"}``."""
    rng = np.random.default_rng(seed)
    rows = []
    for codec_name in [*codec_names, BONAFIDE_LABEL]:
        rate = codec_rate(codec_name) if codec_name != BONAFIDE_LABEL else BONAFIDE_RATE
        for speaker in speakers:
            for number in range(1, utterances_per_speaker + 1):
                rows.append(
                    {
                        "audio": {
                            "bytes": _wav(rng, rate, rng.uniform(*seconds)),
                            "path": f"{codec_name}+{speaker}_{number:03d}.wav",
                        },
                        "label": BONAFIDE_LABEL if codec_name == BONAFIDE_LABEL else SPOOF_LABEL,
                        "speaker_id": speaker,
                        "codec_name": codec_name,
                    }
                )
    return rows


def write_release(
    root: str | os.PathLike, rows: Sequence[dict], shards: int = 3, datalist: bool = True
) -> Path:
    """Write ``rows`` as a release snapshot under ``root``: ``shards`` parquet files of consecutive rows
    (as ``push_to_hub`` writes them: ``Audio()`` and string columns in the schema's ``huggingface``
    metadata, a column the release does not have as a string column; row groups of
    :data:`ROW_GROUP_ROWS` rows) and ``datalist.csv``; returns ``root``."""
    import datasets

    features = datasets.Features(
        {
            "audio": datasets.Audio(),
            "label": datasets.Value("string"),
            "speaker_id": datasets.Value("string"),
            "codec_name": datasets.Value("string"),
        }
    )
    root = Path(root)
    (root / "data").mkdir(parents=True, exist_ok=True)
    bounds = np.linspace(0, len(rows), shards + 1).astype(int)
    for index in range(shards):
        chunk = list(rows[bounds[index] : bounds[index + 1]])
        columns = {name: [row[name] for row in chunk] for name in rows[0]}
        typed = datasets.Features({name: features.get(name, datasets.Value("string")) for name in columns})
        table = datasets.Dataset.from_dict(columns, features=typed)
        table.to_parquet(
            str(root / "data" / f"train-{index:05d}-of-{shards:05d}.parquet"), batch_size=ROW_GROUP_ROWS
        )
    if datalist:
        lines = ["wavpath,label,spkID,CodecName", "/home/user/CodecFake,dummy,dummy,dummy"]
        for row in sorted(rows, key=lambda row: row["audio"]["path"]):  # not the parquet's order
            lines.append(f"{row['audio']['path']},{row['label']},{row['speaker_id']},{row['codec_name']}")
        (root / "datalist.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def make_release_lookalike(root: str | os.PathLike, shards: int = 3, **rows: object) -> Path:
    """A release snapshot under ``root`` (:func:`release_rows` with ``rows``, :func:`write_release`)."""
    return write_release(root, release_rows(**rows), shards)


#: The look-alike's speakers per split and attacks per split.
ASVSPOOF_SPEAKERS = {
    "train": ("LA_0079", "LA_0080"),
    "validation": ("LA_0069",),
    "test": ("LA_0039", "LA_0040"),
}
ASVSPOOF_ATTACKS = {
    "train": tuple(f"A{n:02d}" for n in range(1, 7)),
    "validation": tuple(f"A{n:02d}" for n in range(1, 7)),
    "test": tuple(f"A{n:02d}" for n in range(7, 20)),
}


def make_asvspoof2019_lookalike(
    root: str | os.PathLike,
    bonafide_per_speaker: int = 2,
    seconds: tuple[float, float] = (0.05, 0.15),
    seed: int = 0,
) -> Path:
    """An ASVspoof 2019 ``LA/`` folder under ``root`` (returned): per split, ``bonafide_per_speaker``
    bona fide utterances of each of its speakers and one spoof per attack, spread over the speakers."""
    rng = np.random.default_rng(seed)
    la = Path(root) / "LA"
    (la / PROTOCOL_DIR).mkdir(parents=True, exist_ok=True)
    number = 1000000
    for split, (name, protocol) in PARTS.items():
        letter = name[0].upper()
        folder = la / f"ASVspoof2019_LA_{name}" / "flac"
        folder.mkdir(parents=True, exist_ok=True)
        speakers = ASVSPOOF_SPEAKERS[split]
        lines = []
        entries = [(speaker, "-", "bonafide") for speaker in speakers for _ in range(bonafide_per_speaker)]
        entries += [
            (speakers[i % len(speakers)], attack, "spoof") for i, attack in enumerate(ASVSPOOF_ATTACKS[split])
        ]
        for speaker, system, key in entries:
            number += 1
            utterance = f"LA_{letter}_{number}"
            (folder / f"{utterance}.flac").write_bytes(_wav(rng, 16000, rng.uniform(*seconds), "FLAC"))
            lines.append(f"{speaker} {utterance} - {system} {key}")
        (la / PROTOCOL_DIR / protocol).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return la


#: The CodecFake+ look-alike's codecs: one of every taxonomy label the authors use (Disent, SEM, FREQ,
#: SVQ, SQ), the typo key xocdec_... among them.
CODECFAKE_PLUS_CODECS = (
    "DAC24",
    "Encodec_24b24k",
    "FACodec_encodec-decoder-v2_16k",
    "SemantiCodec_0.35kbps_16k",
    "bigcodec",
    "spectralcodecs",
    "xocdec_hubert_general_audio",
)
CODECFAKE_PLUS_SPEAKERS = ("p225", "p226", "p227", "p228", "p229", "s5")
#: CoSG systems of the look-alike and their QUA AUX DEC, and spoof / bona fide clips of each.
COSG_SYSTEMS = {
    "MASKGCT": ("MVQ", "SEM", "TIME"),
    "SIMPLESPEECH1": ("SQ", "Trad", "TIME"),
    "TI1G1R": ("SVQ", "Disent", "TIME"),
}
COSG_CLIPS = (3, 2)


def _tar_xz(members: Sequence[tuple[str, bytes]]) -> bytes:
    """A tar.xz holding ``members`` (path, bytes), in that order."""
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def make_codecfake_plus_lookalike(
    root: str | os.PathLike,
    codec_keys: Sequence[str] = CODECFAKE_PLUS_CODECS,
    speakers: Sequence[str] = CODECFAKE_PLUS_SPEAKERS,
    utterances_per_speaker: int = 2,
    pieces: int = 4,
    seconds: tuple[float, float] = (0.05, 0.12),
    seed: int = 0,
    new_codecs: Mapping[str, tuple[str, str, str]] | None = None,
) -> Path:
    """A CodecFake+ download under ``root`` (returned), shaped as on the Hub (``new_codecs``: more codec
    keys, with their AUX DEC VQ, that the authors' metadata does not have): the CoRS tar.xz cut into
    ``pieces`` files ``Codecfake_plus_CoRS.part<N>`` (members ``CodecFake+/all_data_16k/<stem>.wav``,
    in name order), ``CoRS_labels.txt`` (``SPK UTT - AUX DEC VQ LABEL``, grouped by codec: not the
    archive's order; one spoof line spelt ``spoofs``), ``CodecFake_plus_CoSG.tar.xz`` (members
    ``CodecFake+/SLMdemos_16k/<Model>/<ClipID>.wav``) and ``CoSG_labels.txt``; 16 kHz WAV."""
    from dataset_builder.corpora.codecfake_plus import CORS_CODECS

    rng = np.random.default_rng(seed)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    labels = {key: values[1:] for key, values in CORS_CODECS.items()} | dict(new_codecs or {})
    members, lines = {}, []
    for key in [None, *codec_keys, *(new_codecs or {})]:
        for speaker in speakers:
            for number in range(1, utterances_per_speaker + 1):
                stem = f"{speaker}_{number:03d}" + (f"_{key}" if key else "")
                members[f"CodecFake+/all_data_16k/{stem}.wav"] = _wav(rng, 16000, rng.uniform(*seconds))
                taxonomy = "REAL REAL REAL bonafide" if key is None else " ".join(labels[key]) + " spoof"
                lines.append(f"{speaker} {stem} - {taxonomy}")
    lines[-1] = lines[-1].removesuffix("spoof") + "spoofs"  # the typo of the authors' metadata
    archive = _tar_xz(sorted(members.items()))
    bounds = np.linspace(0, len(archive), pieces + 1).astype(int)
    for index in range(pieces):
        (root / f"Codecfake_plus_CoRS.part{index}").write_bytes(archive[bounds[index] : bounds[index + 1]])
    (root / "CoRS_labels.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    members, lines = [], []
    spoofs, bonafide = COSG_CLIPS
    for model, taxonomy in COSG_SYSTEMS.items():
        for clip, label in [(f"gen_{n}", "spoof") for n in range(spoofs)] + [
            (f"gt_{n}", "bonafide") for n in range(bonafide)
        ]:
            members.append(
                (f"CodecFake+/SLMdemos_16k/{model}/{clip}.wav", _wav(rng, 16000, rng.uniform(*seconds)))
            )
            lines.append(f"{model} {clip} {' '.join(taxonomy)} {label}")
    (root / "CodecFake_plus_CoSG.tar.xz").write_bytes(_tar_xz(members))
    (root / "CoSG_labels.txt").write_text("\n".join(lines[::-1]) + "\n", encoding="utf-8")
    return root


#: The CDD look-alike's ASVspoof 5 speakers per split (``T_4850`` style ids) and CoSG systems.
CDD_SPEAKERS = {"train": ("T_4850", "T_4851"), "validation": ("D_1024",), "test": ("E_2001", "E_2002")}
CDD_COSG_SYSTEMS = ("F5TTS", "XTTS")


def make_cdd_lookalike(
    root: str | os.PathLike,
    utterances_per_speaker: int = 2,
    seconds: tuple[float, float] = (0.05, 0.12),
    seed: int = 0,
) -> Path:
    """A CDD folder under ``root`` (returned): ``asvspoof5/flac_T|D|E/<T|D|E>_<10 digits>.flac``, the same
    stems re-synthesised as ``CoRS_train|dev|test/<codec>/<stem>.wav`` (XCodec2 in test only),
    ``CoSG/<system>/<train|dev|test>/<system>_<stem>.wav`` (one per bona fide utterance), and beside them
    ``protocols/ASVspoof5.{train,dev.track_1,eval.track_1}.tsv`` (``SPEAKER FILE ...`` lines, as ASVspoof 5's);
    16 kHz."""
    from dataset_builder.corpora.cdd import BONAFIDE_FOLDERS, CDD_CODECS, CORS_FOLDERS, TEST_ONLY_CODECS

    rng = np.random.default_rng(seed)
    root = Path(root)
    protocols = {"train": "ASVspoof5.train.tsv", "validation": "ASVspoof5.dev.track_1.tsv",
                 "test": "ASVspoof5.eval.track_1.tsv"}  # fmt: skip
    (root / "protocols").mkdir(parents=True, exist_ok=True)
    number = 0
    for split, folder in BONAFIDE_FOLDERS.items():
        letter = folder[-1]
        lines = []
        for speaker in CDD_SPEAKERS[split]:
            for _ in range(utterances_per_speaker):
                number += 1
                stem = f"{letter}_{number:010d}"
                lines.append(f"{speaker} {stem} F - - - - - bonafide -")
                targets = [(root / folder, f"{stem}.flac", "FLAC")]
                targets += [
                    (root / CORS_FOLDERS[split] / codec, f"{stem}.wav", "PCM_16")
                    for codec in CDD_CODECS
                    if split == "test" or codec not in TEST_ONLY_CODECS
                ]
                targets += [
                    (
                        root / "CoSG" / system / {"validation": "dev"}.get(split, split),
                        f"{system}_{stem}.wav",
                        "PCM_16",
                    )
                    for system in CDD_COSG_SYSTEMS
                ]
                for target, name, subtype in targets:
                    target.mkdir(parents=True, exist_ok=True)
                    (target / name).write_bytes(_wav(rng, 16000, rng.uniform(*seconds), subtype))
        (root / "protocols" / protocols[split]).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


#: The Xie look-alike's real files per piece (VCTK, AISHELL3, AudioCaps-style audio events in A3): train and
#: test share AISHELL3 speaker SSB0005 (the authors' split is not known to be speaker-disjoint).
XIE_REALS = {
    "train": ("p225_001", "p225_002", "p226_001", "SSB00050001"),
    "dev": ("p227_001", "p227_002"),
    **{condition: ("p228_001", "SSB00050002") for condition in ("C1", "C2", "C3", "C4", "C5", "C6", "C7")},
    "A1": ("p228_001",),
    "A2": ("p228_002",),
    "A3": ("Y0a1B2c3D4e5",),
}
#: Fake prefixes per piece: train / dev fakes of several codecs; one per test condition.
XIE_PREFIXES = {
    "train": ("F01", "F02", "C3-1"),
    "dev": ("F01", "F02"),
    **{f"C{n}": (f"F0{n}",) for n in (1, 2, 4, 5, 6, 7)},
    "C3": ("C3-1",),
    **{f"A{n}": (f"L{n}",) for n in (1, 2, 3)},
}


def make_xie_lookalike(
    root: str | os.PathLike,
    zipped: bool = False,
    seconds: tuple[float, float] = (0.05, 0.12),
    seed: int = 0,
) -> Path:
    """Xie et al.'s Codecfake under ``root`` (returned): every piece's real files and a fake per real
    and prefix (``<prefix>_<real>.wav``, each ``seconds`` long, drawn from that range), label files ``<file> <real|fake> <codec>`` with real and fake
    lines mixed. Extracted (``label/<piece>.txt``, ``train/``, ``dev/``, ``test/<condition>/``) or, with
    ``zipped``, as downloads: ``train.zip`` and ``dev.zip`` (joined from their split zips; audio in
    ``Codecfake/<piece>/`` and the label file inside) and ``C1.zip`` ... ``A3.zip`` (audio in ``<condition>/``,
    label files in ``label/``); 16 kHz WAV."""
    import zipfile

    rng = np.random.default_rng(seed)
    root = Path(root)
    (root / "label").mkdir(parents=True, exist_ok=True)
    for piece, reals in XIE_REALS.items():
        entries = [(f"{real}.wav", "real", "-") for real in reals]
        entries += [
            (f"{prefix}_{real}.wav", "fake", prefix) for prefix in XIE_PREFIXES[piece] for real in reals
        ]
        order = rng.permutation(len(entries))
        label = "".join(f"{entries[i][0]} {entries[i][1]} {entries[i][2]}\n" for i in order)
        folder = piece if piece in ("train", "dev") else f"test/{piece}"
        audio = {name: _wav(rng, 16000, rng.uniform(*seconds)) for name, _, _ in entries}
        if not zipped:
            (root / folder).mkdir(parents=True, exist_ok=True)
            for name, data in audio.items():
                (root / folder / name).write_bytes(data)
            (root / "label" / f"{piece}.txt").write_text(label, encoding="utf-8")
            continue
        inner = f"Codecfake/{piece}" if piece in ("train", "dev") else piece
        with zipfile.ZipFile(root / f"{piece}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in audio.items():
                archive.writestr(f"{inner}/{name}", data)
            if piece in ("train", "dev"):
                archive.writestr(f"Codecfake/label/{piece}.txt", label)
        if piece not in ("train", "dev"):
            (root / "label" / f"{piece}.txt").write_text(label, encoding="utf-8")
    return root
