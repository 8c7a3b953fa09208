"""The CSTR VCTK corpus: the bona fide speech of CodecFake, its download and the paper's split.

VCTK holds read English speech from 110 speakers with various accents, about 400 sentences each,
recorded at 48 kHz with two microphones (an omni-directional DPA 4035, "mic1", and a small
diaphragm Sennheiser MKH 800, "mic2"). Two releases are supported here:

- 0.92 (2019, the official zip): ``wav48_silence_trimmed/<spk>/<utt>_mic{1,2}.flac``,
  ``txt/<spk>/<utt>.txt`` and ``speaker-info.txt`` (speaker ids "p225"; p315 has no transcripts,
  p280 has no mic2 files, speaker "s5" is new in 0.92);
- 0.80 (2012): ``wav48/<spk>/<utt>.wav`` (one microphone), same ``txt/`` and ``speaker-info.txt``
  (speaker ids written "225").

Licence: Creative Commons Attribution 4.0 International (CC BY 4.0).

Citation::

    Junichi Yamagishi, Christophe Veaux, Kirsten MacDonald. CSTR VCTK Corpus: English Multi-speaker
    Corpus for CSTR Voice Cloning Toolkit (version 0.92). University of Edinburgh, The Centre for
    Speech Technology Research (CSTR), 2019. https://doi.org/10.7488/ds/2645

CodecFake's split (official release): validation = p226, p229; test = p227, p228; every other
speaker = train, so the splits are speaker-disjoint.

Utterances without a transcript (all of p315, a few others) are kept, with ``text == ""``: the
detector task needs only the audio, and the paper's generation code resynthesized every audio file.
They are listed in the build report.
"""

from __future__ import annotations

import os
import shutil
import stat
import urllib.parse
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from tqdm.auto import tqdm

from codecfake_hf.files.downloads import checked_download
from dataset_builder import DatasetBuildError
from dataset_builder.corpus import Manifest, Utterance

if TYPE_CHECKING:
    from dataset_builder.build_options import BuildOptions
    from dataset_builder.source_options import SourceOptions

VCTK_URL = "https://datashare.ed.ac.uk/bitstream/handle/10283/3443/VCTK-Corpus-0.92.zip"
VCTK_ZIP_BYTES = 11_747_302_977
#: Published sha256 of the 0.92 zip (the digest torchaudio's ``VCTK_092`` download checks as well).
VCTK_ZIP_SHA256 = "f96258be9fdc2cbff6559541aae7ea4f59df3fcaf5cf963aae5ca647357e359c"
VCTK_CITATION = """@misc{yamagishi2019vctk,
  author = {Yamagishi, Junichi and Veaux, Christophe and MacDonald, Kirsten},
  title = {{CSTR VCTK Corpus}: English Multi-speaker Corpus for {CSTR} Voice Cloning Toolkit (version 0.92)},
  publisher = {University of Edinburgh. The Centre for Speech Technology Research (CSTR)},
  year = {2019},
  doi = {10.7488/ds/2645}
}"""

VALIDATION_SPEAKERS = ("p226", "p229")
TEST_SPEAKERS = ("p227", "p228")
#: Utterances per split in the paper (Table 2, identical for bona fide and every subset).
PAPER_COUNTS = {"train": 42752, "validation": 735, "test": 755}
#: Speakers per split in the paper (Table 2).
PAPER_SPEAKERS = {"train": 103, "validation": 2, "test": 2}

_COMPLETED = ".completed"
_CHUNK_BYTES = 1 << 20


def split_of(speaker_id: str) -> str:
    """The CodecFake split ("train", "validation" or "test") of a VCTK speaker id ("p226")."""
    if speaker_id in VALIDATION_SPEAKERS:
        return "validation"
    if speaker_id in TEST_SPEAKERS:
        return "test"
    return "train"


@dataclass
class VctkManifest(Manifest):
    """What :func:`prepare_vctk` found.

    Attributes:
        root: corpus folder.
        layout: "0.92" or "0.80".
        mic: "mic1" or "mic2" (0.80 has one microphone, reported as "mic1").
        utterances: sorted by utterance id.
        speakers: ``{speaker_id: {"age", "gender", "accent", "region"}}`` from ``speaker-info.txt``.
    """

    root: Path
    layout: str
    mic: str
    utterances: list[Utterance]
    speakers: dict[str, dict[str, str]] = field(default_factory=dict)

    def report_entry(self) -> dict:
        """``{"vctk": ...}``, the build report's description of the corpus."""
        return {"vctk": {"root": str(Path(self.root).resolve()), "layout": self.layout, "mic": self.mic}}

    def reference_counts(self, split: str) -> dict:
        """The paper's counts of ``split`` (Table 2), next to ours in the report."""
        return {"paper_utterances": PAPER_COUNTS[split], "paper_speakers": PAPER_SPEAKERS[split]}


