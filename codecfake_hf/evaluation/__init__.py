"""Detectors and builds measured: EER per test set and the cross-test matrix (``scoring``), robustness
to ordinary compression (``robustness``), a build compared with the paper's data (``comparison``),
results by codec taxonomy (``taxonomy``) and the paper's result tables beside ours (``tables``)."""
