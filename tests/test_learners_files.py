"""Nothing the learner owns is touched: no command replaces what it did not make, every stop keeps the work done,
a checkpoint knows its data, and damage, memory and odd terminals are named as what they are."""

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from paths import ROOT

from course import gan_training
from course.cli import main

pytestmark = pytest.mark.usefixtures("runs_dir")  # each test, and each command it starts, has a runs folder of its own


def one_error_line(capsys) -> str:
    """stderr of the last command: exactly one line, starting with 'error:' (no traceback); returned for more checks."""
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err and len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def course_command(arguments: list[str], **options) -> subprocess.Popen:
    """`python -m course ARGUMENTS` as its own process, with its runs in the test's runs folder."""
    env = {**os.environ, "COURSE_PROGRESS": "text", **options.pop("env", {})}
    return subprocess.Popen([sys.executable, "-m", "course", *arguments], cwd=ROOT, env=env, text=True, **options)


# --- course.sh removes only what it made --------------------------------------------------------


@pytest.fixture
def failing_venv(tmp_path):
    """A PYTHON whose venv module fails after writing part of an environment, and an apt-get that installs nothing."""
    tools = tmp_path / "tools"
    tools.mkdir()
    python = tools / "python-without-venv"
    python.write_text(
        '#!/bin/sh\nif [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && echo half > "$3/bin/half"; exit 1; fi\n'
        f'exec {sys.executable} "$@"\n'
    )
    (tools / "apt-get").write_text("#!/bin/sh\nexit 1\n")
    for tool in tools.iterdir():
        tool.chmod(0o755)
    return {**os.environ, "PYTHON": str(python), "PATH": f"{tools}:{os.environ['PATH']}"}


def course_sh(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(ROOT / "course.sh"), "test"], env=env, capture_output=True, text=True, timeout=120
    )


def test_course_sh_refuses_a_venv_folder_of_yours_and_leaves_it_as_it_was(tmp_path, failing_venv):
    yours = tmp_path / "my projects"
    (yours / "thesis").mkdir(parents=True)
    (yours / "thesis" / "chapter1.tex").write_text("three years of work")
    done = course_sh({**failing_venv, "VENV": str(yours)})
    assert done.returncode == 1 and "exists and is not a virtual environment" in done.stderr, done.stderr
    assert (yours / "thesis" / "chapter1.tex").read_text() == "three years of work"


def test_course_sh_removes_only_what_its_failed_venv_wrote(tmp_path, failing_venv):
    new, empty = tmp_path / "new-venv", tmp_path / "empty-venv"
    empty.mkdir()
    for venv in (new, empty):
        done = course_sh({**failing_venv, "VENV": str(venv)})
        assert done.returncode == 1 and "could not create a virtual environment" in done.stderr, done.stderr
    assert not new.exists()  # made by the script: removed
    assert empty.is_dir() and not list(empty.iterdir())  # yours, empty before: empty again, still there


# --- an output is a file the command may write ------------------------------------------------------


def test_an_existing_file_is_replaced_only_with_force(checkpoint, tmp_path, capsys):
    out = tmp_path / "mine.npy"
    out.write_bytes(b"my own samples")
    assert main(["sample", "--checkpoint", str(checkpoint), "--n", "4", "--out", str(out)]) == 2
    assert "already exists: add --force to replace it" in one_error_line(capsys)
    assert out.read_bytes() == b"my own samples"
    assert main(["sample", "--checkpoint", str(checkpoint), "--n", "4", "--out", str(out), "--force"]) == 0
    assert np.load(out).shape == (4, 28, 28)


