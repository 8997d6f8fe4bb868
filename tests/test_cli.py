import argparse
import json

import nbformat
import numpy as np
import pytest
from paths import ROOT

from course.cli import build_parser, main, message_for
from course.gan_settings import TUNED_DCGAN
from course.notebooks import course_notebooks
from course.validation import require_positive_int


def test_data_command_verifies_what_is_there(capsys):
    assert main(["data", "--no-download"]) == 0
    out = capsys.readouterr().out
    assert "546 sales, checksum verified" in out and "60,000 train" in out


def test_the_course_notebooks_are_found_in_order():
    names = [path.name for path in course_notebooks()]
    assert names[:2] == ["00_welcome.ipynb", "01_linear_regression.ipynb"] and names == sorted(names)


def test_run_notebooks_executes_at_the_scale_and_saves_clean_metadata(tmp_path, capsys):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("import os\nprint(os.environ['COURSE_SCALE'])")
    ]  # what course.resolve_scale reads
    notebook.metadata["some_editor"] = {"path": str(tmp_path)}
    path = tmp_path / "99_probe.ipynb"
    nbformat.write(notebook, path)
    assert main(["run-notebooks", "--scale", "smoke", str(path)]) == 0
    assert "1 notebook in" in capsys.readouterr().out
    saved = json.loads(path.read_text())
    assert "".join(saved["cells"][0]["outputs"][0]["text"]) == "smoke\n"
    assert saved["cells"][0]["execution_count"] == 1
    assert set(saved["metadata"]) == {"kernelspec", "language_info"}


def test_an_unknown_command_or_scale_is_refused(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["train-everything"])
    with pytest.raises(SystemExit):
        main(["run-notebooks", "--scale", "huge"])
    assert "invalid choice" in capsys.readouterr().err


def test_data_command_fails_clearly_when_nothing_is_found(monkeypatch, tmp_path, capsys):
    from course import data

    monkeypatch.setattr(data, "fashion_mnist_folders", lambda: [tmp_path / "nowhere"])
    assert main(["data", "--no-download"]) == 1
    assert "apt-get install dataset-fashion-mnist" in capsys.readouterr().err


def test_run_notebooks_reports_a_failing_notebook_and_leaves_it_unchanged(tmp_path, capsys):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("raise RuntimeError('broken lesson')")]
    path = tmp_path / "98_broken.ipynb"
    nbformat.write(notebook, path)
    before = path.read_text()
    assert main(["run-notebooks", "--scale", "smoke", str(path)]) == 1
    assert "98_broken.ipynb failed at scale smoke" in capsys.readouterr().err
    assert path.read_text() == before
    assert main(["run-notebooks", str(tmp_path / "no_such.ipynb")]) == 1
    assert "no such notebook" in capsys.readouterr().err


