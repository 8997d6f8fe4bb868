"""The course's command line: `python -m course <command>`.

The commands raise; `main()` alone turns what they raise into one line on stderr and an exit code, by one rule:

* 0: the command did what it was asked;
* 2: what was typed must change (a `UsageError`, or argparse's own usage errors): options that cannot go
  together, a value out of range, an output that exists without --force;
* 1: anything else: a file missing or damaged, data that cannot be used, a folder that cannot be written,
  a full disk, or a fault in the course (named as such, with COURSE_DEBUG=1 for its traceback);
* 130, or 128 + the signal's number: stopped by Ctrl-C, SIGTERM or SIGHUP.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import signal
import sys
import threading
from pathlib import Path

from course.errors import first_line, one_line, out_of_memory, raised_by_course
from course.gan_settings import (
    BATCH_SIZE,
    CHANNELS,
    CHECKPOINT_EVERY,
    LOSSES,
    MODELS,
    SAMPLE_EVERY,
    SIZES,
    new_run_settings,
)
from course.scale import SCALES, resolve_scale
from course.validation import SEED_LIMIT, require_positive_int, require_seed

GRID_LIMIT = 1024  # images in one .png grid; more are written to a .npy file
BOOK_DIR = Path(__file__).resolve().parent.parent / "build" / "book"  # python -m course book's default folder
WORKBOOK_DIR = Path(__file__).resolve().parent.parent / "workbook"  # python -m course workbook's default folder


class UsageError(ValueError):
    """What was typed must change: `main()` prints the message and exits with 2."""


class CommandFailed(RuntimeError):
    """The command could not do its work, for reasons it has already printed: `main()` exits with 1."""


@contextlib.contextmanager
def _paths_typed():
    """Around the use of a path from the command line: a folder where a file belongs, a file in the way of a folder,
    or a file that exists without --force is a UsageError."""
    try:
        yield
    except (IsADirectoryError, NotADirectoryError, FileExistsError) as error:
        raise UsageError(str(error)) from None


def _report_data(download: bool) -> None:
    """Print the data report (problems on stderr); raise CommandFailed unless every dataset is there and verified."""
    from course.readiness import data_report

    lines = data_report(download=download)
    for line in lines:
        print(line, file=sys.stderr if "PROBLEM" in line else sys.stdout)
    if any("PROBLEM" in line for line in lines):
        raise CommandFailed()


def _course_notebooks_or_explain(what: str) -> list[Path]:
    """The course's notebooks; an installed course has no notebooks folder of its own, which the error says."""
    from course.notebooks import NOTEBOOK_DIR, course_notebooks

    notebooks = course_notebooks()
    if not notebooks:
        raise FileNotFoundError(f"no notebooks in {NOTEBOOK_DIR}: {what}")
    return notebooks


def command_data(args: argparse.Namespace) -> None:
    """Find (or download) and verify every dataset the course uses."""
    _report_data(download=not args.no_download)


def command_check(args: argparse.Namespace) -> None:
    """Print the environment report of notebook 00."""
    from course.readiness import report

    report()


def command_run_notebooks(args: argparse.Namespace) -> None:
    """Execute notebooks headless at a scale, saving their outputs in place, or beside a notebook edited meanwhile."""
    from course.notebooks import CELL_TIMEOUT, read_notebook, require_can_save

    scale = resolve_scale(args.scale)
    if args.notebooks:
        paths = [Path(p) for p in args.notebooks]
    else:
        paths = _course_notebooks_or_explain(
            "name the ones to run, as in `python -m course run-notebooks 01_linear_regression.ipynb`."
        )
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"no such notebook: {', '.join(missing)}")
    for path in paths:  # every notebook readable, and its run savable, before any runs
        read_notebook(path)
        require_can_save(path)
    limit = f"{CELL_TIMEOUT // 60} minutes" if CELL_TIMEOUT % 60 == 0 else f"{CELL_TIMEOUT} seconds"
    print(f"each cell may run up to {limit}; Ctrl-C stops the run and leaves the notebook as it was", flush=True)
    total = 0.0
    for path in paths:
        print(f"running {path.name} at scale {scale} ...", flush=True)
        run = _run_notebook_or_explain(path, scale, "left unchanged on disk", timeout=CELL_TIMEOUT)
        total += run.seconds
        print(f"  done in {run.seconds:.1f} s", flush=True)
        if run.saved_to != path:
            print(
                f"  {path.name} changed on disk during the run, so it was left as you saved it; "
                f"the run's result is in {run.saved_to.name}",
                flush=True,
            )
    noun = "notebook" if len(paths) == 1 else "notebooks"
    print(f"{len(paths)} {noun} in {total:.1f} s at scale {scale}.")


