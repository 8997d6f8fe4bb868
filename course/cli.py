"""The course's command line: `python -m course <command>`."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import signal
import sys
import threading
from pathlib import Path

from course.validation import SEED_LIMIT, require_positive_int, require_seed
from course.scale import SCALES, resolve_scale

GRID_LIMIT = 1024  # images in one .png grid; more are written to a .npy file
EMA_DECAY = 0.999  # train-gan's moving average of the generator, for a new run (GANConfig's own default, 0, keeps none)
BOOK_DIR = Path(__file__).resolve().parent.parent / "build" / "book"  # python -m course book's default folder
WORKBOOK_DIR = Path(__file__).resolve().parent.parent / "workbook"  # python -m course workbook's default folder
TUNED_LEARNING_RATE = {"dcgan": 8e-4}  # train-gan's rate for a new run, from notebook 06's sweep; other losses keep their papers' (GANConfig)


def _report_data(download: bool) -> bool:
    """Print the data report (problems on stderr); True when every dataset is there and verified."""
    from course.readiness import data_report

    lines = data_report(download=download)
    for line in lines:
        print(line, file=sys.stderr if "PROBLEM" in line else sys.stdout)
    return not any("PROBLEM" in line for line in lines)


def command_data(args: argparse.Namespace) -> int:
    """Find (or download) and verify every dataset the course uses."""
    return 0 if _report_data(download=not args.no_download) else 1


def command_check(args: argparse.Namespace) -> int:
    """Print the environment report of notebook 00."""
    from course.readiness import report

    report()
    return 0


def command_run_notebooks(args: argparse.Namespace) -> int:
    """Execute notebooks headless at a scale, saving their outputs in place, or beside a notebook edited meanwhile."""
    from nbclient.exceptions import CellExecutionError

    from course.notebooks import CELL_TIMEOUT, NOTEBOOK_DIR, KernelDied, require_can_save, course_notebooks, read_notebook, run_notebook, without_colour

    scale = resolve_scale(args.scale)
    paths = [Path(p) for p in args.notebooks] or course_notebooks()
    if not paths:  # an installed course has no notebooks folder of its own
        print(f"error: no notebooks in {NOTEBOOK_DIR}: name the ones to run, as in `python -m course run-notebooks 01_linear_regression.ipynb`.",
              file=sys.stderr)  # fmt: skip
        return 1
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        print(f"error: no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 1
    for path in paths:  # every notebook readable, and its run savable, before any runs
        read_notebook(path)
        require_can_save(path)
    limit = f"{CELL_TIMEOUT // 60} minutes" if CELL_TIMEOUT % 60 == 0 else f"{CELL_TIMEOUT} seconds"
    print(f"each cell may run up to {limit}; Ctrl-C stops the run and leaves the notebook as it was", flush=True)
    total = 0.0
    for path in paths:
        print(f"running {path.name} at scale {scale} ...", flush=True)
        try:
            run = run_notebook(path, scale, timeout=CELL_TIMEOUT)
        except KernelDied as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        except CellExecutionError as error:
            failure = str(error)
            if os.environ.get("NO_COLOR") or not sys.stderr.isatty():  # colours only for a terminal, and not under NO_COLOR
                failure = without_colour(failure)
            print(f"error: {path.name} failed at scale {scale} (left unchanged on disk):\n{failure}", file=sys.stderr)
            return 1
        total += run.seconds
        print(f"  done in {run.seconds:.1f} s", flush=True)
        if run.saved_to != path:
            print(f"  {path.name} changed on disk during the run, so it was left as you saved it; the run's result is in {run.saved_to.name}",
                  flush=True)  # fmt: skip
    noun = "notebook" if len(paths) == 1 else "notebooks"
    print(f"{len(paths)} {noun} in {total:.1f} s at scale {scale}.")
    return 0


def command_book(args: argparse.Namespace) -> int:
    """Build the book: every notebook, as committed, rendered to HTML pages that read offline."""
    import time

    from course.book import build_book
    from course.notebooks import course_notebooks

    notebooks = course_notebooks()
    if not notebooks:
        print("error: no notebooks in notebooks/: run this from a clone of the course", file=sys.stderr)
        return 1
    start = time.perf_counter()
    pages = build_book(notebooks, Path(args.out))
    print(f"built {len(pages)} pages in {time.perf_counter() - start:.0f} s; open {pages[0].resolve()}")
    return 0


def command_workbook(args: argparse.Namespace) -> int:
    """Build the workbook: every notebook with its lesson's pieces left for the learner to write."""
    from course.notebooks import course_notebooks, read_notebook
    from course.workbook import build_workbook, count_pieces

    notebooks = course_notebooks()
    if not notebooks:
        print("error: no notebooks in notebooks/: run this from a clone of the course", file=sys.stderr)
        return 1
    written = build_workbook(notebooks, Path(args.out))
    pieces = sum(count_pieces(read_notebook(path)) for path in notebooks)
    print(f"built the workbook: {len(written)} notebooks with {pieces} pieces to write, in {Path(args.out).resolve()}")
    print("open it with ./course.sh lab --workbook; each blank says what to write, and the cell below it checks it")
    return 0


