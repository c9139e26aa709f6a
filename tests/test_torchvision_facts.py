"""trainlint's table of torchvision constructors: generated from the torchvision wheel and checked by
torch (tools/gen_torchvision_facts.py); without torchvision, which cannot be imported here."""

import subprocess
import sys

import pytest
from conftest import ROOT

from trainlint.facts.vision import torchvision_facts

TOOL = ROOT / "tools" / "gen_torchvision_facts.py"


def test_table_is_what_the_tool_generates(tmp_path):
    """Regenerates the table from the wheel when pip can fetch it (a registry is reachable, or a local index)."""
    download = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "torchvision==0.28.0",
            "-d",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    wheels = list(tmp_path.glob("torchvision-*.whl"))
    if download.returncode or not wheels:
        pytest.skip(f"the torchvision wheel cannot be had here: {download.stderr.strip()[-300:]}")
    proc = subprocess.run(
        [sys.executable, str(TOOL), "--check", "--wheel", str(wheels[0])], capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_table_says_how_it_was_made():
    facts = torchvision_facts()
    assert facts.version == "0.28.0"
    assert facts.generated["by"] == "tools/gen_torchvision_facts.py"
    assert facts.generated["torch"] == "2.13.0"
    assert len(facts.generated["on"]) == 10  # an ISO date


# Counts torchvision publishes (and torch confirmed when the table was made).
SPOT = {
    "torchvision.models.resnet50": (25_557_032, 2048, (1, 1)),
    "torchvision.models.resnet18": (11_689_512, 512, (1, 1)),
    "torchvision.models.vit_b_16": (86_567_656, 768, (224, 224)),
    "torchvision.models.mobilenet_v3_small": (2_542_856, 1024, (1, 1)),
    "torchvision.models.efficientnet_b0": (5_288_548, 1280, (1, 1)),
    "torchvision.models.vgg16": (138_357_544, 4096, (32, 32)),
    "torchvision.models.alexnet": (61_100_840, 4096, (63, 63)),
    "torchvision.models.inception_v3": (27_161_264, None, (75, 75)),  # with its auxiliary classifier
    "torchvision.models.convnext_tiny": (28_589_128, 768, (32, 32)),
    "torchvision.models.swin_t": (28_288_354, 768, (224, 224)),
}


@pytest.mark.parametrize("qualname", sorted(SPOT))
def test_spot_values(qualname):
    count, in_features, min_size = SPOT[qualname]
    constructor = torchvision_facts().constructor(qualname)
    assert constructor is not None
    assert (constructor.num_params, constructor.classifier_in_features, constructor.min_size) == (count, in_features, min_size)
    assert constructor.num_classes == 1000
    if in_features is not None:  # one Linear classifier: each class adds its weights and a bias
        assert constructor.params_per_class == in_features + 1


def test_another_number_of_classes():
    resnet50 = torchvision_facts().constructor("torchvision.models.resnet.resnet50")
    assert resnet50.parameter_count() == resnet50.parameter_count(1000) == 25_557_032
    assert resnet50.parameter_count(10) == 23_528_522
    inception = torchvision_facts().constructor("torchvision.models.inception_v3")
    assert inception.params_per_class == (2048 + 1) + (768 + 1)  # fc and the auxiliary classifier's fc
    assert inception.parameter_count(10) == 27_161_264 - 990 * 2818
    raft = torchvision_facts().constructor("torchvision.models.optical_flow.raft_large")
    assert raft.parameter_count(10) is None and raft.num_classes is None
    detector = torchvision_facts().constructor("torchvision.models.detection.fasterrcnn_resnet50_fpn")
    assert detector.num_classes == 91 and detector.parameter_count(91) == 41_755_286


def test_weights_entries():
    facts = torchvision_facts()
    vit = facts.constructor("torchvision.models.vit_b_16")
    assert facts.weights_entry(vit, "DEFAULT") == facts.weights_entry(vit, "IMAGENET1K_V1")
    swag = facts.weights_entry(vit, "IMAGENET1K_SWAG_E2E_V1")
    assert swag.min_size == (384, 384) and swag.num_params == 86_859_496  # a larger position embedding
    enum = facts.weights_enum("torchvision.models.ResNet50_Weights")
    assert enum is facts.weights_enum("torchvision.models.resnet.ResNet50_Weights")
    assert enum.default == "IMAGENET1K_V2" and enum.entry("DEFAULT").num_categories == 1000
    quantized = facts.constructor("torchvision.models.quantization.resnet50")
    assert quantized is not facts.constructor("torchvision.models.resnet50")
    assert facts.weights_entry(quantized, "IMAGENET1K_FBGEMM_V1") is None


def test_table_shape():
    facts = torchvision_facts()
    constructors = {c.qualname: c for c in facts.constructors.values()}
    assert len(constructors) >= 120
    assert {c.task for c in constructors.values()} == {
        "classification",
        "detection",
        "segmentation",
        "video",
        "quantization",
        "optical_flow",
    }
    for c in constructors.values():
        assert c.num_params > 0 and c.min_size[0] >= 1 and c.weights, c.qualname
        assert all(facts.weights_enum(w) for w in c.weights), c.qualname
        assert all(facts.constructor(a) is c for a in c.aliases)
        assert c.params_per_class is not None or c.task == "optical_flow", c.qualname
    names = {c.name for c in constructors.values()}
    assert len(names) == len(constructors)  # the get_model names are unique
    assert sum(1 for c in constructors.values() if c.classifier_in_features) >= 90


def test_facts_import_without_torch():
    code = "import sys; import trainlint.facts.vision, trainlint.facts.layers; trainlint.facts.vision.torchvision_facts(); assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