class NotebookFailed(RuntimeError):
    """A notebook's cell raised: the message names the notebook and holds the cell's error."""


def _run_notebook_or_explain(path: Path, scale: str, left: str, **options):
    """`run_notebook(path, scale)`; a failing cell raised as NotebookFailed, with its error (coloured on a terminal)."""
    from nbclient.exceptions import CellExecutionError

    from course.notebooks import run_notebook, without_colour

    try:
        return run_notebook(path, scale, **options)
    except CellExecutionError as error:
        failure = str(error)
        if os.environ.get("NO_COLOR") or not sys.stderr.isatty():
            failure = without_colour(failure)
        raise NotebookFailed(f"{path.name} failed at scale {scale} ({left}):\n{failure}") from None


def command_book(args: argparse.Namespace) -> None:
    """Build the book: every notebook, as committed, rendered to HTML pages that read offline."""
    import time

    from course.book import build_book

    notebooks = _course_notebooks_or_explain("run this from a clone of the course")
    start = time.perf_counter()
    pages = build_book(notebooks, Path(args.out))
    print(f"built {len(pages)} pages in {time.perf_counter() - start:.0f} s; open {pages[0].resolve()}")


def command_workbook(args: argparse.Namespace) -> None:
    """Build the workbook: every notebook with its lesson's pieces left for the learner to write."""
    from course.notebooks import read_notebook
    from course.workbook import build_workbook, count_pieces

    notebooks = _course_notebooks_or_explain("run this from a clone of the course")
    written = build_workbook(notebooks, Path(args.out))
    pieces = sum(count_pieces(read_notebook(path)) for path in notebooks)
    print(f"built the workbook: {len(written)} notebooks with {pieces} pieces to write, in {Path(args.out).resolve()}")
    print("open it with ./course.sh lab --workbook; each blank says what to write, and the cell below it checks it")


def command_train_classifier(args: argparse.Namespace) -> None:
    """Train the classifier course.quality measures samples with, and save its weights atomically."""
    import time

    from course.checksums import file_sha256
    from course.data import image_tensors, load_fashion_mnist
    from course.device import describe_device, pick_device
    from course.quality import CLASSIFIER_PATH, CLASSIFIER_SHA256, dressness, train_quality_classifier
    from course.runs import require_output_file, save_weights
    from course.training import evaluate

    with _paths_typed():
        out = require_output_file(
            Path(args.out) if args.out else CLASSIFIER_PATH, needed_bytes=2**20, overwrite=args.force
        )  # 0.4 MiB
    fashion = load_fashion_mnist()
    device = pick_device()
    print(f"training the quality classifier for {args.epochs} epochs on {describe_device(device)} ...", flush=True)
    start = time.perf_counter()
    model = train_quality_classifier(fashion, device, epochs=args.epochs)
    seconds = time.perf_counter() - start
    save_weights(model.cpu(), out)
    _, accuracy = evaluate(model, *image_tensors(fashion.test_images, fashion.test_labels))
    digest = file_sha256(out)
    print(f"trained in {seconds:.0f} s; saved {out}")
    print(f"test accuracy {accuracy:.2%}, dress recall {dressness(fashion.dresses('test'), model):.2%}")
    print(f"SHA-256 {digest}")
    if digest != CLASSIFIER_SHA256:
        where = "" if out.resolve() == CLASSIFIER_PATH else "copy the file to course/weights/fashion_classifier.pt and "
        print(
            f"This is not CLASSIFIER_SHA256: to measure with these weights, {where}set CLASSIFIER_SHA256 in "
            "course/quality.py to the SHA-256 above."
        )


def command_train_gan(args: argparse.Namespace) -> None:
    """Train a GAN (on the training dresses, all ten classes, or a folder of pictures), writing to --out."""
    from course import distributed
    from course.device import pick_device

    if not args.distributed:
        _train_gan(args, pick_device(args.device))
        return
    try:
        device = distributed.start(args.device)
    except (RuntimeError, ValueError) as error:
        raise UsageError(str(error)) from None
    try:
        if distributed.rank_and_world()[0] > 0:  # process 0 speaks for all, errors included
            sys.stdout = sys.stderr = io.StringIO()
        _train_gan(args, device)
    finally:
        distributed.finish()


