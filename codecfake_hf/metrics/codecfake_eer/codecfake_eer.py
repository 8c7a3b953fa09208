"""`evaluate` metric: equal error rate with the exact ASVspoof definition.

Load it offline with ``evaluate.load(codecfake_hf.metrics.EER_METRIC_PATH)``, or with
``evaluate.load("path/to/codecfake_eer")`` of a copy of this folder where codecfake-hf is not installed:
it needs numpy, datasets and evaluate, and ``asvspoof_eer.py`` beside it (``evaluate`` copies that file
with the script). Inputs: ``predictions`` are detection scores (higher = more bona fide, e.g. AASIST
``logits[:, 1]``), ``references`` are labels (1 = bona fide, 0 = spoof). Output: ``{"eer": fraction,
"threshold": score}``. The metric card is ``README.md`` in this folder.
"""

import datasets
import evaluate

from .asvspoof_eer import compute_eer

_CITATION = """\
@inproceedings{wu2024codecfake,
  title={CodecFake: Enhancing Anti-Spoofing Models Against Deepfake Audios from Codec-Based Speech Synthesis Systems},
  author={Wu, Haibin and Tseng, Yuan and Lee, Hung-yi},
  booktitle={Interspeech},
  year={2024}
}
"""

_DESCRIPTION = """\
Equal error rate (EER) of a spoofing countermeasure, computed exactly as ASVspoof's compute_eer:
stable ascending sort with bona fide trials before spoof trials on ties, one operating point per
sorted position, the first point minimising |FRR - FAR|, EER = (FRR + FAR) / 2 as a fraction.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (list of float): detection scores, higher = more bona fide.
    references (list of int): 1 = bona fide, 0 = spoof.
Returns:
    eer (float): equal error rate in [0, 1].
    threshold (float): the score threshold at the EER operating point.
Examples:
    >>> metric = evaluate.load(EER_METRIC_PATH)
    >>> metric.compute(predictions=[0.9, 0.8, 0.1, 0.2], references=[1, 1, 0, 0])["eer"]
    0.0
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class CodecfakeEer(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("float64"), "references": datasets.Value("int64")}
            ),
            reference_urls=["https://www.asvspoof.org/"],
        )

    def _compute(self, predictions, references):
        eer, threshold = compute_eer(predictions, references)
        return {"eer": eer, "threshold": threshold}
