"""Person detection data: synthesized 96x96 grayscale scenes, with and without a person.

A scene is a room or street-like background (a brightness gradient, low-frequency texture, a
floor or horizon line, wall panels and windows) with a few objects (boxes, tables, round
lamps and balls, potted plants, poles, doors). Half the scenes also hold a person: a head,
neck, torso, arms and legs drawn as filled shapes in a random pose (standing, walking, arms
raised or bent), 28-92 pixels tall, lighter or darker than the background, sometimes partly
out of the frame. Then lighting, blur and sensor noise. Like the Visual Wake Words task
("is there a person in the frame"), the label is person / nobody.

Only numpy.
"""

from __future__ import annotations

import numpy as np

SIZE = 96
LABELS = ("nobody", "person")

_YY, _XX = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)


def _ellipse(img: np.ndarray, cx: float, cy: float, rx: float, ry: float, v: float, ang: float = 0.0) -> None:
    c, s = np.cos(ang), np.sin(ang)
    dx, dy = _XX - cx, _YY - cy
    u, w = (dx * c + dy * s) / max(rx, 0.5), (-dx * s + dy * c) / max(ry, 0.5)
    img[u * u + w * w <= 1.0] = v


def _rect(img: np.ndarray, x0: float, y0: float, x1: float, y1: float, v: float) -> None:
    img[(_XX >= min(x0, x1)) & (_XX <= max(x0, x1)) & (_YY >= min(y0, y1)) & (_YY <= max(y0, y1))] = v


def _limb(img: np.ndarray, x0: float, y0: float, x1: float, y1: float, width: float, v: float) -> None:
    """A thick segment (a capsule) from (x0, y0) to (x1, y1)."""
    dx, dy = x1 - x0, y1 - y0
    n = dx * dx + dy * dy
    t = np.clip(((_XX - x0) * dx + (_YY - y0) * dy) / n, 0, 1) if n > 0 else np.zeros_like(_XX)
    px, py = x0 + t * dx - _XX, y0 + t * dy - _YY
    img[px * px + py * py <= (width / 2) ** 2] = v


def _poly(img: np.ndarray, pts: list[tuple[float, float]], v: float) -> None:
    """A filled convex polygon."""
    inside = np.ones_like(_XX, dtype=bool)
    edges = list(zip(pts, pts[1:] + pts[:1]))
    sign = 1.0 if sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in edges) >= 0 else -1.0
    for (x0, y0), (x1, y1) in edges:
        inside &= ((x1 - x0) * (_YY - y0) - (y1 - y0) * (_XX - x0)) * sign >= 0
    img[inside] = v


def _smooth_noise(rng: np.random.Generator, cells: int) -> np.ndarray:
    g = rng.normal(0, 1, (cells + 1, cells + 1)).astype(np.float32)
    pos = np.linspace(0, cells, SIZE)
    i = np.minimum(pos.astype(int), cells - 1)
    f = pos - i
    rows = g[i] * (1 - f)[:, None] + g[i + 1] * f[:, None]
    return rows[:, i] * (1 - f)[None, :] + rows[:, i + 1] * f[None, :]


def background(rng: np.random.Generator) -> np.ndarray:
    base = rng.uniform(40, 200)
    gx, gy = rng.normal(0, 0.5, 2)
    img = base + gx * (_XX - 48) + gy * (_YY - 48) + rng.uniform(3, 18) * _smooth_noise(rng, int(rng.integers(2, 7)))
    horizon = rng.uniform(40, 80)
    floor = base + rng.uniform(-60, 60)
    img = np.where(_YY > horizon, floor + rng.uniform(2, 10) * _smooth_noise(rng, 8), img)
    for _ in range(int(rng.integers(0, 4))):  # wall panels, windows, doors
        x0, y0 = rng.uniform(-10, 90), rng.uniform(-10, horizon - 10)
        w, h = rng.uniform(8, 40), rng.uniform(8, 45)
        _rect(img, x0, y0, x0 + w, y0 + h, float(np.clip(base + rng.uniform(-80, 80), 0, 255)))
    return img


