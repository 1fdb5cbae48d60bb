"""The autophagous loop engine: the one place that knows the paper's three loops (Sec. 2.2, 5.1, App. G).

Generation 1 is trained on ``n_ini`` real samples. Every later generation t is trained from scratch on

* ``fully_synthetic``:        synthetic samples only;
* ``synthetic_augmentation``: the same fixed set of ``n_r`` real samples plus synthetic samples;
* ``fresh_data``:             ``n_r`` freshly drawn real samples plus synthetic samples.

The ``n_s`` synthetic samples of generation t come from the last ``memory`` models (each sample from one of them,
chosen uniformly at random), drawn with sampling bias ``lam``. With ``accumulate`` the synthetic sets of all earlier
generations stay in the training pool. The real-fraction form (``p_real`` with total ``n``) sets
``n_r = round(p_real * n)`` and ``n_s = n - n_r``.

With ``accumulate`` and ``pool_size`` (beyond the paper), every generation after the first trains on ``pool_size``
samples drawn uniformly without replacement from that pool (the real data kept plus every synthetic set so far):
the pool grows, the training set does not ("accumulate-subsample"). The draw has its own seeded stream, and the
model must have the optional ``subsample`` method of :class:`LoopModel`.

The engine never looks inside the data or the model: a model plugs in through the :class:`LoopModel` protocol.
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

import numpy as np

VARIANTS = ("fully_synthetic", "synthetic_augmentation", "fresh_data")

Metrics = dict[str, np.ndarray]


class LoopModel(Protocol):
    """What the engine needs of a model family and its reference distribution P_r.

    ``Data`` and ``Fitted`` are whatever the model likes (arrays, sufficient statistics, a torch module).
    Metrics are float arrays of one common shape per model (e.g. one value per batched replicate).
    """

    def config(self) -> dict[str, Any]:
        """Settings that change results; part of the run store's key."""

    def draw_real(self, n: int, rng: np.random.Generator) -> Any:
        """n samples of the reference distribution P_r."""

    def fit(self, data: Any, rng: np.random.Generator) -> Any:
        """Train a fresh model on data."""

    def sample(self, fitted: Any, n: int, lam: float, rng: np.random.Generator) -> Any:
        """n synthetic samples with sampling bias lam (1 = unbiased); n may be 0."""

    def join(self, parts: Sequence[Any]) -> Any:
        """One training set made of several."""

    def subsample(self, data: Any, n: int, rng: np.random.Generator) -> Any:
        """Optional (needed only by specs with ``pool_size``): n of the samples of data, drawn uniformly without
        replacement (independently per replicate for a batched model). A model that keeps only summaries of its
        data, not the samples, cannot subsample: it leaves this method out or raises a ValueError saying why."""

    def evaluate(self, fitted: Any, lam: float, rng: np.random.Generator, training: Any = None) -> Metrics:
        """Distances of the fitted model to P_r (and anything else worth plotting). lam is the run's sampling bias,
        for models that score samples drawn as the loop draws them; others may ignore it. ``training`` (optional:
        the engine passes it only to an evaluate that has this keyword) is the data the model was just fitted on,
        for scores relative to its own training set such as the dispersion kept
        (:mod:`madlib.metrics.dispersion`)."""

    def save(self, obj: Any, path: str) -> None:
        """Write a fitted model or a data set of this model to path (used to resume a run)."""

    def load(self, path: str) -> Any:
        """Read what save wrote."""


@dataclass(frozen=True)
class LoopSpec:
    """One autophagous loop. See the module docstring for the meaning of each field."""

    variant: str
    generations: int
    n_ini: int
    n_r: int = 0
    n_s: int = 0
    lam: float = 1.0
    memory: int = 1
    accumulate: bool = False
    p_real: float | None = None
    n: int | None = None
    seed: int = 0
    pool_size: int | None = None  # accumulate-subsample; the last field, and left out of asdict() while None

    def __post_init__(self):
        _plain_scalars(self)
        if self.p_real is not None or self.n is not None:
            _resolve_real_fraction(self)
        validate(self)

    def asdict(self) -> dict[str, Any]:
        """The fields as a dict (the run store's key is made of it). ``pool_size`` is left out while it is None, so
        every spec written before the field existed keeps its key, its chain seed and its stored results."""
        fields = dataclasses.asdict(self)
        if fields["pool_size"] is None:
            del fields["pool_size"]
        return fields


INT_FIELDS = ("generations", "n_ini", "n_r", "n_s", "memory", "n", "seed", "pool_size")
REAL_FIELDS = ("lam", "p_real")


def _plain_scalars(spec: LoopSpec) -> None:
    """Store numpy scalars as plain Python ones, so that spec.asdict() (the run key) is JSON and stable.

    Integer fields take numpy integers, lam and p_real numpy reals (a float32 becomes the shortest decimal that
    reads back as it, so np.float32(0.8) and 0.8 give the same run), accumulate numpy bools. Other types are left
    alone for validate to reject.
    """
    for name in INT_FIELDS:
        value = getattr(spec, name)
        if isinstance(value, np.integer):
            object.__setattr__(spec, name, int(value))
    for name in REAL_FIELDS:
        value = getattr(spec, name)
        if isinstance(value, np.integer):
            object.__setattr__(spec, name, int(value))
        elif isinstance(value, np.floating):
            object.__setattr__(spec, name, float(value) if value.itemsize >= 8 else float(str(value)))
    if isinstance(spec.accumulate, np.bool_):
        object.__setattr__(spec, "accumulate", bool(spec.accumulate))


