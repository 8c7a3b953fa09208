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

from codecfake_hf.codecs.conversion import check_upstream_layout

_CODEBOOK_KEY = re.compile(r"quantizer\.vq\.layers\.(\d+)\._codebook\.(\w+)")
#: The codebooks' training state in an upstream checkpoint, in its key order around ``embed``.
TRAINING_STATE = ("inited", "cluster_size", "embed_avg")


def state_dict_to_upstream(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The upstream checkpoint layout of a :class:`SpeechTokenizerCodec` state dict, in upstream key
    order; the codebooks' training state holds its initial values (``inited`` 1, ``cluster_size`` 0,
    ``embed_avg`` = ``embed``), as a freshly built upstream model does."""
    upstream: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        if key != "quantizer.codebooks":
            upstream[key] = value
            continue
        for layer, embed in enumerate(value):
            prefix = f"quantizer.vq.layers.{layer}._codebook."
            upstream[prefix + "inited"] = embed.new_ones(1)
            upstream[prefix + "cluster_size"] = embed.new_zeros(embed.shape[0])
            upstream[prefix + "embed"] = embed
            upstream[prefix + "embed_avg"] = embed.clone()
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
    not_initialised = [k for k, v in state_dict.items() if k.endswith("._codebook.inited") and not v.all()]
    if not_initialised:
        raise ValueError(
            f"the codebooks {', '.join(not_initialised)} were never initialised (inited = 0): "
            "this is an untrained checkpoint"
        )
    ours = {key: value for key, value in state_dict.items() if not _CODEBOOK_KEY.fullmatch(key)}
    layers = len(expected["quantizer.codebooks"])
    ours["quantizer.codebooks"] = torch.stack(
        [state_dict[f"quantizer.vq.layers.{layer}._codebook.embed"] for layer in range(layers)]
    )
    return ours
