"""Explorer: the Explore page's latent map as a notebook widget (anywidget), on the model in the kernel.

The map, the hover sprite, a click's decodes and a selection's indices are all the engine's (vae_core) and the app's
geometry (ui.geometry), computed here in the kernel; the browser draws them (explorer.js) and sends back where the
user clicked or dragged, in map coordinates.
"""

from __future__ import annotations

import anywidget
import numpy as np
import torch
import traitlets

from ui.geometry import click_radius, nearest_point, points_in_box, points_in_polygon
from vae_core.analysis.hover import decode_sprite, sprite_url
from vae_core.analysis.latent import build_map, decode_points, nonlinear_map
from vae_core.maps.projection import LABEL_COLORS
from vae_core.model.bounds import posterior_sample
from vae_explorer.data import as_images
from vae_explorer.models import engine_model
from vae_explorer.scripts import widget_script

PROJECTIONS = ("pca", "umap", "tsne")


class Explorer(anywidget.AnyWidget):
    """Explorer(model, data): click the map to decode, hover to preview, drag a box (Shift: a lasso) to select.

    model: a vae_core VAE, a checkpoint path, an ONNX model folder, or a torch module with encode(x) -> (mu, logvar)
    and decode(z), whose output `likelihood` names ("bernoulli": logits; "continuous-bernoulli"; "gaussian": the
    mean). data: a tensor or array of images (N, C, H, W) in [0, 1] or uint8, a vae_core Dataset (its test split)
    or a torchvision dataset; labels (for a tensor or array) colour the map. projection: "pca" (the latent space
    itself for 2-D codes), "umap" or "tsne". color_by: a factor of a vae_core Dataset that has them (the procedural
    sprites, a folder with factors.csv) to colour the map by, instead of the labels. label: the class a conditional
    model decodes free points under (its first by default); a data point decodes under its own.
    """

    _esm = widget_script(("canvas.js",), "explorer.js")

    points = traitlets.Dict().tag(sync=True)  # {"x": [...], "y": [...], "labels": [...]}
    names = traitlets.List().tag(sync=True)
    colors = traitlets.List(list(LABEL_COLORS)).tag(sync=True)
    axis_names = traitlets.List().tag(sync=True)
    x_range = traitlets.List().tag(sync=True)
    y_range = traitlets.List().tag(sync=True)
    hover = traitlets.Dict().tag(sync=True)  # the sprite and its layout (vae_core.analysis.hover.decode_sprite)
    selected = traitlets.List(traitlets.Int()).tag(sync=True)  # indices into data
    clicked = traitlets.Dict().tag(sync=True)  # {"x", "y", "index": a data point's index, or None}
    images = traitlets.Dict().tag(sync=True)  # caption -> PNG data URL, for the last click
    error = traitlets.Unicode("").tag(sync=True)
    # the page's last click, box or lasso, numbered so the same one twice is two: a trait the page sets rather than a
    # custom message, so marimo sees the widget's value change and reruns the cells that read it
    request = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        model,
        data,
        *,
        labels=None,
        likelihood: str = "bernoulli",
        projection: str = "pca",
        color_by=None,
        label: int = 0,
        **kwargs,
    ):
        images = as_images(data, labels)
        self.model = engine_model(model, images.image_shape, likelihood)
        if self.model.config.conditional:  # free points (decode_at, the hover grid) need a label to decode under
            self.model = self.model.with_label(label)
        self.data = images
        self.map = _map(self.model, images, projection)
        md = self.map
        groups, names = (md.labels, md.class_names) if color_by is None else factor_groups(data, color_by)
        super().__init__(
            points=dict(x=_rounded(md.xy[:, 0]), y=_rounded(md.xy[:, 1]), labels=[int(v) for v in groups]),
            names=[str(n) for n in names],
            axis_names=list(md.projection.axis_names),
            x_range=[float(v) for v in md.x_range],
            y_range=[float(v) for v in md.y_range],
            hover=decode_sprite(self.model, md),
            **kwargs,
        )

    def decode_at(self, x: float, y: float) -> torch.Tensor:
        """The image decoded at the map position (x, y): (C, H, W) in [0, 1]."""
        return _finite(decode_points(self.model, self.map.projection.inverse([[x, y]]))[0], f"at ({x:.3g}, {y:.3g})")

    def click(self, x: float, y: float) -> None:
        """What a click at (x, y) does: a data point within reach shows its image, a reconstruction and the
        decoded mean; elsewhere the decode of the spot. The browser's clicks come here."""
        md = self.map
        i = nearest_point(md.xy, x, y, click_radius(md.x_range, md.y_range))
        if i is None:
            self.images = {"decoded": _url(self.decode_at(x, y))}
        else:
            z = np.concatenate([posterior_sample(md.mu[i : i + 1], md.logvar[i : i + 1], seed=i), md.mu[i : i + 1]])
            recon, mean = _finite(decode_points(self.model, z, y=int(md.labels[i])), f"for point {i}")
            self.images = {"original": _url(self.data.x[i]), "reconstruction": _url(recon), "decoded mean": _url(mean)}
        self.clicked = dict(x=float(x), y=float(y), index=i)

    def select(self, xs, ys, lasso: bool = False) -> None:
        """Select the points inside a box (its two corners' xs and ys) or a lasso (its vertices)."""
        inside = points_in_polygon(self.map.xy, xs, ys) if lasso else points_in_box(self.map.xy, xs, ys)
        self.selected = [int(i) for i in inside]

    @traitlets.observe("request")
    def _on_request(self, change) -> None:
        """The page's click, box or lasso; a failure shows as the widget's error line, not a traceback."""
        request = change["new"]
        try:
            if request.get("type") == "click":
                self.click(float(request["x"]), float(request["y"]))
            elif request.get("type") in ("box", "lasso"):
                self.select(request["xs"], request["ys"], lasso=request["type"] == "lasso")
            self.error = ""
        except (ValueError, TypeError, KeyError) as err:
            self.error = str(err)


