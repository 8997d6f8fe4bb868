"""The command line against careless inputs and faults: nothing lost, memory bounded, one clear line for each mistake.

Each test asserts the outcome a learner sees: the exit code, the one line on stderr (never a traceback),
and that no earlier output was lost and nothing grew past its bound.
"""

import io
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch
from paths import ROOT

from course import gan_sampling, gan_training, runs
from course.cli import main


def one_error_line(capsys) -> str:
    """stderr of the last command: exactly one line, starting with 'error:' (no traceback); returned for more checks."""
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err and len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def no_temporary_files(folder: Path) -> bool:
    return not [path for path in folder.iterdir() if path.name.endswith(".part")]


# --- nothing lost ----------------------------------------------------------------------------


def test_a_sample_file_cut_short_by_a_full_disk_leaves_the_previous_one_whole(
    checkpoint, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "dresses.npy"
    assert main(["sample", "--checkpoint", str(checkpoint), "--n", "1500", "--out", str(out)]) == 0
    before = out.read_bytes()

    def fills_the_disk(*args, **kwargs):
        yield np.zeros((1000, 28, 28), np.uint8)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gan_sampling, "generate_in_chunks", fills_the_disk)
    capsys.readouterr()
    assert (
        main(["sample", "--checkpoint", str(checkpoint), "--n", "1500", "--seed", "1", "--out", str(out), "--force"])
        == 1
    )
    assert "No space left on device" in one_error_line(capsys)
    assert out.read_bytes() == before and no_temporary_files(tmp_path)


def test_a_png_grid_that_fails_while_saving_leaves_the_previous_one_whole(checkpoint, tmp_path, capsys, monkeypatch):
    import course.plots

    out = tmp_path / "grid.png"
    assert main(["sample", "--checkpoint", str(checkpoint), "--n", "16", "--out", str(out)]) == 0
    before = out.read_bytes()

    def half_written(images, file):
        file.write(before[:100])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(course.plots, "save_image_grid", half_written)
    capsys.readouterr()
    assert main(["sample", "--checkpoint", str(checkpoint), "--n", "16", "--out", str(out), "--force"]) == 1
    one_error_line(capsys)
    assert out.read_bytes() == before and no_temporary_files(tmp_path)


def test_train_classifier_checks_where_it_writes_before_it_trains(tmp_path, capsys, monkeypatch):
    import course.quality
    import course.training
    from course.models import SmallCNN

    trained = []
    monkeypatch.setattr(course.quality, "train_quality_classifier", lambda *args, **kwargs: trained.append(True))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    refusals = [
        (blocker / "weights.pt", "which is a file, not a folder", 2),
        (tmp_path, "is a folder", 2),
        (Path("/proc/weights.pt"), "Cannot write", 1),
    ]
    for out, says, code in refusals:  # 2: what was typed must change; 1: the place cannot be written
        assert main(["train-classifier", "--epochs", "1", "--out", str(out)]) == code
        assert says in one_error_line(capsys)
    monkeypatch.setattr(course.quality, "CLASSIFIER_PATH", tmp_path / "missing" / "fashion_classifier.pt")
    monkeypatch.setattr(course.quality, "train_quality_classifier", lambda *args, **kwargs: SmallCNN(num_classes=10))
    monkeypatch.setattr(course.training, "evaluate", lambda *args, **kwargs: (0.0, 0.9))
    assert main(["train-classifier", "--epochs", "1"]) == 0  # the weights missing is what retraining mends
    assert (tmp_path / "missing" / "fashion_classifier.pt").is_file()
    capsys.readouterr()
    monkeypatch.setattr(runs.shutil, "disk_usage", lambda path: type("Usage", (), {"free": 1024})())
    assert main(["train-classifier", "--epochs", "1", "--out", str(tmp_path / "weights.pt")]) == 1
    assert "MiB free" in one_error_line(capsys)
    assert not trained


def test_a_second_run_into_a_folder_in_use_is_refused_naming_the_process(tmp_path, capsys):
    folder = tmp_path / "run"
    folder.mkdir()
    with runs.run_folder_lock(folder):  # as a first run holds it while it trains
        assert main(["train-gan", "--steps", "1", "--batch-size", "8", "--out", str(folder)]) == 1
        assert f"in use by another training run (process {os.getpid()}, started" in one_error_line(capsys)
    assert not (folder / gan_training.CHECKPOINT).exists()
    assert main(["train-gan", "--steps", "1", "--batch-size", "8", "--out", str(folder)]) == 0  # released: free again


