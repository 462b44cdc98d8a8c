"""The disentanglement metrics on codes whose answer is known: the factors themselves (an oracle), random codes,
and the factors mixed by a rotation (each dimension then carries parts of two factors)."""

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from vae_core.data import sprites
from vae_core.stats import metrics

N = 4000
SHAPE = (0,)  # the categorical column


@pytest.fixture(scope="module")
def factors():
    return sprites.sample_factors(N, seed=0)


def standardized(f):
    return (f - f.mean(0)) / f.std(0)


def mixed(f, angle=np.pi / 4):
    """Factor pairs (shape, scale) and (orientation, x) rotated into each other by `angle`; y left alone."""
    m = np.eye(5)
    for a, b in ((0, 1), (2, 3)):
        m[[a, a, b, b], [a, b, a, b]] = np.cos(angle), -np.sin(angle), np.sin(angle), np.cos(angle)
    return standardized(f) @ m


@pytest.fixture(scope="module")
def scores(factors):
    rng = np.random.default_rng(1)
    codes = dict(oracle=standardized(factors), random=rng.normal(size=(N, 10)), mixed=mixed(factors))
    return {name: metrics.all_metrics(c, factors, categorical=SHAPE) for name, c in codes.items()}


@pytest.mark.parametrize("name", ["mig", "dci_disentanglement", "dci_completeness", "dci_informativeness", "sap", "factorvae"])
def test_a_code_that_is_the_factors_scores_near_one(scores, name):
    assert scores["oracle"][name] > 0.95


@pytest.mark.parametrize("name", ["mig", "dci_disentanglement", "dci_completeness", "sap"])
def test_a_random_code_scores_near_zero(scores, name):
    assert scores["random"][name] < 0.05


def test_random_codes_predict_factors_and_name_them_at_chance_only(scores, factors):
    """Informativeness is an accuracy and the FactorVAE score a vote among K factors: their floor is chance."""
    chance = np.mean([np.bincount(metrics.discretize(f)).max() / N for f in factors.T])
    assert scores["random"]["dci_informativeness"] < chance + 0.05
    assert scores["random"]["factorvae"] < 1 / factors.shape[1] + 0.1


@pytest.mark.parametrize("name", ["mig", "dci_disentanglement", "dci_completeness", "sap", "factorvae"])
def test_mixed_factors_score_clearly_between(scores, name):
    assert 0.1 < scores["mixed"][name] < 0.8 * scores["oracle"][name]
    assert scores["mixed"][name] > scores["random"][name] + 0.1


def test_mixing_keeps_the_information_so_informativeness_stays_high(scores):
    """A rotation loses nothing: the factors can still be read off the code, only not one dimension each."""
    assert scores["mixed"]["dci_informativeness"] > 0.95


def test_mutual_information_agrees_with_scikit_learn(factors):
    rng = np.random.default_rng(2)
    a, b = metrics.discretize(factors[:, 2]), rng.integers(0, 7, N)
    b = np.where(rng.random(N) < 0.5, a % 7, b)  # dependent on a
    assert metrics.mutual_info(a, b) == pytest.approx(mutual_info_score(a, b), rel=1e-9)
    assert metrics.entropy(a) == pytest.approx(mutual_info_score(a, a), rel=1e-9)


def test_mig_by_hand_on_two_dimensions_and_one_factor():
    """One binary factor; z0 is it, z1 is it half the time: MIG = (1 - I(z1; v)/H(v))."""
    rng = np.random.default_rng(3)
    v = rng.integers(0, 2, 2000)
    noisy = np.where(rng.random(2000) < 0.5, v, rng.integers(0, 2, 2000))
    codes = np.stack([v, noisy], 1).astype(float)
    expected = 1 - mutual_info_score(v, noisy) / mutual_info_score(v, v)
    assert metrics.mig(codes, v[:, None].astype(float)) == pytest.approx(expected, rel=1e-9)


def test_best_dimensions_find_each_factor_where_a_shuffled_oracle_put_it(factors):
    order = [3, 0, 4, 1, 2]
    codes = standardized(factors)[:, np.argsort(order)]  # factor k lives in dimension order[k]
    found = metrics.best_dimensions(codes, factors)
    assert [d for d, _ in found] == order
    assert all(share > 0.95 for _, share in found)
    assert [k for k, _ in metrics.best_factors(codes, factors)] == list(np.argsort(order))


def test_collapsed_dimensions_get_no_factorvae_vote(factors):
    """A dimension that never moves has zero variance in every batch; counted, it would win every vote."""
    codes = np.concatenate([standardized(factors), np.full((N, 1), 0.5)], 1)
    assert metrics.factorvae_score(codes, factors) > 0.95


@pytest.mark.parametrize(
    "codes, factors",
    [(np.zeros((5, 2)), np.zeros((4, 1))), (np.zeros(5), np.zeros((5, 1))), (np.full((5, 2), np.nan), np.zeros((5, 1)))],
)
def test_mismatched_or_non_finite_input_is_refused(codes, factors):
    with pytest.raises(ValueError):
        metrics.mig(codes, factors)


def test_a_dimension_of_noise_carries_no_factor_once_chance_is_taken_off():
    """On 60 images the histogram estimate gives noise half a factor; the shares shown are chance-corrected."""
    rng = np.random.default_rng(4)
    f = sprites.sample_factors(60, seed=4)
    codes = np.concatenate([standardized(f)[:, 3:4], rng.normal(size=(60, 1))], 1)  # pos_x, then noise
    raw = metrics.normalized_mutual_info(codes, f)
    corrected = metrics.normalized_mutual_info(codes, f, chance_corrected=True)
    assert raw[1].max() > 0.3 and corrected[1].max() < 0.1
    assert corrected[0, 3] > 0.5  # the real one stays
    (k, share), (_, noise) = metrics.best_factors(codes, f)
    assert k == 3 and noise < 0.1
