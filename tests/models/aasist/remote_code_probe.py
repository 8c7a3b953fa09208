"""Use saved detector folders as downstream code does: only transformers (+ numpy, soundfile), with
``codecfake_hf`` (and optionally ``soxr``) made unimportable. Run by tests/models/aasist/test_remote_code.py as
``python remote_code_probe.py SPEC.json OUT.json`` in a subprocess whose path holds no checkout.

SPEC: ``{"block": [module names], "folders": [paths], "inputs": [{"name", "kind": "path" | "array" |
"dict", "file", "rate"}], "refuse": [{"name", "kind", "file", "rate"}], "implementations": [names]}``;
arrays are ``.npy`` files.
OUT: per folder, the pipeline's and the Auto classes' bona fide probability per input (the Auto model
also loaded with each ``implementation=``, as ``auto-<name>``), the refusal messages, the modules the
classes and the fused kernels came from, the implementation each model ran and the resampler backend
the folder's code used.
"""

import json
import sys

spec = json.loads(open(sys.argv[1]).read())
for blocked in spec["block"]:
    sys.modules[blocked] = None  # `import codecfake_hf` now raises ImportError, as where it is not installed

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import AutoFeatureExtractor, AutoModelForAudioClassification, pipeline  # noqa: E402


def pipeline_input(item):
    if item["kind"] == "path":
        return item["file"]
    waveform = np.load(item["file"])
    return waveform if item["kind"] == "array" else {"raw": waveform, "sampling_rate": item["rate"]}


results = {}
for folder in spec["folders"]:
    classifier = pipeline("audio-classification", model=folder, trust_remote_code=True)
    model = AutoModelForAudioClassification.from_pretrained(folder, trust_remote_code=True).eval()
    extractor = AutoFeatureExtractor.from_pretrained(folder, trust_remote_code=True)
    models = {"auto": model}
    for implementation in spec["implementations"]:
        models[f"auto-{implementation}"] = AutoModelForAudioClassification.from_pretrained(
            folder, trust_remote_code=True, implementation=implementation
        ).eval()
    bonafide = model.config.label2id["bonafide"]
    scores = {}
    for item in spec["inputs"]:
        output = {entry["label"]: entry["score"] for entry in classifier(pipeline_input(item))}
        scores[item["name"]] = {"pipeline": output["bonafide"]}
        if item["kind"] != "path":
            features = extractor(np.load(item["file"]), sampling_rate=item["rate"], return_tensors="pt")
            for source, source_model in models.items():
                with torch.no_grad():
                    logits = source_model(**features).logits[0]
                scores[item["name"]][source] = float(torch.softmax(logits, -1)[bonafide])
    refusals = {}
    for item in spec["refuse"]:
        try:
            classifier(pipeline_input(item))
            refusals[item["name"]] = None
        except ValueError as error:
            refusals[item["name"]] = str(error)
    resampling = [module for name, module in sys.modules.items() if name.endswith(".resampling")]
    results[folder] = {
        "scores": scores,
        "refusals": refusals,
        "classes": [type(classifier).__module__, type(model).__module__, type(extractor).__module__],
        "kernels": sorted(name for name in sys.modules if name.endswith(".fused_aasist")),
        "implementations": {source: m.config.implementation for source, m in models.items()},
        "backend": sorted({module.BACKEND for module in resampling if module is not None}),
        "codecfake_hf_blocked": sys.modules.get("codecfake_hf", "missing") is None,
    }
open(sys.argv[2], "w").write(json.dumps(results))
