"""Disentanglement metrics: how far each true factor of the data is captured by one latent dimension alone.

Every metric takes codes (N, D), such as an encoder's means, and the true factors (N, K) of the same images, so
it works on any encoder. `categorical` names the factor columns whose values are categories (a shape), not
quantities (a position); by default none are. All are between 0 and 1, higher is better.

- MIG, the mutual information gap (Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs"): per factor,
  the gap between the two latent dimensions that know most about it, over the factor's entropy.
- DCI (Eastwood & Williams 2018, "A Framework for the Quantitative Evaluation of Disentangled Representations"):
  a random forest per factor predicts it from the code; its feature importances say which dimensions it uses.
  Disentanglement: each dimension serves one factor; completeness: each factor is served by one dimension;
  informativeness: the forests' held-out accuracy.
- SAP, the separated attribute predictability (Kumar et al. 2018, "Variational Inference of Disentangled Latent
  Concepts from Unlabeled Observations"): per factor, the gap between the two dimensions that predict it best
  alone (R² of a line for quantities, a threshold classifier's accuracy above chance for categories).
- The FactorVAE score (Kim & Mnih 2018, "Disentangling by Factorising"): hold one factor fixed in a batch; the
  dimension that then varies least should always name that factor. Its chance level is about 1/K, not 0.

The estimators are those of disentanglement_lib (Locatello et al. 2019) where they are fast enough: 20-bin
histograms of the codes for MIG, 64-image batches and a majority vote for the FactorVAE score. DCI uses small
random forests (Eastwood & Williams' choice) rather than disentanglement_lib's gradient boosting, which takes
minutes on 10,000 codes; all four together take seconds (BENCHMARKS.md).

`all_metrics` is the entry point for anything shown or saved. It fits at most MAX_METRIC_CODES codes (a sample
drawn by its seed; fewer codes are all used, so their results are those of the metrics alone) and says how many
under "metric_sample". Each metric is a finite float or None, never NaN: None when it cannot be measured on these
factors, with the reason under "metric_notes" (a factor that takes one value on the codes measured: no dimension can
carry it, and MIG's share of its entropy is 0/0). A factor's scale does not change any metric, so a factor whose
values are so large or so small that their squares or range would overflow (±1e308) is measured rescaled by a power
of two, which is exact.
"""

from __future__ import annotations

import numpy as np

from vae_core.config import InputError

CODE_BINS = 20  # histogram bins per latent dimension (disentanglement_lib's default)
MAX_CLASSES = 20  # a factor with at most this many values is used as it is; one with more (dSprites' positions
# and angles) is binned as the codes are, else even a perfect code could not reach MIG 1
THREADED_FORESTS = 5000  # codes from which DCI's forests train on several threads
COLLAPSED_VARIANCE = 0.05  # FactorVAE score: a dimension that varies less over the data casts no vote
MAX_METRIC_CODES = 10_000  # all_metrics fits a sample of this many codes at most: DCI's forests took over 10 minutes
# on 10^6 codes, and 10,000 measure a code as well as more do (disentanglement_lib scores on 10,000)
SAFE_MAGNITUDE = 2.0**256  # a factor column whose largest |value| is above this (or below its inverse) is rescaled


def discretize(values: np.ndarray, bins: int = CODE_BINS) -> np.ndarray:
    """Integer codes 0..m-1: a column's own values when it has at most MAX_CLASSES of them, else equal-width bins."""
    values = np.asarray(values, dtype=np.float64)
    levels = np.unique(values)
    if len(levels) <= MAX_CLASSES:
        return np.searchsorted(levels, values)
    return _bins(values, bins)


def _bins(values: np.ndarray, bins: int) -> np.ndarray:
    edges = np.histogram_bin_edges(values, bins)
    return np.digitize(values, edges[1:-1])


def entropy(labels: np.ndarray) -> float:
    """Entropy of integer labels, in nats."""
    p = np.bincount(labels) / len(labels)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def mutual_info(a: np.ndarray, b: np.ndarray) -> float:
    """I(a; b) in nats of two integer label arrays, from their joint histogram."""
    joint = np.bincount(a * (b.max() + 1) + b, minlength=(a.max() + 1) * (b.max() + 1)).reshape(a.max() + 1, -1)
    p = joint / len(a)
    pa, pb = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    nz = p > 0
    return float((p[nz] * np.log(p[nz] / (pa @ pb)[nz])).sum())


