"""Hostile or degenerate ground-truth factors: a factors.csv far larger than its images can need, values that are
not finite numbers, factors whose arithmetic overflows or that never vary, and more codes than the metrics should
fit. None of them may cost the server its memory or time, or put a NaN into a page or a JSON file."""

import csv
import io
import json
import math
import zipfile
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from vae_core import DatasetError, load_dataset
from vae_core.data import datasets, sprites
from vae_core.stats import metrics


def image_folder(root, n=6):
    for i in range(n):
        path = root / ("a" if i % 2 else "b") / f"{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((8, 8), 40 * i, np.uint8)).save(path)
    return root


def rows(n=6):
    return [f"{'a' if i % 2 else 'b'}/{i}.png,{i}" for i in range(n)]


def strict_json(text: str):
    """json.loads that refuses NaN and ±Infinity, as a browser's JSON.parse does."""

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


# --- factors.csv: size, columns, values -------------------------------------------------------------------------


@pytest.fixture
def csv_reads(monkeypatch):
    """Every csv.reader the datasets module makes, so a test can say the file was not parsed at all."""
    made = []

    def reader(*args, **kwargs):
        made.append(args)
        return csv.reader(*args, **kwargs)

    monkeypatch.setattr(datasets, "csv", SimpleNamespace(reader=reader, Error=csv.Error))
    return made


def test_a_factors_csv_far_larger_than_its_images_need_is_refused_before_it_is_read(tmp_path, csv_reads):
    """Valid rows for the 6 images, then 2 MB of rows for images that are not there: the old reader held them all."""
    folder = image_folder(tmp_path / "set")
    padding = [f"x/{i}.png,{i}" for i in range(200_000)]
    (folder / "factors.csv").write_text("\n".join(["file,size", *rows(), *padding]))
    with pytest.raises(DatasetError, match=r"factors.csv is \d+\.\d MB, too large for 6 images") as caught:
        load_dataset(str(folder))
    assert "not read" in str(caught.value)
    assert csv_reads == []  # refused from its size alone: not one row parsed


def test_a_factors_csv_that_grows_past_its_size_as_it_is_read_stops_at_the_limit(tmp_path, monkeypatch):
    """A file whose size says little (a /proc file says 0) is still read no further than the limit."""
    folder = image_folder(tmp_path / "set")
    (folder / "factors.csv").write_text("\n".join(["file,size", *rows(), *(f"x/{i}.png,{i}" for i in range(50_000))]))
    files = [f"{'a' if i % 2 else 'b'}/{i}.png" for i in range(6)]
    monkeypatch.setattr(datasets.os, "fstat", lambda fd: SimpleNamespace(st_size=0))
    with pytest.raises(DatasetError, match="factors.csv holds more than .* for 6 images"):
        datasets.read_factors_csv(folder, files)


def test_a_zip_whose_factors_csv_is_too_large_is_refused_before_it_is_unpacked(tmp_path):
    """100 MB of factors beside 3 images deflate to a few hundred KB: the zip's own size of the member refuses it."""
    images = {}
    for i in range(3):
        buf = io.BytesIO()
        Image.fromarray(np.full((8, 8), 40 * i, np.uint8)).save(buf, "PNG")
        images[f"set/c/{i}.png"] = buf.getvalue()
    source = tmp_path / "up.zip"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in images.items():
            zf.writestr(name, data)
        zf.writestr("set/factors.csv", b"file,size\n" + b"c/0.png,1\n" * 2_000_000)
    with pytest.raises(DatasetError, match=r"factors.csv is 20\.\d MB, too large for 3 images"):
        datasets.extract_image_zip(source, tmp_path / "out")
    assert not list((tmp_path / "out").rglob("factors.csv"))


def test_a_factors_csv_of_ordinary_size_still_loads(tmp_path):
    """64 factors at full precision make rows of about 1.3 KB: well inside the limit."""
    folder = image_folder(tmp_path / "set")
    names = [f"f{k}" for k in range(64)]
    lines = ["file," + ",".join(names)] + [
        f"{'a' if i % 2 else 'b'}/{i}.png," + ",".join(repr(-1 / 3 - i - k * 1e-9) for k in range(64)) for i in range(6)
    ]
    (folder / "factors.csv").write_text("\n".join(lines))
    assert (folder / "factors.csv").stat().st_size > 6 * 1024
    assert load_dataset(str(folder)).factor_names == names


def test_too_many_factor_columns_are_refused_with_their_number(tmp_path):
    folder = image_folder(tmp_path / "set")
    names = [f"f{k}" for k in range(65)]
    lines = ["file," + ",".join(names)] + [f"{'a' if i % 2 else 'b'}/{i}.png," + ",".join("1" * 65) for i in range(6)]
    (folder / "factors.csv").write_text("\n".join(lines))
    with pytest.raises(DatasetError, match="factors.csv has 65 factor columns; the limit is 64"):
        load_dataset(str(folder))


