"""Jinja templates of the cards: ``dataset_card.md`` (the built dataset's README.md) and
``detector_card.md`` (a detector's model card).

This top-level folder is installed as the package ``codecfake_hf.model_cards`` (``package-dir`` in
``pyproject.toml``), so :mod:`codecfake_hf.data.dataset_card` and :mod:`codecfake_hf.publishing.detector_card` read the templates
with ``importlib.resources`` wherever the package is installed.
"""
