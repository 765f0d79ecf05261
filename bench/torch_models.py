#!/usr/bin/python3
"""bench/torch_models.py — the PyTorch side of bench_model: the four model workloads of
../shared/BENCHMARKS.md (toy-realnvp, nice-fmnist, realnvp-fmnist, glow-fmnist) with exactly
the architectures of flowzoo's presets (flows/presets.cpp), and issue 13's toy-nsf and maf-toy
with those of bench_model's make_toy_nsf and make_maf_toy; the same flags and the same output
lines (implementation column "pytorch"). Run with Debian's /usr/bin/python3 (python3-torch).

Architecture details that must match flowzoo, so that both sides do the same work and have the
same parameter count (the runner checks the count):
  * preprocessing log-dets count in bpd: logit(0.05) for RealNVP, x - 1/2 for Glow, none for NICE;
    bpd = -(log p(x) - D ln 256) / (D ln 2), uniform dequantization (pixel + u) / 256.
  * squeeze: x.view(N, C, H/2, 2, W/2, 2).permute(0, 3, 5, 1, 2, 4) -> channel (dy*2+dx)*C + c,
    the order of flowzoo's tensor/layout squeeze2d.
  * couplings: checkerboard mask 1 on the conditioning pixels ((i + j) even, or odd with parity),
    conditioner input concat(x * mask, mask); channel-wise: first half conditions (parity swaps);
    even/odd features for vectors. RealNVP log-scale = learned_scale * tanh(s) (per transformed
    channel, init 1), s first then t, both masked; the toy has log-scale = tanh(s) (no scale).
  * RealNVP conditioner: conv3x3 -> 32, 2 residual blocks (ReLU, conv, ReLU, conv, skip), ReLU,
    zero-initialised conv3x3 -> 2x transformed channels; PyTorch default init elsewhere.
  * Glow step: ActNorm (data-dependent init: zero mean, unit population sd, 1e-6) -> 1x1 conv
    with W = P (L + I) (U + diag(sign_s exp(log_s))) from the LU of a Haar-random rotation,
    L and U stored as full C x C parameters (as flowzoo and openai/glow) -> affine coupling:
    net conv3x3 (no bias, N(0, 0.05)) -> ActNorm -> ReLU -> conv1x1 (no bias) -> ActNorm -> ReLU
    -> zero conv3x3 with bias, times exp(3 logscale); even channels shift, odd pre-scale,
    y_b = (x_b + shift) * sigmoid(pre + 2). Split: first half goes on, second half scored under
    N(mean, exp(log_sd)) from a zero-initialised conv3x3 (with bias) of the first half, even
    channels mean, odd log-sd. Standard normal top.
  * NICE: 4 additive couplings on even/odd halves of the 784-vector (MLP 392 -> 1000 x5 -> 392),
    diagonal scaling exp(s), standard logistic prior.
  * toy: 8 affine couplings on the two coordinates, MLP 1 -> 64 -> 64 -> 2, standard normal.
  * toy-nsf: 8 rational-quadratic spline couplings (RationalQuadraticSpline below, the formulas
    of autograd/ops_rational_quadratic_spline.hpp: K = 8 bins on [-3, 3], softmax widths and
    heights with minimum 1e-3, interior derivatives 1e-3 + softplus, 1 at the ends, identity
    tails), MLP 1 -> 64 -> 64 -> 23 in the blocked layout (widths, heights, derivatives).
  * maf-toy: 5 MAF layers, reversed between consecutive ones, each a MADE 2 -> 64 -> 64 -> 4
    (flows/conditioners/made.hpp degrees and masks, natural order, zero output map) feeding
    the affine map y = x exp(tanh(s)) + t, s = columns 0..1, t = columns 2..3.

Speed mode times the whole optimiser step (dequantization, forward, backward, Adam; not the
batch fetch) and prints the median over --steps steps after --warmup. Quality mode
(--quality MINUTES) trains with Adam lr 1e-3, linear warmup 200 steps, gradient-norm clip 50
(the same recipe as bench_model) and prints the test bpd on the first --test-images test images
(one dequantization draw), or the toy's test NLL (nats) on 20,000 fresh samples.

Threads: torch.set_num_threads(T) (OpenMP, oneDNN) plus OPENBLAS_NUM_THREADS=T, because Debian's
torch runs matmul/linear on a pthreads OpenBLAS that set_num_threads leaves at all cores. The
OpenMP wait policy is the caller's (bench/run_models.sh runs both libgomp's default and PASSIVE).
"""
import argparse
import gzip
import math
import os
import resource
import statistics
import sys
import time