@pytest.mark.parametrize("value", ["1e309", "-1e309", "inf", "-Infinity", "nan", "NaN"])
def test_a_value_that_is_not_a_finite_number_is_refused_naming_its_row_and_column(tmp_path, value):
    folder = image_folder(tmp_path / "set")
    lines = ["file,mood,size"] + [f"{r.split(',')[0]},{'sad' if i < 3 else 'glad'},{i}" for i, r in enumerate(rows())]
    lines[3] = lines[3].rsplit(",", 1)[0] + "," + value  # line 4 of the file: b/2.png
    (folder / "factors.csv").write_text("\n".join(lines))
    with pytest.raises(DatasetError) as caught:
        load_dataset(str(folder))
    message = str(caught.value)
    assert "line 4 (b/2.png), column size" in message and f" {value} " in message and "finite number" in message


def test_a_column_of_words_may_hold_the_word_nan(tmp_path):
    """Only a column of numbers must hold finite ones: in a column of categories 'nan' is a category like any other."""
    folder = image_folder(tmp_path / "set")
    lines = ["file,colour"] + [f"{r.split(',')[0]},{['red', 'nan', 'inf'][i % 3]}" for i, r in enumerate(rows())]
    (folder / "factors.csv").write_text("\n".join(lines))
    data = load_dataset(str(folder))
    assert data.factors.categories == {"colour": ["inf", "nan", "red"]}
    assert np.isfinite(data.factors.train).all() and np.isfinite(data.factors.test).all()


# --- the metrics: degenerate factors, no NaN ---------------------------------------------------------------------

N = 600


@pytest.fixture(scope="module")
def factors():
    return sprites.sample_factors(N, seed=0)


@pytest.fixture(scope="module")
def oracle(factors):
    return (factors - factors.mean(0)) / factors.std(0)


def assert_finite_or_none(scores: dict):
    for name in metrics.METRIC_NAMES:
        assert scores[name] is None or (isinstance(scores[name], float) and math.isfinite(scores[name])), (name, scores)


@pytest.mark.parametrize("kind", ["two values", "spread"])
def test_factors_of_magnitude_1e308_give_finite_metrics(factors, oracle, kind):
    """±1e308 overflowed the arithmetic: SAP was NaN (two values), MIG's bins failed (a spread). The metrics do not
    depend on a factor's scale, so such a factor is measured at a scale where nothing overflows."""
    rng = np.random.default_rng(1)
    big = rng.choice([-1e308, 1e308], N) if kind == "two values" else rng.uniform(-1, 1, N) * 1e308
    scores = metrics.all_metrics(np.c_[oracle, big / 1e308], np.c_[factors, big], categorical=(0,))
    assert_finite_or_none(scores)
    assert all(scores[name] is not None for name in metrics.METRIC_NAMES)
    assert scores["sap"] > 0.9 and scores["mig"] > 0.5  # the extra factor is its own dimension: still disentangled


def test_a_factor_scaled_by_a_power_of_two_scores_exactly_the_same(factors, oracle):
    scale = 2.0**1000
    scaled = factors * np.array([1, 1, 1, scale, 1])
    assert metrics.all_metrics(oracle, scaled, categorical=(0,)) == metrics.all_metrics(oracle, factors, categorical=(0,))


def test_a_factor_that_never_varies_gives_no_metric_and_says_why(factors, oracle):
    scores = metrics.all_metrics(oracle, np.c_[factors, np.full(N, 3.0)], categorical=(0,))
    assert_finite_or_none(scores)
    assert all(scores[name] is None for name in metrics.METRIC_NAMES)
    assert set(scores["metric_notes"]) == set(metrics.METRIC_NAMES)
    assert "factor 6" in scores["metric_notes"]["mig"] and "one value" in scores["metric_notes"]["mig"]
    named = metrics.all_metrics(oracle, np.c_[factors, np.full(N, 3.0)], factor_names=[*"abcde", "colour"])
    assert "colour" in named["metric_notes"]["sap"]


def test_codes_whose_arithmetic_overflows_give_none_not_nan_nor_a_crash(factors):
    rng = np.random.default_rng(2)
    codes = rng.uniform(-1, 1, (N, 3)) * 1e308
    scores = metrics.all_metrics(codes, factors, categorical=(0,))
    assert_finite_or_none(scores)
    assert scores["mig"] is None and "mig" in scores["metric_notes"]
    strict_json(json.dumps(scores, allow_nan=False))