def _resolve_real_fraction(spec: LoopSpec) -> None:
    """The real-fraction form: n_r = round(p_real * n) real and n_s = n - n_r synthetic samples per generation.

    An explicit n_r or n_s is allowed only when it equals what p_real and n give (dataclasses.replace re-passes the
    derived sizes along with p_real and n).
    """
    if spec.p_real is None or spec.n is None:
        raise ValueError("p_real and n: give both (the real-fraction form) or neither")
    _require_unit("p_real", spec.p_real, "the real fraction")
    _require_int("n", spec.n, 0, "the total number of samples per generation of the real-fraction form")
    n_r = int(round(spec.p_real * spec.n))
    derived = {"n_r": n_r, "n_s": spec.n - n_r}
    for name, value in derived.items():
        given = getattr(spec, name)
        if given != 0 and given != value:
            _require_int(name, given, 0)
            raise ValueError(
                f"{name}: the real-fraction form (p_real={spec.p_real}, n={spec.n}) sets n_r = {n_r} and "
                f"n_s = {spec.n - n_r}, but {name} = {given} was given as well; give either p_real and n or n_r and "
                f"n_s (to change p_real or n of a spec with dataclasses.replace, also pass n_r=0, n_s=0)"
            )
        object.__setattr__(spec, name, value)


def validate(spec: LoopSpec) -> None:
    """Raise one ValueError naming the first field that is wrong and what it allows."""
    if spec.variant not in VARIANTS:
        raise ValueError(f"variant: must be one of {', '.join(VARIANTS)}; got {spec.variant!r}")
    _require_int("generations", spec.generations, 1)
    _require_int("n_ini", spec.n_ini, 2, "at least 2 samples are needed to fit a model")
    _require_int("n_r", spec.n_r, 0)
    _require_int("n_s", spec.n_s, 0)
    _require_int("memory", spec.memory, 1)
    _require_int("seed", spec.seed, 0)
    check_lam(spec.lam)
    if not isinstance(spec.accumulate, (bool, np.bool_)):
        raise ValueError(f"accumulate: must be True or False (keep earlier synthetic sets or not); "
                         f"got {spec.accumulate!r}")
    if spec.variant == "fully_synthetic" and spec.n_s < 2 and spec.generations > 1:
        raise ValueError(f"n_s: a fully synthetic loop trains on synthetic data only, so n_s >= 2; got {spec.n_s}")
    if spec.variant != "fully_synthetic" and spec.n_r + spec.n_s < 2 and spec.generations > 1:
        raise ValueError(f"n_r + n_s: each generation needs at least 2 samples; got {spec.n_r} + {spec.n_s}")
    if spec.variant == "fully_synthetic" and spec.n_r:
        raise ValueError(f"n_r: a fully synthetic loop uses no real data after generation 1; got {spec.n_r}")
    if spec.pool_size is not None:
        _validate_pool_size(spec)


def _validate_pool_size(spec: LoopSpec) -> None:
    """pool_size: an integer from 2 to the size of generation 2's pool (so every generation can draw it without
    replacement), and only with accumulate (without it there is no pool to draw from)."""
    first_pool = spec.n_s if spec.variant == "fully_synthetic" else spec.n_r + spec.n_s
    if not spec.accumulate:
        raise ValueError(f"pool_size: draws each training set from the accumulated pool, so it needs "
                         f"accumulate=True (or leave pool_size None); got pool_size={spec.pool_size!r} with "
                         f"accumulate=False")
    if (isinstance(spec.pool_size, bool) or not isinstance(spec.pool_size, (int, np.integer))
            or not 2 <= spec.pool_size <= max(first_pool, 2)):
        raise ValueError(f"pool_size: must be None or an integer from 2 to {first_pool} (the pool of generation 2: "
                         f"{'n_s' if spec.variant == 'fully_synthetic' else 'n_r + n_s'}, drawn without "
                         f"replacement); got {spec.pool_size!r}")


