import json

import pytest
import torch
from torch import nn

from course import runs

pytestmark = pytest.mark.usefixtures("runs_dir")  # each test has a runs folder of its own


def leftovers(folder):
    return [path.name for path in folder.iterdir() if path.name.endswith(".part")]


def test_runs_dir_follows_the_environment(runs_dir, monkeypatch):
    assert runs.runs_dir() == runs_dir
    monkeypatch.delenv("COURSE_RUNS_DIR")
    assert runs.runs_dir().name == "runs" and (runs.runs_dir().parent / "course" / "runs.py").is_file()


def test_runs_outside_a_repository_go_to_the_per_user_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_RUNS_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setattr(runs, "repository_dir", lambda: None)  # as for an installed course
    assert runs.runs_dir() == tmp_path / "share" / "dreaming-up-dresses" / "runs"


def test_run_folder_creates_nested_folders(runs_dir):
    folder = runs.run_folder("transfer/laptop")
    assert folder == runs_dir / "transfer" / "laptop" and folder.is_dir()
    assert runs.run_folder("transfer/laptop") == folder  # a second call finds it


@pytest.mark.parametrize("name", ["", "/tmp/elsewhere", "../outside", "transfer/../../outside"])
def test_run_folder_stays_inside_the_runs_dir(name, runs_dir):
    with pytest.raises(ValueError, match="relative folder name"):
        runs.run_folder(name)
    assert not (runs_dir.parent / "outside").exists()


def test_an_unwritable_runs_dir_names_the_setting_to_change(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("COURSE_RUNS_DIR", str(blocker / "runs"))  # mkdir fails, even for root
    with pytest.raises(OSError, match="Cannot create the run folder .*COURSE_RUNS_DIR"):
        runs.run_folder("transfer/smoke")


def test_json_round_trips_and_a_missing_file_is_none(runs_dir):
    folder = runs.run_folder("json")
    value = {"rows": [{"method": "scratch", "accuracy": 0.5}], "settings": {"seeds": 3}, "note": "R²"}
    runs.save_json(value, folder / "results.json")
    assert runs.load_json(folder / "results.json") == value
    assert runs.load_json(folder / "nothing-here.json") is None
    assert leftovers(folder) == []


def test_a_failed_json_write_keeps_the_old_file(runs_dir):
    folder = runs.run_folder("json")
    runs.save_json({"version": 1}, folder / "results.json")
    with pytest.raises(TypeError):
        runs.save_json({"version": 2, "bad": object()}, folder / "results.json")
    assert runs.load_json(folder / "results.json") == {"version": 1}
    assert leftovers(folder) == []


def test_a_write_interrupted_halfway_keeps_the_old_file_and_no_temporary(runs_dir, monkeypatch):
    folder = runs.run_folder("weights")
    path = folder / "model.pt"
    runs.save_weights(nn.Linear(3, 2), path)
    before = path.read_bytes()

    def half_a_save(state, file):
        file.write(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(runs.torch, "save", half_a_save)
    with pytest.raises(KeyboardInterrupt):
        runs.save_weights(nn.Linear(3, 2), path)
    assert path.read_bytes() == before
    assert leftovers(folder) == []


def test_weights_round_trip(runs_dir):
    torch.manual_seed(0)
    saved, loaded = nn.Linear(4, 3), nn.Linear(4, 3)
    path = runs.run_folder("weights") / "linear.pt"
    runs.save_weights(saved, path)
    runs.load_weights(loaded, path)
    for name, tensor in saved.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor)
    assert leftovers(path.parent) == []


@pytest.mark.parametrize("other", [nn.Linear(4, 5), nn.Sequential(nn.Linear(4, 3))])
def test_weights_of_another_model_are_refused(runs_dir, other):
    path = runs.run_folder("weights") / "linear.pt"
    runs.save_weights(nn.Linear(4, 3), path)
    with pytest.raises(ValueError, match="linear.pt does not hold weights for this model"):
        runs.load_weights(other, path)


def test_a_truncated_weights_file_is_not_loaded(runs_dir):
    path = runs.run_folder("weights") / "linear.pt"
    runs.save_weights(nn.Linear(40, 30), path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    target = nn.Linear(40, 30)
    before = {name: tensor.clone() for name, tensor in target.state_dict().items()}
    with pytest.raises(Exception):  # noqa: B017 - whatever torch raises for a damaged archive
        runs.load_weights(target, path)
    for name, tensor in target.state_dict().items():
        assert torch.equal(tensor, before[name])


def test_saved_json_is_readable_text(runs_dir):
    path = runs.run_folder("json") / "settings.json"
    runs.save_json({"b": 1, "a": [1, 2]}, path)
    assert json.loads(path.read_text()) == {"a": [1, 2], "b": 1}
    assert path.read_text().index('"a"') < path.read_text().index('"b"')  # sorted keys, stable diffs


def test_refused_weights_leave_the_model_as_it_was(runs_dir):
    path = runs.run_folder("weights") / "two-layers.pt"
    runs.save_weights(nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 2)), path)
    other = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 5))  # the first layer fits, the second does not
    before = other[0].weight.detach().clone()
    with pytest.raises(ValueError, match="does not hold weights"):
        runs.load_weights(other, path)
    assert torch.equal(other[0].weight, before)