def command_train_classifier(args: argparse.Namespace) -> int:
    """Train the classifier course.quality measures samples with, and save its weights atomically."""
    import time

    from course.data import image_tensors, load_fashion_mnist
    from course.device import describe_device, pick_device
    from course.quality import CLASSIFIER_PATH, CLASSIFIER_SHA256, dressness, file_sha256
    from course.runs import require_output_file, save_weights
    from course.training import evaluate, train_quality_classifier

    out = require_output_file(Path(args.out) if args.out else CLASSIFIER_PATH, needed_bytes=2**20, overwrite=args.force)  # about 0.4 MiB
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
        print(f"This is not CLASSIFIER_SHA256: to measure with these weights, {where}set CLASSIFIER_SHA256 in course/quality.py to the SHA-256 above.")
    return 0


def command_train_gan(args: argparse.Namespace) -> int:
    """Train a GAN (on the training dresses, all ten classes, or a folder of pictures), writing to --out."""
    from course import distributed
    from course.device import pick_device

    if args.distributed:
        try:
            device = distributed.start(args.device)
        except (RuntimeError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        try:
            return _train_gan(args, device)
        finally:
            distributed.finish()
    return _train_gan(args, pick_device(args.device))


def _training_images(args: argparse.Namespace, device):
    """The images (in [-1, 1], on the device), their labels or None, and a description, as the arguments ask."""
    import torch

    from course import gan_sampling
    from course.data import CLASS_NAMES, load_fashion_mnist
    from course.photos import load_image_folder, printable

    if args.images is not None:
        pictures, report = load_image_folder(args.images, size=args.size or 32, channels=args.channels or 3)
        return gan_sampling.to_training_range(pictures, device), None, f"{report['used']:,} pictures from {printable(args.images)}"
    fashion = load_fashion_mnist()
    if args.conditional:
        labels = torch.as_tensor(fashion.train_labels).long().to(device)
        return gan_sampling.to_training_range(fashion.train_images, device), labels, f"{len(labels):,} images of {len(CLASS_NAMES)} classes"
    dresses = fashion.dresses("train")
    return gan_sampling.to_training_range(dresses, device), None, f"{len(dresses):,} dresses"


def _train_gan(args: argparse.Namespace, device) -> int:
    from course import gan, gan_training
    from course.data import CLASS_NAMES
    from course.distributed import rank_and_world

    rank, world = rank_and_world()
    say = print if rank == 0 else (lambda *args, **kwargs: None)  # one process speaks for all
    if args.images is not None and args.conditional:
        say("error: --conditional needs a class for every image, and a folder of pictures has none: drop one of the two.",
            file=sys.stderr)  # fmt: skip
        return 2
    if args.images is None and (args.size, args.channels) != (None, None):
        say("error: --size and --channels are for --images; Fashion-MNIST is 28-pixel grey.", file=sys.stderr)
        return 2
    try:
        images, labels, described = _training_images(args, device)
    except (FileNotFoundError, ValueError) as error:
        say(f"error: {error}", file=sys.stderr)
        return 1
    critic_steps = 1 if args.loss == "dcgan" else 5
    steps = args.steps if args.steps is not None else max(1, args.epochs * (len(images) // args.batch_size) // critic_steps)
    folder = Path(args.out)
    checkpoint = folder / gan_training.CHECKPOINT
    if checkpoint.is_file() and not args.resume:
        say(f"error: {folder} already holds a checkpoint; add --resume to continue it, or choose another --out.", file=sys.stderr)
        return 2
    saved = None  # a resumed run keeps its checkpoint's settings where no option asks otherwise (runs from before an option included)
    if checkpoint.is_file():
        try:
            saved = gan_training.checkpoint_config(gan_training.read_checkpoint(checkpoint), checkpoint)
        except ValueError as error:
            say(f"error: {error}", file=sys.stderr)
            return 1
    ema_decay = args.ema_decay if args.ema_decay is not None else (saved.ema_decay if saved else EMA_DECAY)
    learning_rate = args.learning_rate if args.learning_rate is not None else (saved.learning_rate if saved else TUNED_LEARNING_RATE.get(args.loss))
    try:
        config = gan.GANConfig(
            loss=args.loss, steps=steps, batch_size=args.batch_size, seed=args.seed, batch_norm=not args.no_batch_norm,
            sample_every=args.sample_every, checkpoint_every=args.checkpoint_every, model=args.model,
            channels=images.shape[1], size=images.shape[2], classes=len(CLASS_NAMES) if args.conditional else 0, ema_decay=ema_decay,
            learning_rate=learning_rate,
        )  # fmt: skip
    except ValueError as error:
        say(f"error: {error}", file=sys.stderr)
        return 2
    processes = f" on {world} processes" if world > 1 else ""
    networks = f"{config.model} networks" + (f", conditional on {config.classes} classes" if config.classes else "")
    say(f"training {config.loss} ({networks}) for {config.steps} steps on {described}, device {device.type}{processes}, into {folder}")
    try:
        run = gan_training.train_gan(config, images, folder, resume=args.resume, labels=labels, source=described)
    except (gan_training.TrainingDiverged, ValueError, FileNotFoundError) as error:
        say(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # the run folder cannot be written, or the disk is full: found before training
        say(f"error: {error}", file=sys.stderr)
        return 2
    state = "stopped early at" if run.interrupted else "reached"
    say(
        f"{state} step {run.step} of {config.steps}, {run.images_per_second:,.0f} images per second; "
        f"checkpoint {folder / gan_training.CHECKPOINT}, samples in {folder / gan_training.SAMPLES}"
    )
    return 0


def command_sample(args: argparse.Namespace) -> int:
    """Draw new images from a checkpoint's generator into a .npy file (written batch by batch) or a .png grid."""
    import numpy as np
    from tqdm import tqdm

    from course import gan_sampling, gan_training
    from course.data import CLASS_NAMES
    from course.photos import to_display
    from course.plots import save_image_grid
    from course.runs import require_output_file, save_npy_in_chunks, write_atomically

    out = Path(args.out)
    if out.suffix not in (".npy", ".png"):
        print(f"error: --out must end in .npy (uint8 images) or .png (a grid), got {out.name}.", file=sys.stderr)
        return 2
    if out.suffix == ".png" and args.n > GRID_LIMIT:
        print(f"error: a .png grid shows at most {GRID_LIMIT:,} images, and --n is {args.n:,}: ask for fewer, or write them to a .npy file.",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        generator = gan_training.load_generator(Path(args.checkpoint))
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        label = None if args.class_ is None else class_number(args.class_)
        gan_sampling.class_labels(label, args.n, generator.classes)
    except ValueError as error:
        classes = f" Classes: {', '.join(f'{i} {name}' for i, name in enumerate(CLASS_NAMES))}." if generator.classes else ""
        print(f"error: {error}{classes}", file=sys.stderr)
        return 2
    grey = generator.channels == 1
    shape = (args.n, generator.size, generator.size) if grey else (args.n, generator.channels, generator.size, generator.size)
    try:
        require_output_file(out, needed_bytes=int(np.prod(shape, dtype=np.int64)), overwrite=args.force)  # before any image is drawn
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if out.suffix == ".npy":
        chunks = gan_sampling.generate_in_chunks(generator, args.n, seed=args.seed, labels=label)  # 1,000 images at a time
        save_npy_in_chunks(out, shape, tqdm(chunks, total=-(-args.n // 1000), unit="batch", desc="sampling", disable=args.n < 20_000))
    else:
        images = gan_sampling.generate(generator, args.n, seed=args.seed, labels=label)
        write_atomically(out, lambda file: save_image_grid(images if grey else to_display(images), file))
    print(f"wrote {args.n:,} images to {out}")
    return 0


def class_number(name_or_number: str) -> int:
    """A Fashion-MNIST class given by number ("3") or name ("dress", "Ankle boot"), as its number."""
    from course.data import CLASS_NAMES

    names = [name.lower() for name in CLASS_NAMES]
    if name_or_number.strip().lower() in names:
        return names.index(name_or_number.strip().lower())
    if name_or_number.isascii() and name_or_number.isdigit() and int(name_or_number) < len(CLASS_NAMES):
        return int(name_or_number)
    raise ValueError(f"no class {name_or_number!r}: give a number from 0 to {len(CLASS_NAMES) - 1} or a name.")


def command_evaluate(args: argparse.Namespace) -> int:
    """Print the quality numbers of a .npy file of generated images."""
    from course.quality import require_samples, evaluate_samples, read_samples

    path = Path(args.samples)
    if not path.is_file():
        print(f"error: no such file: {path}; make one with `python -m course sample --out FILE.npy`.", file=sys.stderr)
        return 1
    try:
        samples = require_samples(read_samples(path), path.name)
    except (ValueError, TypeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(evaluate_samples(samples))  # a damaged dataset or classifier is named by its own error
    return 0


def command_bench(args: argparse.Namespace) -> int:
    """Time the course's GAN trainer against the textbook DataLoader loop; print and save the figures."""
    from course.bench import benchmark, summary, table
    from course.data import load_fashion_mnist
    from course.device import pick_device
    from course.runs import require_output_file, run_folder, save_json

    device = pick_device(args.device)
    dresses = load_fashion_mnist().dresses("train")
    default = args.out is None  # the course's own file in its runs folder; a file of yours is replaced only with --force
    out = require_output_file(run_folder("bench") / f"{device.type}.json" if default else Path(args.out), overwrite=default or args.force)
    results = []
    for batch_size in args.batch_size:
        try:
            result = benchmark(dresses, device, batch_size=batch_size, steps=args.steps, rounds=args.rounds)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        if args.peak_tflops:
            result["peak_tflops"] = args.peak_tflops
            result["fraction_of_peak"] = result["course_tflops"] / args.peak_tflops
        print(summary(result), flush=True)
        results.append(result)
    if len(results) > 1:
        print(table(results))
    save_json(results, out)
    print(f"saved {out}")
    return 0


def command_prepare(args: argparse.Namespace) -> int:
    """Get this machine ready for a workshop: data, the measuring classifier and the notebooks' long runs."""
    import shutil
    import tempfile
    import time

    from nbclient.exceptions import CellExecutionError

    from course.notebooks import NOTEBOOK_DIR, course_notebooks, run_notebook
    from course.quality import load_quality_classifier

    scale = resolve_scale(args.scale)
    if not course_notebooks():  # an installed course has no notebooks folder of its own
        print(f"error: no notebooks in {NOTEBOOK_DIR}: prepare runs the course's notebooks, so run it in the course's repository "
              "(`./course.sh classroom`).", file=sys.stderr)  # fmt: skip
        return 1
    if not _report_data(download=True):
        return 1
    try:
        load_quality_classifier("cpu")
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("the quality classifier's weights match their checksum")
    gan_notebooks = ["06_dcgan_dresses", "07_wasserstein", "08_discriminator_payoff", "09_beyond"]
    long_runs = ["04_transfer_learning"] + (gan_notebooks if args.with_gans else [])
    notebooks = [path for path in course_notebooks() if path.stem in long_runs]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for path in notebooks:  # a copy runs, so the learners' notebooks stay as committed
            print(f"running {path.name} at scale {scale} to save its results under runs/ ...", flush=True)
            copy = Path(shutil.copy(path, folder))
            try:
                seconds = run_notebook(copy, scale).seconds
            except CellExecutionError as error:
                print(f"error: {path.name} failed at scale {scale}:\n{error}", file=sys.stderr)
                return 1
            print(f"  done in {seconds:.0f} s", flush=True)
    print(
        f"Ready for class at scale {scale} ({time.perf_counter() - started:.0f} s): the notebooks load these results "
        "instead of computing them, and nothing needs downloading."
    )
    if not args.with_gans:
        print("The GAN notebooks (06 to 09) will train in class; add --with-gans to train them now.")
    return 0


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
    """The argparse type of a moving average's decay: a number from 0 up to but not including 1, or a usage error that says so."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a number from 0 up to but not including 1 (0: no average), got {text!r}")
    return value


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

    book = commands.add_parser("book", help="render the notebooks, with their outputs, as a static HTML book that reads offline")
    book.add_argument("--out", default=str(BOOK_DIR), help=f"the folder to write the book into (default: {BOOK_DIR})")
    book.set_defaults(run=command_book)

    workbook = commands.add_parser("workbook", help="build the learner's edition: the notebooks with the networks, losses and loops left to write")
    workbook.add_argument("--out", default=str(WORKBOOK_DIR), help=f"the folder to write the workbook into (default: {WORKBOOK_DIR})")
    workbook.set_defaults(run=command_workbook)

    train = commands.add_parser("train-classifier", help="train the classifier that course.quality measures samples with")
    train.add_argument("--epochs", type=positive_int, default=8, help="passes over the 60,000 training images (default: 8)")
    train.add_argument("--out", default=None, help="where to save the weights (default: course/weights/fashion_classifier.pt)")
    train.add_argument("--force", action="store_true", help="replace the weights file if it exists")
    train.set_defaults(run=command_train_classifier)

    train_gan = commands.add_parser("train-gan", help="train a GAN on the training dresses, with samples and checkpoints")
    train_gan.add_argument("--loss", choices=("dcgan", "wgan", "wgan-gp"), default="dcgan")
    length = train_gan.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=positive_int, default=10, help="passes of the discriminator over the 6,000 dresses (default: 10)")
    length.add_argument("--steps", type=positive_int, default=None, help="generator steps, instead of --epochs")
    train_gan.add_argument("--out", required=True, help="the run folder, e.g. runs/dcgan")
    train_gan.add_argument("--resume", action="store_true", help="continue from the run folder's last checkpoint")
    train_gan.add_argument("--batch-size", type=positive_int, default=64)
    train_gan.add_argument("--seed", type=seed_number, default=0)
    train_gan.add_argument("--sample-every", type=positive_int, default=250, help="render the fixed noise batch every N steps")
    train_gan.add_argument("--checkpoint-every", type=positive_int, default=500, help="write a checkpoint every N steps")
    train_gan.add_argument("--device", default=None, help="cuda, mps or cpu (default: the fastest here)")
    train_gan.add_argument("--no-batch-norm", action="store_true", help="leave batch normalisation out of both networks")
    train_gan.add_argument(
        "--ema-decay", type=decay_number, default=None, metavar="DECAY",
        help=f"keep a moving average of the generator's weights, which samples are drawn from; 0: none "
        f"(default: {EMA_DECAY} for a new run; with --resume, the checkpoint's)",
    )  # fmt: skip
    train_gan.add_argument(
        "--learning-rate", type=positive_number, default=None, metavar="RATE",
        help=f"both players' Adam (or RMSprop) rate (default for a new run: {TUNED_LEARNING_RATE['dcgan']:g} for dcgan, "
        "the loss's published rate otherwise; with --resume, the checkpoint's)",
    )  # fmt: skip
    train_gan.add_argument("--model", choices=("dcgan", "resnet"), default="dcgan", help="the networks (default: dcgan)")
    train_gan.add_argument("--conditional", action="store_true", help="train on all ten Fashion-MNIST classes, each image with its class (sample with --class)")
    train_gan.add_argument(
        "--images", default=None, metavar="FOLDER", help="train on your own PNG/JPEG pictures in FOLDER instead (resized, centre-cropped, cached)"
    )
    train_gan.add_argument("--size", type=int, choices=(28, 32, 64), default=None, help="with --images: side in pixels (default: 32)")
    train_gan.add_argument("--channels", type=int, choices=(1, 3), default=None, help="with --images: 3 colour (default) or 1 grey")
    train_gan.add_argument("--distributed", action="store_true", help="train on several processes started by torchrun (--batch-size is their total)")
    train_gan.set_defaults(run=command_train_gan)

    sample = commands.add_parser("sample", help="draw new images from a GAN checkpoint")
    sample.add_argument("--checkpoint", required=True, help="a run folder's checkpoint.pt")
    sample.add_argument("--n", type=positive_int, default=1000, help="how many images (default: 1000)")
    sample.add_argument("--out", required=True, help="FILE.npy (uint8, N x 28 x 28, or N x 3 x H x W in colour) or FILE.png (a grid)")
    sample.add_argument("--seed", type=seed_number, default=0)
    sample.add_argument("--force", action="store_true", help="replace --out if it exists")
    sample.add_argument(
        "--class", dest="class_", default=None, metavar="CLASS", help="for a conditional checkpoint: the class to draw, a number 0-9 or a name such as Dress"
    )
    sample.set_defaults(run=command_sample)

    evaluate = commands.add_parser("evaluate", help="quality numbers of generated images: dressness and squared Fréchet distance")
    evaluate.add_argument("--samples", required=True, help="a .npy file of uint8 images (N x 28 x 28), ideally N = 1000")
    evaluate.set_defaults(run=command_evaluate)

    prepare = commands.add_parser("prepare", help="get this machine ready for a workshop ahead of time")
    prepare.add_argument("--scale", choices=SCALES, default=None, help="the scale the class will run at (default: COURSE_SCALE, else by device)")
    prepare.add_argument("--with-gans", action="store_true", help="also train the GANs of notebooks 06 to 09 now")
    prepare.set_defaults(run=command_prepare)

    bench = commands.add_parser("bench", help="time the GAN trainer against the textbook DataLoader loop")
    bench.add_argument("--batch-size", type=positive_int, nargs="+", default=[64], help="one or more batch sizes (default: 64)")
    bench.add_argument("--steps", type=positive_int, default=200, help="training steps per timed round (default: 200)")
    bench.add_argument("--rounds", type=positive_int, default=3, help="timed rounds of each loop, taken in turn (default: 3)")
    bench.add_argument("--device", default=None, help="cuda, mps or cpu (default: the fastest here)")
    bench.add_argument("--out", default=None, help="JSON file for the figures (default: runs/bench/DEVICE.json, replaced on each run)")
    bench.add_argument("--force", action="store_true", help="replace --out if it exists")
    bench.add_argument(
        "--peak-tflops", type=positive_number, default=None, help="the chip's peak (e.g. its dense bf16 TFLOP/s), to report the share of it the trainer reaches"
    )
    bench.set_defaults(run=command_bench)
    return parser


class Stopped(KeyboardInterrupt):
    """A stop asked for by a signal other than Ctrl-C (SIGTERM, or SIGHUP when a terminal closes): handled as Ctrl-C is."""


STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))  # SIGHUP: not on Windows


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
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):  # a stream with no descriptor (a test's capture)
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
    """Run one command. A mistake or a fault is told in one line on stderr; COURSE_DEBUG=1 shows the traceback instead.

    SIGTERM and SIGHUP stop a command as Ctrl-C does: a training run saves its checkpoint first.
    """
    args = build_parser().parse_args(argv)
    with _robust_output_and_stops():
        try:
            return args.run(args)
        except KeyboardInterrupt as stop:
            said = f"by {stop.args[0]}" if isinstance(stop, Stopped) else "interrupted"
            print(f"stopped {said}; every file written so far is whole.", file=sys.stderr)
            return 128 + getattr(signal, stop.args[0]) if isinstance(stop, Stopped) else 130
        except Exception as error:
            if os.environ.get("COURSE_DEBUG") == "1":
                raise
            print(f"error: {one_line(error)}", file=sys.stderr)
            return 1


def out_of_memory(error: Exception) -> bool:
    """Whether `error` says the machine (or the GPU) ran out of memory: MemoryError, or PyTorch's words for it."""
    text = str(error).lower()
    return (
        isinstance(error, MemoryError)
        or type(error).__name__ == "OutOfMemoryError"
        or (isinstance(error, RuntimeError) and ("out of memory" in text or ("allocate" in text and "memory" in text)))
    )


def one_line(error: Exception) -> str:
    """What went wrong, for the command line: the course's own messages as they are, anything else flagged as a fault."""
    if out_of_memory(error):
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return (f"out of memory ({first_line[:200]}): use a smaller --batch-size or --n (or a smaller scale), "
                "or close other programs and run again.")  # fmt: skip
    if type(error).__module__.startswith("course") or type(error) in (ValueError, TypeError) or isinstance(error, OSError):
        return str(error)
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first_line} (a fault in the course, not in what you typed: run again with COURSE_DEBUG=1 to see where)"
