"""Precision, recall, density and coverage of a generated sample against a real one, from k-NN balls.

Every point of a set gets a radius: the distance to its k-th nearest neighbour in its own set, the point itself
not counted. The ball of that radius around the point (boundary included) is a local estimate of the support of
the distribution the set was drawn from, and the union of the balls of a set is its estimated manifold.

With real points x_1..x_n, their radii r(x_i), fake points y_1..y_m and their radii r(y_j):

* precision (Kynkaanniemi et al. 2019): the share of fake points that fall in at least one real ball,
  mean_j 1[exists i: |y_j - x_i| <= r(x_i)]  -- how much of the generated sample looks real (quality);
* recall (Kynkaanniemi et al. 2019): the share of real points that fall in at least one fake ball,
  mean_i 1[exists j: |x_i - y_j| <= r(y_j)]  -- how much of the real data the generator reaches (diversity);
* density (Naeem et al. 2020): how many real balls hold a fake point on average, divided by k,
  (1 / (k m)) sum_j #{i: |y_j - x_i| <= r(x_i)}  -- like precision but rewards fake points in dense real regions
  and is not saturated by a few outlying real points with huge balls; it can exceed 1;
* coverage (Naeem et al. 2020): the share of real balls that hold at least one fake point,
  mean_i 1[min_j |x_i - y_j| <= r(x_i)]  -- like recall but built on real balls only, so fake outliers do not
  inflate it.

References: T. Kynkaanniemi, T. Karras, S. Laine, J. Lehtinen, T. Aila, "Improved Precision and Recall Metric for
Assessing Generative Models", NeurIPS 2019; M. F. Naeem, S. J. Oh, Y. Uh, Y. Choi, J. Yoo, "Reliable Fidelity and
Diversity Metrics for Generative Models", ICML 2020. The paper uses k = 5 (Sec. 2.4).

The balls are closed as in Kynkaanniemi et al.; the reference `prdc` package uses open ones (strict <), which
differs only when a distance equals a radius exactly, e.g. for duplicated points.

Distances are computed block by block (a block is `chunk` rows against a whole set), so memory grows as
O(chunk * max(n, m)) and the n x m distance matrix never exists at once.
"""

from __future__ import annotations

import torch

METRICS = ("precision", "recall", "density", "coverage")


def default_device() -> torch.device:
    """The first CUDA device when there is one, the CPU otherwise."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def as_feature_matrix(name: str, features, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """`features` (numpy array or torch tensor) as a detached 2-D tensor; ValueError naming `name` otherwise."""
    tensor = torch.as_tensor(features.detach() if isinstance(features, torch.Tensor) else features)
    if tensor.ndim != 2:
        raise ValueError(f"{name} must be 2-D (points, features), got shape {tuple(tensor.shape)}")
    tensor = tensor.to(device=device, dtype=dtype)
    if not torch.isfinite(tensor).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return tensor


def check_arguments(real: torch.Tensor, fake: torch.Tensor, k: int, chunk: int) -> None:
    """Raise one ValueError naming the first argument that cannot give k-NN radii."""
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"fake has {fake.shape[1]} features but real has {real.shape[1]}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    for name, points in (("real", real), ("fake", fake)):
        if points.shape[0] <= k:
            raise ValueError(f"{name} needs more than k={k} points for k-NN radii, got {points.shape[0]}")
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be an integer >= 1, got {chunk!r}")


def row_blocks(n_rows: int, chunk: int):
    """(start, stop) of consecutive row blocks of at most `chunk` rows."""
    return ((start, min(start + chunk, n_rows)) for start in range(0, n_rows, chunk))


def knn_radii(points: torch.Tensor, k: int, chunk: int) -> torch.Tensor:
    """Distance from each point to its k-th nearest neighbour among the other points of the same set."""
    radii = torch.empty(points.shape[0], dtype=points.dtype, device=points.device)
    for start, stop in row_blocks(points.shape[0], chunk):
        distances = torch.cdist(points[start:stop], points)
        rows = torch.arange(stop - start, device=points.device)
        distances[rows, rows + start] = torch.inf  # the point itself is not its own neighbour
        radii[start:stop] = torch.topk(distances, k, dim=1, largest=False).values.amax(dim=1)
    return radii


def ball_counts(real: torch.Tensor, fake: torch.Tensor, real_radii: torch.Tensor, fake_radii: torch.Tensor,
                chunk: int):
    """One pass over the real x fake distances, block by block of real rows.

    Returns, per fake point, how many real balls hold it; per real point, whether some fake ball holds it;
    and per real point, whether its own ball holds some fake point.
    """
    real_balls_per_fake = torch.zeros(fake.shape[0], dtype=torch.int64, device=fake.device)
    real_in_fake_balls = torch.empty(real.shape[0], dtype=torch.bool, device=real.device)
    real_ball_has_fake = torch.empty(real.shape[0], dtype=torch.bool, device=real.device)
    for start, stop in row_blocks(real.shape[0], chunk):
        distances = torch.cdist(real[start:stop], fake)
        real_balls_per_fake += (distances <= real_radii[start:stop, None]).sum(dim=0)
        real_in_fake_balls[start:stop] = (distances <= fake_radii[None, :]).any(dim=1)
        real_ball_has_fake[start:stop] = distances.amin(dim=1) <= real_radii[start:stop]
    return real_balls_per_fake, real_in_fake_balls, real_ball_has_fake


def prdc(real, fake, k: int = 5, chunk: int = 4096, device=None, dtype: torch.dtype = torch.float32) -> dict:
    """Precision, recall, density and coverage of `fake` against `real` with k-NN balls (see the module doc).

    real, fake: arrays or tensors of shape (points, features) with the same number of features and more than k
    points each. chunk: rows per distance block (memory ~ chunk * max(n, m) distances). device: where to compute,
    CUDA when available by default. dtype: torch.float32 (fast) or torch.float64 (reproduces float64 references
    exactly up to ties). Returns a dict of four Python floats keyed "precision", "recall", "density", "coverage".
    """
    device = default_device() if device is None else torch.device(device)
    real = as_feature_matrix("real", real, dtype, device)
    fake = as_feature_matrix("fake", fake, dtype, device)
    check_arguments(real, fake, k, chunk)
    centre = real.mean(dim=0)  # distances do not change; float32 loses less when the features sit far from 0
    real, fake = real - centre, fake - centre
    real_radii, fake_radii = knn_radii(real, k, chunk), knn_radii(fake, k, chunk)
    counts, recalled, covered = ball_counts(real, fake, real_radii, fake_radii, chunk)
    return {
        "precision": (counts > 0).double().mean().item(),
        "recall": recalled.double().mean().item(),
        "density": counts.double().mean().item() / k,
        "coverage": covered.double().mean().item(),
    }