def _threads_from_argv(argv, default=2):
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return str(default)


if __name__ == "__main__":
    # Debian's torch calls a pthreads OpenBLAS for matmul/linear, whose thread pool
    # torch.set_num_threads does not touch (it sizes only OpenMP): without this, a "1-thread"
    # run still multiplies matrices on every core. OpenBLAS reads this when torch loads it.
    os.environ["OPENBLAS_NUM_THREADS"] = _threads_from_argv(sys.argv)
    # The OpenMP wait policy is the caller's: libgomp's idle threads spin by default, which on a
    # shared (oversubscribed) machine made every PyTorch step several times slower here
    # (glow-fmnist 3.2 s -> 0.93 s, nice-fmnist 4.1 s -> 0.73 s at 2 threads with the load at ~5
    # on 2 cores with OMP_WAIT_POLICY=PASSIVE), while on a quiet machine spinning can be the
    # faster. bench/run_models.sh runs this script under both (bench/bench_setup.sh
    # torch_wait_policies) and reports the faster.

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
WORKLOADS = {"toy-realnvp": 512, "toy-nsf": 512, "maf-toy": 512, "nice-fmnist": 200,
             "realnvp-fmnist": 64, "glow-fmnist": 64}
TOY_WORKLOADS = {"toy-realnvp", "toy-nsf", "maf-toy"}


# ---- data ---------------------------------------------------------------------------------

def load_idx_images(train, data_dir=FASHION_MNIST_DIR):
    stem = "train-images-idx3-ubyte" if train else "t10k-images-idx3-ubyte"
    path = os.path.join(data_dir, stem)
    opener = open
    if not os.path.exists(path):
        path += ".gz"
        opener = gzip.open
    with opener(path, "rb") as f:
        raw = f.read()
    magic, n, h, w = np.frombuffer(raw[:16], dtype=">u4")
    if magic != 2051:
        raise ValueError(f"{path}: not an IDX image file (magic {magic})")
    images = np.frombuffer(raw[16:16 + n * h * w], dtype=np.uint8).reshape(n, 1, h, w)
    return torch.from_numpy(images.copy())


class Loader:
    """Shuffled batches of uint8 images, dropping the last short batch, reshuffling each epoch."""

    def __init__(self, images, batch_size, seed):
        self.images, self.batch_size = images, batch_size
        self.gen = torch.Generator().manual_seed(seed)
        self.order, self.pos = None, 0

    def next(self):
        n = self.images.shape[0]
        if self.order is None or self.pos + self.batch_size > n:
            self.order, self.pos = torch.randperm(n, generator=self.gen), 0
        idx = self.order[self.pos:self.pos + self.batch_size]
        self.pos += self.batch_size
        return self.images[idx]


def two_moons(n, gen):
    """BENCHMARKS.md two moons: radius 1, second moon (1 - cos t, 0.5 - sin t), noise sd 0.05."""
    t = torch.rand(n, generator=gen) * math.pi
    second = torch.rand(n, generator=gen) < 0.5
    x = torch.where(second, 1 - torch.cos(t), torch.cos(t))
    y = torch.where(second, 0.5 - torch.sin(t), torch.sin(t))
    return torch.stack([x, y], 1) + 0.05 * torch.randn(n, 2, generator=gen)


