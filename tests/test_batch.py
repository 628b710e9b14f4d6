"""engine.batch / smart-attack end to end on the demo, with tiny limits and few iterations."""

from __future__ import annotations

import csv
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from engine import metrics as M
from engine.batch import BatchConfig, Ensemble, parse_strategy, read_toml, run_batch, sa_targets, to_toml
from engine.batch import report as report_mod
from engine.demo import demo_checkpoint, demo_models
from engine.errors import CheckpointError, DatasetError, LayoutMismatchError, WorkbenchError
from workbench.cli import build_config, main

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif("mlp" not in demo_models("demo") or "stgcn" not in demo_models("demo"),
                                reason="the shipped demo checkpoints (mlp, stgcn) are not in assets/demo")

SMALL = ["--dataset", "demo", "--iterations", "8", "--limit", "8", "--batch-size", "4", "--threads", "1",
         "--quiet"]


@pytest.fixture(autouse=True)
def _png_only(monkeypatch):
    """PDF and SVG cost seconds per figure on the 2-core CI: the runs here draw PNG only
    (test_figures_are_drawn_as_png_pdf_and_svg draws all three)."""
    monkeypatch.setattr(report_mod, "FIGURE_FORMATS", ("png",))


@pytest.fixture(scope="module")
def table_run(tmp_path_factory) -> Path:
    """mlp and stgcn, three strategies, full transfer matrix."""
    out = tmp_path_factory.mktemp("batch") / "run"
    saved = report_mod.FIGURE_FORMATS
    report_mod.FIGURE_FORMATS = ("png",)
    try:
        rc = main([*SMALL, "--models", "mlp", "stgcn", "--transfer", "--strategy", "ab", "ab3", "sa",
                   "--out", str(out)])
    finally:
        report_mod.FIGURE_FORMATS = saved
    assert rc == 0
    return out


