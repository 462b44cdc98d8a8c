"""Sprites: white shapes on black whose true factors are known, drawn here, offline, from a seed.

In the spirit of dSprites (Matthey et al. 2017): the factors are shape (square, ellipse, heart), scale (6 values
from 0.5 to 1), orientation (40 angles), and x and y position (32 values each), 64x64 images. dSprites holds
every one of the 737,280 combinations; here a seed draws n of them independently and uniformly, which keeps the
factors independent (what the metrics assume) and a model quick to train.

Each pixel is the share of its 3x3 sub-pixel samples inside the shape, so edges are grey rather than jagged at
small image sizes. As in dSprites, a square looks the same every 90° and an ellipse every 180°: orientation is
only partly visible for them, so no model can capture all of it.
"""

from __future__ import annotations

import numpy as np

SHAPES = ("square", "ellipse", "heart")
SCALES = np.linspace(0.5, 1.0, 6)
ORIENTATIONS = np.linspace(0.0, 360.0, 40, endpoint=False)  # degrees; dSprites' 40 include 0 and 360, one angle twice
POSITIONS = np.linspace(0.0, 1.0, 32)
FACTOR_NAMES = ("shape", "scale", "orientation", "pos_x", "pos_y")
FACTOR_VALUES = (np.arange(len(SHAPES), dtype=float), SCALES, ORIENTATIONS, POSITIONS, POSITIONS)

DEFAULT_N = 2500  # the default conv model's 30 epochs on them take minutes on 2 cores (BENCHMARKS.md, section 17)
DEFAULT_SIZE = 64
MAX_N = 200_000
HALF_SIZE = 0.16  # a shape's half-width at scale 1, as a share of the image side
MARGIN = 0.23  # the centre stays this far from the edges, so a rotated shape at scale 1 stays inside
SUPERSAMPLE = 3  # sub-pixel samples per side
REACH = 1.2 * HALF_SIZE  # the farthest a shape reaches from its centre (a square's corner: 0.8·√2 half-widths)
CHUNK = 256  # images drawn at a time, bounding the memory of the sub-pixel grid


def sample_factors(n: int, seed: int = 0) -> np.ndarray:
    """n factor combinations drawn uniformly from dSprites' grid, (n, 5): shape index, scale, orientation (degrees),
    x and y position (0..1)."""
    rng = np.random.default_rng(seed)
    return np.stack([values[rng.integers(0, len(values), n)] for values in FACTOR_VALUES], axis=1)


def draw(factors: np.ndarray, size: int = DEFAULT_SIZE) -> np.ndarray:
    """The images of these factor rows, (n, size, size) uint8, white shapes on black."""
    box = int(np.ceil(REACH * size)) + 2  # pixels around a shape's centre that it can cover, and a border
    pad = box  # the canvas reaches past the image, so no box needs clipping
    canvas = np.zeros((len(factors), size + 2 * pad, size + 2 * pad), dtype=np.uint8)
    for start in range(0, len(factors), CHUNK):
        chunk = factors[start : start + CHUNK]
        corner, tiles = _draw_tiles(chunk, size, box)
        for i, ((row, col), tile) in enumerate(zip(corner + pad, tiles)):
            canvas[start + i, row : row + 2 * box, col : col + 2 * box] = tile
    return canvas[:, pad : pad + size, pad : pad + size].copy()


def _draw_tiles(factors: np.ndarray, size: int, box: int):
    """Each shape drawn on its own 2*box pixel square around its centre: the square's top-left pixel (row, col)
    per image, and the squares (n, 2*box, 2*box) uint8. Only this square is sampled, a fifth of the image."""
    shape, scale, angle, px, py = (factors[:, k, None, None].astype(np.float32) for k in range(5))
    cx = (MARGIN + px * (1 - 2 * MARGIN)) * size  # centre in pixels
    cy = (1 - MARGIN - py * (1 - 2 * MARGIN)) * size  # rows grow downwards, y upwards
    corner = np.stack([np.floor(cy[:, 0, 0]) - box + 1, np.floor(cx[:, 0, 0]) - box + 1], axis=1).astype(int)
    offsets = (np.arange(2 * box * SUPERSAMPLE, dtype=np.float32) + 0.5) / SUPERSAMPLE  # sub-pixel centres
    dx = corner[:, 1, None, None] + offsets[None, None, :] - cx
    dy = cy - (corner[:, 0, None, None] + offsets[None, :, None])
    theta = np.deg2rad(angle)
    cos, sin = np.cos(theta), np.sin(theta)
    unit = HALF_SIZE * size * scale
    u, v = (cos * dx + sin * dy) / unit, (-sin * dx + cos * dy) / unit  # the shape's own frame: unrotated, unit size
    inside = np.empty(u.shape, dtype=bool)
    for code, is_inside in enumerate((_square, _ellipse, _heart)):
        mine = shape[:, 0, 0] == code
        inside[mine] = is_inside(u[mine], v[mine])
    n, side = len(factors), 2 * box
    coverage = inside.reshape(n, side, SUPERSAMPLE, side, SUPERSAMPLE).mean(axis=(2, 4), dtype=np.float32)
    return corner, np.round(coverage * 255).astype(np.uint8)


def _square(u, v):
    return np.maximum(np.abs(u), np.abs(v)) <= 0.8  # the same area as the ellipse at the same scale


def _ellipse(u, v):
    return u * u + 4 * v * v <= 1.0  # twice as long as wide, as dSprites' ellipse


def _heart(u, v):
    """The heart curve (x² + y² − 1)³ ≤ x² y³, centred and shrunk to about the unit square."""
    x, y = 1.15 * u, 1.15 * v + 0.12
    x2, y2 = x * x, y * y
    r = x2 + y2 - 1
    return r * r * r <= x2 * y2 * y


def factor_categories() -> dict:
    """The categorical factors and the name of each of their codes."""
    return {"shape": list(SHAPES)}