def _checked(codes, factors) -> tuple[np.ndarray, np.ndarray]:
    codes, factors = np.asarray(codes, dtype=np.float64), np.asarray(factors, dtype=np.float64)
    if codes.ndim != 2 or factors.ndim != 2 or len(codes) != len(factors) or len(codes) < 2:
        raise InputError(
            f"codes (N, D) and factors (N, K) of the same N images are needed, got {codes.shape} and {factors.shape}"
        )
    if not (np.isfinite(codes).all() and np.isfinite(factors).all()):
        raise InputError("codes and factors must be finite")
    return codes, _rescaled(factors)


def _rescaled(factors: np.ndarray) -> np.ndarray:
    """The factors with each column whose largest |value| is beyond SAFE_MAGNITUDE (or under its inverse, yet not
    0) scaled by a power of two to about 1: exact, and no metric depends on a factor's scale, while ±1e308 overflows
    a square (SAP's R² was NaN) or a range (MIG's bins failed). Other columns are the very same numbers."""
    biggest = np.abs(factors).max(axis=0, initial=0.0)
    far = (biggest > SAFE_MAGNITUDE) | ((biggest > 0) & (biggest < 1 / SAFE_MAGNITUDE))
    if not far.any():
        return factors
    _, exponents = np.frexp(biggest)
    factors = factors.copy()
    factors[:, far] = np.ldexp(factors[:, far], -exponents[far])
    return factors


PERMUTATIONS = 5  # shuffles of each factor that estimate what mutual information chance alone shows


def normalized_mutual_info(codes, factors, chance_corrected: bool = False, seed: int = 0) -> np.ndarray:
    """(D, K): I(z_d; v_k) / H(v_k), the share of each factor's entropy that each dimension (binned) carries.

    The histogram estimate is biased upwards, the more so the fewer the images: on 60 images a dimension of pure
    noise "carries" half a factor. MIG subtracts two such estimates, and the bias mostly cancels; a share shown on
    its own should be chance_corrected: adjusted for chance as the adjusted mutual information is (Vinh et al.
    2010), (I − I₀) / (H − I₀) with I₀ the mean estimate with the factor shuffled, kept in [0, 1]: noise scores 0 and a
    dimension that is the factor still 1."""
    codes, factors = _checked(codes, factors)
    binned = [_bins(c, CODE_BINS) for c in codes.T]
    values = [discretize(f) for f in factors.T]
    mi = np.array([[mutual_info(c, v) for v in values] for c in binned])
    if chance_corrected:
        rng = np.random.default_rng(seed)
        shuffled = [[rng.permutation(v) for v in values] for _ in range(PERMUTATIONS)]
        chance = np.mean([[[mutual_info(c, v) for v in vs] for c in binned] for vs in shuffled], axis=0)
        h = np.array([entropy(v) for v in values])
        return np.clip((mi - chance) / np.maximum(h - chance, 1e-12), 0.0, 1.0)
    return mi / np.maximum([entropy(v) for v in values], 1e-12)


def mig(codes, factors) -> float:
    """Mutual information gap: mean over factors of the normalized MI of its best dimension minus its second best."""
    nmi = normalized_mutual_info(codes, factors)
    top = -np.sort(-nmi, axis=0)
    second = top[1] if len(top) > 1 else np.zeros(nmi.shape[1])
    return float(np.mean(top[0] - second))


def best_dimensions(codes, factors) -> list[tuple[int, float]]:
    """Per factor, the latent dimension that carries most of it and that share beyond chance, (d, I(z_d; v_k) /
    H(v_k))."""
    nmi = normalized_mutual_info(codes, factors, chance_corrected=True)
    return [(int(np.argmax(column)), float(column.max())) for column in nmi.T]


def best_factors(codes, factors) -> list[tuple[int, float]]:
    """Per latent dimension, the factor it carries most of and that share beyond chance, (k, I(z_d; v_k) /
    H(v_k))."""
    nmi = normalized_mutual_info(codes, factors, chance_corrected=True)
    return [(int(np.argmax(row)), float(row.max())) for row in nmi]


def _split(n: int, seed: int, test_share: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * test_share)))
    return order[n_test:], order[:n_test]


DCI_PARTS = ("disentanglement", "completeness", "informativeness")


