"""The Rosenbrock density and the Glow flow of Fig. 17: the exact sampler matches the density, the flow is
invertible with the right log-determinant, it learns, its bias narrows the samples, its checkpoints round-trip,
it runs the loop through the run store, Fig. 17's plan and data hold what the figure shows, and the Fig. 17
claim checks can hold and can fail."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from madlib import chains, claims, data, flow_studies, loops, plotting, presets, runs, tidy
from madlib.models import flow
from madlib.metrics import dispersion

TINY = dict(steps=2, hidden=16, epochs=2, batch_size=128, n_eval=400, n_ot=100, n_keep=50, device="cpu")


@pytest.fixture(autouse=True)
def quiet(monkeypatch):
    monkeypatch.setenv("MADLIB_PROGRESS", "0")


@pytest.fixture(scope="module")
def real():
    return data.rosenbrock_sample(200_000, np.random.default_rng(1))


@pytest.fixture(scope="module")
def trained():
    """A flow trained briefly on 3,000 Rosenbrock points, and held-out points."""
    model = flow.FlowModel(steps=4, hidden=32, epochs=15, batch_size=128, device="cpu")
    rng = np.random.default_rng(2)
    fitted = model.fit(data.rosenbrock_sample(3000, rng), rng)
    return model, fitted, data.rosenbrock_sample(5000, rng)


# ------------------------------------------------------------------------------------------------ the density


def test_sampler_moments_of_x1(real):
    x1 = real[:, 0]
    n = len(x1)
    assert abs(x1.mean()) < 4 / math.sqrt(n)
    assert abs(x1.var() - 1.0) < 4 * math.sqrt(2.0 / n)


def test_sampler_conditional_mean_and_noise_of_x2(real):
    x1, x2 = real[:, 0], real[:, 1]
    bins = np.digitize(x1, [-1.5, -0.5, 0.5, 1.5])
    for b in range(5):
        inside = bins == b
        residual = x2[inside] - x1[inside] ** 2  # E[x2 | x1] = x1², noise variance 1/2
        assert abs(residual.mean()) < 4 * math.sqrt(0.5 / inside.sum())
    noise = x2 - x1**2
    assert stats.kstest(noise, stats.norm(0, math.sqrt(0.5)).cdf).pvalue > 1e-3


def test_log_density_is_normalised_and_matches_the_formula():
    g1, g2 = np.meshgrid(np.linspace(-7, 7, 701), np.linspace(-6, 55, 1501), indexing="ij")
    grid = np.stack([g1.ravel(), g2.ravel()], axis=1)
    log_p = data.rosenbrock_log_density(grid)
    cell = (g1[1, 0] - g1[0, 0]) * (g2[0, 1] - g2[0, 0])
    assert abs(np.exp(log_p).sum() * cell - 1.0) < 1e-3
    unnormalised = -0.5 * grid[:, 0] ** 2 - (grid[:, 1] - grid[:, 0] ** 2) ** 2
    assert np.ptp(log_p - unnormalised) < 1e-9  # the same density up to a constant


def test_entropy_and_tail_region(real):
    log_p = data.rosenbrock_log_density(real)
    assert abs(-log_p.mean() - data.rosenbrock_entropy()) < 4 * log_p.std() / math.sqrt(len(real))
    scores = flow.tail_scores(real)
    for name in ("tail_r2", "tail_x1"):  # both regions hold exactly 1% of P_r
        assert abs(scores[name] - 0.01) < 4 * math.sqrt(0.01 * 0.99 / len(real))


def test_bad_input_is_refused_naming_the_field():
    with pytest.raises(ValueError, match="n:"):
        data.rosenbrock_sample(-1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="x:"):
        data.rosenbrock_log_density(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="steps:"):
        flow.FlowModel(steps=0)
    model = flow.FlowModel(**TINY)
    with pytest.raises(ValueError, match="data:"):
        model.fit(np.zeros((10, 3)), np.random.default_rng(0))
    with pytest.raises(ValueError, match="data:"):
        model.fit(np.full((10, 2), np.nan), np.random.default_rng(0))


# ------------------------------------------------------------------------------------------------ the flow


def perturbed_glow() -> flow.Glow:
    """A double-precision Glow whose parameters are moved away from the (near-identity) initialisation."""
    torch.manual_seed(0)
    network = flow.Glow(steps=3, hidden=8).double()
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
    return network


def test_flow_is_invertible_and_its_log_det_is_the_jacobian():
    network = perturbed_glow()
    x = torch.randn(50, 2, dtype=torch.float64) * 2
    z, logdet = network(x)
    assert torch.allclose(network.inverse(z), x, atol=1e-9)
    for row in range(5):
        jacobian = torch.autograd.functional.jacobian(lambda v: network(v[None])[0][0], x[row])
        assert torch.allclose(torch.linalg.slogdet(jacobian)[1], logdet[row], atol=1e-9)


def test_fit_sample_evaluate_shapes():
    model = flow.FlowModel(**TINY)
    rng = np.random.default_rng(0)
    fitted = model.fit(data.rosenbrock_sample(300, rng), rng)
    assert model.sample(fitted, 7, 1.0, rng).shape == (7, 2)
    assert model.sample(fitted, 0, 0.5, rng).shape == (0, 2)
    with pytest.raises(ValueError, match=r"^lam: .*\(0, 1\].*N\(0, lam I\)"):
        model.sample(fitted, 5, 0.0, rng)
    metrics = model.evaluate(fitted, 1.0, rng)
    assert metrics["samples"].shape == (TINY["n_keep"], 2)
    assert math.isnan(metrics["dispersion_train"][0]) and metrics["dispersion_real"][0] > 0  # no training set
    training = data.rosenbrock_sample(300, rng)
    kept = model.evaluate(fitted, 1.0, np.random.default_rng(1), training=training)
    samples = model.sample(fitted, TINY["n_eval"], 1.0, np.random.default_rng(1))
    assert kept["dispersion_train"][0] == pytest.approx(dispersion.spread(samples) / dispersion.spread(training))
    for name in flow_studies.SCORES:
        assert metrics[name].shape == (1,) and metrics[f"{name}_se"].shape == (1,)


def test_flow_learns(trained):
    model, fitted, held_out = trained
    nll = -model.log_prob(fitted, held_out)
    cov = np.cov(held_out.T)  # the best Gaussian (fitted to the held-out points themselves)
    gaussian_nll = -stats.multivariate_normal(held_out.mean(0), cov).logpdf(held_out)
    gap = gaussian_nll - nll
    assert gap.mean() > 0.3 and gap.mean() > 6 * gap.std() / math.sqrt(len(gap))


def test_smaller_lam_gives_smaller_spread(trained):
    model, fitted, _ = trained
    wide, narrow = (model.sample(fitted, 4000, lam, np.random.default_rng(3)) for lam in (1.0, 0.5))
    for column in range(2):
        a, b = wide[:, column].std(), narrow[:, column].std()
        assert a - b > 4 * math.hypot(a, b) / math.sqrt(2 * 4000)
    assert flow.tail_scores(narrow)["tail_r2"] < flow.tail_scores(wide)["tail_r2"]


def test_checkpoints_round_trip_and_garbage_is_refused(trained, tmp_path):
    model, fitted, held_out = trained
    model.save(fitted, str(tmp_path / "model.state"))
    loaded = model.load(str(tmp_path / "model.state"))
    assert np.array_equal(model.log_prob(loaded, held_out[:100]), model.log_prob(fitted, held_out[:100]))
    assert np.array_equal(model.sample(loaded, 20, 0.7, np.random.default_rng(4)),
                          model.sample(fitted, 20, 0.7, np.random.default_rng(4)))
    model.save(held_out[:10], str(tmp_path / "points.state"))
    assert np.array_equal(model.load(str(tmp_path / "points.state")), held_out[:10])
    (tmp_path / "garbage.state").write_bytes(b"not a checkpoint")
    with pytest.raises(runs.UNREADABLE):
        model.load(str(tmp_path / "garbage.state"))
    torch.save({"kind": "something else"}, tmp_path / "other.state")
    with pytest.raises(ValueError, match="not a flow checkpoint"):
        model.load(str(tmp_path / "other.state"))


def test_two_generation_loop_through_the_store(tmp_path):
    chain = chains.make("flow", 5, model=TINY, variant="fully_synthetic", generations=2, n_ini=200, n_s=200, lam=0.8)
    model = chain.build()
    history = runs.run_or_load(chain.spec, model, store=tmp_path)
    assert len(history) == 2 and all(np.isfinite(h["tail_r2"]).all() for h in history)
    spec, stream = chain.spec, lambda purpose: loops.generation_rng(chain.spec.seed, 1, purpose)
    with runs.one_thread():  # as the run was computed: the same fit bit for bit
        first = model.fit(model.draw_real(spec.n_ini, stream(loops.REAL)), stream(loops.FIT))
        for lam in (0.8, 1.0):  # generation 1 was scored on samples drawn with the run's lam, 0.8
            samples = model.evaluate(first, lam, stream(loops.EVALUATE))["samples"]
            assert np.array_equal(samples, history[0]["samples"]) == (lam == spec.lam)
    again = runs.run_or_load(chain.spec, chain.build(), store=tmp_path)
    assert all(np.array_equal(a["samples"], b["samples"]) for a, b in zip(history, again))


# ------------------------------------------------------------------------------------------------ the figure's chains

STUDY = dict(lam_values=[1.0, 0.8], generations=2, n=150, replicates=2, shown=[2], seed=0, model=TINY)


def test_plan_at_smoke():
    settings = presets.resolve("fig17_flow_rosenbrock", "smoke")
    plan = chains.plan("fig17_flow_rosenbrock", "smoke")
    assert len(plan) == len(settings["lam_values"]) * settings["replicates"] > 0
    assert len({c.key() for c in plan}) == len(plan) and len({c.spec.seed for c in plan}) == len(plan)
    assert [(c.spec.lam, c.replicate) for c in plan] == [(lam, r) for lam in settings["lam_values"]
                                                         for r in range(settings["replicates"])]
    assert all(c.family == "flow" and "lam" not in c.model for c in plan)
    assert all(c.spec.n_ini == c.spec.n_s == settings["n"] for c in plan)
    import inspect

    plan_of, build = chains._studies()["fig17_flow_rosenbrock"]
    for function in (plan_of, build):  # the preset keys are the plan's and the build's arguments
        assert set(inspect.signature(function).parameters) == set(settings)
    with pytest.raises(ValueError, match="shown:"):
        chains.plan_settings("fig17_flow_rosenbrock", {**STUDY, "shown": [3]})


def test_figure_reads_its_computed_plan_and_holds_what_it_plots(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    store = tmp_path / "store"
    monkeypatch.setenv("MADLIB_STORE", str(store))
    plan = chains.plan_settings("fig17_flow_rosenbrock", STUDY)
    chains.compute(plan, jobs=1, store=store)

    def refuse(*args, **kwargs):
        raise AssertionError("the figure computed a chain after its plan was computed")

    monkeypatch.setattr(flow.FlowModel, "fit", refuse)
    result = chains.figure("fig17_flow_rosenbrock", STUDY)
    histories = chains.load(plan)
    df = result.data
    assert set(df["metric"]) == set(flow_studies.SCORES) and set(df["generation"]) == {1, 2}
    assert set(df["lam"]) == {1.0, 0.8} and (df["replicates"] == 2).all()
    assert np.isfinite(_frame_at(df, "tail_r2")["sem"]).all()
    # one SE policy: the SE between the two chains, never below the evaluation SE of their mean
    for lam in (1.0, 0.8):
        own = [h for c, h in zip(plan, histories) if c.spec.lam == lam]
        value = np.array([[g["tail_x1"][0] for g in h] for h in own])
        se = np.array([[g["tail_x1_se"][0] for g in h] for h in own])
        rows = _frame_at(df, "tail_x1")
        rows = rows[np.isclose(rows["lam"], lam)].sort_values("generation")
        assert np.allclose(rows["mean"], value.mean(0))
        assert np.allclose(rows["sem"], np.fmax(value.std(0, ddof=1) / np.sqrt(2), np.sqrt((se**2).mean(0) / 2)))
    points = result.frames["points"]
    assert sorted(points["generation"].unique()) == [0, 2] and len(points) == 3 * TINY["n_keep"]
    first = [h for c, h in zip(plan, histories) if c.spec.lam == 0.8 and c.replicate == 0][0]
    shown = points[(points["generation"] == 2) & np.isclose(points["lam"], 0.8)]
    assert np.allclose(shown[["x1", "x2"]].to_numpy(), first[1]["samples"])  # each lam's first chain
    real = points[points["generation"] == 0]
    assert real["lam"].isna().all() and abs(real["x1"].mean()) < 5 / np.sqrt(len(real))  # x1 ~ N(0, 1) under P_r
    table = result.frames["shown_scores"]
    assert len(table) == 2 and set(flow_studies.SCORES) <= set(table.columns)
    assert float(result.arrays["r2_tail"]) == flow.R2_TAIL and float(result.arrays["x1_range"]) == 2 * flow.X1_TAIL
    assert "2 chain(s) per lam" in result.caption
    # the plot needs only the saved files
    result.save(tmp_path / "data", "fig17_flow_rosenbrock")
    back = tidy.FigureData.load(tmp_path / "data", "fig17_flow_rosenbrock")
    assert set(back.frames) == {"points", "shown_scores"} and back.caption == result.caption
    plt.close(plotting.fig17(back))


def _frame_at(df, metric):
    return df[df["metric"] == metric]


# ------------------------------------------------------------------------------------------------ claims


def claim_frame(tails: dict[float, list[float]], n: int = 10000) -> pd.DataFrame:
    """A tidy frame of tail shares per lam and generation, with binomial SEs of n samples."""
    rows = [{"variant": "fully_synthetic", "lam": lam, "generation": g, "metric": "tail_x1", "mean": p,
             "sem": math.sqrt(max(p * (1 - p), 1 / n) / n)}
            for lam, values in tails.items() for g, p in enumerate(values, start=1)]
    return pd.DataFrame(rows)


def over16(first, last):
    """A tail share moving steadily from `first` to `last` over the 16 generations of the default preset."""
    return list(np.linspace(first, last, 16))


def outcomes(checks):
    return [c.outcome for c in checks]


def test_claims_supported_on_data_showing_the_claim():
    """Checks: tails lost at lam = 0.8 and 1, below P_r's 0.01 at lam = 0.8 and 1, faster with lam < 1."""
    df = claim_frame({1.0: over16(0.010, 0.004), 0.8: over16(0.004, 0.0)})
    assert outcomes(claims.check_fig17(df)) == ["supported"] * 5