def dequantize(pixels, gen=None):
    return (pixels.float() + torch.rand(pixels.shape, generator=gen)) / 256.0


# ---- preprocessing ------------------------------------------------------------------------

class Center(nn.Module):  # "centered": x - 1/2, log-det 0
    def forward(self, x):
        return x - 0.5, x.new_zeros(x.shape[0])


class Logit(nn.Module):  # "logit(alpha)"
    def __init__(self, alpha):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        p = self.alpha + (1 - 2 * self.alpha) * x
        log_p, log_1mp = torch.log(p), torch.log1p(-p)
        d = x[0].numel()
        ld = -(log_p + log_1mp).flatten(1).sum(1) + d * math.log(1 - 2 * self.alpha)
        return log_p - log_1mp, ld


class Flatten(nn.Module):  # "unit" (NICE): x as is, as a vector
    def forward(self, x):
        return x.flatten(1), x.new_zeros(x.shape[0])


# ---- layout -------------------------------------------------------------------------------

def squeeze2d(x):
    """(N, C, H, W) -> (N, 4C, H/2, W/2), channel (dy*2 + dx)*C + c as tensor/layout squeeze2d."""
    n, c, h, w = x.shape
    return x.view(n, c, h // 2, 2, w // 2, 2).permute(0, 3, 5, 1, 2, 4).reshape(n, 4 * c, h // 2, w // 2)


class Squeeze(nn.Module):
    def forward(self, x):
        return squeeze2d(x), 0.0


def merge_interleaved(even, odd):
    n, half = even.shape[0], even.shape[1]
    return torch.stack([even, odd], 2).reshape(n, 2 * half, *even.shape[2:])


# ---- conditioners -------------------------------------------------------------------------

def zero_(module):
    nn.init.zeros_(module.weight)
    if module.bias is not None:
        nn.init.zeros_(module.bias)
    return module


class MLP(nn.Module):
    """in -> hidden (x n_hidden, ReLU) -> out, PyTorch's default Linear init (as flowzoo's MLP)."""

    def __init__(self, d_in, hidden, n_hidden, d_out):
        super().__init__()
        sizes = [d_in] + [hidden] * n_hidden + [d_out]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i + 1 < len(self.layers):
                x = F.relu(x)
        return x


class ResNet(nn.Module):
    """RealNVP conditioner: conv_in, `blocks` x (x + conv(relu(conv(relu(x))))), relu, conv_out = 0."""

    def __init__(self, c_in, features, blocks, c_out):
        super().__init__()
        self.conv_in = nn.Conv2d(c_in, features, 3, padding=1)
        self.res = nn.ModuleList(nn.ModuleList([nn.Conv2d(features, features, 3, padding=1),
                                                nn.Conv2d(features, features, 3, padding=1)])
                                 for _ in range(blocks))
        self.conv_out = zero_(nn.Conv2d(features, c_out, 3, padding=1))

    def forward(self, x):
        h = self.conv_in(x)
        for a, b in self.res:
            h = h + b(F.relu(a(F.relu(h))))
        return self.conv_out(F.relu(h))


# ---- couplings ----------------------------------------------------------------------------

class AffineCoupling(nn.Module):
    """RealNVP affine coupling. kind: 'evenodd' (vectors), 'channel' (halves), 'checkerboard'."""

    def __init__(self, kind, parity, net, transformed, learned_scale, hw=None):
        super().__init__()
        self.kind, self.parity, self.net = kind, parity, net
        self.scale = nn.Parameter(torch.ones(transformed)) if learned_scale else None
        if kind == "checkerboard":
            h, w = hw
            ij = torch.arange(h).view(h, 1) + torch.arange(w).view(1, w)
            mask = ((ij % 2) == (1 if parity else 0)).float().view(1, 1, h, w)
            self.register_buffer("mask", mask)
            self.register_buffer("keep_out", 1 - mask)

    def split(self, x):
        if self.kind == "evenodd":
            a, b = x[:, 0::2], x[:, 1::2]
        else:
            a, b = x.chunk(2, 1)
        return (b, a) if self.parity else (a, b)

    def merge(self, a, b):
        first, second = (b, a) if self.parity else (a, b)
        if self.kind == "evenodd":
            return merge_interleaved(first, second)
        return torch.cat([first, second], 1)

    def scale_shift(self, cond):
        s, t = self.net(cond).chunk(2, 1)
        log_s = torch.tanh(s)
        if self.scale is not None:
            log_s = log_s * self.scale.view(1, -1, *([1] * (s.dim() - 2)))
        return log_s, t

    def forward(self, x):
        if self.kind == "checkerboard":
            cond = torch.cat([x * self.mask, self.mask.expand(x.shape[0], 1, -1, -1)], 1)
            log_s, t = self.scale_shift(cond)
            log_s, t = log_s * self.keep_out, t * self.keep_out
            return x * torch.exp(log_s) + t, log_s.flatten(1).sum(1)
        a, b = self.split(x)
        log_s, t = self.scale_shift(a)
        return self.merge(a, b * torch.exp(log_s) + t), log_s.flatten(1).sum(1)


class AdditiveCoupling(nn.Module):
    """NICE additive coupling on even/odd features: y_b = x_b + m(x_a)."""

    def __init__(self, parity, net):
        super().__init__()
        self.parity, self.net = parity, net

    def forward(self, x):
        even, odd = x[:, 0::2], x[:, 1::2]
        a, b = (odd, even) if self.parity else (even, odd)
        b = b + self.net(a)
        out = merge_interleaved(b, a) if self.parity else merge_interleaved(a, b)
        return out, 0.0


class DiagonalScaling(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.log_scale = nn.Parameter(torch.zeros(d))

    def forward(self, x):
        return x * torch.exp(self.log_scale), self.log_scale.sum()


# ---- neural spline flow (toy-nsf) ----------------------------------------------------------

class RationalQuadraticSpline(nn.Module):
    """Durkan et al.'s monotone rational-quadratic spline, elementwise, identity tails, in plain
    torch ops; the same function as flowzoo's fused op (autograd/ops_rational_quadratic_spline).
    forward(x (N, k), theta (N, (3K - 1) k) blocked: number p of column j at p * k + j) returns
    (y, log dy/dx), both (N, k)."""

    def __init__(self, bins=8, tail_bound=3.0, min_width=1e-3, min_height=1e-3, min_derivative=1e-3):
        super().__init__()
        self.bins, self.bound = bins, tail_bound
        self.min_width, self.min_height, self.min_derivative = min_width, min_height, min_derivative

    def knots(self, logits, min_size):
        """(widths, knots): bin sizes and their K + 1 knots, -B and B exactly at the ends."""
        k, bound = self.bins, self.bound
        sizes = min_size + (1 - k * min_size) * torch.softmax(logits, -1)
        cum = F.pad(torch.cumsum(sizes, -1)[..., :-1], (1, 0))
        knots = F.pad(-bound + 2 * bound * cum, (0, 1), value=bound)
        return knots[..., 1:] - knots[..., :-1], knots

    def forward(self, x, theta):
        n, k, K = x.shape[0], x.shape[1], self.bins
        theta = theta.view(n, 3 * K - 1, k).transpose(1, 2)  # (N, k, 3K - 1)
        widths, xs = self.knots(theta[..., :K], self.min_width)
        heights, ys = self.knots(theta[..., K:2 * K], self.min_height)
        derivs = F.pad(self.min_derivative + F.softplus(theta[..., 2 * K:]), (1, 1), value=1.0)
        inside = (x >= -self.bound) & (x <= self.bound)
        xc = x.clamp(-self.bound, self.bound).unsqueeze(-1)
        # bin = number of interior knots at or below x
        b = torch.searchsorted(xs[..., 1:K].contiguous(), xc, right=True)
        pick = lambda t: t.gather(-1, b).squeeze(-1)  # noqa: E731
        xk, w, yk, h = pick(xs), pick(widths), pick(ys), pick(heights)
        d0, d1 = pick(derivs), derivs[..., 1:].gather(-1, b).squeeze(-1)
        s = h / w
        xi = ((xc.squeeze(-1) - xk) / w).clamp(0, 1)
        t = xi * (1 - xi)
        den = s + (d0 + d1 - 2 * s) * t
        y = yk + h * (s * xi * xi + d0 * t) / den
        n2 = d1 * xi * xi + 2 * s * t + d0 * (1 - xi) ** 2
        logd = torch.log(n2) + 2 * torch.log(s) - 2 * torch.log(den)
        return torch.where(inside, y, x), torch.where(inside, logd, torch.zeros_like(logd))


class SplineCoupling(nn.Module):
    """Even/odd coupling of 2k features (parity swaps the roles): y_b = spline(x_b; net(x_a))."""

    def __init__(self, parity, net, spline):
        super().__init__()
        self.parity, self.net, self.spline = parity, net, spline

    def forward(self, x):
        even, odd = x[:, 0::2], x[:, 1::2]
        a, b = (odd, even) if self.parity else (even, odd)
        yb, logd = self.spline(b, self.net(a))
        out = merge_interleaved(yb, a) if self.parity else merge_interleaved(a, yb)
        return out, logd.sum(1)


# ---- masked autoregressive flow (maf-toy) ----------------------------------------------------

class MaskedLinear(nn.Linear):
    """linear(x, weight * mask, bias): masked weights stay parameters (and get zero gradient)."""

    def __init__(self, d_in, d_out, mask):
        super().__init__(d_in, d_out)
        self.register_buffer("mask", mask)

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    """flowzoo's MADE (flows/conditioners/made.hpp), natural order: input i has degree i + 1,
    hidden unit u degree u mod (D - 1) + 1, output column p * D + j the degree of input j;
    hidden masks degree(out) >= degree(in), output mask strictly >. Output map zeroed."""

    def __init__(self, d, hidden, n_hidden, params_per_dim):
        super().__init__()
        deg_in = torch.arange(1, d + 1)
        deg_hidden = torch.arange(hidden) % max(d - 1, 1) + 1
        deg_out = deg_in.repeat(params_per_dim)
        layers, prev = [], deg_in
        for _ in range(n_hidden):
            layers.append(MaskedLinear(len(prev), hidden, (deg_hidden[:, None] >= prev[None, :]).float()))
            prev = deg_hidden
        last = MaskedLinear(len(prev), len(deg_out), (deg_out[:, None] > prev[None, :]).float())
        zero_(last)
        self.layers = nn.ModuleList(layers + [last])

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = F.relu(layer(x))
        return self.layers[-1](x)


class MAFAffine(nn.Module):
    """The density direction of a MAF layer: y = x exp(tanh(s)) + t with (s, t) = MADE(x)."""

    def __init__(self, d, hidden, n_hidden):
        super().__init__()
        self.made = MADE(d, hidden, n_hidden, 2)

    def forward(self, x):
        s, t = self.made(x).chunk(2, 1)
        log_s = torch.tanh(s)
        return x * torch.exp(log_s) + t, log_s.sum(1)


class Reverse(nn.Module):
    def forward(self, x):
        return x.flip(1), 0.0


# ---- Glow ---------------------------------------------------------------------------------

class ActNormLayer(nn.Module):
    """(x + bias) * exp(logs) per channel; data-dependent init on the first training batch."""

    def __init__(self, channels):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.logs = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.initialised = False

    def normalise(self, x):
        if self.training and not self.initialised:
            with torch.no_grad():
                mean = x.mean(dim=(0, 2, 3), keepdim=True)
                sd = (x - mean).pow(2).mean(dim=(0, 2, 3), keepdim=True).sqrt()
                self.bias.copy_(-mean)
                self.logs.copy_(-torch.log(sd + 1e-6))
            self.initialised = True
        return (x + self.bias) * torch.exp(self.logs)

    def forward(self, x):
        return self.normalise(x)


class ActNorm(ActNormLayer):
    def forward(self, x):
        return self.normalise(x), x.shape[2] * x.shape[3] * self.logs.sum()


def random_rotation(c):
    """Haar-random orthogonal matrix (QR of a Gaussian with the signs of diag(R) fixed)."""
    q, r = torch.linalg.qr(torch.randn(c, c, dtype=torch.float64))
    return q * torch.sign(torch.diagonal(r)).view(1, c)


class InvConv1x1LU(nn.Module):
    def __init__(self, c):
        super().__init__()
        p, l, u = torch.lu_unpack(*torch.linalg.lu_factor(random_rotation(c)))  # W0 = P L U
        s = torch.diagonal(u)
        self.register_buffer("P", p.float())
        self.register_buffer("sign_s", torch.sign(s).float())
        self.register_buffer("lower", torch.tril(torch.ones(c, c), -1))
        self.register_buffer("eye", torch.eye(c))
        self.L = nn.Parameter(torch.tril(l, -1).float())
        self.U = nn.Parameter(torch.triu(u, 1).float())
        self.log_s = nn.Parameter(torch.log(torch.abs(s)).float())

    def weight(self):
        lower = self.L * self.lower + self.eye
        upper = self.U * self.lower.t() + torch.diag(self.sign_s * torch.exp(self.log_s))
        return self.P @ lower @ upper

    def forward(self, x):
        c = x.shape[1]
        y = F.conv2d(x, self.weight().view(c, c, 1, 1))
        return y, x.shape[2] * x.shape[3] * self.log_s.sum()


class Conv2dZeros(nn.Module):
    """(conv3x3(x) + b) * exp(3 logscale), all zero-initialised (openai/glow's conv2d_zeros)."""

    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv = zero_(nn.Conv2d(c_in, c_out, 3, padding=1))
        self.logscale = nn.Parameter(torch.zeros(1, c_out, 1, 1))

    def forward(self, x):
        return self.conv(x) * torch.exp(3.0 * self.logscale)


class GlowNet(nn.Module):
    def __init__(self, c_in, c_out, hidden):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, hidden, 3, padding=1, bias=False)
        self.actnorm1 = ActNormLayer(hidden)
        self.conv2 = nn.Conv2d(hidden, hidden, 1, bias=False)
        self.actnorm2 = ActNormLayer(hidden)
        self.zero_conv = Conv2dZeros(hidden, c_out)
        nn.init.normal_(self.conv1.weight, 0.0, 0.05)
        nn.init.normal_(self.conv2.weight, 0.0, 0.05)

    def forward(self, x):
        h = F.relu(self.actnorm1(self.conv1(x)))
        h = F.relu(self.actnorm2(self.conv2(h)))
        return self.zero_conv(h)


class GlowCoupling(nn.Module):
    def __init__(self, c, hidden):
        super().__init__()
        self.net = GlowNet(c // 2, c, hidden)

    def forward(self, x):
        xa, xb = x.chunk(2, 1)
        h = self.net(xa)
        shift, pre = h[:, 0::2], h[:, 1::2]
        z = pre + 2.0
        yb = (xb + shift) * torch.sigmoid(z)
        return torch.cat([xa, yb], 1), F.logsigmoid(z).flatten(1).sum(1)


def standard_normal_log_prob(z):
    return (-0.5 * z * z - HALF_LOG_2PI).flatten(1).sum(1)


class Split(nn.Module):
    """Factor out the second half of the channels; learned: N(mean, exp(log_sd)) from conv(kept)."""

    def __init__(self, c, learned):
        super().__init__()
        self.conv = zero_(nn.Conv2d(c // 2, c, 3, padding=1)) if learned else None

    def forward(self, x):
        kept, z = x.chunk(2, 1)
        if self.conv is None:
            return kept, standard_normal_log_prob(z)
        h = self.conv(kept)
        mean, log_sd = h[:, 0::2], h[:, 1::2]
        scaled = (z - mean) * torch.exp(-log_sd)
        return kept, (-0.5 * scaled * scaled - log_sd - HALF_LOG_2PI).flatten(1).sum(1)


# ---- the flow -----------------------------------------------------------------------------

class FlowModel(nn.Module):
    def __init__(self, preprocess, scales, base):
        super().__init__()
        self.preprocess = preprocess
        self.flows = nn.ModuleList(nn.ModuleList(flow) for flow, _ in scales)
        self.splits = nn.ModuleList(split if split is not None else nn.Identity() for _, split in scales)
        self.has_split = [split is not None for _, split in scales]
        self.base = base  # "normal" or "logistic"

    def log_prob(self, x):
        h, logdet = (x, 0.0) if self.preprocess is None else self.preprocess(x)
        latent = 0.0
        for flow, split, has in zip(self.flows, self.splits, self.has_split):
            for layer in flow:
                h, ld = layer(h)
                logdet = logdet + ld
            if has:
                h, lp = split(h)
                latent = latent + lp
        if self.base == "logistic":
            top = -(F.softplus(h) + F.softplus(-h)).flatten(1).sum(1)
        else:
            top = standard_normal_log_prob(h)
        return latent + top + logdet


def make_model(workload):
    if workload == "toy-realnvp":
        layers = [AffineCoupling("evenodd", i % 2 == 1, MLP(1, 64, 2, 2), 1, learned_scale=False)
                  for i in range(8)]
        return FlowModel(None, [(layers, None)], "normal")
    if workload == "toy-nsf":
        layers = [SplineCoupling(i % 2 == 1, MLP(1, 64, 2, 23), RationalQuadraticSpline(8, 3.0))
                  for i in range(8)]
        return FlowModel(None, [(layers, None)], "normal")
    if workload == "maf-toy":
        layers = []
        for i in range(5):
            if i > 0:
                layers.append(Reverse())
            layers.append(MAFAffine(2, 64, 2))
        return FlowModel(None, [(layers, None)], "normal")
    if workload == "nice-fmnist":
        layers = [AdditiveCoupling(i % 2 == 1, MLP(392, 1000, 5, 392)) for i in range(4)]
        layers.append(DiagonalScaling(784))
        return FlowModel(Flatten(), [(layers, None)], "logistic")
    if workload == "realnvp-fmnist":
        def coupling(c, kind, parity, hw):
            c_in = c + 1 if kind == "checkerboard" else c // 2
            k = c if kind == "checkerboard" else c // 2
            return AffineCoupling(kind, parity, ResNet(c_in, 32, 2, 2 * k), k, True, hw)
        c, hw, scales = 1, (28, 28), []
        for _ in range(2):
            layers = [coupling(c, "checkerboard", i % 2 == 1, hw) for i in range(3)]
            layers.append(Squeeze())
            c, hw = 4 * c, (hw[0] // 2, hw[1] // 2)
            layers += [coupling(c, "channel", i % 2 == 1, hw) for i in range(3)]
            scales.append((layers, Split(c, learned=False)))
            c //= 2
        scales.append(([coupling(c, "checkerboard", i % 2 == 1, hw) for i in range(4)], None))
        return FlowModel(Logit(0.05), scales, "normal")
    if workload == "glow-fmnist":
        c, scales, levels, k = 1, [], 2, 8
        for level in range(levels):
            c *= 4
            layers = [Squeeze()]
            for _ in range(k):
                layers += [ActNorm(c), InvConv1x1LU(c), GlowCoupling(c, 128)]
            last = level + 1 == levels
            scales.append((layers, None if last else Split(c, learned=True)))
            if not last:
                c //= 2
        return FlowModel(Center(), scales, "normal")
    raise ValueError(f"unknown workload '{workload}' ({', '.join(WORKLOADS)})")


# ---- training -----------------------------------------------------------------------------

def bits_per_dim(log_prob, dims):
    return -(log_prob - dims * math.log(256.0)) / (dims * math.log(2.0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workload", required=True, choices=list(WORKLOADS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--quality", type=float, default=-1.0, metavar="MINUTES")
    ap.add_argument("--test-images", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if a.threads < 1 or a.steps < 1 or a.warmup < 0:
        ap.error("--threads and --steps must be >= 1, --warmup >= 0")

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    w, toy, quality = a.workload, a.workload in TOY_WORKLOADS, a.quality >= 0
    batch_size = a.batch or WORKLOADS[w]
    loss_unit = "nats" if toy else "bpd"

    def out(name, value, unit, fmt="{:.6f}"):
        print(f"{name}\t{a.threads}\tpytorch\t{fmt.format(value)}\t{unit}", flush=True)

    model = make_model(w)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    params = list(model.parameters())
    out(f"{w}_params", sum(p.numel() for p in params), "params", "{:d}")

    data_gen = torch.Generator().manual_seed(a.seed + 1000)
    loader = None if toy else Loader(load_idx_images(train=True), batch_size, a.seed)
    dims = 2 if toy else 784

    def next_batch():
        return two_moons(batch_size, data_gen) if toy else loader.next()

    def step(batch, step_index):
        if quality:  # the shared quality recipe: linear warmup over 200 steps, clip at 50
            for g in optimizer.param_groups:
                g["lr"] = 1e-3 * min(1.0, (step_index + 1) / 200.0)
        x = batch if toy else dequantize(batch)
        lp = model.log_prob(x)
        loss = -lp.mean() if toy else bits_per_dim(lp.mean(), dims)
        value = loss.item()
        if not math.isfinite(value):
            raise RuntimeError(f"step {step_index + 1}: the loss is {value}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if quality:
            torch.nn.utils.clip_grad_norm_(params, 50.0)
        optimizer.step()
        return value

    first_loss = last_loss = 0.0
    if not quality:
        times = []
        for i in range(a.warmup + a.steps):
            batch = next_batch()
            t0 = time.perf_counter()
            last_loss = step(batch, i)
            dt = time.perf_counter() - t0
            if i == 0:
                first_loss = last_loss
            if i >= a.warmup:
                times.append(dt)
        out(w, statistics.median(times), "s/step")
    else:
        start = time.monotonic()
        steps, last_print = 0, 0.0
        while time.monotonic() - start < 60.0 * a.quality:
            last_loss = step(next_batch(), steps)
            if steps == 0:
                first_loss = last_loss
            steps += 1
            if time.monotonic() - start - last_print > 30:
                last_print = time.monotonic() - start
                print(f"torch_models {w}: step {steps}, loss {last_loss:.4f}, {last_print:.0f} s",
                      file=sys.stderr, flush=True)
        model.eval()
        with torch.no_grad():
            if toy:
                test = two_moons(20000, torch.Generator().manual_seed(7))
                result = sum(-model.log_prob(test[i:i + 2000]).sum().item()
                             for i in range(0, 20000, 2000)) / 20000
            else:
                test = load_idx_images(train=False)[:a.test_images]
                eval_gen = torch.Generator().manual_seed(a.seed + 11)
                total = 0.0
                for i in range(0, test.shape[0], 200):
                    lp = model.log_prob(dequantize(test[i:i + 200], eval_gen))
                    total += bits_per_dim(lp.double(), dims).sum().item()
                result = total / test.shape[0]
        out(f"{w}_quality", result, loss_unit, "{:.4f}")
        out(f"{w}_quality_steps", steps, "steps", "{:d}")
    out(f"{w}_loss_first", first_loss, loss_unit, "{:.4f}")
    out(f"{w}_loss_last", last_loss, loss_unit, "{:.4f}")
    out(f"{w}_rss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, "MB", "{:.1f}")


if __name__ == "__main__":
    main()
