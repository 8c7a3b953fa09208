"""SSL-AASIST on AASIST's modules: its residual blocks (without the time pool) and graph back end come
from ``modeling_aasist.py`` (that every ``implementation`` computes the same SSL-AASIST is checked in
``tests/models/aasist/test_aasist_implementations.py``), the configuration is an ``AasistConfig`` without a sinc
front end, and a saved folder carries the AASIST files it imports."""

from __future__ import annotations

import pytest
import torch

from codecfake_hf.models.aasist import (
    AasistConfig,
    SslAasistConfig,
    Wav2Vec2AasistForAudioClassification,
)
from codecfake_hf.models.aasist.configuration_aasist import AASIST_IMPLEMENTATIONS
from codecfake_hf.models.aasist.modeling_aasist import (
    AasistBranch,
    AasistGraphAttention,
    AasistGraphPool,
    AasistResidualBlock,
)
from codecfake_hf.models.families import build_ssl_aasist

pytestmark = pytest.mark.usefixtures("one_thread")


def test_back_end_is_built_from_aasist_modules():
    model = build_ssl_aasist("tiny")[0]
    assert all(isinstance(block, AasistResidualBlock) and not block.pool_time for block in model.encoder)
    assert isinstance(model.gat_spectral, AasistGraphAttention) and isinstance(
        model.pool_temporal, AasistGraphPool
    )
    assert all(isinstance(branch, AasistBranch) for branch in model.branches)
    assert isinstance(model.config, AasistConfig)


@pytest.mark.parametrize("implementation", AASIST_IMPLEMENTATIONS)
def test_unpooled_residual_block_keeps_the_time_axis(implementation):
    config = SslAasistConfig.from_preset("tiny", implementation=implementation)
    block = AasistResidualBlock(config, 4, 6, is_first=False, pool_time=False).eval()
    with torch.no_grad():
        out = block(torch.randn(2, 4, 8, 11))
    assert out.shape == (2, 6, 8, 11)


def test_config_has_no_sinc_front_end():
    config = SslAasistConfig.from_preset("tiny")
    assert config.sinc_kernel_size is None and config.num_sinc_filters is None
    assert config.num_spectral_nodes == 8  # projection_size 24 // 3, not a sinc filter count
    with pytest.raises(ValueError, match="num_sinc_filters does not apply"):
        SslAasistConfig.from_preset("tiny", num_sinc_filters=70)


def test_saved_folder_carries_the_aasist_files_it_imports(tmp_path):
    model, extractor = build_ssl_aasist("tiny")
    model.save_pretrained(tmp_path)
    extractor.save_pretrained(tmp_path)
    code = sorted(path.name for path in tmp_path.glob("*.py"))
    assert code == [
        "configuration_aasist.py",
        "configuration_ssl_aasist.py",
        "feature_extraction_aasist.py",
        "fused_aasist.py",
        "modeling_aasist.py",
        "modeling_ssl_aasist.py",
        "pipeline_aasist.py",
        "resampling.py",
    ]
    loaded = Wav2Vec2AasistForAudioClassification.from_pretrained(tmp_path, implementation="eager")
    assert loaded.config.implementation == "eager" and loaded.config.num_sinc_filters is None