def test_a_lock_left_by_a_killed_run_is_taken_over(tmp_path, capsys):
    folder = tmp_path / "run"
    folder.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom course.runs import run_folder_lock\n"
            f"with run_folder_lock({str(folder)!r}):\n    print('held', flush=True)\n    time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert holder.stdout.readline().strip() == "held"
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    assert f"process {holder.pid}" in (folder / runs.LOCK).read_text()  # the killed run's name is left behind
    assert main(["train-gan", "--steps", "1", "--batch-size", "8", "--out", str(folder)]) == 0
    assert f"the run that held it (process {holder.pid}" in capsys.readouterr().out
    assert (folder / runs.LOCK).read_text() == ""  # released cleanly this time


# --- memory bounded by design ----------------------------------------------------------------


def test_sample_streams_a_large_file_in_batches_and_it_equals_one_draw(checkpoint, tmp_path, capsys):
    out = tmp_path / "many.npy"
    assert (
        main(["sample", "--checkpoint", str(checkpoint), "--n", "10", "--out", str(out)]) == 0
    )  # modules loaded before measuring
    tracemalloc.start()
    try:
        assert main(["sample", "--checkpoint", str(checkpoint), "--n", "20000", "--out", str(out), "--force"]) == 0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    all_at_once = 20000 * 28 * 28
    assert peak < all_at_once / 4  # one batch of 1,000 images at a time, not all 20,000
    written = np.load(out, mmap_mode="r")
    generator = gan_training.load_generator(checkpoint)
    assert written.shape == (20000, 28, 28) and np.array_equal(
        written[-1000:], gan_sampling.generate(generator, 20000)[-1000:]
    )


def test_a_checkpoint_whose_settings_do_not_fit_its_weights_is_refused_before_building_them(
    checkpoint, tmp_path, capsys, monkeypatch
):
    saved = torch.load(checkpoint, weights_only=True)
    saved["config"]["latent_size"] = 400_000  # a generator of about 300 million weights, were it built
    torch.save(saved, tmp_path / "edited.pt")
    built_on = []  # the device of each pair of networks built: "meta" holds shapes without memory
    networks = gan_training.networks

    def recorded_networks(config):
        generator, discriminator = networks(config)
        built_on.append(next(generator.parameters()).device.type)
        return generator, discriminator

    monkeypatch.setattr(gan_training, "networks", recorded_networks)
    assert main(["sample", "--checkpoint", str(tmp_path / "edited.pt"), "--out", str(tmp_path / "s.npy")]) == 1
    assert "settings do not match its generator's weights" in one_error_line(capsys)
    assert built_on == ["meta"] and not (tmp_path / "s.npy").exists()  # compared as shapes only: never allocated


def test_an_npy_header_claiming_ten_billion_images_is_refused_before_reading(tmp_path, capsys):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (10**10, 28, 28)})
    (tmp_path / "claims.npy").write_bytes(header.getvalue() + bytes(3 * 784))
    import course.quality  # noqa: F401  (loaded before measuring, so the measure is of the file alone)

    tracemalloc.start()
    assert main(["evaluate", "--samples", str(tmp_path / "claims.npy")]) == 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "header says 10,000,000,000 images" in one_error_line(capsys) and peak < 2**20


# --- one clear line for every mistake --------------------------------------------------------


@pytest.mark.parametrize(
    "variable, value, command, says",
    [
        ("COURSE_SCALE", "huge", ["run-notebooks"], "COURSE_SCALE is set to 'huge'"),
        (
            "COURSE_DEVICE",
            "tpu",
            ["train-gan", "--steps", "1", "--out", "run"],
            "COURSE_DEVICE is 'tpu', which is not a device: choose cpu, cuda or mps",
        ),
        ("COURSE_DEVICE", "cuda", ["train-gan", "--steps", "1", "--out", "run"], "PyTorch sees no CUDA GPU here"),
        ("COURSE_RUNS_DIR", "A_FILE", ["bench", "--steps", "1", "--rounds", "1"], "which is a file, not a folder"),
    ],
)
def test_an_unusable_setting_is_one_line(variable, value, command, says, tmp_path, capsys, monkeypatch):
    if value == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    if value == "A_FILE":
        value = str(tmp_path / "a-file")
        Path(value).write_text("")
    monkeypatch.setenv(variable, value)
    monkeypatch.chdir(tmp_path)
    assert main(command) == 1
    assert says in one_error_line(capsys)