def _map(model, images, projection: str):
    """The engine's map of the images, checked for codes that are not numbers."""
    if projection not in PROJECTIONS:
        raise ValueError(f"projection must be one of {', '.join(PROJECTIONS)}; got {projection!r}.")
    try:
        md = build_map(model, images.x, images.labels, images.class_names)
    except np.linalg.LinAlgError:  # PCA's SVD of codes that are not numbers
        raise ValueError("The model's encoder gave NaN or infinite codes, so they cannot be mapped.") from None
    bad = int((~np.isfinite(md.mu).all(1) | ~np.isfinite(md.logvar).all(1)).sum())
    if bad:
        raise ValueError(f"The model's encoder gave NaN or infinite codes for {bad:,} of the {len(md.mu):,} images.")
    _finite(decode_points(model, md.mu[:256]), "for the data's codes")  # before the sprite: NaN never reaches the page
    return md if projection == "pca" or md.projection.latent_dim <= 2 else nonlinear_map(md, projection)


def factor_groups(data, name: str, bins: int = 5) -> tuple[np.ndarray, list]:
    """Each test image's group by one true factor, and the groups' names: a categorical factor's own categories, a
    continuous one's value in `bins` quantile ranges (the map's colours are for groups, as its labels are)."""
    factors = getattr(data, "factors", None)
    if factors is None or name not in factors.names:
        known = ", ".join(map(repr, factors.names)) if factors is not None else "none: these data have no factors"
        raise ValueError(f"color_by must name one of the data's factors ({known}); got {name!r}.")
    values = factors.test[:, factors.names.index(name)]
    if factors.is_categorical(name):
        return values.astype(np.int64), list(factors.categories[name])
    edges = np.quantile(values, np.linspace(0, 1, bins + 1))
    groups = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, bins - 1)
    return groups, [f"{name} {edges[k]:.3g} to {edges[k + 1]:.3g}" for k in range(bins)]


def _finite(images: torch.Tensor, where: str) -> torch.Tensor:
    if not torch.isfinite(images).all():
        raise ValueError(f"The model decoded NaN or infinite pixels {where}.")
    return images


def _url(image) -> str:
    """One image (C, H, W) as a PNG data URL."""
    return sprite_url(image[None], 1)


def _rounded(values) -> list:
    """Map positions to 5 decimals: a tenth of the JSON, the same picture."""
    return np.round(np.asarray(values, np.float64), 5).tolist()
