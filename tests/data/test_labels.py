"""One labels module: class ids, names and the bona fide config name, shared by every part."""

from codecfake_hf.data import labels
from codecfake_hf.data.loading import folder_dataset
from codecfake_hf.models.aasist import AasistConfig
from codecfake_hf.models.aasist.configuration_aasist import AASIST_ID2LABEL


def test_class_ids_and_names_agree():
    assert (labels.SPOOF, labels.BONAFIDE) == (0, 1)
    assert labels.ID2LABEL == {labels.SPOOF: "spoof", labels.BONAFIDE: "bonafide"}
    assert labels.LABEL2ID == {"spoof": labels.SPOOF, "bonafide": labels.BONAFIDE}
    assert labels.BONAFIDE_CONFIG == "bonafide" and labels.BONAFIDE_CONFIG in labels.BONAFIDE_NAMES
    assert "spoof" not in labels.BONAFIDE_NAMES


def test_saved_aasist_code_mirrors_the_labels_module():
    # configuration_aasist.py is copied into saved folders and cannot import codecfake_hf.data.labels
    assert AASIST_ID2LABEL == labels.ID2LABEL
    config = AasistConfig()
    assert config.id2label == labels.ID2LABEL and config.label2id == labels.LABEL2ID


def test_label_folders_use_the_label_names(tmp_path):
    import numpy as np
    import soundfile as sf

    for name in labels.LABEL_NAMES:
        (tmp_path / name).mkdir()
        sf.write(tmp_path / name / "a.wav", np.zeros(160, np.float32), 16000)
    rows = folder_dataset(tmp_path).to_list()
    assert {(row["codec"], row["label"]) for row in rows} == {
        ("bonafide", labels.BONAFIDE),
        ("spoof", labels.SPOOF),
    }