def test_ctrl_c_while_starting_is_one_line():
    if not Path("/proc/self/maps").exists():
        pytest.skip("needs /proc to see when PyTorch is loading")
    command = subprocess.Popen(
        [sys.executable, "-m", "course", "data"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        preexec_fn=lambda: signal.signal(
            signal.SIGINT, signal.SIG_DFL
        ),  # as in a terminal, even under a test runner that ignores Ctrl-C
    )
    maps = Path(f"/proc/{command.pid}/maps")
    deadline = time.monotonic() + 30
    while "libtorch" not in maps.read_text() and time.monotonic() < deadline:
        time.sleep(0.005)  # until PyTorch's libraries are loading
    command.send_signal(signal.SIGINT)
    err = command.communicate(timeout=30)[1]
    assert (
        command.returncode == 130
        and "Traceback" not in err
        and err.strip() == "stopped: interrupted (Ctrl-C) while starting."
    )


def test_bench_checks_its_data_and_output_before_timing(tmp_path, capsys, monkeypatch):
    import course.bench
    import course.data

    timed = []
    monkeypatch.setattr(course.bench, "benchmark", lambda *args, **kwargs: timed.append(True))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["bench", "--out", str(blocker / "cpu.json")]) == 2
    assert "which is a file, not a folder" in one_error_line(capsys)

    def no_data(*args, **kwargs):
        raise course.data.DataNotFoundError("Fashion-MNIST was not found (looked in: nowhere).")

    monkeypatch.setattr(course.data, "load_fashion_mnist", no_data)
    assert main(["bench", "--out", str(tmp_path / "cpu.json")]) == 1
    assert "Fashion-MNIST was not found" in one_error_line(capsys)
    assert not timed


def test_a_notebook_that_is_not_json_is_one_line_and_nothing_runs(tmp_path, capsys):
    good, bad = tmp_path / "01_good.ipynb", tmp_path / "02_bad.ipynb"
    good.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    bad.write_text("{not json")
    assert main(["run-notebooks", "--scale", "smoke", str(good), str(bad)]) == 1
    assert "02_bad.ipynb" in one_error_line(capsys)
    assert "running" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "arguments, code, says",
    [
        (["--out", "FOLDER.npy"], 2, "is a folder: give the name of a file"),
        (["--out", "A_FILE/s.npy"], 2, "which is a file, not a folder"),
        (["--out", "s.npy", "--class", "²"], 2, "no class '²': give a number from 0 to 9 or a name"),
        (["--out", "s.png", "--n", "5000"], 2, "a .png grid shows at most 1,024 images"),
    ],
)
def test_sample_refuses_a_bad_out_or_class_before_drawing(arguments, code, says, checkpoint, tmp_path, capsys):
    (tmp_path / "A_FILE").write_text("")
    (tmp_path / "FOLDER.npy").mkdir()
    arguments = [str(tmp_path / a) if a.endswith((".npy", ".png")) else a for a in arguments]
    assert main(["sample", "--checkpoint", str(checkpoint), *arguments]) == code
    assert says in one_error_line(capsys)


def test_a_class_that_is_not_an_ascii_number_is_named(capsys):
    from course.cli import class_number

    with pytest.raises(ValueError, match="no class '²': give a number from 0 to 9 or a name"):
        class_number("²")
    assert class_number("3") == 3 and class_number("dress") == 3


def test_batch_norm_with_batches_of_one_says_what_to_do(tmp_path, capsys):
    assert main(["train-gan", "--steps", "1", "--batch-size", "1", "--out", str(tmp_path / "run")]) == 2
    assert "use a batch size of 2 or more, or leave batch norm out" in one_error_line(capsys)
    assert (
        main(["train-gan", "--steps", "1", "--batch-size", "1", "--no-batch-norm", "--out", str(tmp_path / "run")]) == 0
    )


def test_resuming_with_fewer_steps_than_reached_is_refused(tmp_path, capsys):
    run = ["train-gan", "--batch-size", "8", "--out", str(tmp_path / "run")]
    assert main([*run, "--steps", "3"]) == 0
    capsys.readouterr()
    assert main([*run, "--steps", "2", "--resume"]) == 1
    assert "is at step 3, past the 2 steps asked for" in capsys.readouterr().err
    assert main([*run, "--steps", "3", "--resume"]) == 0  # at the end already: nothing to train, no complaint