def add_object(rng: np.random.Generator, img: np.ndarray) -> None:
    kind = int(rng.integers(7))
    v = float(rng.uniform(0, 255))
    x, y = rng.uniform(0, 96), rng.uniform(30, 96)
    s = rng.uniform(8, 40)
    if kind == 0:  # box
        _rect(img, x, y, x + s * rng.uniform(0.6, 1.6), y - s * rng.uniform(0.5, 1.4), v)
    elif kind == 1:  # table: top and two legs
        w = s * 1.5
        _rect(img, x, y - s, x + w, y - s + 3, v)
        _rect(img, x + 1, y - s, x + 3, y, v)
        _rect(img, x + w - 3, y - s, x + w - 1, y, v)
    elif kind == 2:  # ball or round lamp
        _ellipse(img, x, y - s / 2, s / 2, s / 2, v)
    elif kind == 3:  # potted plant: pot and foliage
        _rect(img, x - s / 4, y, x + s / 4, y - s / 3, v)
        _ellipse(img, x, y - s * 0.8, s * 0.45, s * 0.5, float(rng.uniform(0, 255)))
    elif kind == 4:  # pole or lamp post
        _rect(img, x, y, x + rng.uniform(2, 4), y - rng.uniform(30, 80), v)
        if rng.random() < 0.5:
            _ellipse(img, x + 1.5, y - 80 * rng.uniform(0.4, 1.0), 5, 3, float(rng.uniform(150, 255)))
    elif kind == 5:  # car-like: body and wheels
        _rect(img, x, y - s * 0.3, x + s * 2, y - s * 0.8, v)
        _rect(img, x + s * 0.4, y - s * 0.8, x + s * 1.5, y - s * 1.2, v)
        for wx in (x + s * 0.4, x + s * 1.6):
            _ellipse(img, wx, y - s * 0.3, s * 0.22, s * 0.22, 20.0)
    else:  # irregular blob (a rock, a bag)
        _ellipse(img, x, y - s / 3, s / 2, s / 3, v, float(rng.uniform(0, 3.1)))


def add_person(rng: np.random.Generator, img: np.ndarray, where: tuple[float, float, float] | None = None) -> None:
    """A person h pixels tall standing with feet at (x, y) (``where`` = (x, y, h) places them),
    drawn again in other colours and pose (up to 8 times) until it stands out from what it
    covers by at least 24 grey levels on average: the label must be visible in the frame."""
    h = rng.uniform(28, 92)
    x = rng.uniform(0, 96)
    y = rng.uniform(max(h * 0.6, 40), 96 + h * 0.2)
    if where is not None:
        x, y, h = where
    seed = int(rng.integers(1 << 31))
    for k in range(8):
        trial = img.copy()
        _draw_person(np.random.default_rng([seed, k]), trial, x, y, h)
        changed = trial != img
        if changed.any() and float(np.abs(trial - img)[changed].mean()) >= 24:
            break
    img[...] = trial


