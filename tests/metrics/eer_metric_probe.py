"""Use the EER metric folder the way someone without codecfake-hf does: ``evaluate.load(<folder>)`` with
``codecfake_hf`` made unimportable, offline. Run by tests/metrics/test_eer.py as
``python eer_metric_probe.py FOLDER GOLDEN.npz OUT.json`` in a subprocess whose working directory holds
FOLDER (the card's examples load it by name) and whose path has no checkout of this project.

OUT: the metric's ``{"eer", "threshold"}`` on each golden score set, the files of the folder ``evaluate``
copied into its module cache, and the card's doctest counts (its examples run as written).
"""

import doctest
import json
import sys
from pathlib import Path

sys.modules["codecfake_hf"] = (
    None  # `import codecfake_hf` now raises ImportError, as where it is not installed
)

import evaluate  # noqa: E402
import numpy as np  # noqa: E402

folder, golden_path, out = sys.argv[1:4]
metric = evaluate.load(folder, keep_in_memory=True)
golden = np.load(golden_path)
results = [
    metric.compute(predictions=golden[f"scores_{k}"].tolist(), references=golden[f"labels_{k}"].tolist())
    for k in range(5)
]
loaded_from = Path(sys.modules[type(metric).__module__].__file__).parent
card_path = Path(folder) / "README.md"  # its examples, without the Markdown fences that close them
examples = "\n".join(
    line for line in card_path.read_text(encoding="utf-8").splitlines() if not line.startswith("```")
)
runner = doctest.DocTestRunner()
runner.run(doctest.DocTestParser().get_doctest(examples, {}, "README.md", str(card_path), 0))
card = runner.summarize(verbose=False)
Path(out).write_text(
    json.dumps(
        {
            "codecfake_hf_blocked": "codecfake_hf" in sys.modules and sys.modules["codecfake_hf"] is None,
            "results": results,
            "module_files": sorted(path.name for path in loaded_from.glob("*.py")),
            "card_attempted": card.attempted,
            "card_failed": card.failed,
        }
    )
)
