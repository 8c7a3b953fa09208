"""Fixtures of the docs blocks that talk to the Hub: a loopback Hub (``tests/loopback_hub.py``) for the
block, and the repos the blocks expect on it.

``loopback_hub`` starts the Hub for one block and points the block at it (``HF_ENDPOINT``,
``HF_HUB_OFFLINE=0``, ``HF_DATASETS_OFFLINE=0``, ``HF_TOKEN``; ``HF_HOME`` stays the block's empty
cache), and fails the block if a client asked it for an endpoint it does not have. A seeding fixture
(here or in another module) gets that Hub with :func:`hub_of` (which starts it when no fixture did yet)
and may register a check of what the block pushed with ``block.stack.callback``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.docs_fixtures.basic import copy, write_clips
from tests.docs_fixtures.registry import BlockFolder, artefact, fixture
from tests.loopback_hub import URL_PREFIXES, LoopbackHub

#: The Hub of each block being prepared (by ``id`` of its BlockFolder), until the block is done.
_HUBS: dict[int, LoopbackHub] = {}


def hub_of(block: BlockFolder) -> LoopbackHub:
    """The loopback Hub of ``block``: started, and the block's environment pointed at it, on first use;
    stopped (after checking that no client asked it for an endpoint it lacks) once the block ran."""
    if id(block) not in _HUBS:
        hub = block.stack.enter_context(LoopbackHub())
        _HUBS[id(block)] = hub
        block.stack.callback(_HUBS.pop, id(block))
        block.stack.callback(_no_unhandled_requests, hub)
        block.env.update(hub.environment())
    return _HUBS[id(block)]


def _no_unhandled_requests(hub: LoopbackHub) -> None:
    assert not hub.unhandled, f"the block asked the loopback Hub for endpoints it lacks: {hub.unhandled}"


def downloads(hub: LoopbackHub, repo_id: str, repo_type: str = "model") -> list[str]:
    """``{revision}/{path}`` of every file download (GET) of ``repo_id`` that the Hub served, in order."""
    prefix = f"/{URL_PREFIXES[repo_type]}{repo_id}/resolve/"
    return [path[len(prefix) :] for method, path, status in list(hub.requests)
            if method == "GET" and path.startswith(prefix) and status in (200, 206)]  # fmt: skip


@fixture
def loopback_hub(block: BlockFolder) -> None:
    """A loopback Hub for the block (tests/loopback_hub.py): ``HF_ENDPOINT`` points at it, online, with a
    token; the block's Hub cache stays empty."""
    hub_of(block)


# --- codec weights ---------------------------------------------------------------------------------

#: Codecs whose official weights are a ``transformers`` folder (config.json, model.safetensors), so a
#: tiny random model saved with ``save_pretrained`` stands in for them.
TINY_WEIGHT_CODECS = ("E", "D1")


@artefact("tiny_codec_weights")
def make_tiny_codec_weights(folder: Path) -> Path:
    """``<folder>/<codec id>/``: the tiny random-weight codec of each of :data:`TINY_WEIGHT_CODECS` saved
    with ``save_pretrained``, in the layout of its official Hub repo."""
    from codecfake_hf.codecs.registry import load_codec

    for codec_id in TINY_WEIGHT_CODECS:
        load_codec(codec_id, tiny=True).model.model.save_pretrained(folder / codec_id)
    return folder


@fixture
def codec_checkpoints(block: BlockFolder) -> None:
    """``ckpt/E/`` and ``ckpt/D1/`` (config.json, model.safetensors): tiny random weights in the layout of
    the official ones, one folder per codec id (``codecfake build --checkpoint-dir ckpt``)."""
    for codec_id in TINY_WEIGHT_CODECS:
        copy(block.artefact("tiny_codec_weights") / codec_id, block.folder / "ckpt" / codec_id)


@fixture
def encodec_checkpoint(block: BlockFolder) -> None:
    """``ckpt/encodec_24khz/`` (config.json, model.safetensors): tiny random EnCodec weights in the layout of
    facebook/encodec_24khz."""
    copy(block.artefact("tiny_codec_weights") / "E", block.folder / "ckpt" / "encodec_24khz")