@pytest.mark.parametrize(
    "command", [["sample", "--checkpoint", "c.pt", "--out", "s.npy"], ["train-gan", "--out", "run"]]
)
def test_a_seed_out_of_range_is_a_usage_error(command, capsys):
    with pytest.raises(SystemExit) as usage_error:
        main([*command, "--seed", str(2**70)])
    assert usage_error.value.code == 2
    assert "argument --seed: must be a whole number from 0 to 4,294,967,295" in capsys.readouterr().err


def test_an_unexpected_fault_is_one_line_and_its_traceback_is_there_on_request(
    checkpoint, tmp_path, capsys, monkeypatch
):
    def broken(*args, **kwargs):
        raise KeyError("a fault in the course")

    monkeypatch.setattr(gan_training, "load_generator", broken)
    arguments = ["sample", "--checkpoint", str(checkpoint), "--out", str(tmp_path / "s.npy")]
    assert main(arguments) == 1
    line = one_error_line(capsys)
    assert "KeyError" in line and "a fault in the course" in line and "COURSE_DEBUG=1" in line
    monkeypatch.setenv("COURSE_DEBUG", "1")
    with pytest.raises(KeyError):
        main(arguments)


# --- true messages ---------------------------------------------------------------------------


def test_a_text_file_named_npy_is_not_answered_with_advice_to_unpickle(tmp_path, capsys):
    (tmp_path / "notes.npy").write_text("my samples are elsewhere\n")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    for name, says in [("notes.npy", "is not a NumPy .npy file"), ("objects.npy", "holds Python objects, not uint8")]:
        assert main(["evaluate", "--samples", str(tmp_path / name)]) == 1
        line = one_error_line(capsys)
        assert says in line and "allow_pickle" not in line and "pickle" not in line.lower()


def test_evaluate_names_a_damaged_classifier_or_dataset_not_the_samples(checkpoint, tmp_path, capsys, monkeypatch):
    import course.data
    import course.quality

    samples = tmp_path / "good.npy"
    assert main(["sample", "--checkpoint", str(checkpoint), "--n", "20", "--out", str(samples)]) == 0
    damaged = tmp_path / "fashion_classifier.pt"
    damaged.write_bytes(course.quality.CLASSIFIER_PATH.read_bytes()[:-10])
    monkeypatch.setattr(course.quality, "CLASSIFIER_PATH", damaged)
    capsys.readouterr()
    assert main(["evaluate", "--samples", str(samples)]) == 1
    line = one_error_line(capsys)
    assert "fashion_classifier.pt has been changed" in line and "good.npy" not in line
    monkeypatch.undo()

    copy = tmp_path / "fashion-mnist"  # the data with one file cut short, as by an interrupted copy
    copy.mkdir()
    for original in course.data.DEBIAN_DIR.iterdir():
        (copy / original.name).symlink_to(original)
    (copy / "train-images-idx3-ubyte.gz").unlink()
    (copy / "train-images-idx3-ubyte.gz").write_bytes(
        (course.data.DEBIAN_DIR / "train-images-idx3-ubyte.gz").read_bytes()[:5000]
    )
    monkeypatch.setattr(course.data, "fashion_mnist_folders", lambda: [copy])
    monkeypatch.setattr(course.quality, "_real_dresses_cache", {})
    assert main(["evaluate", "--samples", str(samples)]) == 1
    line = one_error_line(capsys)
    assert "train-images-idx3-ubyte.gz is not a complete gzip file" in line and "good.npy" not in line


def test_a_checkpoint_with_nan_weights_is_refused_rather_than_drawn_blank(checkpoint, tmp_path, capsys):
    saved = torch.load(checkpoint, weights_only=True)
    first = next(name for name, tensor in saved["generator"].items() if tensor.is_floating_point())
    saved["generator"][first] = torch.full_like(saved["generator"][first], float("nan"))
    torch.save(saved, tmp_path / "diverged.pt")
    assert main(["sample", "--checkpoint", str(tmp_path / "diverged.pt"), "--out", str(tmp_path / "s.npy")]) == 1
    assert "holds NaN or infinite weights" in one_error_line(capsys) and not (tmp_path / "s.npy").exists()


@pytest.mark.parametrize("peak", ["-1", "0", "nan", "inf", "fast"])
def test_bench_refuses_a_peak_that_is_not_a_positive_number(peak, capsys):
    with pytest.raises(SystemExit) as usage_error:
        main(["bench", "--peak-tflops", peak])
    assert usage_error.value.code == 2 and f"must be a number above 0, got '{peak}'" in capsys.readouterr().err