@pytest.mark.parametrize(
    "command",
    [["bench", "--steps", "1", "--rounds", "1"], ["train-classifier", "--epochs", "1"], ["sample", "--n", "4"]],
)
def test_an_out_that_names_a_device_or_a_pipe_is_refused_and_stays_what_it_is(
    command, checkpoint, tmp_path, capsys, monkeypatch
):
    import course.bench
    import course.quality
    import course.training

    monkeypatch.setattr(course.bench, "benchmark", lambda *args, **kwargs: pytest.fail("timed before checking --out"))
    monkeypatch.setattr(
        course.quality, "train_quality_classifier", lambda *args, **kwargs: pytest.fail("trained before checking --out")
    )
    pipe = tmp_path / "pipe.npy"
    os.mkfifo(pipe)
    nodes = [pipe]
    try:
        os.mknod(tmp_path / "null.npy", stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a second /dev/null
        nodes.append(tmp_path / "null.npy")
    except PermissionError:  # not root: the pipe alone
        pass
    extra = ["--checkpoint", str(checkpoint)] if command[0] == "sample" else []
    for node in nodes:
        for force in ([], ["--force"]):
            assert main([*command, *extra, *force, "--out", str(node)]) in (1, 2)
            assert "is not a regular file" in one_error_line(capsys)
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert len(nodes) == 1 or stat.S_ISCHR((tmp_path / "null.npy").stat().st_mode)


def test_train_classifier_keeps_existing_weights_unless_forced(tmp_path, capsys, monkeypatch):
    import course.quality
    import course.training
    from course.models import SmallCNN

    monkeypatch.setattr(course.quality, "train_quality_classifier", lambda *args, **kwargs: SmallCNN(num_classes=10))
    monkeypatch.setattr(course.training, "evaluate", lambda *args, **kwargs: (0.0, 0.9))
    weights = tmp_path / "weights.pt"
    weights.write_bytes(b"weights I trained for a week")
    assert main(["train-classifier", "--epochs", "1", "--out", str(weights)]) == 2
    assert "already exists" in one_error_line(capsys) and weights.read_bytes() == b"weights I trained for a week"
    assert main(["train-classifier", "--epochs", "1", "--out", str(weights), "--force"]) == 0
    assert weights.read_bytes() != b"weights I trained for a week"


# --- a checkpoint knows its data --------------------------------------------------------------------


def grey_pictures(folder: Path, seed: int) -> Path:
    from PIL import Image

    folder.mkdir(parents=True)
    for number, pixels in enumerate(np.random.default_rng(seed).integers(0, 256, (16, 28, 28), dtype=np.uint8)):
        Image.fromarray(pixels).save(folder / f"picture{number}.png")
    return folder


@pytest.mark.slow
def test_a_resume_on_other_data_is_refused_naming_both_and_the_checkpoint_is_kept(tmp_path, capsys, monkeypatch):
    first, second = grey_pictures(tmp_path / "first", 0), grey_pictures(tmp_path / "second", 1)
    run = tmp_path / "run"
    common = ["train-gan", "--size", "28", "--channels", "1", "--batch-size", "8", "--out", str(run)]
    assert main([*common, "--images", str(first), "--steps", "2"]) == 0
    before = (run / gan_training.CHECKPOINT).read_bytes()
    assert gan_training.read_checkpoint(run / gan_training.CHECKPOINT)["data"]["source"] == f"16 pictures from {first}"
    capsys.readouterr()
    assert main([*common, "--images", str(second), "--steps", "4", "--resume"]) == 1
    line = one_error_line(capsys)
    assert (
        f"was trained on 16 pictures from {first}" in line and f"this run was given 16 pictures from {second}" in line
    )
    assert (
        main(["train-gan", "--batch-size", "8", "--out", str(run), "--steps", "4", "--resume"]) == 1
    )  # Fashion-MNIST now
    assert "this run was given 6,000 dresses" in one_error_line(capsys)
    assert (run / gan_training.CHECKPOINT).read_bytes() == before
    assert main([*common, "--images", str(first), "--steps", "4", "--resume"]) == 0  # the same data: resumed
    assert gan_training.read_checkpoint(run / gan_training.CHECKPOINT)["step"] == 4


@pytest.mark.slow
def test_a_checkpoint_from_before_data_was_recorded_still_resumes(tmp_path, images, tiny_config):
    config = tiny_config(steps=2)
    gan_training.train_gan(config, images, tmp_path, progress=False)
    old = torch.load(tmp_path / gan_training.CHECKPOINT, weights_only=True)
    del old["data"]
    torch.save(old, tmp_path / gan_training.CHECKPOINT)
    assert gan_training.train_gan(tiny_config(steps=4), images, tmp_path, resume=True, progress=False).step == 4


# --- damage is named as damage ------------------------------------------------------------------


def swap_optimisers(saved: dict) -> None:
    saved["g_optimizer"], saved["d_optimizer"] = saved["d_optimizer"], saved["g_optimizer"]


DAMAGE = {
    "missing optimiser": (lambda saved: saved.pop("g_optimizer"), "it lacks g_optimizer"),
    "negative step": (lambda saved: saved.update(step=-3), "its step is -3"),
    "fractional step": (lambda saved: saved.update(step=2.5), "its step is 2.5"),
    "swapped optimisers": (swap_optimisers, "does not fit its network"),
    "bad noise state": (
        lambda saved: saved.update(noise_source=torch.zeros(3, dtype=torch.uint8)),
        "its noise state cannot be restored",
    ),
    "short history": (lambda saved: saved["history"]["d_loss"].pop(), "its history does not hold"),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_checkpoint_is_named_as_damaged_with_its_file(damage, tmp_path, images, tiny_config):
    edit, says = DAMAGE[damage]
    gan_training.train_gan(tiny_config(steps=2, checkpoint_every=2), images, tmp_path, progress=False)
    saved = torch.load(tmp_path / gan_training.CHECKPOINT, weights_only=True)
    edit(saved)
    torch.save(saved, tmp_path / gan_training.CHECKPOINT)
    with pytest.raises(gan_training.DamagedCheckpoint) as caught:
        gan_training.train_gan(tiny_config(steps=4, checkpoint_every=2), images, tmp_path, resume=True, progress=False)
    assert says in str(caught.value) and str(tmp_path / gan_training.CHECKPOINT) in str(caught.value)


def test_a_damaged_checkpoint_is_one_line_from_the_command_line_never_a_fault_in_the_course(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train-gan", "--steps", "1", "--batch-size", "8", "--out", str(run)]) == 0
    saved = torch.load(run / gan_training.CHECKPOINT, weights_only=True)
    swap_optimisers(saved)
    torch.save(saved, run / gan_training.CHECKPOINT)
    capsys.readouterr()
    assert main(["train-gan", "--steps", "2", "--batch-size", "8", "--out", str(run), "--resume"]) == 1
    line = one_error_line(capsys)
    assert "checkpoint.pt is damaged" in line and "fault in the course" not in line
    saved.update(step=-1)
    torch.save(saved, run / gan_training.CHECKPOINT)
    assert main(["sample", "--checkpoint", str(run / gan_training.CHECKPOINT), "--out", str(tmp_path / "s.npy")]) == 1
    assert "is damaged: its step is -1" in one_error_line(capsys)


@pytest.mark.parametrize(
    "error",
    [
        torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
        RuntimeError(
            "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: "
            "you tried to allocate 8589934592 bytes."
        ),
        MemoryError(),
    ],
    ids=["cuda", "cpu", "python"],
)
def test_running_out_of_memory_is_named_with_what_to_do(error, tmp_path, capsys, monkeypatch):
    def runs_out(*args, **kwargs):
        raise error

    monkeypatch.setattr(gan_training, "train_gan", runs_out)
    assert main(["train-gan", "--steps", "1", "--out", str(tmp_path / "run")]) == 1
    line = one_error_line(capsys)
    assert "out of memory" in line and "--batch-size" in line and "fault in the course" not in line


# --- every stop keeps the work ---------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("stop", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_a_run_as_ctrl_c_does_with_its_checkpoint(stop, tmp_path):
    run = tmp_path / "run"
    command = course_command(
        ["train-gan", "--steps", "100000", "--batch-size", "8", "--checkpoint-every", "100000", "--out", str(run)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert command.stdout.readline().startswith("training dcgan")
    time.sleep(3)  # some steps
    command.send_signal(getattr(signal, stop))
    out, err = command.communicate(timeout=60)
    assert command.returncode == 0, err
    assert f"as asked ({stop}): checkpoint saved" in out and "stopped early at step" in out
    reached = gan_training.read_checkpoint(run / gan_training.CHECKPOINT)["step"]
    assert reached > 0 and f"step {reached} of 100000" in out


@pytest.mark.slow
def test_sigterm_stops_any_command_with_one_line_and_no_half_file(checkpoint, tmp_path):
    out = tmp_path / "many.npy"
    command = course_command(
        ["sample", "--checkpoint", str(checkpoint), "--n", "3000000", "--out", str(out)],
        stderr=subprocess.PIPE,
        env={"COURSE_PROGRESS": "text"},
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".many.npy.*.part")) and time.monotonic() < deadline:
        time.sleep(0.05)  # until it is writing
    command.send_signal(signal.SIGTERM)
    err = command.communicate(timeout=60)[1]
    assert command.returncode == 128 + signal.SIGTERM and "Traceback" not in err
    assert err.strip().splitlines()[-1] == "stopped by SIGTERM; every file written so far is whole."
    assert not out.exists() and not list(tmp_path.glob(".many.npy.*"))


@pytest.mark.slow
def test_a_reader_that_goes_away_does_not_turn_a_finished_run_into_a_failure(tmp_path):
    run = tmp_path / "run"
    command = course_command(
        ["train-gan", "--steps", "2", "--batch-size", "8", "--out", str(run)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    command.stdout.close()  # as `| head -0` does
    err = command.communicate(timeout=120)[1]
    assert command.returncode == 0 and "Broken pipe" not in err, err
    assert gan_training.read_checkpoint(run / gan_training.CHECKPOINT)["step"] == 2


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_terminal_that_cannot_show_a_name_still_gets_the_result(encoding, checkpoint, tmp_path):
    out = tmp_path / "服装 é.npy"
    command = course_command(
        ["sample", "--checkpoint", str(checkpoint), "--n", "4", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PYTHONIOENCODING": encoding},
        encoding=encoding,
    )
    printed, err = command.communicate(timeout=120)
    assert command.returncode == 0, err
    assert np.load(out).shape == (4, 28, 28) and "wrote 4 images to" in printed and "\\u670d" in printed


# --- real read-only places and full disks, in a private mount namespace ----------------------------------


def in_mount_namespace(setup: str, arguments: list[str]) -> subprocess.CompletedProcess:
    """Run `setup` (mounts) and then `python -m course ARGUMENTS` in a mount namespace of their own."""
    if (
        shutil.which("unshare") is None
        or subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode
    ):
        pytest.skip("needs a private mount namespace (unshare --mount, as root)")
    quoted = " ".join(f"'{argument}'" for argument in arguments)
    script = f"{setup} && exec '{sys.executable}' -m course {quoted}"
    return subprocess.run(
        ["unshare", "--mount", "sh", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_a_read_only_run_folder_is_refused_before_training(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    done = in_mount_namespace(
        f"mount --bind -o ro '{folder}' '{folder}'", ["train-gan", "--steps", "1", "--out", str(folder / "run")]
    )
    assert (
        done.returncode == 1
        and done.stderr.startswith("error: Cannot write the run's checkpoints")
        and "Read-only" in done.stderr
    ), done.stderr
    assert not list(folder.iterdir())


@pytest.mark.slow
def test_a_disk_too_small_for_the_samples_is_refused_before_drawing(checkpoint, tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    done = in_mount_namespace(
        f"mount -t tmpfs -o size=1m tmpfs '{small}'",
        ["sample", "--checkpoint", str(checkpoint), "--n", "5000", "--out", str(small / "s.npy")],
    )
    assert done.returncode == 1 and "MiB free" in done.stderr and "free some space" in done.stderr, done.stderr