@pytest.mark.slow
def test_train_gan_sample_and_evaluate_work_together(tmp_path, capsys):
    import numpy as np

    run = tmp_path / "run"
    assert (
        main(
            [
                "train-gan",
                "--steps",
                "2",
                "--batch-size",
                "16",
                "--sample-every",
                "1",
                "--checkpoint-every",
                "1",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    assert "reached step 2 of 2" in capsys.readouterr().out
    assert main(["train-gan", "--steps", "3", "--batch-size", "16", "--out", str(run)]) == 2
    assert "add --resume" in capsys.readouterr().err
    assert main(["train-gan", "--steps", "3", "--batch-size", "16", "--out", str(run), "--resume"]) == 0
    assert "reached step 3 of 3" in capsys.readouterr().out
    assert (
        main(["sample", "--checkpoint", str(run / "checkpoint.pt"), "--n", "20", "--out", str(tmp_path / "s.npy")]) == 0
    )
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape == (20, 28, 28) and samples.dtype == np.uint8
    assert (
        main(["sample", "--checkpoint", str(run / "checkpoint.pt"), "--n", "9", "--out", str(tmp_path / "s.png")]) == 0
    )
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    assert main(["evaluate", "--samples", str(tmp_path / "s.npy")]) == 0
    assert "dressness" in capsys.readouterr().out


def test_gan_commands_refuse_bad_inputs_with_a_fix(tmp_path, capsys):
    import numpy as np

    assert main(["sample", "--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path / "s.npy")]) == 1
    assert "train first" in capsys.readouterr().err
    assert main(["sample", "--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path / "s.jpg")]) == 2
    assert "must end in .npy" in capsys.readouterr().err
    assert main(["evaluate", "--samples", str(tmp_path / "missing.npy")]) == 1
    assert "no such file" in capsys.readouterr().err
    np.save(tmp_path / "floats.npy", np.zeros((10, 28, 28)))
    assert main(["evaluate", "--samples", str(tmp_path / "floats.npy")]) == 1
    assert "uint8" in capsys.readouterr().err
    for command in (
        ["train-gan", "--steps", "0"],
        ["train-gan", "--epochs", "-3"],
        ["train-gan", "--batch-size", "two"],
        ["sample", "--checkpoint", "c.pt", "--n", "0"],
        ["train-classifier", "--epochs", "0"],
    ):
        with pytest.raises(SystemExit) as usage_error:
            main([*command, "--out", str(tmp_path / "r")])
        assert usage_error.value.code == 2
        assert (
            f"argument {command[-2]}: must be a whole number of at least 1, got '{command[-1]}'"
            in capsys.readouterr().err
        )
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["train-gan", "--steps", "1", "--out", str(blocker / "run")]) == 2
    assert "which is a file, not a folder" in capsys.readouterr().err


def test_prepare_checks_the_data_and_classifier_and_runs_copies_of_the_long_notebooks(monkeypatch, tmp_path, capsys):
    import course.notebooks

    ran = []

    def record(path, scale):
        ran.append((path.name, scale, path.parent != course.notebooks.NOTEBOOK_DIR))
        return course.notebooks.NotebookRun(1.0, path)

    monkeypatch.setattr(course.notebooks, "run_notebook", record)
    assert main(["prepare", "--scale", "smoke"]) == 0
    assert ran == [("04_transfer_learning.ipynb", "smoke", True)]
    out = capsys.readouterr().out
    assert "checksum" in out and "Ready for class at scale smoke" in out and "--with-gans" in out
    ran.clear()
    assert main(["prepare", "--scale", "smoke", "--with-gans"]) == 0
    assert [name for name, _, copy in ran if copy] == [
        "04_transfer_learning.ipynb",
        "06_dcgan_dresses.ipynb",
        "07_wasserstein.ipynb",
        "08_discriminator_payoff.ipynb",
        "09_beyond.ipynb",
    ]


def test_prepare_stops_on_missing_data(monkeypatch, capsys):
    import course.readiness

    monkeypatch.setattr(course.readiness, "data_report", lambda download: ["Fashion-MNIST: PROBLEM: not found"])
    assert main(["prepare", "--scale", "smoke"]) == 1
    assert "PROBLEM" in capsys.readouterr().err


def test_train_gan_on_a_folder_of_colour_pictures_then_sample_them(tmp_path, runs_dir, capsys, fashion):
    import numpy as np

    from course.colour_pictures import recolour_dresses
    from course.picture_output import write_image_folder

    folder = tmp_path / "pictures"
    write_image_folder(recolour_dresses(fashion.dresses("train")[:20]), folder, prefix="dress")
    (folder / "broken.jpg").write_bytes(b"not a picture")
    run = tmp_path / "colour"
    args = [
        "train-gan",
        "--images",
        str(folder),
        "--size",
        "32",
        "--channels",
        "3",
        "--model",
        "resnet",
        "--steps",
        "2",
        "--batch-size",
        "8",
        "--out",
        str(run),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert (
        "skipped 1 of 21 files: 1 unreadable (broken.jpg)" in out
        and "20 pictures from" in out
        and "resnet networks" in out
    )
    assert (
        main(["sample", "--checkpoint", str(run / "checkpoint.pt"), "--n", "6", "--out", str(tmp_path / "c.npy")]) == 0
    )
    assert np.load(tmp_path / "c.npy").shape == (6, 3, 32, 32)
    assert (
        main(["sample", "--checkpoint", str(run / "checkpoint.pt"), "--n", "6", "--out", str(tmp_path / "c.png")]) == 0
    )
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_a_conditional_gan_samples_the_class_asked_for_by_number_or_name(tmp_path, capsys):
    import numpy as np

    run = tmp_path / "conditional"
    assert main(["train-gan", "--conditional", "--steps", "2", "--batch-size", "16", "--out", str(run)]) == 0
    assert "conditional on 10 classes" in capsys.readouterr().out
    checkpoint = str(run / "checkpoint.pt")
    assert (
        main(
            [
                "sample",
                "--checkpoint",
                checkpoint,
                "--n",
                "4",
                "--class",
                "Ankle boot",
                "--out",
                str(tmp_path / "a.npy"),
            ]
        )
        == 0
    )
    assert (
        main(["sample", "--checkpoint", checkpoint, "--n", "4", "--class", "9", "--out", str(tmp_path / "b.npy")]) == 0
    )
    assert np.array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))
    capsys.readouterr()
    assert main(["sample", "--checkpoint", checkpoint, "--n", "4", "--out", str(tmp_path / "c.npy")]) == 2
    assert "say which" in capsys.readouterr().err
    assert (
        main(["sample", "--checkpoint", checkpoint, "--n", "4", "--class", "Hat", "--out", str(tmp_path / "c.npy")])
        == 2
    )
    err = capsys.readouterr().err
    assert "no class 'Hat'" in err and "3 Dress" in err


def test_train_gan_refuses_pictures_it_cannot_use_and_flags_that_do_not_fit(tmp_path, runs_dir, capsys):
    out = ["--steps", "1", "--out", str(tmp_path / "run")]
    assert main(["train-gan", "--images", str(tmp_path / "nowhere"), *out]) == 1
    assert "There is no folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["train-gan", "--images", str(tmp_path / "empty"), *out]) == 1
    assert "no PNG or JPEG files" in capsys.readouterr().err
    assert main(["train-gan", "--images", str(tmp_path / "empty"), "--conditional", *out]) == 2
    assert "a folder of pictures has none" in capsys.readouterr().err
    assert main(["train-gan", "--size", "64", *out]) == 2
    assert "for --images" in capsys.readouterr().err
    plain = tmp_path / "plain"
    assert main(["train-gan", "--steps", "1", "--batch-size", "8", "--out", str(plain)]) == 0
    capsys.readouterr()
    assert (
        main(
            [
                "sample",
                "--checkpoint",
                str(plain / "checkpoint.pt"),
                "--class",
                "Dress",
                "--out",
                str(tmp_path / "d.npy"),
            ]
        )
        == 2
    )
    assert "without classes" in capsys.readouterr().err


@pytest.mark.slow
def test_train_gan_keeps_a_moving_average_by_default_and_resumes_with_the_checkpoints_own(tmp_path, capsys):
    import torch

    from course import gan_training

    run = tmp_path / "run"
    common = ["train-gan", "--batch-size", "16", "--out", str(run)]
    assert main([*common, "--steps", "2"]) == 0
    checkpoint = gan_training.read_checkpoint(run / "checkpoint.pt")
    assert checkpoint["config"]["ema_decay"] == TUNED_DCGAN["ema_decay"] and gan_training.AVERAGE in checkpoint
    assert (
        checkpoint["config"]["learning_rate"] == TUNED_DCGAN["learning_rate"]
    )  # the tuned rate of notebook 06, not the paper's
    capsys.readouterr()
    assert main([*common, "--steps", "3", "--resume", "--ema-decay", "0.5"]) == 1
    assert "ema_decay 0.999 there, 0.5 now" in capsys.readouterr().err
    assert main([*common, "--steps", "3", "--resume"]) == 0  # without the option: the checkpoint's own decay
    plain = tmp_path / "plain"  # a run without an average, as the command trained them before it kept one
    assert main(["train-gan", "--batch-size", "16", "--steps", "1", "--ema-decay", "0", "--out", str(plain)]) == 0
    assert gan_training.AVERAGE not in gan_training.read_checkpoint(plain / "checkpoint.pt")
    assert main(["train-gan", "--batch-size", "16", "--steps", "2", "--resume", "--out", str(plain)]) == 0
    old_rate = gan_training.read_checkpoint(plain / "checkpoint.pt")
    old_rate["config"]["learning_rate"] = 2e-4  # a run from before the tuned default resumes at its own rate
    torch.save(old_rate, plain / "checkpoint.pt")
    assert main(["train-gan", "--batch-size", "16", "--steps", "3", "--resume", "--out", str(plain)]) == 0
    assert gan_training.read_checkpoint(plain / "checkpoint.pt")["config"]["learning_rate"] == 2e-4
    assert (
        main(["train-gan", "--loss", "wgan-gp", "--batch-size", "16", "--steps", "1", "--out", str(tmp_path / "gp")])
        == 0
    )
    assert (
        gan_training.read_checkpoint(tmp_path / "gp" / "checkpoint.pt")["config"]["learning_rate"] == 1e-4
    )  # its paper's
    assert (
        main(
            [
                "train-gan",
                "--batch-size",
                "16",
                "--steps",
                "1",
                "--learning-rate",
                "3e-4",
                "--out",
                str(tmp_path / "lr"),
            ]
        )
        == 0
    )
    assert gan_training.read_checkpoint(tmp_path / "lr" / "checkpoint.pt")["config"]["learning_rate"] == 3e-4
    for bad in ("1", "-0.1", "nan", "0.99x"):
        with pytest.raises(SystemExit) as usage_error:
            main(["train-gan", "--ema-decay", bad, "--out", str(tmp_path / "r")])
        assert usage_error.value.code == 2
        assert (
            f"argument --ema-decay: must be a number from 0 up to but not including 1 (0: no average), got '{bad}'"
            in capsys.readouterr().err
        )


def test_without_a_notebooks_folder_run_notebooks_and_prepare_say_what_to_do(monkeypatch, tmp_path, capsys):
    import course.notebooks

    monkeypatch.setattr(
        course.notebooks, "NOTEBOOK_DIR", tmp_path
    )  # as for an installed course, which has no notebooks folder
    assert main(["run-notebooks"]) == 1
    assert f"no notebooks in {tmp_path}: name the ones to run" in capsys.readouterr().err
    assert main(["prepare"]) == 1
    assert (
        f"no notebooks in {tmp_path}: prepare runs the course's notebooks, so run it in the course's repository"
        in capsys.readouterr().err
    )


def train_gan_options() -> dict:
    commands = next(action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    return {action.dest: action for action in commands.choices["train-gan"]._actions}


def test_the_command_line_offers_the_settings_choices_and_defaults_of_gan_settings():
    from course import gan, gan_settings

    options, config = train_gan_options(), gan.GANConfig()
    assert (
        tuple(options["loss"].choices) == gan_settings.LOSSES and tuple(options["model"].choices) == gan_settings.MODELS
    )
    assert (
        tuple(options["size"].choices) == gan_settings.SIZES
        and tuple(options["channels"].choices) == gan_settings.CHANNELS
    )
    for name in ("batch_size", "sample_every", "checkpoint_every", "seed", "loss", "model"):
        assert options[name].default == getattr(config, name), name
    assert [gan.GANConfig(loss).critic_steps for loss in gan_settings.LOSSES] == [
        gan_settings.critic_steps_for(loss) for loss in gan_settings.LOSSES
    ]
    assert [gan.GANConfig(loss).learning_rate for loss in gan_settings.LOSSES] == list(
        gan_settings.PUBLISHED_LEARNING_RATES.values()
    )


@pytest.mark.parametrize("loss", ["wgan", "wgan-gp"])
def test_a_new_wasserstein_run_keeps_its_papers_rate_with_the_course_average(loss, tmp_path):
    from course import gan_settings, gan_training

    run = tmp_path / "run"
    assert main(["train-gan", "--loss", loss, "--steps", "1", "--batch-size", "8", "--out", str(run)]) == 0
    saved = gan_training.read_checkpoint(run / "checkpoint.pt")["config"]
    assert (
        saved["learning_rate"]
        == gan_settings.PUBLISHED_LEARNING_RATES[loss]
        == gan_settings.new_run_settings(loss)["learning_rate"]
    )
    assert (
        saved["ema_decay"] == TUNED_DCGAN["ema_decay"]
        and saved["critic_steps"] == gan_settings.critic_steps_for(loss) == 5
    )


def test_notebook_06_trains_the_course_tuned_dcgan():
    from course.notebooks import read_notebook

    source = "".join(
        cell.source
        for cell in read_notebook(ROOT / "notebooks" / "06_dcgan_dresses.ipynb").cells
        if cell.cell_type == "code"
    )
    parameters = source[source.index("CONFIG = gan.GANConfig(") :].split("\n)\n")[0]
    assert "**TUNED_DCGAN" in parameters and "learning_rate=" not in parameters and "ema_decay=" not in parameters


def test_the_exit_code_follows_one_rule(tmp_path, capsys):
    existing = tmp_path / "mine.npy"
    existing.write_bytes(b"mine")
    assert (
        main(["sample", "--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path / "a.jpg")]) == 2
    )  # what was typed
    assert (
        main(["sample", "--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path / "a.npy")]) == 1
    )  # a file missing
    assert main(["evaluate", "--samples", str(existing)]) == 1  # a file damaged
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(line.startswith("error: ") and "fault" not in line for line in err), err


def test_a_value_error_from_inside_pytorch_is_a_fault_not_a_message_for_the_learner():
    import torch

    try:
        torch.nn.functional.binary_cross_entropy(torch.zeros(2), torch.zeros(3))
    except ValueError as error:
        from_torch = error
    try:
        require_positive_int("steps", 0)
    except ValueError as error:
        from_course = error
    assert "a fault in the course" in message_for(from_torch) and message_for(from_torch).startswith("ValueError: ")
    assert message_for(from_course) == str(from_course)


def test_an_unreadable_checkpoint_says_what_is_wrong_in_one_line(tmp_path):
    import pickle

    from course import gan_training

    path = tmp_path / "checkpoint.pt"
    path.write_bytes(pickle.dumps(argparse.Namespace(step=1), protocol=2))  # a pickle of something no checkpoint holds
    with pytest.raises(gan_training.DamagedCheckpoint) as caught:
        gan_training.read_checkpoint(path)
    said = str(caught.value)
    assert "(UnpicklingError: WeightsUnpickler error: Unsupported global: GLOBAL argparse.Namespace" in said, said
    assert "weights_only" not in said and "\n" not in said


def test_train_gan_reports_the_quality_of_dresses_it_draws_and_only_of_dresses(tmp_path, capsys):
    from course.picture_output import write_image_folder

    assert main(["train-gan", "--steps", "1", "--batch-size", "8", "--out", str(tmp_path / "dresses")]) == 0
    said = capsys.readouterr().out.splitlines()[-1]
    assert said.startswith("quality, 1,000 samples: dressness ") and "precision " in said and "recall " in said
    pictures = np.random.default_rng(0).integers(0, 256, (8, 3, 32, 32), dtype=np.uint8)
    write_image_folder(pictures, tmp_path / "pictures")
    assert (
        main(
            [
                "train-gan",
                "--images",
                str(tmp_path / "pictures"),
                "--steps",
                "1",
                "--batch-size",
                "8",
                "--out",
                str(tmp_path / "photos"),
            ]
        )
        == 0
    )
    assert "quality" not in capsys.readouterr().out  # the classifier judges dresses, not pictures


def _assigned(source: str, start: str) -> str:
    """The statement of a notebook's code that begins with `start` (e.g. "CONFIG = "), to its last closing bracket."""
    begin = source.index(start)
    depth = 0
    for end, char in enumerate(source[begin:], begin):
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "\n" and depth == 0:
            return source[begin:end]
    return source[begin:]


@pytest.mark.parametrize("scale", ["smoke", "laptop", "full"])
def test_notebook_10_loads_the_runs_of_notebooks_06_and_09(scale):
    import course
    from course import gan
    from course.data import CLASS_NAMES
    from course.notebooks import read_notebook

    def code(name: str) -> str:
        notebook = read_notebook(ROOT / "notebooks" / f"{name}.ipynb")
        return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")

    def built(source: str, *starts: str) -> dict:
        space = {"course": course, "gan": gan, "TUNED_DCGAN": TUNED_DCGAN, "CLASS_NAMES": CLASS_NAMES, "SCALE": scale}
        for start in ("SEED = ", *starts) if "\nSEED = " in source else starts:
            exec(_assigned(source, start), space)
        return space

    dresses, beyond, like_this = code("06_dcgan_dresses"), code("09_beyond"), code("10_a_dress_like_this")
    assert built(dresses, "CONFIG = ")["CONFIG"] == built(like_this, "CONFIG = ")["CONFIG"]
    conditional = built(beyond, "CONDITIONAL_STEPS = ", "config = gan.GANConfig(steps=CONDITIONAL_STEPS")["config"]
    assert conditional == built(like_this, "CONDITIONAL_STEPS = ", "CONDITIONAL = ")["CONDITIONAL"]
