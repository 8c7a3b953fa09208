"""Codec taxonomy (CodecFake+): group detection results by how the codecs are built.

CodecFake+ showed that three design choices predict what a detector generalises to: the quantiser
("MVQ" multi-codebook VQ, "SVQ" single-codebook VQ, "SQ" scalar), the auxiliary training objective
("none", "semantic distillation", "disentanglement") and the decoder's output domain ("time",
"frequency"). Every registered codec carries these labels (:data:`TAXONOMY_FIELDS` of the
registry), so per-subset results can be pooled by any of them:

>>> group_by_taxonomy({"A": 0.02, "E": 0.10, "mimi": 0.31}, by="auxiliary")  # doctest: +SKIP

:func:`taxonomy_table` renders the labels of every registered codec as a markdown table (docs/evaluation.md,
dataset card).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from codecfake_hf.codecs.registry import CODECS, TAXONOMY_FIELDS, get_spec
from codecfake_hf.errors import CodecFakeError
from codecfake_hf.markdown import markdown_table


class TaxonomyError(CodecFakeError, ValueError):
    """Results cannot be pooled: an unknown taxonomy field, or a table without the needed columns."""


#: Columns of :func:`taxonomy_frame`, in order.
SPEC_COLUMNS = (
    "family",
    "model_name",
    "sampling_rate",
    "n_quantizers",
    "kbps",
    "frame_rate_hz",
    "quantizer",
    "auxiliary",
    "decoder_domain",
    "license",
)


def taxonomy_frame(codec_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per codec (index ``codec``: the registry id) with :data:`SPEC_COLUMNS`.

    Args:
        codec_ids: ids to include (any case), default every registered codec in registry order.

    Raises:
        UnknownCodecError: an id is not registered.
    """
    specs = [get_spec(codec_id) for codec_id in (CODECS if codec_ids is None else codec_ids)]
    rows = {spec.id: {column: getattr(spec, column) for column in SPEC_COLUMNS} for spec in specs}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("codec")


def _long_results(results: Mapping[str, float] | pd.DataFrame, value: str) -> pd.DataFrame:
    if (
        isinstance(results, pd.DataFrame)
        and "codec" not in results.columns
        and set(results.columns) <= set(CODECS)
    ):
        key = results.index.name or "row"  # a cross-test matrix: one column per test subset
        return results.rename_axis(key).reset_index().melt(id_vars=key, var_name="codec", value_name=value)
    if isinstance(results, pd.DataFrame):
        missing = {"codec", value} - set(results.columns)
        if missing:
            raise TaxonomyError(f"results need the columns 'codec' and {value!r}; missing {sorted(missing)}")
        frame = results.copy()
    else:
        frame = pd.DataFrame({"codec": list(results), value: list(results.values())})
    frame["codec"] = [get_spec(str(codec_id)).id for codec_id in frame["codec"]]
    return frame


def group_by_taxonomy(
    results: Mapping[str, float] | pd.DataFrame,
    by: str | Sequence[str] = "quantizer",
    value: str = "eer",
) -> pd.DataFrame:
    """Pool per-subset results by taxonomy field(s).

    Args:
        results: ``{subset_id: eer}`` (EER as a fraction, as ``compute_eer`` returns), or a long
            DataFrame with a ``codec`` column (subset ids) and a ``value`` column; its other columns
            (e.g. ``train``, ``model``) are kept as extra grouping keys, so one call pools every
            detector separately; or a cross-test matrix (columns = subset ids, rows = detectors,
            as ``codecfake_hf.evaluation.tables`` builds them), pooled per row.
        by: one or several of :data:`~codecfake_hf.codecs.registry.TAXONOMY_FIELDS` ("family",
            "quantizer", "auxiliary", "decoder_domain").
        value: the column to pool (default "eer").

    Returns:
        One row per group: the grouping keys, then ``mean_<value>``, ``min_<value>``,
        ``max_<value>``, ``count`` (results pooled) and ``codecs`` (the ids, comma-separated).

    Raises:
        TaxonomyError: ``by`` names no taxonomy field, or the DataFrame lacks ``codec``/``value``.
        UnknownCodecError: a subset id is not registered.
    """
    fields = [by] if isinstance(by, str) else list(by)
    unknown = [field for field in fields if field not in TAXONOMY_FIELDS]
    if unknown or not fields:
        raise TaxonomyError(
            f"cannot group by {unknown or by}; taxonomy fields are {', '.join(TAXONOMY_FIELDS)}"
        )
    frame = _long_results(results, value)
    frame = frame.join(taxonomy_frame(frame["codec"].unique())[fields], on="codec")
    extra_keys = [column for column in frame.columns if column not in {"codec", value, *fields}]
    grouped = frame.groupby(extra_keys + fields, sort=True)
    summary = grouped[value].agg(["mean", "min", "max", "count"])
    summary.columns = [f"mean_{value}", f"min_{value}", f"max_{value}", "count"]
    summary["codecs"] = grouped["codec"].agg(lambda ids: ", ".join(dict.fromkeys(ids)))
    return summary.reset_index()


def taxonomy_table(codec_ids: Iterable[str] | None = None) -> str:
    """Markdown table of the taxonomy labels (and rate, codebooks, bitrate, frame rate, licence) of
    every registered codec, or of ``codec_ids``."""
    frame = taxonomy_frame(codec_ids).rename(
        columns={
            "model_name": "model",
            "sampling_rate": "rate (Hz)",
            "n_quantizers": "codebooks",
            "frame_rate_hz": "frames/s",
            "decoder_domain": "decoder",
            "license": "licence",  # the card's header, unchanged
        }
    )
    return markdown_table(frame, float_format="{:g}")
