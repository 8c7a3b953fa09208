"""What a codec is: :class:`CodecSpec` (one registered CodecFake subset), where its weights come from
(:func:`fetch_checkpoint`) and the errors of the codec registry.

Codec family modules import this module (and :mod:`codecfake_hf.codecs.base`), never the registry:
the registry (:mod:`codecfake_hf.codecs.registry`) imports the families, lazily, through its table.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from codecfake_hf.errors import CodecFakeError
from codecfake_hf.files.hub_io import CheckpointUnavailableError, fetch_files

logger = logging.getLogger(__name__)


class CodecNotImplementedError(CodecFakeError, NotImplementedError):
    """The subset id is registered but its codec family is not implemented yet."""


class UnknownCodecError(CodecFakeError, KeyError):
    """The id names no registered codec."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0])


@dataclass(frozen=True)
class CodecSpec:
    """Everything needed to rebuild one CodecFake subset.

    Attributes:
        id: subset id ("A", "B1", ..., "F6").
        family: human-readable codec family.
        family_module: the codec family's name in the registry's table
            (:data:`~codecfake_hf.codecs.registry.FAMILY_MODULES`), which names the module that builds it.
        model_name: upstream model name (paper Table 1).
        repo_id: Hub repository holding the weights.
        files: files of ``repo_id`` that loading needs (to pre-download for offline use).
        fallback_repo_ids: repositories that hold the same files under an older name, tried in
            order when ``repo_id`` cannot provide them (:func:`fetch_checkpoint`).
        sampling_rate: codec sample rate in Hz (output is written at this rate).
        n_quantizers: codebooks used at decode in the official data.
        license: licence of the weights (as stated by their source).
        processing: the official pre/post-processing, in words.
        quantizer: taxonomy (CodecFake+): "MVQ" multi-codebook VQ, "SVQ" single-codebook VQ,
            "SQ" scalar quantisation.
        auxiliary: taxonomy: auxiliary objective, "none", "semantic distillation" or
            "disentanglement".
        decoder_domain: taxonomy: "time" or "frequency" (the decoder's output domain).
        kbps: bitrate of the codes used at decode, kbit/s.
        frame_rate_hz: code frames per second.
        input_peak: peak normalisation applied before encoding (HiFi-Codec: 0.95), else None.
        options: family-specific loading options (variant names, bandwidth, ...).
        revision: the Hub commit of ``repo_id`` (40 hex digits) whose files this package was written
            and checked for; every download asks for it, so a later upload to the repo (an edited
            ``config.json``) changes nothing here. ``load_codec(..., revision=...)`` (``--codec-revision``
            of ``codecfake build``, ``--revision`` of ``codecfake resynthesize``) picks another branch,
            tag or commit. None: not pinned (the repo's ``main``), ``revision_source`` says why.
        revision_source: where ``revision`` comes from, or why there is none.
    """

    id: str
    family: str
    family_module: str
    model_name: str
    repo_id: str
    files: tuple[str, ...]
    sampling_rate: int
    n_quantizers: int
    license: str
    processing: str
    quantizer: str = "MVQ"
    auxiliary: str = "none"
    decoder_domain: str = "time"
    kbps: float | None = None
    frame_rate_hz: float | None = None
    input_peak: float | None = None
    options: dict = field(default_factory=dict)
    fallback_repo_ids: tuple[str, ...] = ()
    revision: str | None = None
    revision_source: str = ""


def fetch_checkpoint(
    spec: CodecSpec, files: tuple[str, ...] | None = None, local_dir: str | os.PathLike | None = None
) -> dict[str, Path]:
    """``{file: local path}`` for ``files`` (default ``spec.files``) of the codec's weights.

    With ``local_dir`` the files come from that folder. Otherwise they come from the Hub (or its
    cache) at ``spec.revision`` through :func:`codecfake_hf.files.hub_io.fetch_files`: from ``spec.repo_id``
    or, when that repository cannot provide them (missing, renamed, not cached offline), from the
    first of ``spec.fallback_repo_ids`` that can.

    Raises:
        CheckpointUnavailableError: no repository could provide the files; the message gives the
            reason for each repository tried.
    """
    files = tuple(files or spec.files)
    if local_dir is not None:
        return fetch_files(spec.repo_id, files, local_dir=local_dir)
    repo_ids = (spec.repo_id, *spec.fallback_repo_ids)
    failures: list[CheckpointUnavailableError] = []
    for repo_id in repo_ids:
        try:
            paths = fetch_files(repo_id, files, revision=spec.revision)
        except CheckpointUnavailableError as error:
            failures.append(error)
            continue
        if failures:
            logger.warning("codec %s: %s cannot provide its files, using %s", spec.id, spec.repo_id, repo_id)
        return paths
    if len(failures) == 1:
        raise failures[0]
    reasons = "\n".join(f"[{repo_id}] {error}" for repo_id, error in zip(repo_ids, failures))
    raise CheckpointUnavailableError(
        f"codec {spec.id}: none of {', '.join(repo_ids)} could provide {', '.join(files)}\n{reasons}"
    )
