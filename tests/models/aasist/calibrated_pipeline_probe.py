"""Run a calibrated detector folder's pipeline as downstream code does, with ``codecfake_hf`` unimportable.
Run by tests/models/aasist/test_calibrated_pipeline.py as ``python calibrated_pipeline_probe.py SPEC.json
OUT.json`` in a subprocess whose path holds no checkout.

SPEC: ``{"folder": path, "files": [audio paths], "prior_spoof": p}``. OUT: per file, the pipeline's output
(a list of ``{"label", "score", "llr"}``) with the default prior and with ``prior_spoof=p``.
"""

import json
import sys

sys.modules["codecfake_hf"] = (
    None  # `import codecfake_hf` now raises ImportError, as where it is not installed
)

from transformers import pipeline  # noqa: E402

spec = json.loads(open(sys.argv[1]).read())
classifier = pipeline("audio-classification", model=spec["folder"], trust_remote_code=True)
out = {
    path: {"default": classifier(path), "prior": classifier(path, prior_spoof=spec["prior_spoof"])}
    for path in spec["files"]
}
with open(sys.argv[2], "w") as handle:
    json.dump(out, handle)
