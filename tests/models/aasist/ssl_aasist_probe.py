"""Load a saved SSL-AASIST folder as downstream code does, with ``codecfake_hf`` unimportable. Run by
test_ssl_aasist.py as ``python ssl_aasist_probe.py FOLDER CLIP.npy OUT.json``.

OUT: the pipeline's and the Auto model's bona fide probability for the clip (16 kHz and resampled
from 44.1 kHz), the modules the classes came from, and whether ``codecfake_hf`` was blocked.
"""

import json
import sys

sys.modules["codecfake_hf"] = None  # `import codecfake_hf` now raises ImportError

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import AutoFeatureExtractor, AutoModelForAudioClassification, pipeline  # noqa: E402

folder, clip_file, out_file = sys.argv[1:4]
clip = np.load(clip_file)
classifier = pipeline("audio-classification", model=folder, trust_remote_code=True)
model = AutoModelForAudioClassification.from_pretrained(folder, trust_remote_code=True).eval()
extractor = AutoFeatureExtractor.from_pretrained(folder, trust_remote_code=True)
with torch.no_grad():
    logits = model(**extractor(clip, sampling_rate=16000, return_tensors="pt")).logits[0]
result = {
    "pipeline": {e["label"]: e["score"] for e in classifier({"raw": clip, "sampling_rate": 16000})}[
        "bonafide"
    ],
    "auto": float(torch.softmax(logits, -1)[model.config.label2id["bonafide"]]),
    "classes": [type(classifier).__module__, type(model).__module__, type(extractor).__module__],
    "blocked": sys.modules.get("codecfake_hf", "missing") is None,
}
open(out_file, "w").write(json.dumps(result))
