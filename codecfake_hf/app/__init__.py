"""Try a detector in a browser: ``codecfake app`` (a local Gradio page) and ``codecfake space`` (a Hugging
Face Space that needs only what the model repository publishes).

- :mod:`codecfake_hf.app.page`: the page itself, over any backend; copied into every Space folder;
- :mod:`codecfake_hf.app.pipeline_backend`: the backend over a saved folder's own pipeline (the Space's);
- :mod:`codecfake_hf.app.local`: the backend over this package's ``Detector`` and ``codecfake app``;
- :mod:`codecfake_hf.app.space`: writing and pushing the Space folder.

Gradio is an optional extra (``pip install -e ".[app]"``): nothing here imports it until a page is built,
and :func:`require_gradio` says how to install it.
"""

from __future__ import annotations

from codecfake_hf.errors import CodecFakeError

#: What installs the app's dependencies.
INSTALL_APP = 'pip install -e ".[app]"'


class AppUnavailableError(CodecFakeError, ImportError):
    """Gradio, an optional extra, is not installed."""


def require_gradio() -> None:
    """Raise :class:`AppUnavailableError` naming the install command when gradio is not importable."""
    try:
        import gradio  # noqa: F401
    except ImportError:
        raise AppUnavailableError(
            f"the app needs gradio, an optional extra: run `{INSTALL_APP}` in the repository "
            '(or `pip install "codecfake-hf[app]"`)'
        ) from None


class AppPortError(CodecFakeError, OSError):
    """The page cannot be served on the port asked for."""