def find_corpus_root(path: str | os.PathLike) -> tuple[Path, str]:
    """Locate the VCTK folder under ``path`` and its layout ("0.92" or "0.80").

    ``path`` may be the corpus folder itself or a folder holding ``VCTK-Corpus-0.92`` /
    ``VCTK-Corpus`` (what the archives extract to).
    """
    path = Path(path).expanduser()
    if not path.is_dir():
        problem = "not a folder" if path.exists() else "no such folder"
        raise DatasetBuildError(
            f"{path}: {problem}; pass the VCTK corpus folder (it holds wav48_silence_trimmed/ or wav48/)"
        )
    for candidate in (path, path / "VCTK-Corpus-0.92", path / "VCTK-Corpus"):
        if (candidate / "wav48_silence_trimmed").is_dir():
            return candidate, "0.92"
        if (candidate / "wav48").is_dir():
            return candidate, "0.80"
    raise DatasetBuildError(
        f"{path}: not a VCTK corpus folder (expected wav48_silence_trimmed/ for 0.92 or wav48/ for 0.80); "
        "download it with `codecfake vctk --download DIR`"
    )


def parse_speaker_info(path: str | os.PathLike) -> dict[str, dict[str, str]]:
    """Parse ``speaker-info.txt`` into ``{speaker_id: {"age", "gender", "accent", "region"}}``.

    Both releases: columns ID, AGE, GENDER, ACCENTS, REGION (0.92 adds COMMENTS, kept in
    "region"); 0.80 writes ids without the "p" prefix. A missing file gives ``{}``.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    speakers = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split(maxsplit=4)
        if len(fields) < 3 or fields[0].upper() == "ID":
            continue
        speaker = f"p{fields[0]}" if fields[0].isdigit() else fields[0]
        fields += [""] * (5 - len(fields))
        speakers[speaker] = {
            "age": fields[1],
            "gender": fields[2],
            "accent": fields[3],
            "region": fields[4].strip(),
        }
    return speakers


def prepare_vctk(corpus_dir: str | os.PathLike, mic: str = "mic1") -> VctkManifest:
    """List the VCTK utterances of ``corpus_dir`` with transcripts, speakers and split.

    Args:
        corpus_dir: a 0.92 or 0.80 VCTK folder (see :func:`find_corpus_root`).
        mic: "mic1" (default, the paper's) or "mic2"; 0.92 only.

    Returns:
        A :class:`VctkManifest`; audio is not read here (the builder validates it).
    """
    if mic not in ("mic1", "mic2"):
        raise DatasetBuildError(f"unknown microphone {mic!r}; use mic1 or mic2")
    root, layout = find_corpus_root(corpus_dir)
    if layout == "0.92":
        audio_dir, pattern, suffix = root / "wav48_silence_trimmed", f"*_{mic}.flac", f"_{mic}"
    elif mic == "mic1":
        audio_dir, pattern, suffix = root / "wav48", "*.wav", ""
    else:
        raise DatasetBuildError(f"{root}: VCTK 0.80 has one microphone; use mic1 (or the 0.92 release)")
    utterances = []
    for speaker_dir in sorted(p for p in audio_dir.iterdir() if p.is_dir()):
        for audio in sorted(speaker_dir.glob(pattern)):
            utterance_id = audio.stem.removesuffix(suffix)
            transcript = root / "txt" / speaker_dir.name / f"{utterance_id}.txt"
            text = (
                transcript.read_text(encoding="utf-8", errors="replace").strip()
                if transcript.is_file()
                else ""
            )
            utterances.append(
                Utterance(
                    speaker_dir.name, utterance_id, str(audio.resolve()), text, split_of(speaker_dir.name)
                )
            )
    if not utterances:
        raise DatasetBuildError(f"{audio_dir}: no {pattern} files found; is the corpus fully extracted?")
    utterances.sort(key=lambda u: u.utterance_id)
    return VctkManifest(root, layout, mic, utterances, parse_speaker_info(root / "speaker-info.txt"))


def prepare(location: str, source: SourceOptions, options: BuildOptions, cache_dir: Path) -> VctkManifest:
    """The build's listing of ``vctk:PATH`` (and ``--vctk PATH``): :func:`prepare_vctk` of ``location``
    with the microphone ``options.mic``."""
    return prepare_vctk(location, options.mic)


#: The manifest :func:`prepare` returns (a launched build's other processes read it back from JSON).
MANIFEST = VctkManifest


def download_vctk(
    target_dir: str | os.PathLike,
    url: str = VCTK_URL,
    sha256: str | None = VCTK_ZIP_SHA256,
    size: int | None = VCTK_ZIP_BYTES,
) -> Path:
    """Download and extract the VCTK 0.92 zip into ``target_dir/VCTK-Corpus-0.92``.

    Idempotent: a ``.completed`` marker in the corpus folder makes a second call return at once. The
    zip is fetched by :func:`codecfake_hf.files.downloads.checked_download`: resumable through ``<zip>.part``,
    checked (``size`` in bytes, ``sha256``) before it becomes ``<zip>``; a ``<zip>`` already there that
    fails the check is renamed ``<zip>.rejected``, never deleted. Members with absolute paths or ``..``
    are refused. The zip is kept (delete it to save 11.7 GB).

    Returns:
        The corpus folder.

    Raises:
        DatasetBuildError: the download failed, or the zip is not the expected one; the message
            says what happened to the file and what to do.
    """
    target_dir = Path(target_dir).expanduser()
    corpus = target_dir / "VCTK-Corpus-0.92"
    if (corpus / _COMPLETED).is_file():
        return corpus
    target_dir.mkdir(parents=True, exist_ok=True)
    archive = target_dir / PurePosixPath(urllib.parse.urlparse(url).path).name
    fix = f"download the zip yourself and put it at {archive}"
    checked_download(url, archive, sha256, size, what="zip", fix=fix, error=DatasetBuildError)
    extract_zip(archive, corpus)
    (corpus / _COMPLETED).write_text(f"{url}\n", encoding="utf-8")
    return corpus


def extract_zip(archive: str | os.PathLike, destination: str | os.PathLike) -> None:
    """Extract ``archive`` into ``destination``. Every member is checked before anything is written;
    the archive is refused (nothing extracted) if a member would land outside ``destination``
    (absolute path, drive letter, ``..``), is a symbolic link (VCTK has none; a link could lead
    outside), or lies under a member that is a file."""
    destination = Path(destination)
    with zipfile.ZipFile(archive) as zipped:
        members = zipped.infolist()
        files = {member.filename.replace("\\", "/") for member in members if not member.is_dir()}
        for member in members:
            name = member.filename.replace("\\", "/")
            parts = PurePosixPath(name).parts
            if name.startswith("/") or (parts and ":" in parts[0]) or ".." in parts:
                problem = "unsafe member path"
            elif stat.S_ISLNK(member.external_attr >> 16):
                problem = "symbolic link member"
            elif any(str(parent) in files for parent in PurePosixPath(name).parents):
                problem = "member under a file member"
            elif member.is_dir() and name.rstrip("/") in files:
                problem = "folder member with the name of a file member"
            else:
                continue
            raise DatasetBuildError(
                f"{archive}: {problem} {member.filename!r}; the archive is not VCTK, nothing extracted"
            )
        destination.mkdir(parents=True, exist_ok=True)
        for member in tqdm(members, desc=f"extracting {Path(archive).name}", unit="file"):
            target = destination / member.filename
            if member.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zipped.open(member) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink, _CHUNK_BYTES)


def print_split_counts(corpus: str | os.PathLike, mic: str = "mic1", num_proc: int | None = None) -> None:
    """Print the split counts of the VCTK folder ``corpus`` next to the paper's (the check for a full
    VCTK), counted as ``codecfake build`` counts them: every file is decoded by the build's own source
    check, and files that cannot be decoded are left out of the totals and listed."""
    import dataclasses
    import tempfile

    from codecfake_hf.markdown import markdown_table
    from dataset_builder.build_options import BuildOptions
    from dataset_builder.source_check import run_source_check

    manifest = prepare_vctk(corpus, mic)
    with tempfile.TemporaryDirectory() as cache:
        check = run_source_check(manifest.utterances, Path(cache), BuildOptions(num_proc=num_proc))
    readable = {row["utterance_id"] for row in check.rows}
    manifest = dataclasses.replace(
        manifest, utterances=[u for u in manifest.utterances if u.utterance_id in readable]
    )
    print(f"VCTK {manifest.layout} at {manifest.root} ({manifest.mic})")
    rows = [
        (split, count["utterances"], PAPER_COUNTS[split], count["speakers"], PAPER_SPEAKERS[split])
        for split, count in manifest.counts().items()
    ]
    print(
        markdown_table(
            rows, ["split", "utterances", "paper", "speakers", "paper"], align=["left"] + ["right"] * 4
        )
    )
    print(f"untranscribed utterances (text ''): {len(manifest.untranscribed)}")
    print(f"left out, cannot be decoded (as in codecfake build): {len(check.excluded)}")
    for excluded in check.excluded:
        print(f"  {excluded['error']}")
