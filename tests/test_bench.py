import json

import numpy as np
import pytest
import torch

from course import bench
from course.cli import main

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def pixels():
    """40 random grey 28x28 images as uint8 pixels, as the benchmark takes its data."""
    return np.random.default_rng(0).integers(0, 256, (40, 28, 28), dtype=np.uint8)


@pytest.mark.slow
def test_the_benchmark_times_both_loops_each_round_and_gives_their_ratio(pixels):
    result = bench.benchmark(pixels, CPU, batch_size=8, steps=3, rounds=2, progress=False)
    assert result["device"] == "cpu" and result["batch_size"] == 8 and result["rounds"] == 2
    for name in ("reference", "course"):
        each = result["images_per_second_each_round"][name]
        assert len(each) == 2 and all(rate > 0 for rate in each)
        assert result["images_per_second"][name] == pytest.approx(
            sorted(each)[0] + (sorted(each)[1] - sorted(each)[0]) / 2
        )
    assert result["ratio"] == pytest.approx(
        result["images_per_second"]["course"] / result["images_per_second"]["reference"]
    )
    assert result["peak_process_memory_mib"] > 0 and result["peak_cuda_memory_mib"] is None
    json.dumps(result)  # JSON-ready
    assert result["flops_per_image"] > 0 and result["course_tflops"] == pytest.approx(
        result["images_per_second"]["course"] * result["flops_per_image"] / 1e12
    )
    text = bench.summary(result)
    assert "reference" in text and "course" in text and f"{result['ratio']:.2f}x" in text


def test_the_reference_loop_trains_the_networks(pixels, monkeypatch):
    config = bench.GANConfig(batch_size=8)
    built = {}
    real_build = bench.build

    def keep(config, device):
        built["networks"] = real_build(config, device)
        return built["networks"]

    monkeypatch.setattr(bench, "build", keep)
    bench.reference_loop(pixels, config, CPU, steps=7)  # more steps than one pass over 40 images holds
    generator, discriminator, g_optimizer, d_optimizer = built["networks"]
    assert d_optimizer.state_dict()["state"][0]["step"] == 7 and g_optimizer.state_dict()["state"][0]["step"] == 7


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"batch_size": 0}, "batch_size must be a positive int"),
        ({"rounds": 0}, "rounds must be a positive int"),
        ({"batch_size": 64}, "fewer than one batch"),
    ],
)
def test_bad_settings_are_refused(pixels, changes, message):
    with pytest.raises(ValueError, match=message):
        bench.benchmark(pixels, CPU, **{"batch_size": 8, "steps": 2, "rounds": 1, "progress": False, **changes})


def test_the_bench_command_prints_and_saves_the_figures(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(bench, "benchmark", lambda images, device, batch_size, steps, rounds: fake_result(batch_size))
    out = tmp_path / "bench.json"
    assert (
        main(
            ["bench", "--batch-size", "32", "64", "--steps", "5", "--rounds", "1", "--device", "cpu", "--out", str(out)]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "ratio course / reference: 1.50x" in printed and str(out) in printed
    assert [entry["batch_size"] for entry in json.loads(out.read_text())] == [32, 64]
    table = printed.splitlines()[-4:-1]  # the closing table's rows, before the line that names the file
    assert [row.split() for row in table[1:]] == [
        ["32", "100", "150", "1.50x", "5"],
        ["64", "100", "150", "1.50x", "2"],
    ]
    assert main(["bench", "--steps", "5", "--out", str(out), "--peak-tflops", "0.01", "--force"]) == 0
    printed = capsys.readouterr().out
    assert (
        "3.00% of the 0.01 TFLOP/s peak" in printed and "images/s" in printed and " ratio\n" not in printed
    )  # one batch size: no table
    for option in ("--steps", "--rounds", "--batch-size"):
        with pytest.raises(SystemExit):
            main(["bench", option, "0", "--out", str(out)])
        assert f"argument {option}: must be a whole number of at least 1, got '0'" in capsys.readouterr().err


def fake_result(batch_size: int) -> dict:
    return {
        "device": "cpu",
        "device_name": "x86_64",
        "threads": 2,
        "torch": torch.__version__,
        "batch_size": batch_size,
        "steps_per_round": 5,
        "rounds": 1,
        "images_per_second": {"reference": 100.0, "course": 150.0},
        "images_per_second_each_round": {"reference": [100.0], "course": [150.0]},
        "ratio": 1.5,
        "peak_cuda_memory_mib": None,
        "peak_process_memory_mib": 500.0,
        "flops_per_image": 2e6,
        "course_tflops": 3e-4,
    }


def test_the_table_gives_one_line_per_batch_size():
    lines = bench.table(
        [
            fake_result(32),
            {**fake_result(512), "images_per_second": {"reference": 1234.4, "course": 2468.8}, "ratio": 2.0},
        ]
    ).splitlines()
    assert lines[0].split() == ["batch", "reference", "course", "ratio", "course"]
    assert lines[1].split() == ["images/s", "images/s", "steps/s"]
    assert lines[2].split() == ["32", "100", "150", "1.50x", "5"]
    assert lines[3].split() == ["512", "1,234", "2,469", "2.00x", "5"]