def test_the_metrics_of_ordinary_data_are_those_of_each_metric_alone(factors, oracle):
    scores = metrics.all_metrics(oracle, factors, categorical=(0,), seed=3)
    assert scores["mig"] == metrics.mig(oracle, factors)
    assert scores["sap"] == metrics.sap(oracle, factors, (0,), seed=3)
    assert scores["factorvae"] == metrics.factorvae_score(oracle, factors, seed=3)
    assert scores["dci_completeness"] == metrics.dci(oracle, factors, seed=3)["completeness"]
    assert scores["metric_sample"] == N and "metric_notes" not in scores


# --- the sample the metrics fit ----------------------------------------------------------------------------------


def test_the_metrics_fit_at_most_the_capped_number_of_codes(factors, oracle, monkeypatch):
    from sklearn.ensemble import RandomForestClassifier

    fitted = []
    fit = RandomForestClassifier.fit
    monkeypatch.setattr(RandomForestClassifier, "fit", lambda self, x, y: fitted.append(len(x)) or fit(self, x, y))
    monkeypatch.setattr(metrics, "MAX_METRIC_CODES", 200)
    scores = metrics.all_metrics(oracle, factors, categorical=(0,))
    assert scores["metric_sample"] == 200
    assert fitted == [160] * factors.shape[1]  # 80% of the 200 codes, per factor
    assert scores == metrics.all_metrics(oracle, factors, categorical=(0,))  # a fixed sample: the same every time
    assert scores["mig"] > 0.5


def test_score_model_encodes_only_the_sample(monkeypatch):
    import torch

    from vae_core import VAE, VAEConfig
    from vae_core.analysis import scores as scores_module

    data = load_dataset("sprites", sprites_n=500, image_size=16)
    model = VAE(VAEConfig(image_shape=(1, 16, 16), latent_dim=3, hidden=(16,)))
    encoded = []
    encode = scores_module.encode_means
    monkeypatch.setattr(scores_module, "encode_means", lambda m, x, y=None: encoded.append(len(x)) or encode(m, x, y=y))
    monkeypatch.setattr(metrics, "MAX_METRIC_CODES", 50)
    torch.manual_seed(0)
    result = scores_module.score_model(model, data)
    assert len(data.test_x) == 100 and encoded == [50] and result["metric_sample"] == 50
    assert_finite_or_none(result)
    assert all(s is None or math.isfinite(s) for s in result["best_share"])


# --- the command line's JSON -------------------------------------------------------------------------------------


def fake_run(monkeypatch, cli):
    model = SimpleNamespace(
        config=SimpleNamespace(likelihood="bernoulli", conditional=False, num_classes=0, image_shape=(1, 8, 8), latent_dim=2)
    )
    factors = SimpleNamespace(names=["size"])
    data = SimpleNamespace(name="set", test_x=[0, 0], test_y=[0, 0], factors=factors)
    monkeypatch.setattr(cli, "_model_and_data", lambda args: (model, SimpleNamespace(train=None), data))


def test_metrics_json_is_strict_json_whatever_the_scores(monkeypatch, capsys):
    from vae_core import cli

    fake_run(monkeypatch, cli)
    nan_scores: dict = dict.fromkeys(metrics.METRIC_NAMES, float("nan"))
    nan_scores.update(best_dimension=[0], best_share=[float("inf")])
    monkeypatch.setattr(cli, "score_model", lambda model, data, seed=0: nan_scores)
    assert cli.main(["metrics", "x.pt", "--json"]) == 0
    result = strict_json(capsys.readouterr().out)
    assert all(result[name] is None for name in metrics.METRIC_NAMES) and result["factors"][0]["share"] is None


def test_metrics_json_says_how_many_codes_were_measured_and_why_a_metric_is_missing(monkeypatch, capsys):
    from vae_core import cli

    fake_run(monkeypatch, cli)
    scores = dict.fromkeys(metrics.METRIC_NAMES, 0.5)
    scores.update(sap=None, metric_sample=10_000, metric_notes=dict(sap="not measured"), best_dimension=[1], best_share=[0.9])
    monkeypatch.setattr(cli, "score_model", lambda model, data, seed=0: scores)
    assert cli.main(["metrics", "x.pt", "--json"]) == 0
    result = strict_json(capsys.readouterr().out)
    assert result["sap"] is None and result["mig"] == 0.5
    assert result["metric_sample"] == 10_000 and result["metric_notes"] == dict(sap="not measured")


def test_eval_json_is_strict_json_whatever_the_losses(monkeypatch, capsys):
    from vae_core import cli

    fake_run(monkeypatch, cli)
    monkeypatch.setattr(
        cli, "evaluate", lambda *a, **k: dict(test_loss=float("nan"), test_recon=float("inf"), test_kl=-float("inf"))
    )
    assert cli.main(["eval", "x.pt", "--json"]) == 0
    result = strict_json(capsys.readouterr().out)
    assert result["test_loss"] is None and result["test_recon"] is None and result["bits_per_dim"] is None