def dci(codes, factors, seed: int = 0, trees: int = 20, n_jobs: int = -1) -> dict:
    """DCI: {"disentanglement", "completeness", "informativeness"} from a random forest per (discretized) factor
    trained on 80% of the images; informativeness is their mean accuracy on the other 20%. n_jobs: the threads
    the forests may use (-1: every core)."""
    from sklearn.ensemble import RandomForestClassifier

    codes, factors = _checked(codes, factors)
    train, test = _split(len(codes), seed)
    n_jobs = n_jobs if len(codes) >= THREADED_FORESTS else 1  # on a few hundred codes threads cost more than they save
    importance, accuracy = [], []
    for column in factors.T:
        labels = discretize(column)
        # every split may use every dimension: a random subset would credit dimensions that carry nothing
        forest = RandomForestClassifier(
            n_estimators=trees, max_depth=12, min_samples_leaf=2, max_features=None, n_jobs=n_jobs, random_state=seed
        ).fit(codes[train], labels[train])
        importance.append(forest.feature_importances_)
        accuracy.append(forest.score(codes[test], labels[test]))
    r = np.abs(np.array(importance).T)  # (D, K)
    return dict(
        disentanglement=_dci_disentanglement(r), completeness=_dci_completeness(r), informativeness=float(np.mean(accuracy))
    )


def _one_minus_entropy(p: np.ndarray, axis: int) -> np.ndarray:
    """1 − H(p) with log base the length of `axis`: 1 when one entry holds everything, 0 when all are equal."""
    n = p.shape[axis]
    if n < 2:
        return np.ones(p.shape[1 - axis])
    p = p / np.maximum(p.sum(axis=axis, keepdims=True), 1e-12)
    logs = np.log(np.where(p > 0, p, 1.0)) / np.log(n)
    return 1 + (p * logs).sum(axis=axis)


def _dci_disentanglement(r: np.ndarray) -> float:
    """Per dimension 1 − H_K(its importances over factors), weighted by its share of all importance."""
    weights = r.sum(1) / max(r.sum(), 1e-12)
    return float((weights * _one_minus_entropy(r, axis=1)).sum())


def _dci_completeness(r: np.ndarray) -> float:
    """Per factor 1 − H_D(its importances over dimensions), averaged over factors."""
    return float(_one_minus_entropy(r, axis=0).mean())


def sap(codes, factors, categorical=(), seed: int = 0) -> float:
    """SAP: mean over factors of the gap between the two dimensions that predict it best, each dimension alone.
    A quantity: the R² of a straight line (the squared correlation). A category (columns named in `categorical`
    by index): the held-out accuracy of a threshold classifier on the one dimension, rescaled so that always
    guessing the most common category is 0."""
    codes, factors = _checked(codes, factors)
    scores = np.array(
        [
            [_category_score(c, discretize(f), seed) if k in categorical else _r_squared(c, f) for k, f in enumerate(factors.T)]
            for c in codes.T
        ]
    )  # (D, K)
    top = -np.sort(-scores, axis=0)
    second = top[1] if len(top) > 1 else np.zeros(scores.shape[1])
    return float(np.mean(top[0] - second))


def _r_squared(x: np.ndarray, y: np.ndarray) -> float:
    if x.std() == 0 or y.std() == 0:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1] ** 2)


def _category_score(x: np.ndarray, labels: np.ndarray, seed: int) -> float:
    from sklearn.tree import DecisionTreeClassifier

    train, test = _split(len(x), seed)
    n_classes = labels.max() + 1
    tree = DecisionTreeClassifier(max_leaf_nodes=max(2, int(n_classes)), random_state=seed)
    accuracy = tree.fit(x[train, None], labels[train]).score(x[test, None], labels[test])
    chance = np.bincount(labels[train]).max() / len(train)
    return float(max(0.0, (accuracy - chance) / max(1 - chance, 1e-12)))


def factorvae_score(
    codes, factors, seed: int = 0, batch_size: int = 64, train_votes: int = 800, eval_votes: int = 400
) -> float:
    """FactorVAE score: each vote fixes one factor at one value, takes batch_size images that share it, and names
    the active dimension whose values (scaled by its spread over all the data) vary least among them; a majority
    vote per dimension learns which factor it names, and the score is that rule's accuracy on further votes.
    Dimensions that barely vary over the data (variance under COLLAPSED_VARIANCE) are left out, as in the paper."""
    codes, factors = _checked(codes, factors)
    rng = np.random.default_rng(seed)
    spread = codes.std(0)
    if not np.isfinite(spread).all():
        raise InputError("the codes' spread overflows: their values are too large to compare")
    active = np.flatnonzero(spread**2 > COLLAPSED_VARIANCE)
    if len(active) == 0:
        return 0.0
    scaled = codes[:, active] / spread[active]
    groups = [_groups(discretize(f)) for f in factors.T]

    def votes(n: int) -> np.ndarray:
        out = np.empty((n, 2), dtype=int)
        for i in range(n):
            k = rng.integers(len(groups))
            members = groups[k][rng.integers(len(groups[k]))]
            batch = scaled[rng.choice(members, batch_size, replace=len(members) < batch_size)]
            out[i] = np.argmin(batch.var(0)), k
        return out

    train, test = votes(train_votes), votes(eval_votes)
    counts = np.zeros((len(active), len(groups)), dtype=int)
    np.add.at(counts, (train[:, 0], train[:, 1]), 1)
    named = counts.argmax(1)
    return float(np.mean(named[test[:, 0]] == test[:, 1]))


