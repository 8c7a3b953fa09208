"""The two classes of every dataset and detector here, and the names they go by.

Class ids follow the CodecFake paper and AASIST: ``0 = spoof``, ``1 = bona fide``; a detector's score
for EER is its bona fide logit, ``logits[:, BONAFIDE]``. The same names are the ``ClassLabel`` names
of the built dataset, the ``id2label`` of the AASIST models and the subfolders of a label folder
(``bonafide/`` and ``spoof/``).

The AASIST files saved next to a model (``codecfake_hf/models/aasist/``) import nothing of this
package, so ``configuration_aasist.py`` keeps its own copy of :data:`ID2LABEL` (a test checks that
the two agree).
"""

from __future__ import annotations

#: Class id of spoofed (codec-resynthesized or otherwise generated) audio.
SPOOF = 0
#: Class id of bona fide (real) speech.
BONAFIDE = 1
#: Class names by class id: the dataset's ``ClassLabel`` names and the models' ``id2label``.
LABEL_NAMES = ("spoof", "bonafide")
ID2LABEL = dict(enumerate(LABEL_NAMES))
LABEL2ID = {name: class_id for class_id, name in ID2LABEL.items()}

#: ``load_dataset`` config of the VCTK audio alone (also the ``codec`` value of its rows).
BONAFIDE_CONFIG = LABEL_NAMES[BONAFIDE]

#: Label names (any case) read as bona fide in other datasets and classifiers; every other name is
#: spoof (``--bonafide-label`` names the class when none of these does).
BONAFIDE_NAMES = frozenset({"bonafide", "bona fide", "bona-fide", "genuine", "real", "human", "original"})