def _require_int(field: str, value, minimum: int, why: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        reason = f" ({why})" if why else ""
        raise ValueError(f"{field}: must be an integer >= {minimum}{reason}; got {value!r}")


def check_lam(lam, positive: bool = False, why: str = "") -> float:
    """The sampling bias lam as a float: a real number in [0, 1] (1 = unbiased), or in (0, 1] with ``positive`` (for
    a model whose bias needs lam > 0, e.g. the DDPM's guidance weight 1/lam - 1). Otherwise one ValueError, which
    adds ``why`` (the model's reason, e.g. "; the flow's latent is N(0, lam I)") to its parenthesis. The one place
    where lam's range is checked: LoopSpec and the models' bias maps call it."""
    in_range = _is_real(lam) and (0.0 < lam if positive else 0.0 <= lam) and lam <= 1.0  # False for NaN
    if not in_range:
        interval = "(0, 1]" if positive else "[0, 1]"
        raise ValueError(f"lam: the sampling bias must be a number in {interval} (1 = unbiased{why}); got {lam!r}")
    return float(lam)


def _is_real(value) -> bool:
    """A Python or numpy real number (not a bool)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _require_unit(field: str, value, what: str, note: str = "") -> None:
    """A real number in [0, 1] (Python or numpy; not a bool, not NaN)."""
    if not (_is_real(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"{field}: {what} must be a number in [0, 1]{note}; got {value!r}")


def generation_rng(seed: int, generation: int, purpose: int) -> np.random.Generator:
    """Independent stream for one (generation, purpose); a resumed run draws exactly what a fresh one would."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(generation, purpose)))


REAL, SYNTHETIC, FIT, EVALUATE, FIXED_REAL, SUBSAMPLE = range(6)  # append new purposes: old streams stay


@dataclass
class LoopState:
    """Everything generation t+1 needs from generations <= t (what the run store checkpoints)."""

    generation: int = 0
    models: list = dataclasses.field(default_factory=list)  # the last `memory` fitted models, oldest first
    fixed_real: Any = None  # the real set reused by synthetic_augmentation
    pool: list = dataclasses.field(default_factory=list)  # earlier synthetic sets, kept when accumulate


def training_data(spec: LoopSpec, model: LoopModel, state: LoopState, generation: int) -> Any:
    """The training set of `generation` (1-based) given the state after generation - 1.

    In the synthetic augmentation loop the fixed real set is generation 1's own data when n_ini == n_r,
    and a separate draw of n_r real samples otherwise.
    """
    if generation == 1:
        first = model.draw_real(spec.n_ini, generation_rng(spec.seed, 1, REAL))
        if spec.variant == "synthetic_augmentation":
            same = spec.n_ini == spec.n_r
            state.fixed_real = first if same else model.draw_real(spec.n_r, generation_rng(spec.seed, 1, FIXED_REAL))
        return first
    synthetic = draw_synthetic(spec, model, state.models, generation)
    if spec.accumulate:
        state.pool = state.pool + [synthetic]
    parts = list(state.pool) if spec.accumulate else [synthetic]
    if spec.variant == "synthetic_augmentation":
        parts = [state.fixed_real] + parts
    elif spec.variant == "fresh_data":
        parts = [model.draw_real(spec.n_r, generation_rng(spec.seed, generation, REAL))] + parts
    if spec.pool_size is not None:
        return model.subsample(model.join(parts), spec.pool_size, generation_rng(spec.seed, generation, SUBSAMPLE))
    return model.join(parts)


def check_model(spec: LoopSpec, model: LoopModel) -> None:
    """One clear error, before anything runs, when the model cannot do what the spec asks (pool_size needs the
    model's optional subsample method)."""
    if spec.pool_size is not None and not callable(getattr(model, "subsample", None)):
        raise ValueError(f"pool_size: {type(model).__name__} cannot draw a training set from the pool (it has no "
                         f"subsample method); leave pool_size None, or use a model that keeps its samples")


def draw_synthetic(spec: LoopSpec, model: LoopModel, models: list, generation: int) -> Any:
    """n_s samples, each from one of the given (last `memory`) models chosen uniformly at random."""
    rng = generation_rng(spec.seed, generation, SYNTHETIC)
    counts = rng.multinomial(spec.n_s, np.full(len(models), 1.0 / len(models)))
    return model.join([model.sample(fitted, int(k), spec.lam, rng) for fitted, k in zip(models, counts)])


def step(spec: LoopSpec, model: LoopModel, state: LoopState) -> Metrics:
    """Run one generation in place: build its data, fit, evaluate; return the metrics."""
    generation = state.generation + 1
    data = training_data(spec, model, state, generation)
    fitted = model.fit(data, generation_rng(spec.seed, generation, FIT))
    state.models = (state.models + [fitted])[-spec.memory :]
    state.generation = generation
    return evaluate(model, fitted, spec.lam, generation_rng(spec.seed, generation, EVALUATE), data)


def evaluate(model: LoopModel, fitted: Any, lam: float, rng: np.random.Generator, training: Any) -> Metrics:
    """model.evaluate, given the training set when its evaluate takes a ``training`` keyword (every built-in model
    does); a model written before that keyword existed is called without it."""
    if "training" in inspect.signature(model.evaluate).parameters:
        return model.evaluate(fitted, lam, rng, training=training)
    return model.evaluate(fitted, lam, rng)


def run(
    spec: LoopSpec,
    model: LoopModel,
    state: LoopState | None = None,
    on_generation: Callable[[LoopState, Metrics], None] | None = None,
) -> list[Metrics]:
    """Run the loop from `state` (a fresh start by default) to spec.generations; return metrics per generation."""
    check_model(spec, model)
    state = state or LoopState()
    history = []
    while state.generation < spec.generations:
        metrics = step(spec, model, state)
        history.append(metrics)
        if on_generation is not None:
            on_generation(state, metrics)
    return history