@fixture
def hub_codec_weights(block: BlockFolder) -> None:
    """The loopback Hub holds tiny random weights of codecs E and D1 under their official repo ids, each
    as the commit the registry pins (so the download path runs: pinned revision, Hub cache)."""
    from codecfake_hf.codecs.registry import get_spec

    hub = hub_of(block)
    specs = [get_spec(codec_id) for codec_id in TINY_WEIGHT_CODECS]
    for spec in specs:
        hub.seed(spec.repo_id, block.artefact("tiny_codec_weights") / spec.id, commit=spec.revision)

    def check() -> None:
        fetched = {spec.id: downloads(hub, spec.repo_id) for spec in specs}
        assert any(fetched.values()), "no codec weights were downloaded from the loopback Hub"
        for spec in specs:
            wrong = [path for path in fetched[spec.id] if not path.startswith(f"{spec.revision}/")]
            assert not wrong, f"codec {spec.id}: downloads not at the pinned commit {spec.revision}: {wrong}"

    block.stack.callback(check)


@fixture
def in_wav(block: BlockFolder) -> None:
    """``in.wav``: 2 s of speech-like audio at 16 kHz."""
    write_clips(block.folder, {"in.wav": (2.0, 16000)})


# --- speech corpora of your own ----------------------------------------------------------------------

#: Speakers of the corpora below (docs/dataset.md holds out s3, s4 and s5 by name).
SPEAKERS = ("s1", "s2", "s3", "s4", "s5", "s6")