def test_a_results_store_returns_only_rows_saved_under_the_same_settings(tmp_path):
    path = tmp_path / "results.json"
    store = runs.ResultsStore(path, {"steps": 10, "budgets": [1, 2]})
    assert store.rows() == []
    store.save([{"seed": 0, "accuracy": 0.5}])
    store.save([*store.rows(), {"seed": 1, "accuracy": 0.75}])
    assert runs.ResultsStore(path, {"budgets": [1, 2], "steps": 10}).rows() == [
        {"seed": 0, "accuracy": 0.5},
        {"seed": 1, "accuracy": 0.75},
    ]
    other = runs.ResultsStore(path, {"steps": 20, "budgets": [1, 2]})
    assert other.rows() == []  # other settings: start afresh
    other.save([{"seed": 0, "accuracy": 0.9}])
    assert store.rows() == [] and other.rows() == [{"seed": 0, "accuracy": 0.9}]
    runs.save_json([{"seed": 0}], path)  # a file of another shape, as older versions wrote
    assert store.rows() == []


def test_run_missing_runs_only_the_planned_runs_not_saved_and_saves_each_as_it_ends(tmp_path, capsys):
    store = runs.ResultsStore(tmp_path / "results.json", {"steps": 10}, shown="runs/demo/results.json")
    store.save([{"seed": 0, "budget": 1, "accuracy": 0.0}])
    ran = []

    def run(seed, budget):
        ran.append((seed, budget))
        assert len(store.rows()) == len(ran)  # the saved row and every earlier run, already written
        if seed == 3:
            raise KeyboardInterrupt
        return {"seed": seed, "budget": budget, "accuracy": seed / 10}

    def planned_run(row):
        return row["seed"], row["budget"]

    with pytest.raises(KeyboardInterrupt):
        store.run_missing([(0, 1), (1, 1), (2, 1), (3, 1)], planned_run, run, "demo runs")
    assert ran == [(1, 1), (2, 1), (3, 1)] and [planned_run(row) for row in store.rows()] == [(0, 1), (1, 1), (2, 1)]
    assert "Loaded 1 finished run(s) from runs/demo/results.json" in capsys.readouterr().out
    ran.clear()
    rows = store.run_missing([(2, 1), (1, 1), (0, 1)], planned_run, run, "demo runs")  # all saved: nothing runs
    assert ran == [] and rows == store.rows() and len(rows) == 3
    assert "Loaded 3 finished run(s)" in capsys.readouterr().out
