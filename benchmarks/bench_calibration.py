"""actDCF and Cllr before and after score calibration (:mod:`codecfake_hf.detection.calibration`).

Detector scores are simulated as the raw logits of a detector that ranks well but is miscalibrated:
bona fide and spoof trials draw a true natural-log LLR from two equal-variance Gaussians (the LLR of such
a pair is affine, so a linear calibration can be exact), and the raw score is ``k * llr + c``: ``k > 1``
is overconfident, ``k < 1`` underconfident, ``c`` a shift toward one class. Each case fits the
calibration on a validation draw and reports a separate test draw (1,000 bona fide, 9,000 spoof, as an
evaluation set with several codecs), at ASVspoof 5's costs (p_spoof 0.05, c_miss 1, c_fa 10). minDCF
and minCllr depend only on the order of the scores, so calibration cannot change them; they bound what
it can reach. From the repository root: ``PYTHONPATH=. python benchmarks/bench_calibration.py``.
Prints a markdown table (copy it to benchmarks/RESULTS.md).
"""

from __future__ import annotations

import numpy as np

from codecfake_hf.detection.calibration import fit_calibration
from codecfake_hf.markdown import markdown_table
from codecfake_hf.metrics import compute_asvspoof5_metrics

#: Separation of the classes: the bona fide LLR is N(+d^2/2, d^2), the spoof LLR N(-d^2/2, d^2).
SEPARATION = 2.5
CASES = {
    "calibrated (k 1, c 0)": (1.0, 0.0),
    "overconfident (k 4, c 0)": (4.0, 0.0),
    "overconfident, shifted to bona fide (k 4, c +6)": (4.0, 6.0),
    "underconfident, shifted to spoof (k 0.3, c -2)": (0.3, -2.0),
    "shifted to spoof (k 1, c -5)": (1.0, -5.0),
}


def trials(rng: np.random.Generator, n_bonafide: int, n_spoof: int) -> tuple[np.ndarray, np.ndarray]:
    """True LLRs ``[N]`` and labels ``[N]`` (1 = bona fide) of a Gaussian pair with :data:`SEPARATION`."""
    mean = SEPARATION**2 / 2
    llrs = np.concatenate([rng.normal(mean, SEPARATION, n_bonafide), rng.normal(-mean, SEPARATION, n_spoof)])
    return llrs, np.r_[np.ones(n_bonafide, int), np.zeros(n_spoof, int)]


def main() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for name, (k, c) in CASES.items():
        validation_llrs, validation_labels = trials(rng, 1_000, 9_000)
        test_llrs, test_labels = trials(rng, 1_000, 9_000)
        calibration = fit_calibration(k * validation_llrs + c, validation_labels, "bonafide", "validation")
        raw = compute_asvspoof5_metrics(k * test_llrs + c, test_labels)
        calibrated = compute_asvspoof5_metrics(calibration.llr(k * test_llrs + c), test_labels)
        rows.append([name, raw["act_dcf"], calibrated["act_dcf"], raw["min_dcf"], raw["cllr"],
                     calibrated["cllr"], raw["min_cllr"], 100 * raw["eer"]])  # fmt: skip
    headers = ["raw score = k * LLR + c", "actDCF raw", "actDCF calibrated", "minDCF", "Cllr raw (bits)",
               "Cllr calibrated (bits)", "minCllr (bits)", "EER (%)"]  # fmt: skip
    print(markdown_table(rows, headers, float_format="{:.4f}", align=["left"] + ["right"] * 7))


if __name__ == "__main__":
    main()
