"""The parquet shards of a CodecFake folder, as ``codecfake build`` and ``codecfake import`` write them:
their columns (:data:`FEATURES`), file names, the fingerprint in each file's footer that tells a resumed
run the shard is done, and the atomic writer.

A shard is ``data/<config>/<split>-NNNNN-of-MMMMM.parquet`` (:func:`shard_filename`), written in row
groups of :data:`ROW_GROUP_SIZE` rows into ``<name>.tmp`` and renamed when complete
(:class:`ShardWriter`); its schema metadata holds the ``datasets`` features (so ``load_dataset``
restores ``Audio`` and ``ClassLabel``) and its fingerprint (:func:`shard_is_done`), nothing that depends
on how or by how many processes it was computed.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq

from codecfake_hf.codecs.registry import TAXONOMY_FIELDS, get_spec
from codecfake_hf.data.labels import BONAFIDE_CONFIG, LABEL_NAMES
from codecfake_hf.files.atomic_files import atomic_path

FEATURES = datasets.Features(
    {
        "audio": datasets.Audio(),
        "label": datasets.ClassLabel(names=list(LABEL_NAMES)),
        "speaker_id": datasets.Value("string"),
        "utterance_id": datasets.Value("string"),
        "codec": datasets.Value("string"),
        # the codec's taxonomy (codecfake_hf.evaluation.taxonomy); "bonafide" in each of them on bona fide rows
        **{name: datasets.Value("string") for name in TAXONOMY_FIELDS},
        "text": datasets.Value("string"),
    }
)
#: Rows per parquet row group: small groups keep streaming and the dataset viewer light.
ROW_GROUP_SIZE = 100
FINGERPRINT_KEY = b"codecfake_fingerprint"


def shard_filename(split: str, index: int, count: int) -> str:
    """``<split>-NNNNN-of-MMMMM.parquet``: shard ``index`` (from 0) of ``count``."""
    return f"{split}-{index:05d}-of-{count:05d}.parquet"


def taxonomy_values(subset: str) -> dict[str, str]:
    """The taxonomy columns of ``subset``'s rows (:data:`TAXONOMY_FIELDS` of its spec: family,
    quantizer, auxiliary, decoder_domain); ``"bonafide"`` in every one for the bona fide rows, so a
    filter or group-by on any of them keeps bona fide audio apart from every codec."""
    if subset == BONAFIDE_CONFIG:
        return dict.fromkeys(TAXONOMY_FIELDS, BONAFIDE_CONFIG)
    spec = get_spec(subset)
    return {name: getattr(spec, name) for name in TAXONOMY_FIELDS}


def shard_schema(features: datasets.Features, fingerprint: str) -> pa.Schema:
    """The arrow schema of a shard of ``features``, its metadata holding them and ``fingerprint``."""
    metadata = json.dumps({"info": {"features": features.to_dict()}})
    return features.arrow_schema.with_metadata(
        {b"huggingface": metadata.encode(), FINGERPRINT_KEY: fingerprint.encode()}
    )


def shard_rows(path: Path, fingerprint: str) -> int | None:
    """The rows of ``path`` if it is a complete parquet shard written for ``fingerprint`` (its footer is
    read), else None (missing, truncated or stale)."""
    try:
        footer = pq.read_metadata(path)
    except (OSError, ValueError):
        return None
    return footer.num_rows if (footer.metadata or {}).get(FINGERPRINT_KEY) == fingerprint.encode() else None


def shard_is_done(path: Path, fingerprint: str) -> bool:
    """Whether ``path`` is a complete parquet shard written for ``fingerprint`` (a missing, truncated or
    stale file is not done)."""
    return shard_rows(path, fingerprint) is not None


class ShardWriter:
    """Rows appended in any batches, written in row groups of exactly :data:`ROW_GROUP_SIZE` rows (the
    last one shorter), so a shard's bytes do not depend on how its rows arrived.

    Use :func:`open_shard`; the file appears under its name only once the block succeeds.
    """

    def __init__(self, writer: pq.ParquetWriter, schema: pa.Schema) -> None:
        self._writer, self._schema = writer, schema
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        """Append ``table`` (the shard's columns, in order)."""
        self._pending.append(table.cast(self._schema))
        self._pending_rows += table.num_rows
        self.rows += table.num_rows
        if self._pending_rows >= ROW_GROUP_SIZE:
            self._flush(final=False)

    def _flush(self, final: bool) -> None:
        pending = pa.concat_tables(self._pending) if self._pending else self._schema.empty_table()
        whole = pending.num_rows if final else pending.num_rows - pending.num_rows % ROW_GROUP_SIZE
        for start in range(0, whole, ROW_GROUP_SIZE):
            group = pending.slice(start, min(ROW_GROUP_SIZE, whole - start)).combine_chunks()
            for batch in group.to_batches():  # one batch: one row group
                self._writer.write_batch(batch, row_group_size=ROW_GROUP_SIZE)
        rest = pending.slice(whole)
        self._pending, self._pending_rows = ([rest] if rest.num_rows else []), rest.num_rows

    def close(self) -> None:
        self._flush(final=True)


@contextlib.contextmanager
def open_shard(
    path: str | os.PathLike, features: datasets.Features, fingerprint: str
) -> Iterator[ShardWriter]:
    """A :class:`ShardWriter` for ``path`` (its folder created): written to ``<path>.tmp``, renamed to
    ``path`` when the block succeeds, deleted when it fails."""
    path = Path(path)
    schema = shard_schema(features, fingerprint)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary, pq.ParquetWriter(temporary, schema) as writer:
        shard = ShardWriter(writer, schema)
        yield shard
        shard.close()