def _train_gan(args: argparse.Namespace, device) -> None:
    from course import gan_training
    from course.distributed import rank_and_world

    _require_options_that_go_together(args)
    folder = Path(args.out)
    if (folder / gan_training.CHECKPOINT).is_file() and not args.resume:
        raise UsageError(f"{folder} already holds a checkpoint; add --resume to continue it, or choose another --out.")
    images, labels, described = _training_images(args, device)
    config = _run_config(args, images, _saved_config(folder))
    world = rank_and_world()[1]
    processes = f" on {world} processes" if world > 1 else ""
    networks = f"{config.model} networks" + (f", conditional on {config.classes} classes" if config.classes else "")
    print(
        f"training {config.loss} ({networks}) for {config.steps} steps on {described}, device "
        f"{device.type}{processes}, into {folder}"
    )
    with _paths_typed():  # --out: checked before any training
        run = gan_training.train_gan(config, images, folder, resume=args.resume, labels=labels, source=described)
    state = "stopped early at" if run.interrupted else "reached"
    print(
        f"{state} step {run.step} of {config.steps}, {run.images_per_second:,.0f} images per second; "
        f"checkpoint {folder / gan_training.CHECKPOINT}, samples in {folder / gan_training.SAMPLES}"
    )
    if not run.interrupted and args.images is None and not args.conditional and rank_and_world()[0] == 0:
        _report_quality(run.sampling_generator)


def _report_quality(generator) -> None:
    """Print how 1,000 new dresses from the generator score (course.quality), as `evaluate` would."""
    from course import gan_sampling
    from course.quality import evaluate_samples

    print(f"quality, {evaluate_samples(gan_sampling.generate(generator, 1000, seed=0))}")


def _require_options_that_go_together(args: argparse.Namespace) -> None:
    if args.images is not None and args.conditional:
        raise UsageError(
            "--conditional needs a class for every image, and a folder of pictures has none: drop one of the two."
        )
    if args.images is None and (args.size, args.channels) != (None, None):
        raise UsageError("--size and --channels are for --images; Fashion-MNIST is 28-pixel grey.")


def _training_images(args: argparse.Namespace, device):
    """The images (in [-1, 1], on the device), their labels or None, and a description, as the arguments ask."""
    import torch

    from course import gan_sampling
    from course.data import CLASS_NAMES, load_fashion_mnist
    from course.photos import load_image_folder, printable

    if args.images is not None:
        pictures, report = load_image_folder(args.images, size=args.size or 32, channels=args.channels or 3)
        return (
            gan_sampling.to_training_range(pictures, device),
            None,
            f"{report['used']:,} pictures from {printable(args.images)}",
        )
    fashion = load_fashion_mnist()
    if args.conditional:
        labels = torch.as_tensor(fashion.train_labels).long().to(device)
        images = gan_sampling.to_training_range(fashion.train_images, device)
        return images, labels, f"{len(labels):,} images of {len(CLASS_NAMES)} classes"
    dresses = fashion.dresses("train")
    return gan_sampling.to_training_range(dresses, device), None, f"{len(dresses):,} dresses"


def _saved_config(folder: Path):
    """The settings of the run folder's checkpoint, or None when it has none yet."""
    from course import gan_training

    checkpoint = folder / gan_training.CHECKPOINT
    if not checkpoint.is_file():
        return None
    return gan_training.checkpoint_config(gan_training.read_checkpoint(checkpoint), checkpoint)