def test_claims_contradicted_on_the_opposite():
    kept = claims.check_fig17(claim_frame({1.0: over16(0.010, 0.013), 0.8: over16(0.004, 0.0)}))
    assert [c.name.split(":")[0] for c in kept[:4]] == ["lam=0.8", "lam=1", "lam=0.8", "lam=1"]
    assert outcomes(kept[:4]) == ["supported", "contradicted", "supported", "contradicted"]  # lam = 1: tails grow
    slower_bias = claims.check_fig17(claim_frame({1.0: over16(0.010, 0.001), 0.8: over16(0.004, 0.0034)}))
    assert slower_bias[-1].outcome == "contradicted" and slower_bias[1].outcome == "supported"


def test_claims_undecided_when_the_same_loss_lies_within_the_noise():
    """The first case's shares, estimated from 200 samples instead of 10^4."""
    checks = claims.check_fig17(claim_frame({1.0: over16(0.010, 0.004), 0.8: over16(0.004, 0.0)}, n=200))
    assert "undecided" in outcomes(checks) and "contradicted" not in outcomes(checks)
    assert checks[1].outcome == "undecided" and checks[-1].outcome == "undecided"
    assert all(c.decide for c in checks if c.outcome == "undecided")


def test_claims_without_a_tail_at_generation_1_are_undecided_instead_of_crashing():
    none_left = claim_frame({1.0: over16(0.010, 0.005), 0.8: [0.0] * 16})  # e.g. a tiny smoke run
    checks = claims.check_fig17(none_left)
    assert checks[-1].outcome == "undecided" and "nan" in checks[-1].evidence and checks[-1].decide
