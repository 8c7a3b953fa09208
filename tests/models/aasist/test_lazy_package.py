"""``codecfake_hf.models.aasist`` is a lazy package (PEP 562): importing it, or its resampler file, runs
no model file; the first use of a public name imports that name's file and registers every detector
family with the Auto classes; each class marks itself for ``auto_map`` in its own file."""

from __future__ import annotations

import subprocess
import sys

import pytest

import codecfake_hf.models.aasist as aasist


def _fresh(script: str) -> str:
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_the_package_and_its_resampler_import_no_model_file():
    imported = _fresh(
        "import sys\n"
        "import codecfake_hf.models.aasist.resampling\n"
        "print(' '.join(name for name in sys.modules if name.startswith('codecfake_hf.models')))\n"
    ).split()
    assert sorted(imported) == [
        "codecfake_hf.models",
        "codecfake_hf.models.aasist",
        "codecfake_hf.models.aasist.resampling",
    ]


def test_the_first_use_of_a_name_registers_the_families_with_the_auto_classes():
    out = _fresh(
        "from transformers import AutoConfig, AutoFeatureExtractor, AutoModelForAudioClassification\n"
        "from transformers.models.auto.configuration_auto import CONFIG_MAPPING\n"
        "import codecfake_hf.models.aasist as aasist\n"
        "print('aasist' in CONFIG_MAPPING)\n"
        "config = aasist.AasistConfig.from_preset('tiny')\n"
        "model = AutoModelForAudioClassification.from_config(config)\n"
        "ssl = AutoConfig.for_model('ssl_aasist')\n"
        "print('aasist' in CONFIG_MAPPING, type(model).__name__, type(ssl).__name__)\n"
    ).split("\n")
    assert out[0] == "False"  # importing the package registers nothing
    assert out[1] == "True AasistForAudioClassification SslAasistConfig"


def test_the_lazy_names_are_the_public_names():
    assert set(aasist.__all__) <= set(dir(aasist))
    for name in aasist.__all__:
        assert getattr(aasist, name) is not None
    assert aasist.AasistConfig.__module__ == "codecfake_hf.models.aasist.configuration_aasist"
    with pytest.raises(AttributeError, match="no attribute 'NoSuchModel'"):
        aasist.NoSuchModel  # noqa: B018


def test_each_class_marks_itself_for_auto_map_from_any_import_path():
    """A file imported on its own (as ``convert-aasist`` does) still gives folders their auto_map."""
    out = _fresh(
        "from codecfake_hf.models.aasist.modeling_ssl_aasist import Wav2Vec2AasistForAudioClassification as S\n"
        "from codecfake_hf.models.aasist.modeling_aasist import AasistForAudioClassification as A\n"
        "from codecfake_hf.models.aasist.feature_extraction_aasist import AasistFeatureExtractor as F\n"
        "print(A._auto_class, S._auto_class, A.config_class._auto_class, S.config_class._auto_class, "
        "F._auto_class)\n"
    )
    assert out.split() == [
        "AutoModelForAudioClassification",
        "AutoModelForAudioClassification",
        "AutoConfig",
        "AutoConfig",
        "AutoFeatureExtractor",
    ]