def test_figures_are_drawn_as_png_pdf_and_svg(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(report_mod, "FIGURE_FORMATS", ("png", "pdf", "svg"))
    names = report_mod._matrix_figure(tmp_path, "m", np.array([[0.2, np.nan], [1.0, 0.0]]), ["a", "b"],
                                      ["c", "d"], "t", "x", "y")
    assert names == ["figures/m.png", "figures/m.pdf", "figures/m.svg"]
    assert (tmp_path / "figures/m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "figures/m.pdf").read_bytes()[:5] == b"%PDF-"
    assert b"<svg" in (tmp_path / "figures/m.svg").read_bytes()[:2000]
    assert not (ROOT / "engine/batch/png.py").exists()  # no hand-written PNG encoder any more


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "samples.csv").open() as f:
        return list(csv.DictReader(f))


def test_small_run_writes_every_output_file(table_run: Path) -> None:
    res = json.loads((table_run / "results.json").read_text())
    for name in res["files"]:
        assert (table_run / name).is_file(), name
    for name in ("results.json", "report.md", "samples.csv", "clean.csv", "config.json", "run.toml",
                 "figures/success.png", "figures/transfer_ab.png", "samples/mlp__ab__smart.npz",
                 "samples/stgcn__sa__smart.npz"):
        assert (table_run / name).is_file(), name
    assert (table_run / "figures/success.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (table_run / "report.md").read_text()
    assert "Table 1" in report and "AB3" in report and "n/a" in report and "Figure 3" in report
    assert "95 % Wilson" in report
    assert "![confusion mlp ab](figures/confusion_mlp_ab.png)" in report
    with np.load(table_run / "samples/mlp__ab__smart.npz") as z:
        assert z["adversarial"].shape == z["original"].shape
        assert z["adversarial"].dtype == np.float32 and z["original"].shape[1:] == (60, 25, 3)
        assert {"labels", "predicted", "success", "metric_displacement_mean"} <= set(z.files)
        # labels after the attack differ from those before exactly where AB succeeded
        assert np.array_equal(z["predicted"] != z["labels"], z["success"])
    assert res["config"]["seed"] == 0 and res["seed"] == 0
    assert {"torch", "numpy", "smart-workbench"} <= set(res["versions"])
    assert not list(table_run.rglob(".*.tmp"))


def test_success_rates_agree_with_the_per_sample_records(table_run: Path) -> None:
    res = json.loads((table_run / "results.json").read_text())
    rows = _rows(table_run)
    assert set(res["white_box"]) == {"mlp", "stgcn"}
    for model, by in res["white_box"].items():
        assert set(by) == {"ab", "ab3", "sa"}
        for strategy, e in by.items():
            mine = [r for r in rows if r["model"] == model and r["strategy"] == strategy]
            assert e["attacked"] == len(mine) == res["clean"][model]["correct"]
            if mine:
                assert e["success_rate"] == pytest.approx(np.mean([int(r["success"]) for r in mine]))
                assert 0.0 <= e["success_rate"] <= 1.0
            assert e["succeeded"] == sum(int(r["success"]) for r in mine)
    # SA targets are never the clean label
    sa = [r for r in rows if r["strategy"] == "sa"]
    assert sa and all(r["target"] != r["label"] for r in sa)


def test_transfer_matrix_has_the_right_shape_with_na_on_the_diagonal(table_run: Path) -> None:
    res = json.loads((table_run / "results.json").read_text())
    tr = res["transfer"]
    assert set(tr) == {"mlp", "stgcn"}
    for s, row in tr.items():
        assert set(row) == {"mlp", "stgcn"}
        assert row[s] == "n/a"
    cell = tr["mlp"]["stgcn"]
    assert set(cell["strategies"]) == {"ab", "ab3", "sa"} and cell["strategy"] == "ab"
    # the cell is computed from the motions that fooled the surrogate
    with np.load(table_run / "samples/mlp__ab__smart.npz") as z:
        fooled = z["success"]
        assert cell["count"] == int(fooled.sum()) == res["white_box"]["mlp"]["ab"]["succeeded"]
        assert list(z["transfer_targets"]) == ["stgcn"]
        goal = z["transfer_goal"][0][fooled]
    if cell["count"]:
        assert cell["success_rate_all"] == pytest.approx(goal.mean())
        assert 0 <= cell["clean_accuracy"] <= 1


def test_resume_skips_finished_work(tmp_path: Path) -> None:
    cfg = BatchConfig(dataset="demo", models=("mlp",), strategies=("ab",), iterations=6, limit=12,
                      batch_size=4, threads=1, out=str(tmp_path / "r"))
    seen = []

    def stop_after_first_batch(p) -> None:
        seen.append(p.done)
        if p.done >= 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(cfg, progress=stop_after_first_batch)
    assert not (tmp_path / "r/results.json").exists()  # nothing that looks complete
    assert len(list((tmp_path / "r/work").rglob("batch_*.npz"))) == 1
    first = run_batch(cfg)
    assert (first.skipped_batches, first.computed_batches) == (1, 2)
    again = run_batch(cfg)
    assert again.already_finished and again.computed_batches == 0
    assert again.results["white_box"] == first.results["white_box"]
    # a lost batch file and results.json: only that batch is redone
    (tmp_path / "r/results.json").unlink()
    (tmp_path / "r/work/mlp__ab__smart/batch_00001.npz").unlink()
    third = run_batch(cfg)
    assert (third.skipped_batches, third.computed_batches) == (2, 1)
    assert third.results["white_box"] == first.results["white_box"]
    # a damaged batch file (a half-copied folder, a bad disk): computed again, and the run says so
    (tmp_path / "r/results.json").unlink()
    bad = tmp_path / "r/work/mlp__ab__smart/batch_00002.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip file")
    fourth = run_batch(cfg)
    assert (fourth.skipped_batches, fourth.computed_batches) == (2, 1)
    assert fourth.recomputed == [str(bad)]
    assert any("unreadable" in w and "batch_00002" in w for w in fourth.results["warnings"])
    assert fourth.results["white_box"] == first.results["white_box"]
    # another configuration may not reuse the folder
    with pytest.raises(WorkbenchError, match="other settings"):
        run_batch(cfg.replace(iterations=7))


@pytest.mark.slow
def test_two_process_gloo_run_equals_single_process(tmp_path: Path) -> None:
    args = ["--dataset", "demo", "--surrogate", "mlp", "--targets", "stgcn", "--strategy", "ab", "sa",
            "--iterations", "6", "--limit", "12", "--batch-size", "4", "--threads", "1", "--quiet"]
    torchrun = Path(sys.executable).parent / "torchrun"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(var, None)
    single = subprocess.run([sys.executable, "-m", "workbench.cli", *args, "--out", str(tmp_path / "one")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert single.returncode == 0, single.stderr
    two = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "workbench.cli",
                          *args, "--out", str(tmp_path / "two")], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=180)
    assert two.returncode == 0, two.stderr[-3000:]
    a = json.loads((tmp_path / "one/results.json").read_text())
    b = json.loads((tmp_path / "two/results.json").read_text())
    assert b["world_size"] == 2 and a["world_size"] == 1
    for key in ("white_box", "transfer", "clean", "correlations", "fingerprint"):
        assert a[key] == b[key], key
    for name in ("mlp__ab__smart.npz", "mlp__sa__smart.npz"):
        with np.load(tmp_path / "one/samples" / name) as x, np.load(tmp_path / "two/samples" / name) as y:
            assert x.files == y.files
            for k in x.files:
                assert np.array_equal(x[k], y[k]), (name, k)
    assert (tmp_path / "one/samples.csv").read_text() == (tmp_path / "two/samples.csv").read_text()
    # a sharded run resumes with any number of ranks: finish the two-rank run in this process
    (tmp_path / "two/results.json").unlink()
    (tmp_path / "two/work/mlp__sa__smart/batch_00001.npz").unlink()
    assert main([*args, "--out", str(tmp_path / "two")]) == 0
    c = json.loads((tmp_path / "two/results.json").read_text())
    assert c["world_size"] == 1
    for key in ("white_box", "transfer", "clean", "correlations", "fingerprint"):
        assert a[key] == c[key], key


# -- bad input: a clear error before any work starts -------------------------------------------------

def _tiny_checkpoint(path: Path, num_classes: int = 12, layout: str = "ntu25") -> Path:
    from engine.models import create, save_checkpoint

    net = create("mlp", layout, num_classes, hidden=(8,))
    save_checkpoint(net, path, [f"c{i}" for i in range(num_classes)])
    return path


@pytest.mark.parametrize("case", ["missing", "garbage", "layout", "classes", "sa_target", "top_n",
                                  "shipped_elsewhere", "nan_motion", "random_npz"])
def test_bad_input_fails_before_work_starts(tmp_path: Path, case: str) -> None:
    out = tmp_path / "out"
    base = dict(dataset="demo", models=("mlp",), iterations=2, limit=4, out=str(out))
    if case == "missing":
        cfg, err = BatchConfig(**{**base, "models": (str(tmp_path / "nope.pt"),)}), CheckpointError
    elif case == "garbage":
        bad = tmp_path / "garbage.pt"
        bad.write_bytes(b"not a checkpoint" * 10)
        cfg, err = BatchConfig(**{**base, "models": (str(bad),)}), CheckpointError
    elif case == "layout":
        if "mlp" not in demo_models("hdm05-demo"):
            pytest.skip("no shipped hdm05-demo checkpoint")
        cfg, err = BatchConfig(**{**base, "models": (str(demo_checkpoint("hdm05-demo", "mlp")),)}), \
            LayoutMismatchError
    elif case == "classes":
        cfg, err = BatchConfig(**{**base, "models": (str(_tiny_checkpoint(tmp_path / "five.pt", 5)),)}), \
            CheckpointError
    elif case == "sa_target":
        cfg, err = BatchConfig(**{**base, "strategies": ("sa",), "sa_target": 12}), WorkbenchError
    elif case == "top_n":
        cfg, err = BatchConfig(**{**base, "strategies": ("ab12",)}), WorkbenchError
    elif case == "nan_motion":  # the loader may refuse it already; the runner refuses it at the latest
        ds = tmp_path / "data.npz"
        data = _demo_subset(range(6))
        data.motions[3, 10, 4, 1] = np.nan
        _save_unchecked(data, ds)
        cfg, err = BatchConfig(**{**base, "models": (str(demo_checkpoint("demo", "mlp")),),
                                  "dataset": str(ds), "split": "all"}), DatasetError
    elif case == "random_npz":
        ds = tmp_path / "random.npz"
        ds.write_bytes(np.random.default_rng(0).bytes(3000))
        cfg, err = BatchConfig(**{**base, "dataset": str(ds), "split": "all"}), DatasetError
    else:  # a shipped name only means something for the demos
        ds = tmp_path / "data.npz"
        from engine.datasets import save

        save(_demo_subset(range(4)), ds)
        cfg, err = BatchConfig(**{**base, "dataset": str(ds), "split": "all"}), CheckpointError
    with pytest.raises(err) as info:
        run_batch(cfg)
    msg = str(info.value)
    assert msg and not any(w in msg for w in ("allow_pickle", "weights_only", "pickle.load"))
    if case == "nan_motion":
        assert "3" in msg and "data.npz" in msg and ("NaN" in msg or "finite" in msg)
    if case in ("garbage", "random_npz"):
        assert ("garbage.pt" if case == "garbage" else "random.npz") in msg
    assert not out.exists()


def _demo_subset(idx):
    from engine.demo import load_demo

    return load_demo("demo").subset(list(idx))


def _save_unchecked(ds, path: Path) -> None:
    """Our npz format, written even when a motion is not finite (the datasets' save may refuse it)."""
    from engine.datasets import save

    try:
        save(ds, path)
    except ValueError:
        pytest.skip("engine.datasets.save refuses non-finite motions; covered by the datasets tests")


@pytest.mark.parametrize("kwargs, match", [
    (dict(strategies=("abx",)), "unknown strategy"),
    (dict(models=(), surrogates=(), targets=("stgcn",)), "no model|surrogate"),
    (dict(targets=("stgcn",)), "surrogate"),
    (dict(batch_size=0), "batch_size"),
    (dict(split="train"), "split"),
    (dict(w=2.0), "w must"),
    (dict(perceptual="l3"), "perceptual"),
    (dict(seed=-5), "seed"),
    (dict(sa_target=3), "sa_target .* 'sa'"),
    (dict(ensemble=True, surrogates=("mlp",), targets=("stgcn",)), "ensemble"),
    (dict(compare="false"), "compare must be true or false"),
    (dict(lr=True), "lr must be a number"),
])
def test_bad_settings_are_refused_when_built(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        BatchConfig(**{"dataset": "demo", "models": ("mlp",), **kwargs})


def test_cli_reports_bad_input_with_exit_code_2(tmp_path: Path, capsys) -> None:
    rc = main(["--dataset", "demo", "--models", str(tmp_path / "missing.pt"), "--out", str(tmp_path / "o")])
    assert rc == 2
    assert "missing.pt" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_interrupt_says_how_to_resume(tmp_path: Path, capsys, monkeypatch) -> None:
    import engine.batch

    def interrupted(config, progress=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(engine.batch, "run_batch", interrupted)
    assert main(["--dataset", "demo", "--models", "mlp", "--out", str(tmp_path / "o")]) == 130
    assert "resume" in capsys.readouterr().err


def test_compare_matches_iaa_success_and_reports_every_variant(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    phases = []
    summary = run_batch(BatchConfig(dataset="demo", models=("mlp",), iterations=6, limit=8, threads=1,
                                    compare=True, iaa_bisections=2, out=str(out)),
                        progress=lambda p: phases.append((p.phase, p.iteration, p.iterations)))
    # the IAA ε calibration reports progress per iteration of each trial
    cal = [p for p in phases if p[0].startswith("calibrating IAA")]
    assert any(it > 0 and total == 6 for _, it, total in cal)
    cmp_ = summary.results["compare"]["mlp"]
    assert cmp_["strategy"] == "ab"
    assert set(cmp_["variants"]) == {"smart", "l2", "l2_acc", "l2_bone", "iaa"}
    iaa = cmp_["variants"]["iaa"]
    assert iaa["epsilon"] > 0 and iaa["calibration"]["trace"]
    assert iaa["calibration"]["smart_success_rate"] == pytest.approx(summary.results["white_box"]["mlp"]["ab"]
                                                                     ["success_rate"])
    assert (out / "samples/mlp__ab__iaa.npz").is_file()
    report = (out / "report.md").read_text()
    assert "IAA" in report and "paired" in report
    # paired: the motions where every method succeeded, and those exactly are in the pairs CSV
    ok = []
    for v in ("smart", "l2", "l2_acc", "l2_bone", "iaa"):
        with np.load(out / f"samples/mlp__ab__{v}.npz") as z:
            ok.append(z["success"])
            idx = z["dataset_index"]
    common = np.logical_and.reduce(ok)
    p = cmp_["paired"]
    assert p["common"] == int(common.sum()) and p["attacked"] == len(idx)
    assert f"{p['common']} of {p['attacked']}" in report
    if p["common"]:
        with (out / p["pairs_file"]).open() as f:
            rows = list(csv.DictReader(f))
        assert [int(r["dataset_index"]) for r in rows] == idx[common].tolist()
        with np.load(out / "samples/mlp__ab__l2.npz") as z:
            l2 = z["metric_perturbation_acceleration"][common]
        assert [float(r["l2:perturbation_acceleration"]) for r in rows] == pytest.approx(l2.tolist())
        assert p["spread"]["smart"]["displacement_mean"]["n"] == p["common"]
        assert len(p["per_joint"]["l2"]["mean"]) == 25 and (out / "figures/figure2_mlp.png").is_file()


# -- config files, strategies, targets, figures -------------------------------------------------------

def test_toml_config_round_trip_and_command_line_overrides(tmp_path: Path, capsys) -> None:
    toml = tmp_path / "run.toml"
    toml.write_text('dataset = "demo"\nmodels = ["mlp"]\nstrategy = ["ab", "abn"]\ntop-n = 2\n'
                    f'iterations = 4\nlimit = 4\nthreads = 1\nout = "{tmp_path / "x"}"\n')
    out = tmp_path / "y"
    assert main(["--config", str(toml), "--out", str(out), "--seed", "3"]) == 0
    err = capsys.readouterr().err
    assert "motions" in err and "%|" in err  # tqdm's progress bar
    res = json.loads((out / "results.json").read_text())
    assert res["config"]["out"] == str(out) and res["seed"] == 3 and res["config"]["top_n"] == 2
    assert set(res["white_box"]["mlp"]) == {"ab", "ab2"}
    again = BatchConfig.from_mapping(read_toml(out / "run.toml"))
    assert again == BatchConfig.from_mapping(res["config"])
    cfg = BatchConfig(dataset="x.npz", models=("a.pt", "b.pt"), transfer=True, betas=(1, 0.5), sa_target=3,
                      strategies=("ab", "sa"))
    assert BatchConfig.from_mapping(read_toml_text(tmp_path, to_toml(cfg))) == cfg
    with pytest.raises(WorkbenchError, match="unknown option"):
        BatchConfig.from_mapping({"datset": "demo"})


def read_toml_text(tmp_path: Path, text: str) -> dict:
    p = tmp_path / "t.toml"
    p.write_text(text)
    return read_toml(p)


def test_strategy_names() -> None:
    assert parse_strategy("ab").kind == "ab"
    assert (parse_strategy("abn", 5).name, parse_strategy("abn", 5).top_n) == ("ab5", 5)
    assert (parse_strategy("AB3").kind, parse_strategy("ab3").top_n) == ("abn", 3)
    assert parse_strategy("sa").kind == "sa"
    with pytest.raises(ValueError):
        parse_strategy("xy")


def test_sa_targets_are_seeded_per_motion_and_never_the_label() -> None:
    idx = np.arange(200)
    labels = idx % 12
    t = sa_targets(idx, labels, 12, seed=5)
    assert np.all(t != labels) and np.all((t >= 0) & (t < 12))
    assert np.array_equal(t[50:60], sa_targets(idx[50:60], labels[50:60], 12, seed=5))  # batch-independent
    assert not np.array_equal(t, sa_targets(idx, labels, 12, seed=6))
    assert len(np.unique(t)) == 12


def test_engine_batch_imports_no_qt() -> None:
    code = ("import sys, engine.batch, workbench.cli; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'OpenGL')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_output_files_are_written_atomically(tmp_path: Path, monkeypatch) -> None:
    from engine.batch import files

    def boom(f) -> None:
        f.write(b"partial")
        raise OSError(28, "No space left on device")

    with pytest.raises(WorkbenchError, match="disk full"):
        files.atomic_write(tmp_path / "results.json", boom)
    assert not (tmp_path / "results.json").exists()
    assert not list(tmp_path.iterdir())


@pytest.fixture(autouse=True)
def _restore_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def test_shared_copy_is_not_needed(tmp_path: Path) -> None:
    """A run folder can be moved: results.json names files relative to it."""
    src = tmp_path / "a"
    run_batch(BatchConfig(dataset="demo", models=("mlp",), iterations=2, limit=4, threads=1, out=str(src)))
    res = json.loads((src / "results.json").read_text())
    shutil.move(src, tmp_path / "b")
    assert all((tmp_path / "b" / f).is_file() for f in res["files"])


def test_dataset_file_and_checkpoint_paths(tmp_path: Path) -> None:
    from engine.datasets import save
    from engine.demo import load_demo

    ds = load_demo("demo")
    subj = np.array(ds.subjects)
    keep = np.sort(np.concatenate([np.flatnonzero(subj == "s07")[:8], np.flatnonzero(subj == "s08")[:6]]))
    save(ds.subset(keep), tmp_path / "data.npz")
    ckpt = shutil.copy(demo_checkpoint("demo", "mlp"), tmp_path / "my_mlp.pt")
    summary = run_batch(BatchConfig(dataset=str(tmp_path / "data.npz"), models=(str(ckpt),), iterations=2,
                                    val_subjects=("s08",), threads=1, out=str(tmp_path / "o")))
    res = summary.results
    assert "s08" in res["dataset"]["split"] and res["dataset"]["selected"] == 6
    assert list(res["white_box"]) == ["my_mlp"]
    assert res["models"]["my_mlp"]["path"] == str(ckpt)


# -- operator safety: the command line and its config file ----------------------------------------------

@pytest.mark.parametrize("line, key", [
    ("models = 5", "models"), ("strategy = 3", "strategies"), ('val_subjects = 8', "val_subjects"),
    ("betas = 0.5", "betas"), ('confidence = "high"', "confidence"), ("device = 3", "device"),
    ("out = 7", "out"), ('compare = "false"', "compare"), ('transfer = "false"', "transfer"),
    ("lr = true", "lr"), ("w = true", "w"), ('iterations = "8"', "iterations"), ("limit = 2.5", "limit"),
    ("smoothing = true", "smoothing"), ("smoothing = -1.0", "smoothing"),
])
def test_toml_values_are_checked_against_their_type(tmp_path: Path, capsys, line: str, key: str) -> None:
    toml = tmp_path / "bad.toml"
    out = tmp_path / "o"
    base = {"dataset": '"demo"', "models": '["mlp", "stgcn"]', "iterations": "2", "limit": "4",
            "out": f'"{out}"'}
    k = line.split(" =")[0]
    base.pop({"strategy": "strategies"}.get(k, k), None)
    toml.write_text("\n".join(f"{a} = {b}" for a, b in base.items()) + "\n" + line + "\n")
    assert main(["--config", str(toml), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert key in err and str(toml) in err and "Traceback" not in err
    assert not out.exists()


def test_command_line_values_name_the_option(tmp_path: Path, capsys) -> None:
    out = tmp_path / "o"
    with pytest.raises(SystemExit) as info:
        main(["--dataset", "demo", "--models", "mlp", "--seed", "-5", "--out", str(out)])
    assert info.value.code == 2
    assert "--seed" in capsys.readouterr().err
    # --sa-target without the sa strategy: an error, not silently ignored
    assert main(["--dataset", "demo", "--models", "mlp", "--sa-target", "3", "--out", str(out)]) == 2
    assert "sa_target" in capsys.readouterr().err
    assert not out.exists()


def test_settings_that_make_the_perceptual_loss_meaningless_are_warned_about(tmp_path: Path, capsys,
                                                                            monkeypatch) -> None:
    cfg = BatchConfig(dataset="demo", models=("mlp",), lr=1e9)
    assert any("lr 1e+09" in w and "perceptual" in w for w in cfg.warnings())
    assert BatchConfig(dataset="demo", models=("mlp",)).warnings() == []
    import engine.batch

    monkeypatch.setattr(engine.batch, "run_batch", lambda config, progress=None: (_ for _ in ()).throw(
        KeyboardInterrupt))
    main(["--dataset", "demo", "--models", "mlp", "--lr", "1e9", "--out", str(tmp_path / "o")])
    assert "warning: lr 1e+09" in capsys.readouterr().err


def test_output_files_honour_the_umask(tmp_path: Path) -> None:
    from engine.batch import files

    old = os.umask(0o027)
    try:
        p = files.write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o640
    old = os.umask(0o022)
    try:
        q = files.write_json(tmp_path / "b.json", {"a": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(q.stat().st_mode) == 0o644


def test_two_seeds_report_the_spread(tmp_path: Path) -> None:
    out = tmp_path / "seeds"
    s = run_batch(BatchConfig(dataset="demo", models=("mlp",), iterations=3, limit=6, threads=1, seeds=2,
                              seed=4, out=str(out)))
    res = s.results
    assert res["seeds"] == [4, 5]
    e = res["white_box"]["mlp"]["ab"]
    rates = []
    for seed in (4, 5):
        r = json.loads((out / f"seed_{seed}/results.json").read_text())
        assert r["seed"] == seed
        rates.append(r["white_box"]["mlp"]["ab"]["success_rate"])
    assert e["per_seed"] == rates
    assert e["success_rate"]["mean"] == pytest.approx(np.mean(rates))
    assert e["success_rate"]["std"] == pytest.approx(np.std(rates, ddof=1))
    assert "over seeds" in (out / "report.md").read_text().lower()
    assert json.loads((out / "results.json").read_text())["seeds"] == [4, 5]


def test_rates_carry_wilson_intervals_and_metrics_their_spread(table_run: Path) -> None:
    res = json.loads((table_run / "results.json").read_text())
    e = res["white_box"]["stgcn"]["ab"]
    lo, hi = M.wilson_interval(e["succeeded"], e["attacked"])
    assert e["ci95"] == pytest.approx([lo, hi])
    if e["succeeded"]:
        sp = e["spread"]["displacement_mean"]
        assert sp["n"] == e["succeeded"] and sp["q1"] <= sp["median"] <= sp["q3"]
        assert set(e["spread"]) == {m.key for m in M.METRICS}
    pc = res["per_class"]["mlp"]["ab"]
    assert sum(r["attacked"] for r in pc["classes"]) == res["white_box"]["mlp"]["ab"]["attacked"]
    conf = np.array(pc["confusion"])
    assert conf.sum() == res["white_box"]["mlp"]["ab"]["attacked"]
    wb = res["white_box"]["mlp"]["ab"]
    assert np.trace(conf) == wb["attacked"] - wb["succeeded"]
    assert res["clean_motion"]["clean_acceleration"]["median"] > 0
    assert res["timing"]["mlp/ab"]["seconds_per_motion"] > 0
    assert res["paper"]["dataset_column"] is None  # the generated demo is none of the paper's datasets


def test_paper_column_appears_for_the_papers_models(tmp_path: Path) -> None:
    if "stgcn" not in demo_models("hdm05-demo"):
        pytest.skip("no shipped hdm05-demo stgcn")
    out = tmp_path / "hdm"
    s = run_batch(BatchConfig(dataset="hdm05-demo", models=("mlp", "stgcn"), iterations=2, limit=4, threads=1,
                              out=str(out)))
    paper = s.results["paper"]
    assert paper["dataset_column"] == "HDM05"
    assert paper["white_box"] == {"stgcn": {"ab": 99.57}}  # mlp is not one of the paper's models
    report = (out / "report.md").read_text()
    assert "paper HDM05" in report and "| 99.57 |" in report and "65 classes" in report


def test_models_paper_uses_the_shipped_ones_and_names_the_missing(tmp_path: Path) -> None:
    from engine.batch.plan import _expand_models

    warnings: list[str] = []
    got = _expand_models(("paper",), "demo", warnings)
    assert set(got) <= {"hrnn", "stgcn", "asgcn", "dgnn", "agcn", "msg3d", "sgn"} and "stgcn" in got
    missing = sorted(set(("hrnn", "stgcn", "asgcn", "dgnn", "agcn", "msg3d", "sgn")) - set(got))
    assert (not missing and not warnings) or all(m in warnings[0] for m in missing)
    with pytest.raises(CheckpointError, match="paper"):
        _expand_models(("paper",), None, [])


def test_ensemble_of_surrogates_is_attacked_as_one(tmp_path: Path) -> None:
    from engine.models import load_checkpoint

    nets = [load_checkpoint(demo_checkpoint("demo", m))[0].eval() for m in ("mlp", "stgcn")]
    ens = Ensemble(nets)
    x = torch.from_numpy(_demo_subset(range(3)).motions)
    with torch.no_grad():
        torch.testing.assert_close(ens(x), (nets[0](x) + nets[1](x)) / 2)
    assert ens.layout.name == nets[0].layout.name
    out = tmp_path / "ens"
    s = run_batch(BatchConfig(dataset="demo", surrogates=("mlp", "stgcn"), ensemble=True, targets=("hrnn",),
                              iterations=3, limit=6, threads=1, out=str(out)))
    res = s.results
    assert list(res["white_box"]) == ["mlp+stgcn"]
    assert list(res["transfer"]) == ["mlp+stgcn"] and set(res["transfer"]["mlp+stgcn"]) == {"hrnn"}
    assert res["models"]["mlp+stgcn"]["members"] == ["mlp", "stgcn"]


def test_presets_select_the_attack_settings() -> None:
    from engine.attack import PRESETS, AttackConfig

    assert BatchConfig(models=("mlp",)).attack_config() == AttackConfig()
    assert BatchConfig(models=("mlp",), preset="paper").attack_config() == PRESETS["paper"]()
    assert BatchConfig(models=("mlp",), preset="natural").attack_config() == PRESETS["natural"]()
    over = BatchConfig(models=("mlp",), preset="paper", w=0.3, iterations=7).attack_config()
    assert (over.w, over.iterations) == (0.3, 7) and over.lr == AttackConfig.paper().lr
    with pytest.raises(ValueError, match="preset"):
        BatchConfig(models=("mlp",), preset="fast")
    args, _ = build_config(["--dataset", "demo", "--models", "mlp", "--preset", "paper",
                            "--no-stop-on-success"])
    assert args.preset == "paper" and args.attack_config().stop_on_success is False
    args, _ = build_config(["--dataset", "demo", "--models", "mlp", "--smoothing", "0"])
    cfg = args.attack_config()
    assert cfg.smoothing == 0.0 and cfg.adam_beta2 == AttackConfig().adam_beta2
    args, _ = build_config(["--dataset", "demo", "--models", "mlp", "--smoothing", "0",
                            "--adam-beta2", "0.999"])
    assert args.attack_config() == AttackConfig(smoothing=0.0, adam_beta2=0.999)


def test_runner_and_merge_share_the_plan_without_a_cycle() -> None:
    import ast

    def imports(name: str) -> set[str]:
        tree = ast.parse((ROOT / f"engine/batch/{name}.py").read_text())
        return {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 1}

    assert "plan" in imports("runner") and "plan" in imports("merge")
    assert "runner" not in imports("merge") and "runner" not in imports("plan")
    assert "merge" not in imports("plan")
    merge_src = (ROOT / "engine/batch/merge.py").read_text()
    assert "plan._" not in merge_src  # no private attribute of the plan is read


def test_a_dataset_with_the_models_classes_in_another_order_is_mapped_by_name():
    from types import SimpleNamespace

    from engine.batch.plan import _check_fit
    from engine.datasets import MotionDataset
    from engine.demo import demo_split
    from engine.models import ModelDataMismatch, load_checkpoint

    _, val = demo_split("demo")
    net, meta = load_checkpoint(demo_checkpoint("demo", "mlp"))
    net.eval()
    x = torch.from_numpy(val.motions[:48])
    with torch.no_grad():
        want = (net(x).argmax(1).numpy() == val.labels[:48]).mean()
    order = list(reversed(range(len(meta.class_names))))  # dataset class i = model class order[i]
    names = [meta.class_names[k] for k in order]
    inverse = np.argsort(order)
    ds = MotionDataset(val.motions[:48], inverse[val.labels[:48]], names, val.layout, val.fps)
    cfg = SimpleNamespace(dataset="permuted")
    mapped = _check_fit(net, meta, Path("mlp.pt"), ds, cfg, x[:1])
    with torch.no_grad():
        got = (mapped(x).argmax(1).numpy() == ds.labels).mean()
    assert got == want > 0.8
    other = MotionDataset(val.motions[:48], val.labels[:48], [f"x{i}" for i in range(len(names))],
                          val.layout, val.fps)
    with pytest.raises(ModelDataMismatch, match="no name in common|in common"):
        _check_fit(net, meta, Path("mlp.pt"), other, cfg, x[:1])
