"""SpeechTokenizer checkpoints: the upstream state-dict layout <-> :class:`SpeechTokenizerCodec`'s.

The official ``SpeechTokenizer.pt`` is a flat state dict with upstream key names. Every key maps to
the same name here except the codebooks: upstream keeps one ``EuclideanCodebook`` per residual layer,
``quantizer.vq.layers.K._codebook.{inited,cluster_size,embed,embed_avg}``; here the ``embed`` tables
are stacked in ``quantizer.codebooks [n_q, codebook_size, dim]``
(:class:`~codecfake_hf.codecs.layers.quantization.ResidualVectorQuantizer`). ``inited``,
``cluster_size`` and ``embed_avg`` are k-means / EMA training state: checked (an uninitialised
codebook means an untrained checkpoint), not kept.
"""

from __future__ import annotations

import re

import torch

from codecfake_hf.codecs.conversion import (
    check_codebooks_initialised,
    check_upstream_layout,
    euclidean_codebook_state,
)

_CODEBOOK_KEY = re.compile(r"quantizer\.vq\.layers\.(\d+)\._codebook\.(\w+)")


def state_dict_to_upstream(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The upstream checkpoint layout of a :class:`SpeechTokenizerCodec` state dict, in upstream key
    order (the codebooks' training state: :func:`~codecfake_hf.codecs.conversion.euclidean_codebook_state`)."""
    upstream: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        if key != "quantizer.codebooks":
            upstream[key] = value
            continue
        for layer, embed in enumerate(value):
            state = euclidean_codebook_state(embed)
            upstream.update({f"quantizer.vq.layers.{layer}._codebook.{name}": v for name, v in state.items()})
    return upstream


def state_dict_from_upstream(
    state_dict: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Map an upstream state dict onto the model whose own state dict is ``expected``.

    Raises:
        ValueError: a key of the upstream layout is missing, unexpected or of another shape (named
            in upstream terms), or a codebook was never initialised (``inited`` = 0): an untrained
            checkpoint.
    """
    check_upstream_layout(
        state_dict_to_upstream(expected),
        state_dict,
        ValueError,
        "SpeechTokenizer checkpoint does not match its config.json",
    )
    check_codebooks_initialised(state_dict, ValueError)
    ours = {key: value for key, value in state_dict.items() if not _CODEBOOK_KEY.fullmatch(key)}
    layers = len(expected["quantizer.codebooks"])
    ours["quantizer.codebooks"] = torch.stack(
        [state_dict[f"quantizer.vq.layers.{layer}._codebook.embed"] for layer in range(layers)]
    )
    return ours