def _groups(labels: np.ndarray) -> list[np.ndarray]:
    """The images of each value of a factor, those values that at least two images share."""
    order = np.argsort(labels, kind="stable")
    groups = np.split(order, np.flatnonzero(np.diff(labels[order])) + 1)
    return [g for g in groups if len(g) >= 2] or [order]


METRIC_NAMES = ("mig", "dci_disentanglement", "dci_completeness", "dci_informativeness", "sap", "factorvae")
METRIC_TITLES = dict(
    mig="MIG",
    dci_disentanglement="DCI disentanglement",
    dci_completeness="DCI completeness",
    dci_informativeness="DCI informativeness",
    sap="SAP",
    factorvae="FactorVAE score",
)


def metric_sample(n: int, seed: int = 0) -> np.ndarray | None:
    """Which of n codes the metrics fit: None (all of them) up to MAX_METRIC_CODES, else the sorted indices of
    MAX_METRIC_CODES of them drawn without replacement by `seed`, so the same codes and seed give the same sample."""
    if n <= MAX_METRIC_CODES:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, MAX_METRIC_CODES, replace=False))


def all_metrics(codes, factors, categorical=(), seed: int = 0, n_jobs: int = -1, factor_names=None) -> dict:
    """Every metric at once: {"mig", "dci_disentanglement", "dci_completeness", "dci_informativeness", "sap",
    "factorvae"}, each a finite float or None when it cannot be measured on these factors; "metric_sample", how many
    codes they were fitted on (at most MAX_METRIC_CODES, drawn by `seed`); and, only when a metric is None,
    "metric_notes": {metric: why}. factor_names: what the notes call the factor columns (by default factor 1, 2, ...).
    Codes and factors that are not (N, D) and (N, K) arrays of finite numbers raise a ValueError."""
    codes, factors = _checked(codes, factors)
    rows = metric_sample(len(codes), seed)
    if rows is not None:
        codes, factors = codes[rows], factors[rows]
    names = [f"factor {k + 1}" for k in range(factors.shape[1])] if factor_names is None else list(factor_names)
    scores: dict = dict.fromkeys(METRIC_NAMES)
    notes: dict = {}
    constant = [names[k] for k, column in enumerate(factors.T) if (column == column[0]).all()]
    if constant:
        why = (
            f"not measured: {_listed(constant)} takes one value on the {len(codes):,} images measured, so no "
            "latent dimension can carry it; measure on images where every factor varies"
        )
        notes = dict.fromkeys(METRIC_NAMES, why)
    else:

        def dci_parts() -> list:
            parts = dci(codes, factors, seed=seed, n_jobs=n_jobs)
            return [parts[k] for k in DCI_PARTS]

        measures = (
            (("mig",), lambda: [mig(codes, factors)]),
            (tuple(f"dci_{k}" for k in DCI_PARTS), dci_parts),
            (("sap",), lambda: [sap(codes, factors, categorical, seed=seed)]),
            (("factorvae",), lambda: [factorvae_score(codes, factors, seed=seed)]),
        )
        for keys, measure in measures:  # each metric's arithmetic alone: one that fails leaves the others
            try:
                with np.errstate(all="ignore"):
                    values = measure()
            except (ValueError, ArithmeticError) as err:  # numpy's bins or scikit-learn's float32 on huge codes
                values, why = [None] * len(keys), f"not measured: its arithmetic failed ({type(err).__name__})"
            else:
                why = "not measured: its arithmetic overflowed (the codes' values are too large), giving no number"
            for key, value in zip(keys, values):
                if value is not None and np.isfinite(value):
                    scores[key] = float(value)
                else:
                    notes[key] = why
    scores["metric_sample"] = len(codes)
    if notes:
        scores["metric_notes"] = notes
    return scores


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"the factor {shown}" if len(names) == 1 else f"each of the factors {shown}"
