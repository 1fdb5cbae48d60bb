"""How much of the training digits' spread one DDPM generation keeps, at several sampling biases.

Trains one DDPM (the `default` preset's settings unless overridden) on the mnist-5k training digits, samples
class-balanced digits at each lam, and prints, for the samples against the training digits:
  * the variance ratio inside the PCA span of the training digits (1 = the spread is kept; < 1 = under-dispersed),
  * the total pixel variance ratio,
  * FID, precision and recall on LeNet features against the held-out digits;
and the same for real training digits (the row "real": what a perfect model would score).
A ratio well below 1 at lam = 1 means that each generation of the fully synthetic loop shrinks the data even
without bias, which is what the fully synthetic figures then show.

It also times one lam = 1 generation as a chain runs it: fit (codec and denoiser), sample 2,000 digits, evaluate.

    python benchmarks/ddpm_dispersion.py [--samples 2000] [--lam 1 0.8 0.5] [--seed 0] [--threads 1]
                                         [--set train_steps=4000 codec=pca latent_dim=32]
"""

import argparse
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from madlib import presets
from madlib.metrics.frechet import frechet_distance
from madlib.metrics.precision_recall import prdc
from madlib.models import ddpm


def _parse(value: str):
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--lam", type=float, nargs="+", default=[1.0, 0.8, 0.5])
    parser.add_argument("--set", nargs="*", default=[], help="model settings, e.g. train_steps=4000")
    parser.add_argument("--seed", type=int, default=0, help="seed of the training draw and the model")
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (a chain runs at 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    settings = dict(presets.DDPM_MODEL["default"])
    for item in args.set:
        key, value = item.split("=")
        settings[key] = _parse(value)
    model = ddpm.DDPMModel(**settings)
    rng = np.random.default_rng(args.seed)
    digits = model.draw_real(len(model.real_pool()), rng)
    start = time.perf_counter()
    fitted = model.fit(digits, rng)
    fit_seconds = time.perf_counter() - start
    print(f"settings {settings}\ntrained in {fit_seconds:.0f} s (final loss {fitted.final_loss:.3f})")
    start = time.perf_counter()
    model.sample(fitted, args.samples, 1.0, np.random.default_rng(5))  # what a generation hands to the next one
    sample_seconds = time.perf_counter() - start
    model.reference()  # LeNet and the held-out features: once per run, not per generation
    start = time.perf_counter()
    model.evaluate(fitted, 1.0, np.random.default_rng(6))
    evaluate_seconds = time.perf_counter() - start
    print(f"one lam = 1 generation: fit {fit_seconds:.0f} s + {args.samples} samples {sample_seconds:.0f} s + "
          f"evaluate {evaluate_seconds:.0f} s = {fit_seconds + sample_seconds + evaluate_seconds:.0f} s")
    reference = model.reference()
    train_flat = digits.images.reshape(len(digits), -1)
    basis = ddpm.PCACodec.fit(digits.images, settings.get("latent_dim", 32))
    span = lambda flat: float(((flat - basis.mean) @ basis.components.T).var(0).sum())  # noqa: E731
    print(f"{'lam':>5} {'var ratio (PCA span)':>21} {'pixel var ratio':>16} {'FID':>8} {'precision':>9} {'recall':>7}")
    real_rows = np.random.default_rng(2).choice(len(digits), size=min(args.samples, len(digits)), replace=False)
    rows = [("real", ddpm.Digits(digits.images[real_rows], digits.labels[real_rows]))]
    rows += [(f"{lam:g}", model.sample(fitted, args.samples, lam, np.random.default_rng(1))) for lam in args.lam]
    for lam, samples in rows:
        flat = samples.images.reshape(len(samples), -1)
        fake = reference.embed(samples.images)
        scores = prdc(reference.features, fake, k=5)
        fid = frechet_distance(reference.features, fake)
        print(f"{lam:>5} {span(flat) / span(train_flat):>21.3f} {float(flat.var(0).sum() / train_flat.var(0).sum()):>16.3f}"
              f" {fid:>8.1f} {scores['precision']:>9.3f} {scores['recall']:>7.3f}")


if __name__ == "__main__":
    main()