@fixture
def my_corpus(block: BlockFolder) -> None:
    """``~/data/my_corpus/``: an audiofolder corpus (``metadata.csv`` with file_name, speaker_id, text; no
    split column), 6 speakers s1..s6 x 2 speech-like clips of 0.4 s at 16 kHz."""
    root = block.folder / "data" / "my_corpus"
    lines = ["file_name,speaker_id,text"]
    for speaker in SPEAKERS:
        write_clips(root / "clips" / speaker, {f"{index}.flac": (0.4, 16000) for index in range(2)})
        lines += [
            f"clips/{speaker}/{index}.flac,{speaker},Sentence {index} of {speaker}." for index in range(2)
        ]
    (root / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@artefact("hub_speech_dataset")
def make_hub_speech_dataset(folder: Path) -> Path:
    """A Common Voice-like audio dataset as a Hub repo holds it: config ``en`` with a ``train`` split in
    ``en/train-00000-of-00001.parquet`` (columns audio, client_id, sentence: the audio as FLAC bytes),
    and a card whose ``configs`` name it. 6 speakers x 2 clips of 0.4 s at 16 kHz."""
    import io

    import datasets
    import soundfile

    from tests.docs_fixtures.basic import speech

    rows = {"audio": [], "client_id": [], "sentence": []}
    for number, speaker in enumerate(SPEAKERS):
        for index in range(2):
            buffer = io.BytesIO()
            soundfile.write(buffer, speech(0.4, 16000, 10 * number + index), 16000, format="FLAC")
            rows["audio"].append({"bytes": buffer.getvalue(), "path": f"{speaker}-{index}.flac"})
            rows["client_id"].append(speaker)
            rows["sentence"].append(f"Sentence {index} of {speaker}.")
    features = datasets.Features(
        {
            "audio": datasets.Audio(),
            "client_id": datasets.Value("string"),
            "sentence": datasets.Value("string"),
        }
    )
    datasets.Dataset.from_dict(rows, features=features).to_parquet(
        folder / "en" / "train-00000-of-00001.parquet"
    )
    card = "---\nconfigs:\n- config_name: en\n  data_files:\n  - split: train\n    path: en/train-*\n---\n"
    (folder / "README.md").write_text(card + "# A speech dataset\n", encoding="utf-8")
    return folder


@fixture
def hub_speech_dataset(block: BlockFolder) -> None:
    """The loopback Hub holds the dataset ``ORG/speech``: config ``en``, split ``train``, columns audio,
    client_id (6 speakers), sentence; 12 clips of 0.4 s as FLAC in one parquet file."""
    hub = hub_of(block)
    hub.seed("ORG/speech", block.artefact("hub_speech_dataset"), repo_type="dataset")

    def check() -> None:
        read = [path for path in downloads(hub, "ORG/speech", "dataset") if path.endswith(".parquet")]
        assert read, "the block read no rows of ORG/speech from the loopback Hub"

    block.stack.callback(check)


# --- VCTK, and the dataset pushed -------------------------------------------------------------------


@fixture
def vctk_downloaded(block: BlockFolder) -> None:
    """``~/data/`` as ``codecfake vctk --download ~/data`` leaves it once done: the tiny VCTK (5 speakers,
    2 clips each) in ``VCTK-Corpus-0.92/`` with the ``.completed`` marker the download writes last (so the
    command takes its "already there" path; the 11.7 GB zip cannot be fetched here)."""
    from dataset_builder.corpora import vctk

    copy(block.artefact("tiny_vctk"), block.folder / "data" / "VCTK-Corpus-0.92")
    (block.folder / "data" / "VCTK-Corpus-0.92" / vctk._COMPLETED).write_text(
        f"{vctk.VCTK_URL}\n", encoding="utf-8"
    )


@fixture
def pushed_codecfake(block: BlockFolder) -> None:
    """A loopback Hub for the block, and a check once it ran: the dataset ``ORG/codecfake`` there holds the
    build folder ``codecfake/`` (its cache ``.build/`` left out), and ``load_dataset("ORG/codecfake", "E")``
    from the Hub gives the rows the folder gives."""
    hub = hub_of(block)

    def check() -> None:
        import datasets

        from dataset_builder.publishing import PUSH_IGNORE

        folder = block.folder / "codecfake"
        assert hub.has_repo("ORG/codecfake", "dataset"), "nothing was pushed to ORG/codecfake"
        differ = hub.differences("ORG/codecfake", folder, "dataset", ignore_patterns=PUSH_IGNORE)
        assert not differ, f"ORG/codecfake does not hold codecfake/ as pushed: {differ}"
        code = (
            "import json\nfrom datasets import load_dataset\nds = load_dataset('ORG/codecfake', 'E')\n"
            "print(json.dumps({s: sorted(zip(ds[s]['utterance_id'], ds[s]['label'])) for s in ds}))\n"
        )
        from_hub = json.loads(
            hub.run_client([sys.executable, "-c", code], block.folder / ".hub-check").splitlines()[-1]
        )
        built = datasets.load_dataset(str(folder), "E")
        assert from_hub == {s: [list(row) for row in sorted(zip(built[s]["utterance_id"], built[s]["label"]))]
                            for s in built}, "load_dataset('ORG/codecfake', 'E') differs from the build"  # fmt: skip

    block.stack.callback(check)


# --- the CodecFake release ---------------------------------------------------------------------------

#: The commit of ``rogertseng/CodecFake`` that ``--revision <commit>`` names (main has a newer one).
RELEASE_COMMIT = "0123456789abcdef0123456789abcdef01234567"


@artefact("release_lookalike_4_shards")
def make_release(folder: Path) -> Path:
    """The release look-alike of tests/dataset_builder/test_import_release.py (every codec name, genuine
    rows, an unknown codec; 4 parquet shards, ``datalist.csv``), with speakers p231 and p232 too (the ones
    docs/published-corpora.md holds out by name)."""
    from dataset_builder.corpora.lookalike import RELEASE_SPEAKERS, make_release_lookalike

    return make_release_lookalike(folder, shards=4, speakers=(*RELEASE_SPEAKERS, "p231", "p232"))


@fixture
def release_snapshot(block: BlockFolder) -> None:
    """``~/data/CodecFake/``: a local snapshot of the release look-alike (``data/*.parquet``,
    ``datalist.csv``), as ``hf download rogertseng/CodecFake --repo-type dataset --local-dir`` leaves it."""
    copy(block.artefact("release_lookalike_4_shards"), block.folder / "data" / "CodecFake")


@fixture
def hub_release(block: BlockFolder) -> None:
    """The loopback Hub holds the release look-alike as the dataset ``rogertseng/CodecFake``: at the commit
    ``0123456789abcdef0123456789abcdef01234567``, and on ``main`` a newer commit that adds a README.md.
    Checked once the block ran: every shard was downloaded from there, and the import of the last command
    (``codecfake-release/``) records that commit."""
    hub = hub_of(block)
    hub.seed(
        "rogertseng/CodecFake", block.artefact("release_lookalike_4_shards"), "dataset", commit=RELEASE_COMMIT
    )
    card = b"---\nlicense: cc-by-4.0\n---\n# CodecFake (look-alike)\n"
    hub.seed("rogertseng/CodecFake", {"README.md": card}, "dataset", message="Add a card")

    def check() -> None:
        shards = sorted(
            path.name for path in (block.artefact("release_lookalike_4_shards") / "data").glob("*.parquet")
        )
        fetched = downloads(hub, "rogertseng/CodecFake", "dataset")
        assert {path.rsplit("/", 1)[1] for path in fetched} == set(shards), f"downloads: {fetched}"
        report = json.loads((block.folder / "codecfake-release" / "build_report.json").read_text())
        recorded = report["imported"]["revision"]
        assert recorded == RELEASE_COMMIT, (
            f"the last import records revision {recorded}, not {RELEASE_COMMIT}"
        )

    block.stack.callback(check)


# --- a detector and its Space -------------------------------------------------------------------------

DETECTOR_ID, SPACE_ID = "ORG/aasist-l-codecfake-E", "ORG/aasist-l-codecfake-E-demo"


@fixture
def hub_codecfake_dataset(block: BlockFolder) -> None:
    """The loopback Hub holds the dataset ``ORG/codecfake``: the tiny build (subset E) as ``codecfake push``
    uploads it (without its ``.build/`` cache)."""
    from dataset_builder.publishing import PUSH_IGNORE

    hub_of(block).seed(
        "ORG/codecfake", block.artefact("tiny_dataset"), "dataset", ignore_patterns=PUSH_IGNORE
    )


def codecfake_command(block: BlockFolder, arguments: list[str]) -> None:
    """Run ``codecfake ARGUMENTS`` (``python -m codecfake_cli``) in the block's folder as the block would:
    its HOME, Hub cache and environment, pointed at its loopback Hub."""
    hub_of(block).run_client([sys.executable, "-m", "codecfake_cli", *arguments], block.folder, block.env)


@fixture
def detector_space(block: BlockFolder) -> None:
    """What the block that tries the Space leaves (list after ``trained_detector`` and
    ``hub_codecfake_dataset``), made by its first two commands: ``runs/E/best`` pushed to the loopback Hub
    as ``ORG/aasist-l-codecfake-E`` (its card written into the folder), and ``space/``, the folder
    ``codecfake space`` writes for it. Checked once the block ran: the Space repo holds that folder, and
    the model card pushed last links the Space and names ORG/codecfake."""
    hub = hub_of(block)
    assert (block.folder / "runs" / "E" / "best").is_dir(), "detector_space needs trained_detector first"
    push = ["push-model", "runs/E/best", "--repo", DETECTOR_ID, "--dataset-id", "ORG/codecfake"]
    codecfake_command(block, push)
    codecfake_command(block, ["space", "--model", DETECTOR_ID, "--out", "space/"])

    def check() -> None:
        differ = hub.differences(SPACE_ID, block.folder / "space", "space")
        assert not differ, f"the Space repo does not hold space/: {differ}"
        card = hub.files(DETECTOR_ID)["README.md"].decode()
        assert SPACE_ID in card and "ORG/codecfake" in card, "the model card links no Space or dataset"

    block.stack.callback(check)


@fixture
def space_tried(block: BlockFolder) -> None:
    """A check once the block ran: the loopback Hub holds the pushed detector ``ORG/aasist-l-codecfake-E``
    (its weights, remote code and a card naming ORG/codecfake), and the Space's ``app.py`` loaded it from
    there (downloads of its config, weights and remote code)."""
    hub = hub_of(block)

    def check() -> None:
        pushed = hub.files(DETECTOR_ID)
        code = sorted(name for name in pushed if name.endswith(".py"))
        assert {"config.json", "model.safetensors", "README.md"} <= set(pushed) and code, sorted(pushed)
        assert "ORG/codecfake" in pushed["README.md"].decode(), "the model card names no dataset"
        fetched = {path.split("/", 1)[1] for path in downloads(hub, DETECTOR_ID)}
        missing = {"config.json", "model.safetensors", *code} - fetched
        assert not missing, f"the Space's app.py did not download {sorted(missing)} from the Hub"

    block.stack.callback(check)