def _run_config(args: argparse.Namespace, images, saved):
    """The run's settings: the options typed; for the others, a resumed run keeps its checkpoint's (runs from before an
    option included) and a new run takes the course's (course.gan_settings.new_run_settings)."""
    from course import gan
    from course.data import CLASS_NAMES
    from course.gan_settings import critic_steps_for

    defaults = new_run_settings(args.loss)
    if saved is not None:
        defaults = {"learning_rate": saved.learning_rate, "ema_decay": saved.ema_decay}
    steps = args.steps
    if steps is None:  # --epochs: passes of the discriminator over the images
        steps = max(1, args.epochs * (len(images) // args.batch_size) // critic_steps_for(args.loss))
    try:
        return gan.GANConfig(
            loss=args.loss,
            steps=steps,
            batch_size=args.batch_size,
            seed=args.seed,
            batch_norm=not args.no_batch_norm,
            sample_every=args.sample_every,
            checkpoint_every=args.checkpoint_every,
            model=args.model,
            channels=images.shape[1],
            size=images.shape[2],
            classes=len(CLASS_NAMES) if args.conditional else 0,
            ema_decay=defaults["ema_decay"] if args.ema_decay is None else args.ema_decay,
            learning_rate=defaults["learning_rate"] if args.learning_rate is None else args.learning_rate,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None


def command_sample(args: argparse.Namespace) -> None:
    """Draw new images from a checkpoint's generator into a .npy file (written batch by batch) or a .png grid."""
    import numpy as np

    from course import gan_sampling, gan_training
    from course.picture_output import to_display
    from course.plots import save_image_grid
    from course.progress import tqdm
    from course.runs import require_output_file, save_npy_in_chunks, write_atomically

    out = Path(args.out)
    if out.suffix not in (".npy", ".png"):
        raise UsageError(f"--out must end in .npy (uint8 images) or .png (a grid), got {out.name}.")
    if out.suffix == ".png" and args.n > GRID_LIMIT:
        raise UsageError(
            f"a .png grid shows at most {GRID_LIMIT:,} images, and --n is {args.n:,}: ask for fewer, "
            "or write them to a .npy file."
        )
    generator = gan_training.load_generator(Path(args.checkpoint))
    label = _sampling_class(args.class_, args.n, generator.classes)
    grey = generator.channels == 1
    shape = (
        (args.n, generator.size, generator.size)
        if grey
        else (args.n, generator.channels, generator.size, generator.size)
    )
    with _paths_typed():
        require_output_file(
            out, needed_bytes=int(np.prod(shape, dtype=np.int64)), overwrite=args.force
        )  # before any image is drawn
    if out.suffix == ".npy":
        chunks = gan_sampling.generate_in_chunks(
            generator, args.n, seed=args.seed, labels=label
        )  # 1,000 images at a time
        save_npy_in_chunks(
            out, shape, tqdm(chunks, total=-(-args.n // 1000), unit="batch", desc="sampling", disable=args.n < 20_000)
        )
    else:
        images = gan_sampling.generate(generator, args.n, seed=args.seed, labels=label)
        write_atomically(out, lambda file: save_image_grid(images if grey else to_display(images), file))
    print(f"wrote {args.n:,} images to {out}")


def _sampling_class(class_: str | None, count: int, classes: int) -> int | None:
    """The class --class asks for, as a number, or None; a usage error (listing the classes) when it cannot be drawn."""
    from course import gan_sampling
    from course.data import CLASS_NAMES

    try:
        label = None if class_ is None else class_number(class_)
        gan_sampling.class_labels(label, count, classes)
    except ValueError as error:
        listed = f" Classes: {', '.join(f'{i} {name}' for i, name in enumerate(CLASS_NAMES))}." if classes else ""
        raise UsageError(f"{error}{listed}") from None
    return label


def class_number(name_or_number: str) -> int:
    """A Fashion-MNIST class given by number ("3") or name ("dress", "Ankle boot"), as its number."""
    from course.data import CLASS_NAMES

    names = [name.lower() for name in CLASS_NAMES]
    if name_or_number.strip().lower() in names:
        return names.index(name_or_number.strip().lower())
    if name_or_number.isascii() and name_or_number.isdigit() and int(name_or_number) < len(CLASS_NAMES):
        return int(name_or_number)
    raise ValueError(f"no class {name_or_number!r}: give a number from 0 to {len(CLASS_NAMES) - 1} or a name.")


def command_like(args: argparse.Namespace) -> None:
    """Find the noise from which a checkpoint's generator redraws a picture, and draw images like it into a .png grid.

    The grid holds the picture as read, its reconstruction, and --n - 2 images from the found noise moved by --spread
    along random unit directions.
    """
    import dataclasses

    import numpy as np
    import torch

    from course import gan_sampling, gan_training
    from course.inversion import InversionSettings, invert
    from course.picture_output import to_display
    from course.plots import save_image_grid
    from course.quality import load_quality_classifier
    from course.runs import require_output_file, write_atomically

    out = Path(args.out)
    if out.suffix != ".png":
        raise UsageError(
            f"--out must end in .png (a grid of the picture, its reconstruction and the rest), got {out.name}."
        )
    if not 3 <= args.n <= GRID_LIMIT:
        raise UsageError(
            f"--n must be from 3 to {GRID_LIMIT:,} (the picture, its reconstruction and at least one like it), "
            f"got {args.n:,}."
        )
    image = Path(args.image)
    _require_picture_file(image)
    generator = gan_training.load_generator(Path(args.checkpoint))
    label = _sampling_class(args.class_, 1, generator.classes)
    with _paths_typed():
        require_output_file(out, needed_bytes=args.n * generator.channels * generator.size**2, overwrite=args.force)
    picture = _read_picture(image, generator.size, generator.channels)
    if generator.channels == 1:
        picture = 255 - picture  # a light background, as photos have, becomes the black of the grey dresses
    target = gan_sampling.to_training_range(picture[None])
    settings = InversionSettings(steps=args.steps, restarts=args.restarts)
    classifier = None
    if (generator.channels, generator.size) == (1, 28):  # the quality classifier reads 28-pixel grey images alone
        classifier = load_quality_classifier("cpu")
    else:
        settings = dataclasses.replace(settings, feature_weight=0)
    labels = gan_sampling.class_labels(label, 1, generator.classes)
    found = invert(generator, target, settings, classifier=classifier, labels=labels, seed=args.seed)
    print(f"reconstruction error {found.pixel_error.item():.3f} (root mean squared, on a 0..1 scale of intensities)")
    directions = torch.randn(  # from a stream of their own: the random starts drew theirs from --seed
        args.n - 2, generator.latent_size, generator=torch.Generator().manual_seed(SEED_LIMIT + args.seed)
    )
    moved = found.noise + args.spread * directions / directions.norm(dim=1, keepdim=True)
    drawn = np.concatenate(  # grey (N, H, W), colour (N, 3, H, W)
        [gan_sampling.to_uint8(found.images), gan_sampling.images_from_noise(generator, moved, label)]
    )
    if generator.channels == 1:
        images = np.concatenate([picture, drawn])  # the picture (1, H, W) as the generator sees it, shown as read
    else:
        images = to_display(np.concatenate([picture[None], drawn]))
    write_atomically(out, lambda file: save_image_grid(images, file))
    print(f"wrote the picture, its reconstruction and {args.n - 2:,} images like it to {out}")


def _require_picture_file(path: Path) -> None:
    """A UsageError unless --image names a file that exists."""
    from course.photos import printable

    if path.is_dir():
        raise UsageError(f"--image {printable(path)} is a folder: give one picture, a PNG or JPEG file.")
    if not path.is_file():
        raise UsageError(f"--image {printable(path)}: no such file; give a PNG or JPEG file that exists.")


def _read_picture(path: Path, size: int, channels: int):
    """`course.photos.read_image(path, size, channels)`; a picture that cannot be used is a UsageError."""
    from PIL import UnidentifiedImageError

    from course.photos import ImageTooLarge, ImageTooSmall, printable, read_image

    try:
        return read_image(path, size, channels)
    except (ImageTooSmall, ImageTooLarge) as error:
        raise UsageError(str(error)) from None
    except UnidentifiedImageError:
        raise UsageError(f"--image {printable(path)} is not a picture: give a PNG or JPEG file.") from None
    except OSError as error:
        raise UsageError(
            f"--image {printable(path)} cannot be read as a picture ({first_line(error)}): give a PNG or JPEG file."
        ) from None


def command_evaluate(args: argparse.Namespace) -> None:
    """Print the quality numbers of a .npy file of generated images."""
    from course.quality import evaluate_samples, read_samples, require_samples

    path = Path(args.samples)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}; make one with `python -m course sample --out FILE.npy`.")
    samples = require_samples(read_samples(path), path.name)
    print(evaluate_samples(samples))  # a damaged dataset or classifier is named by its own error


def command_bench(args: argparse.Namespace) -> None:
    """Time the course's GAN trainer against the textbook DataLoader loop; print and save the figures."""
    from course.bench import benchmark, summary, table
    from course.data import load_fashion_mnist
    from course.device import pick_device
    from course.runs import require_output_file, run_folder, save_json

    device = pick_device(args.device)
    dresses = load_fashion_mnist().dresses("train")
    too_large = [size for size in args.batch_size if size > len(dresses)]
    if too_large:
        raise UsageError(
            f"--batch-size {too_large[0]} is more than the {len(dresses):,} training dresses: choose at most "
            f"{len(dresses):,}."
        )
    default = (
        args.out is None
    )  # the course's own file in its runs folder; a file of yours is replaced only with --force
    with _paths_typed():
        out = require_output_file(
            run_folder("bench") / f"{device.type}.json" if default else Path(args.out), overwrite=default or args.force
        )
    results = []
    for batch_size in args.batch_size:
        result = benchmark(dresses, device, batch_size=batch_size, steps=args.steps, rounds=args.rounds)
        if args.peak_tflops:
            result["peak_tflops"] = args.peak_tflops
            result["fraction_of_peak"] = result["course_tflops"] / args.peak_tflops
        print(summary(result), flush=True)
        results.append(result)
    if len(results) > 1:
        print(table(results))
    save_json(results, out)
    print(f"saved {out}")


def command_prepare(args: argparse.Namespace) -> None:
    """Get this machine ready for a workshop: data, the measuring classifier and the notebooks' long runs."""
    import shutil
    import tempfile
    import time

    from course.notebooks import GAN_RUNS, LONG_RUNS
    from course.quality import load_quality_classifier

    scale = resolve_scale(args.scale)
    notebooks = _course_notebooks_or_explain(
        "prepare runs the course's notebooks, so run it in the course's repository (`./course.sh classroom`)."
    )
    _report_data(download=True)
    load_quality_classifier("cpu")
    print("the quality classifier's weights match their checksum")
    long_runs = LONG_RUNS + (GAN_RUNS if args.with_gans else ())
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for path in [
            path for path in notebooks if path.stem in long_runs
        ]:  # a copy runs: the learners' notebooks stay as committed
            print(f"running {path.name} at scale {scale} to save its results under runs/ ...", flush=True)
            copy = Path(shutil.copy(path, folder))
            seconds = _run_notebook_or_explain(copy, scale, "nothing was saved for it").seconds
            print(f"  done in {seconds:.0f} s", flush=True)
    print(
        f"Ready for class at scale {scale} ({time.perf_counter() - started:.0f} s): the notebooks load these results "
        "instead of computing them, and nothing needs downloading."
    )
    if not args.with_gans:
        print("The GAN notebooks (06 to 09) will train in class; add --with-gans to train them now.")


def positive_int(text: str) -> int:
    """The argparse type of a count: a whole number of at least 1, or a usage error that says so."""
    try:
        return require_positive_int("a count", int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}") from None


def seed_number(text: str) -> int:
    """The argparse type of a seed: a whole number from 0 to 2**32 - 1, or a usage error that says so."""
    try:
        return require_seed("a seed", int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {SEED_LIMIT - 1:,}, got {text!r}") from None


def positive_number(text: str) -> float:
    """The argparse type of a rate or size: a number above 0, or a usage error that says so."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text!r}")
    return value


def decay_number(text: str) -> float:
    """The argparse type of a moving average's decay: a number from 0 up to but not including 1, or a usage error."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a number from 0 up to but not including 1 (0: no average), got {text!r}"
        )
    return value


def _add_drawing_options(parser: argparse.ArgumentParser, class_help: str) -> None:
    """--seed, --force and --class: what every command that draws from a checkpoint into --out takes."""
    parser.add_argument("--seed", type=seed_number, default=0)
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")
    parser.add_argument(
        "--class",
        dest="class_",
        default=None,
        metavar="CLASS",
        help=f"for a conditional checkpoint: {class_help}, a number 0-9 or a name such as Dress",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="find or download, and verify, the course's datasets")
    data.add_argument("--no-download", action="store_true", help="only look for local copies")
    data.set_defaults(run=command_data)

    check = commands.add_parser("check", help="is this machine ready? versions, device, scale, data")
    check.set_defaults(run=command_check)

    run = commands.add_parser("run-notebooks", help="execute notebooks headless, saving outputs in place")
    run.add_argument("notebooks", nargs="*", help="notebooks to run (default: all, in course order)")
    run.add_argument("--scale", choices=SCALES, default=None, help="default: COURSE_SCALE, else by device")
    run.set_defaults(run=command_run_notebooks)

    book = commands.add_parser(
        "book", help="render the notebooks, with their outputs, as a static HTML book that reads offline"
    )
    book.add_argument("--out", default=str(BOOK_DIR), help=f"the folder to write the book into (default: {BOOK_DIR})")
    book.set_defaults(run=command_book)

    workbook = commands.add_parser(
        "workbook", help="build the learner's edition: the notebooks with the networks, losses and loops left to write"
    )
    workbook.add_argument(
        "--out", default=str(WORKBOOK_DIR), help=f"the folder to write the workbook into (default: {WORKBOOK_DIR})"
    )
    workbook.set_defaults(run=command_workbook)

    train = commands.add_parser(
        "train-classifier", help="train the classifier that course.quality measures samples with"
    )
    train.add_argument(
        "--epochs", type=positive_int, default=8, help="passes over the 60,000 training images (default: 8)"
    )
    train.add_argument(
        "--out", default=None, help="where to save the weights (default: course/weights/fashion_classifier.pt)"
    )
    train.add_argument("--force", action="store_true", help="replace the weights file if it exists")
    train.set_defaults(run=command_train_classifier)

    train_gan = commands.add_parser(
        "train-gan", help="train a GAN on the training dresses, with samples and checkpoints"
    )
    train_gan.add_argument("--loss", choices=LOSSES, default="dcgan")
    length = train_gan.add_mutually_exclusive_group()
    length.add_argument(
        "--epochs",
        type=positive_int,
        default=10,
        help="passes of the discriminator over the 6,000 dresses (default: 10)",
    )
    length.add_argument("--steps", type=positive_int, default=None, help="generator steps, instead of --epochs")
    train_gan.add_argument("--out", required=True, help="the run folder, e.g. runs/dcgan")
    train_gan.add_argument("--resume", action="store_true", help="continue from the run folder's last checkpoint")
    train_gan.add_argument(
        "--batch-size", type=positive_int, default=BATCH_SIZE, help=f"images per step (default: {BATCH_SIZE})"
    )
    train_gan.add_argument("--seed", type=seed_number, default=0)
    train_gan.add_argument(
        "--sample-every",
        type=positive_int,
        default=SAMPLE_EVERY,
        help=f"render the fixed noise batch every N steps (default: {SAMPLE_EVERY})",
    )
    train_gan.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=CHECKPOINT_EVERY,
        help=f"write a checkpoint every N steps (default: {CHECKPOINT_EVERY})",
    )
    train_gan.add_argument("--device", default=None, help="cuda, mps or cpu (default: the fastest here)")
    train_gan.add_argument(
        "--no-batch-norm", action="store_true", help="leave batch normalisation out of both networks"
    )
    train_gan.add_argument(
        "--ema-decay",
        type=decay_number,
        default=None,
        metavar="DECAY",
        help=f"keep a moving average of the generator's weights, which samples are drawn from; 0: none "
        f"(default for a new run: {new_run_settings('dcgan')['ema_decay']}; with --resume, the checkpoint's)",
    )
    train_gan.add_argument(
        "--learning-rate",
        type=positive_number,
        default=None,
        metavar="RATE",
        help=f"both players' Adam (or RMSprop) rate (default for a new run: "
        f"{new_run_settings('dcgan')['learning_rate']:g} for dcgan, the loss's published rate otherwise; "
        "with --resume, the checkpoint's)",
    )
    train_gan.add_argument("--model", choices=MODELS, default="dcgan", help="the networks (default: dcgan)")
    train_gan.add_argument(
        "--conditional",
        action="store_true",
        help="train on all ten Fashion-MNIST classes, each image with its class (sample with --class)",
    )
    train_gan.add_argument(
        "--images",
        default=None,
        metavar="FOLDER",
        help="train on your own PNG/JPEG pictures in FOLDER instead (resized, centre-cropped, cached)",
    )
    train_gan.add_argument(
        "--size", type=int, choices=SIZES, default=None, help="with --images: side in pixels (default: 32)"
    )
    train_gan.add_argument(
        "--channels", type=int, choices=CHANNELS, default=None, help="with --images: 3 colour (default) or 1 grey"
    )
    train_gan.add_argument(
        "--distributed",
        action="store_true",
        help="train on several processes started by torchrun (--batch-size is their total)",
    )
    train_gan.set_defaults(run=command_train_gan)

    sample = commands.add_parser("sample", help="draw new images from a GAN checkpoint")
    sample.add_argument("--checkpoint", required=True, help="a run folder's checkpoint.pt")
    sample.add_argument("--n", type=positive_int, default=1000, help="how many images (default: 1000)")
    sample.add_argument(
        "--out", required=True, help="FILE.npy (uint8, N x 28 x 28, or N x 3 x H x W in colour) or FILE.png (a grid)"
    )
    _add_drawing_options(sample, class_help="the class to draw")
    sample.set_defaults(run=command_sample)

    like = commands.add_parser(
        "like", help="find the noise a GAN checkpoint redraws a picture from, and draw images like the picture"
    )
    like.add_argument("--checkpoint", required=True, help="a run folder's checkpoint.pt")
    like.add_argument(
        "--image",
        required=True,
        metavar="FILE",
        help="a PNG or JPEG picture on a light background, as photos of clothes are; for a grey generator it is "
        "turned to light on black (255 - grey), as the Fashion-MNIST dresses are",
    )
    like.add_argument(
        "--out", required=True, help="FILE.png: a grid of the picture, its reconstruction and the images like it"
    )
    like.add_argument(
        "--n", type=positive_int, default=16, help=f"images in the grid, from 3 to {GRID_LIMIT:,} (default: 16)"
    )
    like.add_argument(
        "--spread",
        type=positive_number,
        default=2.0,
        help="how far from the picture's noise the others are drawn, along random unit directions (default: 2.0; "
        "noise of 64 numbers is about 8 long)",
    )
    like.add_argument("--steps", type=positive_int, default=300, help="Adam steps on the noise (default: 300)")
    like.add_argument(
        "--restarts", type=positive_int, default=4, help="random starts, of which the best is kept (default: 4)"
    )
    _add_drawing_options(like, class_help="the picture's class")
    like.set_defaults(run=command_like)

    evaluate = commands.add_parser(
        "evaluate", help="quality numbers of generated images: dressness, squared Fréchet distance, precision, recall"
    )
    evaluate.add_argument(
        "--samples", required=True, help="a .npy file of uint8 images (N x 28 x 28), ideally N = 1000"
    )
    evaluate.set_defaults(run=command_evaluate)

    prepare = commands.add_parser("prepare", help="get this machine ready for a workshop ahead of time")
    prepare.add_argument(
        "--scale",
        choices=SCALES,
        default=None,
        help="the scale the class will run at (default: COURSE_SCALE, else by device)",
    )
    prepare.add_argument("--with-gans", action="store_true", help="also train the GANs of notebooks 06 to 09 now")
    prepare.set_defaults(run=command_prepare)

    bench = commands.add_parser("bench", help="time the GAN trainer against the textbook DataLoader loop")
    bench.add_argument(
        "--batch-size", type=positive_int, nargs="+", default=[64], help="one or more batch sizes (default: 64)"
    )
    bench.add_argument("--steps", type=positive_int, default=200, help="training steps per timed round (default: 200)")
    bench.add_argument(
        "--rounds", type=positive_int, default=3, help="timed rounds of each loop, taken in turn (default: 3)"
    )
    bench.add_argument("--device", default=None, help="cuda, mps or cpu (default: the fastest here)")
    bench.add_argument(
        "--out", default=None, help="JSON file for the figures (default: runs/bench/DEVICE.json, replaced on each run)"
    )
    bench.add_argument("--force", action="store_true", help="replace --out if it exists")
    bench.add_argument(
        "--peak-tflops",
        type=positive_number,
        default=None,
        help="the chip's peak (e.g. its dense bf16 TFLOP/s), to report the share of it the trainer reaches",
    )
    bench.set_defaults(run=command_bench)
    return parser


class Stopped(KeyboardInterrupt):
    """A stop asked for by SIGTERM, or by SIGHUP when a terminal closes: handled as Ctrl-C is."""


STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)  # SIGHUP: not on Windows


def _stop(number: int, frame) -> None:
    raise Stopped(signal.Signals(number).name)


class ReaderSafeStream:
    """A text stream that outlives its reader: once the pipe it writes to is closed (`... | head`), the rest is dropped.

    A finished run then stays a success instead of failing on its last line; the stream's file descriptor is pointed
    at the null device, so that Python's own flush at exit has nowhere to fail either.
    """

    def __init__(self, stream):
        self.stream, self.reader_gone = stream, False

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self._drop_the_rest()
        return len(text)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._drop_the_rest()

    def _drop_the_rest(self) -> None:
        self.reader_gone = True
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self.stream.fileno())
            os.close(null)
        except (
            OSError,
            ValueError,
            AttributeError,
            io.UnsupportedOperation,
        ):  # a stream with no descriptor (a test's capture)
            pass

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


@contextlib.contextmanager
def _robust_output_and_stops():
    """While a command runs: text the terminal's encoding cannot show is escaped (never an error), a closed pipe drops
    the rest of the output, and SIGTERM or SIGHUP stop the command as Ctrl-C does (the main thread only)."""
    streams = sys.stdout, sys.stderr
    for stream in streams:
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    sys.stdout, sys.stderr = ReaderSafeStream(sys.stdout), ReaderSafeStream(sys.stderr)
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        handlers = {number: signal.signal(number, _stop) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
        sys.stdout, sys.stderr = streams


def main(argv: list[str] | None = None) -> int:
    """Run one command, and own its outcome: the one-line message and the exit code (see the module's docstring).

    COURSE_DEBUG=1 shows a fault's traceback instead. SIGTERM and SIGHUP stop a command as Ctrl-C does: a training
    run saves its checkpoint first.
    """
    args = build_parser().parse_args(argv)
    with _robust_output_and_stops():
        try:
            args.run(args)
            return 0
        except KeyboardInterrupt as stop:
            said = f"by {stop.args[0]}" if isinstance(stop, Stopped) else "interrupted"
            print(f"stopped {said}; every file written so far is whole.", file=sys.stderr)
            return 128 + getattr(signal, stop.args[0]) if isinstance(stop, Stopped) else 130
        except CommandFailed:  # the command has said what failed
            return 1
        except Exception as error:
            if os.environ.get("COURSE_DEBUG") == "1":
                raise
            print(f"error: {message_for(error)}", file=sys.stderr)
            return 2 if isinstance(error, UsageError) else 1


def message_for(error: Exception) -> str:
    """What went wrong, in one line: the course's own messages and the system's (files, disks) as they are; running out
    of memory with what to do; anything else flagged as a fault in the course."""
    if (
        out_of_memory(error) and type(error).__module__.split(".")[0] != "course"
    ):  # the course's own errors say it themselves
        return (
            f"out of memory ({one_line(error, limit=200)}): use a smaller --batch-size or --n (or a smaller scale), "
            "or close other programs and run again."
        )
    if raised_by_course(error) or isinstance(error, OSError):
        return str(error)
    return (
        f"{one_line(error)} (a fault in the course, not in what you typed: run again with COURSE_DEBUG=1 to see where)"
    )