def _draw_person(rng: np.random.Generator, img: np.ndarray, x: float, y: float, h: float) -> None:
    skin = float(rng.uniform(60, 230))
    shirt = float(rng.uniform(0, 255))
    pants = float(rng.uniform(0, 255))
    head_r = h * rng.uniform(0.06, 0.075)
    hip_y, sh_y = y - h * 0.47, y - h * 0.80
    sh_w, hip_w = h * rng.uniform(0.10, 0.14), h * rng.uniform(0.07, 0.10)
    lean = rng.normal(0, 0.05) * h
    stride = rng.uniform(-0.18, 0.18) * h
    leg_w = h * rng.uniform(0.06, 0.09)
    # legs (walking or standing), then torso, arms, neck, head
    for side, st in ((-1, stride), (1, -stride)):
        knee = (x + side * hip_w / 2 + st * 0.5, hip_y + (y - hip_y) * 0.5)
        _limb(img, x + side * hip_w / 2, hip_y, *knee, leg_w, pants)
        _limb(img, *knee, x + side * hip_w / 2 + st, y, leg_w * 0.9, pants)
    _poly(img, [(x - sh_w + lean, sh_y), (x + sh_w + lean, sh_y), (x + hip_w, hip_y + 2), (x - hip_w, hip_y + 2)],
          shirt)
    arm_w = h * rng.uniform(0.045, 0.065)
    for side in (-1, 1):
        pose = rng.integers(4)
        sx, sy = x + side * sh_w * 0.9 + lean, sh_y + arm_w / 2
        if pose == 0:  # down
            ex, ey = sx + side * h * 0.03, sy + h * 0.17
            hx, hy = ex + side * h * 0.02, ey + h * 0.16
        elif pose == 1:  # swinging
            ex, ey = sx + rng.normal(0, 0.08) * h, sy + h * 0.17
            hx, hy = ex + rng.normal(0, 0.1) * h, ey + h * 0.15
        elif pose == 2:  # raised
            ex, ey = sx + side * h * 0.1, sy - h * 0.12
            hx, hy = ex + side * h * 0.05, ey - h * 0.15
        else:  # bent (phone, cup)
            ex, ey = sx + side * h * 0.04, sy + h * 0.16
            hx, hy = ex - side * h * 0.08, ey - h * 0.1
        _limb(img, sx, sy, ex, ey, arm_w, shirt)
        _limb(img, ex, ey, hx, hy, arm_w * 0.85, skin)
    _limb(img, x + lean, sh_y, x + lean, sh_y - h * 0.05, head_r * 0.8, skin)
    hx, hy = x + lean + rng.normal(0, 0.01) * h, sh_y - h * 0.05 - head_r
    _ellipse(img, hx, hy, head_r * 0.85, head_r, skin)
    if rng.random() < 0.6:  # hair or a hat
        _ellipse(img, hx, hy - head_r * 0.4, head_r * 0.9, head_r * 0.6, float(rng.uniform(0, 120)))


def scene(rng: np.random.Generator, person: bool) -> np.ndarray:
    """One 96x96 uint8 frame."""
    img = background(rng)
    objects = int(rng.integers(0, 5))
    before = int(rng.integers(0, objects + 1))
    for _ in range(before):
        add_object(rng, img)
    if person:
        add_person(rng, img)
    for _ in range(objects - before):  # objects in front of the person (occlusion)
        if rng.random() < 0.25:
            add_object(rng, img)
    return finish(rng, img)


def finish(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Camera effects: light falloff, blur, gain, noise, 8 bits."""
    img = img * (1 - rng.uniform(0, 0.4) * (((_XX - 48) ** 2 + (_YY - 48) ** 2) / 4608))
    k = int(rng.integers(0, 3))
    for _ in range(k):  # box blur passes
        img = (img + np.roll(img, 1, 0) + np.roll(img, -1, 0) + np.roll(img, 1, 1) + np.roll(img, -1, 1)) / 5
    img = img * rng.uniform(0.6, 1.3) + rng.uniform(-30, 30)
    img = img + rng.normal(0, rng.uniform(0.5, 4), img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def make_split(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 frames (n, 96, 96), labels (n,)): half with a person, in random order."""
    y = (np.arange(n) % 2).astype(np.int8)
    rng.shuffle(y)
    return np.stack([scene(rng, bool(v)) for v in y]), y


def to_input(frames: np.ndarray) -> np.ndarray:
    """The model's int8 input: pixel - 128 (what camera_person does), shape (n, 96, 96, 1)."""
    return (frames.astype(np.int16) - 128).astype(np.int8)[..., None]
