"""A checkpoint's metadata (everything in the file but the weights) as one typed record.

`CheckpointMeta.from_payload` is the one reader of the stored dict, so the defaults of older files live here
and nowhere else: a model saved before likelihoods were chosen is Bernoulli; one saved without data options
names only its dataset; and a run saved from the Train page before β was stored once kept its last β as
"beta" and its first as "beta_start". On disk the train config is TrainConfig's fields (β the start value)
plus "beta_changes", [[steps done before it, new β], ...], the one record of how β moved.

Torch-free: the app lists checkpoints from their cached summaries before torch is imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vae_core.config import LIKELIHOODS, DataOptions, InputError, TrainConfig, VAEConfig, setting_problem


class MetadataError(InputError):
    """The stored metadata is missing something or holds the wrong kind of value; the message says what."""


@dataclass(frozen=True)
class CheckpointMeta:
    dataset: str
    vae_config: VAEConfig
    train: TrainConfig | None  # None: saved without one (a model built by hand)
    beta_changes: tuple = ()  # ((steps done before it, new beta), ...) made while it trained
    metrics: dict = field(default_factory=dict)  # its test terms at beta = 1 when saved (see save_run)
    history: list = field(default_factory=list)  # step and epoch events, and the replay (vae_core.analysis.replay)
    class_names: list = field(default_factory=list)
    data_options: DataOptions = field(default_factory=DataOptions)
    created: str = ""
    path: str = ""

    @property
    def image_shape(self) -> tuple:
        return self.vae_config.image_shape

    @property
    def likelihood(self) -> str:
        return self.vae_config.likelihood

    @property
    def final_beta(self) -> float | None:
        """The beta the model ended with: its last change, else its start."""
        if self.beta_changes:
            return self.beta_changes[-1][1]
        return None if self.train is None else self.train.beta

    @property
    def beta_path(self) -> tuple:
        """(start, ..., end) when beta was changed while it trained, else ()."""
        if not self.beta_changes or self.train is None:
            return ()
        return (self.train.beta, *(beta for _, beta in self.beta_changes))

    def metric(self, name: str) -> float | None:
        """One of the test metrics as a number, or None when the file has none."""
        value = self.metrics.get(name)
        return float(value) if isinstance(value, (int, float)) else None

    def to_payload(self) -> dict:
        """The stored form (without weights, format marker or version): plain values only."""
        train = (
            None
            if self.train is None
            else dict(self.train.to_dict(), beta_changes=[[int(step), float(beta)] for step, beta in self.beta_changes])
        )
        return dict(
            dataset=self.dataset,
            vae_config=self.vae_config.to_dict(),
            train_config=train or {},
            image_shape=list(self.image_shape),
            metrics=dict(self.metrics),
            history=list(self.history),
            class_names=list(self.class_names),
            data_options=self.data_options.to_dict(),
            created=self.created,
        )

    def summary(self) -> dict:
        """What lists and maps need of it (all but the history), for the cache beside the checkpoint."""
        payload = self.to_payload()
        payload.pop("history")
        return payload

    @classmethod
    def from_payload(cls, payload: dict, path: str = "") -> CheckpointMeta:
        """Read the stored dict, old files included; MetadataError names what is missing or of the wrong kind."""
        dataset = _typed(payload, "dataset", str)
        vae = dict(_typed(payload, "vae_config", dict))
        vae.setdefault("likelihood", "bernoulli")  # saved before likelihoods were chosen
        if vae["likelihood"] not in LIKELIHOODS:
            raise MetadataError(
                f"the model uses the likelihood {vae['likelihood']!r}, which this version does not "
                f"know (it knows {', '.join(LIKELIHOODS)}); a newer version may read it."
            )
        train, changes = _train_config(_typed(payload, "train_config", dict, {}))
        try:
            vae_config = VAEConfig.from_dict(vae)
            data_options = DataOptions.from_dict(_typed(payload, "data_options", dict, {}) or {"name": dataset})
        except (KeyError, TypeError, ValueError) as err:
            raise MetadataError(f"the stored model or data settings are not usable ({setting_problem(err)})") from err
        class_names = [str(n) for n in _typed(payload, "class_names", list, [])]
        if vae_config.num_classes and len(class_names) != vae_config.num_classes:  # its labels would be offered, then fail
            raise MetadataError(f"it is conditioned on {vae_config.num_classes} labels but names {len(class_names)} classes")
        return cls(
            dataset=dataset,
            vae_config=vae_config,
            train=train,
            beta_changes=changes,
            metrics=_metrics(_typed(payload, "metrics", dict, {})),
            history=_history(_typed(payload, "history", list, [])),
            class_names=class_names,
            data_options=data_options,
            created=_typed(payload, "created", str, ""),
            path=str(path),
        )


def _train_config(stored: dict) -> tuple[TrainConfig | None, tuple]:
    if not stored:
        return None, ()
    stored = dict(stored)
    if "beta_start" in stored:  # the Train page's older dialect: "beta" was the last value
        stored["beta"] = stored.pop("beta_start")
    try:
        changes = tuple((int(step), float(beta)) for step, beta in _typed(stored, "beta_changes", (list, tuple), ()))
        stored.pop("beta_changes", None)
        return TrainConfig.from_dict(stored), changes
    except (TypeError, ValueError) as err:
        raise MetadataError(f"the stored training settings are not usable ({setting_problem(err)})") from err


def _history(stored: list) -> list:
    """Events are dicts (what each holds is read where it is used, vae_core.analysis.replay among them)."""
    if not all(isinstance(event, dict) for event in stored):
        raise MetadataError("its training history holds something other than events")
    return stored


def _metrics(stored: dict) -> dict:
    """Test metrics are numbers (kl_per_dim a list of them), under names."""
    for name, value in stored.items():
        numbers = value if isinstance(value, list) else [value]
        if not isinstance(name, str) or not all(isinstance(v, (int, float)) for v in numbers):
            raise MetadataError(f"its metric {name!r} is {value!r:.40}, not a number")
    return stored


def _typed(payload: dict, key: str, kind: type | tuple[type, ...], default=None):
    """payload[key], which must be a `kind`; a missing key gives `default`, or fails when there is none."""
    if key not in payload or payload[key] is None:
        if default is None:
            raise MetadataError(f"it lacks {key}")
        return default
    if not isinstance(payload[key], kind):
        kinds = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise MetadataError(f"its {key} is a {type(payload[key]).__name__}, not a {kinds}")
    return payload[key]
