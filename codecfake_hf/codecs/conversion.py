"""What the conversion modules of the natively implemented codecs share.

Each ``convert_<family>`` module maps an upstream checkpoint onto its model
(:func:`map_state_dict`): for every key of the model's state dict it takes the upstream key (or keys)
holding that weight from an :class:`UpstreamStateDict`, which records what is missing, left over or
of another shape, so that an error names the checkpoint's own keys before anything is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch


def tuples(value):
    """``value`` with every list (at any depth) made a tuple: upstream JSON/YAML lists as the values
    of frozen config fields."""
    return tuple(tuples(v) for v in value) if isinstance(value, list | tuple) else value


class UpstreamStateDict:
    """An upstream state dict read key by key, in upstream names.

    :meth:`take` returns the tensor of one upstream key, checking it against the shape the model
    needs; :meth:`check` then raises if a key was missing or of another shape, or was never taken.
    """

    def __init__(self, state_dict: Mapping[str, torch.Tensor]) -> None:
        self.state_dict = state_dict
        self.expected: dict[str, tuple[int, ...]] = {}

    def take(self, key: str, shape: Sequence[int]) -> torch.Tensor | None:
        """The tensor of upstream ``key``, which the model needs of ``shape`` (None when missing)."""
        self.expected[key] = tuple(shape)
        return self.state_dict.get(key)

    def check(self, error: type[Exception], what: str) -> None:
        """Raise ``error`` unless every key was taken and present with its shape.

        The message starts with ``what`` (the problem: "X checkpoint does not match its config") and
        names, per kind, how many keys are missing or unexpected and the first of them (in the order
        taken / the checkpoint's order), and the first key of another shape.
        """
        given, expected = self.state_dict, self.expected
        problems = []
        missing = [key for key in expected if key not in given]
        unexpected = [key for key in given if key not in expected]
        if missing:
            problems.append(f"{len(missing)} missing key(s), first {missing[0]!r} {expected[missing[0]]}")
        if unexpected:
            first = unexpected[0]
            problems.append(
                f"{len(unexpected)} unexpected key(s), first {first!r} {tuple(given[first].shape)}"
            )
        misshaped = [key for key in expected if key in given and tuple(given[key].shape) != expected[key]]
        if misshaped:
            key = misshaped[0]
            problems.append(f"{key!r} has shape {tuple(given[key].shape)}, the config gives {expected[key]}")
        if problems:
            raise error(f"{what}: {'; '.join(problems)}")


def map_state_dict(
    state_dict: Mapping[str, torch.Tensor],
    expected: Mapping[str, torch.Tensor],
    codebooks: str,
    take_codebooks: Callable[[UpstreamStateDict, torch.Tensor], list[torch.Tensor | None]],
    error: type[Exception],
    what: str,
    upstream_key: Callable[[str], str] | None = None,
) -> dict[str, torch.Tensor]:
    """The model's state dict from the upstream ``state_dict``.

    Every key of ``expected`` (the model's own state dict) is taken under ``upstream_key(key)`` (default:
    the same name), except the stacked codebooks ``codebooks``: ``take_codebooks(upstream,
    expected[codebooks])`` takes them and returns their rows, which are stacked.

    Raises:
        error: a key is missing, left over or of another shape (:meth:`UpstreamStateDict.check`,
            the message starting with ``what``).
    """
    upstream = UpstreamStateDict(state_dict)
    ours: dict[str, torch.Tensor] = {}
    rows: list[torch.Tensor | None] = []
    for key, tensor in expected.items():
        if key == codebooks:
            rows = take_codebooks(upstream, tensor)
        else:
            ours[key] = upstream.take(upstream_key(key) if upstream_key else key, tensor.shape)
    upstream.check(error, what)
    ours[codebooks] = torch.stack(rows)
    return ours


def take_euclidean_codebook(
    upstream: UpstreamStateDict, prefix: str, shape: Sequence[int]
) -> torch.Tensor | None:
    """The codewords ``[..., codebook_size, dim]`` (``shape``) of upstream's ``EuclideanCodebook`` (the
    EnCodec lineage: SpeechTokenizer, FunCodec) under ``prefix``, taking its whole state in upstream's
    key order: ``inited [..., 1]``, ``cluster_size [..., codebook_size]``, ``embed`` and ``embed_avg``
    (the k-means / EMA training state, which inference never reads, checked by
    :func:`check_codebooks_initialised`)."""
    shape = tuple(shape)
    upstream.take(prefix + "inited", (*shape[:-2], 1))
    upstream.take(prefix + "cluster_size", shape[:-1])
    embed = upstream.take(prefix + "embed", shape)
    upstream.take(prefix + "embed_avg", shape)
    return embed


def check_codebooks_initialised(state_dict: Mapping[str, torch.Tensor], error: type[Exception]) -> None:
    """Raise ``error`` if an ``...inited`` flag of an ``EuclideanCodebook`` is 0: upstream would run
    k-means on the first batch, so the checkpoint was never trained."""
    uninitialised = [key for key, value in state_dict.items() if key.endswith("inited") and not value.all()]
    if uninitialised:
        raise error(
            f"the codebooks {', '.join(uninitialised)} were never initialised (inited = 0): "
            "this is an untrained checkpoint"
        )
