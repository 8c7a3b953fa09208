"""What the conversion modules of the natively implemented codecs share.

Each ``convert_<family>`` module maps an upstream checkpoint's keys onto its model's
(``state_dict_from_upstream``) and back (``state_dict_to_upstream``, the layout an upstream checkpoint
of that model has). Before anything is loaded, the upstream checkpoint is checked against that layout
here, so an error names the checkpoint's own keys.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch


def tuples(value):
    """``value`` with every list (at any depth) made a tuple: upstream JSON/YAML lists as the values
    of frozen config fields."""
    return tuple(tuples(v) for v in value) if isinstance(value, list | tuple) else value


def euclidean_codebook_state(embed: torch.Tensor) -> dict[str, torch.Tensor]:
    """The state of upstream's ``EuclideanCodebook`` (the EnCodec lineage: SpeechTokenizer, FunCodec)
    holding the codewords ``embed [..., codebook_size, dim]``, in its key order: the k-means / EMA
    training state at the values of an initialised codebook (``inited`` 1, ``cluster_size`` 0,
    ``embed_avg`` = ``embed``), which inference never reads."""
    return {
        "inited": embed.new_ones(*embed.shape[:-2], 1),
        "cluster_size": embed.new_zeros(embed.shape[:-1]),
        "embed": embed,
        "embed_avg": embed.clone(),
    }


def check_codebooks_initialised(state_dict: Mapping[str, torch.Tensor], error: type[Exception]) -> None:
    """Raise ``error`` if an ``...inited`` flag of an ``EuclideanCodebook`` is 0: upstream would run
    k-means on the first batch, so the checkpoint was never trained."""
    uninitialised = [key for key, value in state_dict.items() if key.endswith("inited") and not value.all()]
    if uninitialised:
        raise error(
            f"the codebooks {', '.join(uninitialised)} were never initialised (inited = 0): "
            "this is an untrained checkpoint"
        )


def check_upstream_layout(
    expected: Mapping[str, torch.Tensor],
    given: Mapping[str, torch.Tensor],
    error: type[Exception],
    what: str,
) -> None:
    """Raise ``error`` unless ``given`` has exactly the keys and shapes of ``expected``.

    The message starts with ``what`` (the problem: "X checkpoint does not match its config") and names, per kind, how many keys are missing
    or unexpected and the first of them, and the first key of another shape.
    """
    problems = []
    missing = [key for key in expected if key not in given]
    unexpected = [key for key in given if key not in expected]
    if missing:
        problems.append(
            f"{len(missing)} missing key(s), first {missing[0]!r} {tuple(expected[missing[0]].shape)}"
        )
    if unexpected:
        problems.append(
            f"{len(unexpected)} unexpected key(s), first {unexpected[0]!r} {tuple(given[unexpected[0]].shape)}"
        )
    misshaped = [
        key for key in expected if key in given and tuple(given[key].shape) != tuple(expected[key].shape)
    ]
    if misshaped:
        key = misshaped[0]
        problems.append(
            f"{key!r} has shape {tuple(given[key].shape)}, the config gives {tuple(expected[key].shape)}"
        )
    if problems:
        raise error(f"{what}: {'; '.join(problems)}")
