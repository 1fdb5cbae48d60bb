"""Fourier power spectra of images: where in frequency a generator puts its energy (its "fingerprint").

For an image x of H x W pixels (channels are averaged after the transform) the power at the integer frequency
(u, v) is

    P(u, v) = |F(u, v)|^2,    F = FFT2(x - mean(x))    (numpy's unnormalised forward transform),

so the constant part (u = v = 0) carries no power. The radius of (u, v) is r = sqrt(u^2 + v^2) in cycles per image
(u, v taken in [-H/2, H/2) and [-W/2, W/2)); the Nyquist radius is min(H, W) / 2, and the corners of the square
reach sqrt(2) times it. A radial spectrum averages P over the frequencies whose radius rounds to each integer
r = 0, 1, ..., round(max radius). Images come as arrays or tensors of shape (n, H, W) or (n, c, H, W).

Upsampling layers (transposed or nearest-neighbour convolutions) leave periodic traces at high frequencies
(Durall et al. 2020; Frank et al. 2020), which these spectra show and the two scores below summarise.
"""

from __future__ import annotations

import numpy as np

LOG_FLOOR = 1e-20  # added to powers before log10, so that an empty band gives a finite (very negative) log


def as_image_array(images) -> np.ndarray:
    """images (n, H, W) or (n, c, H, W), tensor or array, as float64 of shape (n, c, H, W)."""
    if hasattr(images, "detach"):
        images = images.detach().cpu().numpy()
    array = np.asarray(images, dtype=np.float64)
    if array.ndim == 3:
        array = array[:, None]
    if array.ndim != 4 or array.shape[0] < 1:
        raise ValueError(f"images: expected shape (n, H, W) or (n, c, H, W) with n >= 1, got {array.shape}")
    return array


def power_maps(images) -> np.ndarray:
    """Per-image power P(u, v) = |FFT2(x - mean x)|^2 averaged over channels, shape (n, H, W) (numpy's FFT order)."""
    array = as_image_array(images)
    centred = array - array.mean(axis=(2, 3), keepdims=True)
    return (np.abs(np.fft.fft2(centred)) ** 2).mean(axis=1)


def frequency_radii(height: int, width: int) -> np.ndarray:
    """Radius sqrt(u^2 + v^2) of every frequency of an H x W transform, in cycles per image, shape (H, W)."""
    u = np.fft.fftfreq(height) * height
    v = np.fft.fftfreq(width) * width
    return np.sqrt(u[:, None] ** 2 + v[None, :] ** 2)


def radial_average(power: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(radii 0..R, mean of power over the frequencies whose radius rounds to each), for one map (H, W) or many
    (n, H, W) (then the profile is (n, R + 1))."""
    bins = np.rint(frequency_radii(*power.shape[-2:])).astype(int).ravel()
    counts = np.bincount(bins)
    flat = power.reshape(-1, bins.size)
    sums = np.stack([np.bincount(bins, weights=row, minlength=counts.size) for row in flat])
    profile = sums / counts
    radii = np.arange(counts.size)
    return radii, (profile[0] if power.ndim == 2 else profile)


def radial_power_spectrum(images) -> tuple[np.ndarray, np.ndarray]:
    """(radii, mean power per radius): the radial average of P(u, v), itself averaged over the images."""
    return radial_average(power_maps(images).mean(axis=0))


def log_spectrum_distance(fake_profile: np.ndarray, real_profile: np.ndarray) -> float:
    """mean over radii r >= 1 of |log10 P_fake(r) - log10 P_real(r)| (in decades of power; 0 when equal)."""
    fake = np.log10(np.asarray(fake_profile, dtype=np.float64)[1:] + LOG_FLOOR)
    real = np.log10(np.asarray(real_profile, dtype=np.float64)[1:] + LOG_FLOOR)
    if fake.shape != real.shape:
        raise ValueError(f"the two spectra have {fake.size + 1} and {real.size + 1} radii: the images differ in size")
    return float(np.mean(np.abs(fake - real)))


def spectral_distance(fake, real) -> float:
    """Mean absolute difference of the log10 radial power spectra of two image sets over radii >= 1."""
    return log_spectrum_distance(radial_power_spectrum(fake)[1], radial_power_spectrum(real)[1])


def high_frequency_share(power: np.ndarray, cutoff: float = 0.5) -> float:
    """Share of the energy of a mean power map (H, W) at radii above cutoff * Nyquist:

        sum_{r(u,v) > cutoff * min(H, W) / 2} P(u, v)  /  sum_{all (u, v)} P(u, v).
    """
    radii = frequency_radii(*power.shape)
    total = float(power.sum())
    if total <= 0.0:
        return 0.0
    return float(power[radii > cutoff * min(power.shape) / 2].sum() / total)


def high_frequency_ratio(fake, real, cutoff: float = 0.5) -> float:
    """high_frequency_share of the fake images' mean power over that of the real ones (1: as much high-frequency
    energy as the real images; above 1: more, e.g. upsampling artefacts or noise)."""
    if not 0.0 <= cutoff <= np.sqrt(2.0):
        raise ValueError(f"cutoff: a fraction of the Nyquist radius in [0, sqrt(2)]; got {cutoff!r}")
    real_share = high_frequency_share(power_maps(real).mean(axis=0), cutoff)
    return high_frequency_share(power_maps(fake).mean(axis=0), cutoff) / real_share
