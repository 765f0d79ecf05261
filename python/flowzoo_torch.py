"""flowzoo_torch.py — flowzoo's presets as PyTorch modules that load a flowzoo checkpoint.

    >>> import flowzoo_checkpoint as fzc, flowzoo_torch as fzt
    >>> run = fzc.load("runs/latest")
    >>> model = fzt.from_checkpoint(run)            # Polyak averages when the run kept them
    >>> log_p = model.log_prob(x)                   # (B,) nats, like flowzoo's eval

`build_model(config["model"])` builds the same architecture as flows/presets.cpp's make_flow,
with the same module tree, so the checkpoint's "model.<name>" tensors load by name with a
strict load_state_dict (names and shapes are checked). Only log_prob (data -> latents, the
direction training uses) is implemented. `x` is what flowzoo's model sees: images as
(B, C, H, W) floats in [0, 1) (dequantized pixels, (pixel + u) / 2^bits), 2-D data as (B, 2);
log_prob is the continuous density with every preprocessing log-det (logit, centering)
included, without the 2^bits discretisation term (bits/dim = -(log_prob - D ln 2^bits) / (D ln 2)).

The conventions that differ from common PyTorch ports are listed in the README's "Python"
section; each is implemented in one place here: `squeeze2d` (position-major channels),
`SigmoidAffine`/`Split` (interleaved pairs) against `Affine` (halves), `InvConv1x1LU` (full L/U
masked, P used as stored), and flowzoo_checkpoint (EMA copies named after their parameters).

Supported: every preset `flowzoo train` builds — nice, realnvp, glow (images and 2-D), nsf
(2-D; images = glow with spline couplings), maf (2-D and images) — with the transformers
additive, affine, spline and (realnvp, glow) the logistic mixture.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

import flowzoo_checkpoint

_HALF_LOG_2PI = 0.91893853320467274178


def _per_sample(t):
    return t.reshape(t.shape[0], -1).sum(1)


# ---- layout -----------------------------------------------------------------------------------

def squeeze2d(x):
    """Space-to-depth, flowzoo's order (tensor/layout.hpp): out[n, (dy*2 + dx)*C + c, i, j] =
    x[n, c, 2i + dy, 2j + dx] — position-major, not openai/glow's c*4 + dy*2 + dx."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 3, 5, 1, 2, 4).reshape(n, 4 * c, h // 2, w // 2)


def interleaved(t):
    """(channels 0, 2, 4, ..., channels 1, 3, 5, ...) of axis 1: flowzoo's paired outputs."""
    return t[:, 0::2], t[:, 1::2]


def halves(t):
    k = t.shape[1] // 2
    return t[:, :k], t[:, k:]


class Chain(nn.Module):
    """flows/bijector.hpp Chain: layers registered as children "0", "1", ..."""

    def __init__(self, layers=()):
        super().__init__()
        self.n = 0
        for layer in layers:
            self.add(layer)

    def add(self, layer):
        self.add_module(str(self.n), layer)
        self.n += 1
        return layer

    def forward(self, x):
        logdet = x.new_zeros(x.shape[0])
        for i in range(self.n):
            x, ld = getattr(self, str(i))(x)
            logdet = logdet + ld
        return x, logdet


# ---- preprocessing ----------------------------------------------------------------------------

class Flatten(nn.Module):
    def forward(self, x):
        return x.reshape(x.shape[0], -1), x.new_zeros(x.shape[0])


class AffineScalar(nn.Module):
    def __init__(self, scale, shift):
        super().__init__()
        self.scale, self.shift = scale, shift

    def forward(self, x):
        d = x[0].numel()
        return x * self.scale + self.shift, x.new_full((x.shape[0],), d * math.log(abs(self.scale)))


class Logit(nn.Module):
    def __init__(self, alpha):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        p = x * (1 - 2 * self.alpha) + self.alpha
        log_p, log_1mp = torch.log(p), torch.log(1 - p)
        d = x[0].numel()
        logdet = _per_sample(-(log_p + log_1mp)) + d * math.log(1 - 2 * self.alpha)
        return log_p - log_1mp, logdet


# ---- bijectors --------------------------------------------------------------------------------

class Squeeze(nn.Module):
    def forward(self, x):
        return squeeze2d(x), x.new_zeros(x.shape[0])


def _per_channel(v, x):
    return v.reshape((1, -1) + (1,) * (x.dim() - 2))


class ActNorm(nn.Module):
    """(x + bias) * exp(logs) per channel; log-det = positions * sum(logs)."""

    def __init__(self, channels):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))
        self.logs = nn.Parameter(torch.zeros(channels))
        self.register_buffer("initialised", torch.zeros(1))

    def layer(self, x):
        return (x + _per_channel(self.bias, x)) * torch.exp(_per_channel(self.logs, x))

    def forward(self, x):
        positions = x[0, 0].numel()
        return self.layer(x), (self.logs.sum() * positions).expand(x.shape[0])


class ActNormLayer(ActNorm):
    def forward(self, x):
        return self.layer(x)


def _mix_channels(x, weight):
    if x.dim() == 2:
        return x @ weight.t()
    return F.conv2d(x, weight.reshape(weight.shape + (1, 1)))


class InvConv1x1(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.eye(channels))

    def forward(self, x):
        positions = x[0, 0].numel()
        return _mix_channels(x, self.weight), (torch.slogdet(self.weight)[1] * positions).expand(x.shape[0])


class InvConv1x1LU(nn.Module):
    """W = P (tril(L, -1) + I) (triu(U, 1) + diag(sign_s * exp(log_s))). flowzoo stores the full
    L and U (only the strict triangles count: mask them) and P exactly as it enters this
    product (the transpose of the row permutation P' of P' W0 = L U)."""

    def __init__(self, channels):
        super().__init__()
        self.L = nn.Parameter(torch.zeros(channels, channels))
        self.U = nn.Parameter(torch.zeros(channels, channels))
        self.log_s = nn.Parameter(torch.zeros(channels))
        self.register_buffer("P", torch.eye(channels))
        self.register_buffer("sign_s", torch.ones(channels))

    def weight(self):
        eye = torch.eye(self.L.shape[0], dtype=self.L.dtype)
        lower = torch.tril(self.L, -1) + eye
        upper = torch.triu(self.U, 1) + torch.diag(self.sign_s * torch.exp(self.log_s))
        return self.P @ (lower @ upper)

    def forward(self, x):
        positions = x[0, 0].numel()
        return _mix_channels(x, self.weight()), (self.log_s.sum() * positions).expand(x.shape[0])


class DiagonalScaling(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.log_scale = nn.Parameter(torch.zeros(shape))

    def forward(self, x):
        return x * torch.exp(self.log_scale), self.log_scale.sum().expand(x.shape[0])


# ---- conditioners -----------------------------------------------------------------------------

class MLP(nn.Module):
    """flows/conditioners/mlp.hpp: weight<l> (out, in), bias<l>; ReLU between layers."""

    def __init__(self, sizes):
        super().__init__()
        self.layers = len(sizes) - 1
        for l in range(self.layers):
            self.register_parameter("weight%d" % l, nn.Parameter(torch.zeros(sizes[l + 1], sizes[l])))
            self.register_parameter("bias%d" % l, nn.Parameter(torch.zeros(sizes[l + 1])))

    def forward(self, x):
        for l in range(self.layers):
            x = F.linear(x, getattr(self, "weight%d" % l), getattr(self, "bias%d" % l))
            if l + 1 < self.layers:
                x = F.relu(x)
        return x


class ConditionerConv(nn.Module):
    """flows/conditioners/resnet.hpp: a same-padded conv, weight or weight norm (w = g v / |v|)."""

    def __init__(self, cin, cout, kernel=3, weight_norm=False):
        super().__init__()
        self.weight_norm = weight_norm
        if weight_norm:
            self.v = nn.Parameter(torch.zeros(cout, cin, kernel, kernel))
            self.g = nn.Parameter(torch.zeros(cout))
        else:
            self.weight = nn.Parameter(torch.zeros(cout, cin, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.padding = kernel // 2

    def forward(self, x):
        if self.weight_norm:
            norm = self.v.pow(2).sum((1, 2, 3), keepdim=True).sqrt()
            w = self.v * (self.g.reshape(-1, 1, 1, 1) / norm)
        else:
            w = self.weight
        return F.conv2d(x, w, self.bias, padding=self.padding)


class ResNetConditioner(nn.Module):
    """conv_in -> per block h + res<b>b(relu(res<b>a(relu(h)))) -> conv_out(relu(h))."""

    def __init__(self, cin, features, blocks, cout, weight_norm):
        super().__init__()
        self.blocks = blocks
        self.conv_in = ConditionerConv(cin, features, 3, weight_norm)
        for b in range(blocks):
            self.add_module("res%da" % b, ConditionerConv(features, features, 3, weight_norm))
            self.add_module("res%db" % b, ConditionerConv(features, features, 3, weight_norm))
        self.conv_out = ConditionerConv(features, cout, 3, weight_norm)

    def forward(self, x):
        h = self.conv_in(x)
        for b in range(self.blocks):
            h = h + getattr(self, "res%db" % b)(F.relu(getattr(self, "res%da" % b)(F.relu(h))))
        return self.conv_out(F.relu(h))


class Conv2dZeros(nn.Module):
    def __init__(self, cin, cout, logscale_factor=3.0):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(cout, cin, 3, 3))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.logscale = nn.Parameter(torch.zeros(cout))
        self.logscale_factor = logscale_factor

    def forward(self, x):
        return (F.conv2d(x, self.weight, padding=1) + self.bias.reshape(1, -1, 1, 1)) * \
            torch.exp(self.logscale * self.logscale_factor).reshape(1, -1, 1, 1)


class GlowNet(nn.Module):
    """conv3x3 (no bias) -> ActNorm -> ReLU -> conv1x1 -> ActNorm -> ReLU -> Conv2dZeros."""

    def __init__(self, cin, cout, hidden):
        super().__init__()
        self.conv1_weight = nn.Parameter(torch.zeros(hidden, cin, 3, 3))
        self.actnorm1 = ActNormLayer(hidden)
        self.conv2_weight = nn.Parameter(torch.zeros(hidden, hidden, 1, 1))
        self.actnorm2 = ActNormLayer(hidden)
        self.zero_conv = Conv2dZeros(hidden, cout)

    def forward(self, x):
        h = F.relu(self.actnorm1(F.conv2d(x, self.conv1_weight, padding=1)))
        h = F.relu(self.actnorm2(F.conv2d(h, self.conv2_weight)))
        return self.zero_conv(h)


# ---- transformers (flows/transformers/): forward(x, params) -> (y, log dy/dx elementwise) -------

class Additive(nn.Module):
    per_element = 1

    def forward(self, x, params):
        return x + params, None


class Affine(nn.Module):
    """RealNVP's: params are halves (s, then t); log-scale tanh(s), times a learned per-channel
    "scale" on RealNVP images."""
    per_element = 2

    def __init__(self, channels, learned_scale):
        super().__init__()
        if learned_scale:
            self.scale = nn.Parameter(torch.ones(channels))
        self.learned_scale = learned_scale

    def forward(self, x, params):
        s, t = halves(params)
        log_s = torch.tanh(s)
        if self.learned_scale:
            log_s = log_s * _per_channel(self.scale, x)
        return x * torch.exp(log_s) + t, log_s


class SigmoidAffine(nn.Module):
    """Glow's: params interleaved (even = shift, odd = pre-scale); y = (x + shift) sigmoid(pre + 2)."""
    per_element = 2

    def forward(self, x, params):
        shift, pre = interleaved(params)
        z = pre + 2
        return (x + shift) * torch.sigmoid(z), F.logsigmoid(z)


# ---- couplings --------------------------------------------------------------------------------

class Coupling(nn.Module):
    """flows/bijectors/coupling.hpp with a partition (flows/bijectors/partition.hpp):
    "evenodd" (a = x[:, 0::2]), "halves" (a = first half), "checkerboard" (mask (i + j) % 2 ==
    parity on the conditioning pixels); parity swaps the roles. The transformer's parameters
    are registered on the coupling itself ("scale"), the conditioner as "net"."""

    def __init__(self, kind, parity, net, transformer):
        super().__init__()
        self.kind, self.parity = kind, parity
        self.transformer = [transformer]  # not a child: its parameters are the coupling's own
        for name, p in transformer.named_parameters():
            self.register_parameter(name, p)
        self.net = net

    def forward(self, x):
        tau = self.transformer[0]
        if self.kind == "checkerboard":
            h, w = x.shape[2], x.shape[3]
            ij = torch.arange(h).reshape(-1, 1) + torch.arange(w).reshape(1, -1)
            m = ((ij % 2) == (1 if self.parity else 0)).to(x.dtype).reshape(1, 1, h, w)
            cond = torch.cat([x * m, m.expand(x.shape[0], 1, h, w)], 1)
            y, logd = tau(x, self.net(cond))
            out = x * m + y * (1 - m)
            return out, (x.new_zeros(x.shape[0]) if logd is None else _per_sample(logd * (1 - m)))
        if self.kind == "evenodd":
            a, b = x[:, 0::2], x[:, 1::2]
        else:
            a, b = halves(x)
        if self.parity:
            a, b = b, a
        y, logd = tau(b, self.net(a))
        first, second = (y, a) if self.parity else (a, y)
        if self.kind == "evenodd":
            out = torch.stack([first, second], 2).reshape(x.shape)
        else:
            out = torch.cat([first, second], 1)
        return out, (x.new_zeros(x.shape[0]) if logd is None else _per_sample(logd))


# ---- factor-out and base distributions ---------------------------------------------------------

def _normal_log_prob(z):
    return _per_sample(-0.5 * z * z - _HALF_LOG_2PI)


def _gaussian_log_prob(z, mean, log_sd):
    scaled = (z - mean) * torch.exp(-log_sd)
    return _per_sample(-0.5 * scaled * scaled - log_sd - _HALF_LOG_2PI)


class Split(nn.Module):
    """kept = first half of the channels, z = second half; the learned prior's conv output is
    interleaved (even = mean, odd = log-sd)."""

    def __init__(self, channels, learned_prior):
        super().__init__()
        self.learned_prior = learned_prior
        if learned_prior:
            self.weight = nn.Parameter(torch.zeros(channels, channels // 2, 3, 3))
            self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        kept, z = halves(x)
        if not self.learned_prior:
            return kept, z, _normal_log_prob(z)
        mean, log_sd = interleaved(F.conv2d(kept, self.weight, self.bias, padding=1))
        return kept, z, _gaussian_log_prob(z, mean, log_sd)


class StandardNormal(nn.Module):
    def forward(self, z):
        return _normal_log_prob(z)


class StandardLogistic(nn.Module):
    def forward(self, z):
        return -_per_sample(F.softplus(z) + F.softplus(-z))


class DiagonalGaussian(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.mean = nn.Parameter(torch.zeros(shape))
        self.log_sd = nn.Parameter(torch.zeros(shape))

    def forward(self, z):
        return _gaussian_log_prob(z, self.mean, self.log_sd)


class FlowModel(nn.Module):
    """flows/flow_model.hpp: preprocess -> per scale: flow, then split (all but the last) -> base."""

    def __init__(self, preprocess, scales, base):
        super().__init__()
        self.preprocess = preprocess
        self.n_scales = len(scales)
        for i, (flow, split) in enumerate(scales):
            self.add_module("scale%d" % i, flow)
            if split is not None:
                self.add_module("split%d" % i, split)
        self.base = base

    def log_prob(self, x):
        h, logdet = self.preprocess(x)
        latent = x.new_zeros(x.shape[0])
        for i in range(self.n_scales):
            h, ld = getattr(self, "scale%d" % i)(h)
            logdet = logdet + ld
            split = getattr(self, "split%d" % i, None)
            if split is not None:
                h, _, lp = split(h)
                latent = latent + lp
        return logdet + latent + self.base(h)

    def forward(self, x):
        return self.log_prob(x)


# ---- presets (flows/presets.cpp) ---------------------------------------------------------------

def resolve_preset(m):
    """The defaults flows/presets.cpp resolve_preset fills in (a checkpoint's config is already
    resolved; this makes build_model accept a hand-written one too)."""
    m = dict(m)
    vec = len(m["event_shape"]) == 1
    model = m["model"]
    defaults = {
        "nice": (4, 64 if vec else 1000, 2 if vec else 5),
        "realnvp": (8 if vec else 3, 64 if vec else 32, 2),
        "glow": (0, 64 if vec else 128, 2),
        "nsf": (8 if vec else 0, 64 if vec else 128, 2),
        "maf": (5, 64, 2),
    }
    if model not in defaults:
        raise ValueError("unknown model %r (nice, realnvp, glow, nsf, maf)" % model)
    couplings, hidden, blocks = defaults[model]
    m["couplings"] = m.get("couplings") or couplings
    m["hidden"] = m.get("hidden") or hidden
    m["blocks"] = m.get("blocks") or blocks
    if not m.get("transformer"):
        m["transformer"] = {"nice": "additive", "nsf": "spline"}.get(model, "affine")
    if model == "glow" and not vec and m["transformer"] in ("affine", "additive"):
        if not m.get("affine", True):
            m["transformer"] = "additive"
        m["affine"] = m["transformer"] == "affine"
    return m


def _transformer(m, k, learned_scale, glow_images):
    name = m["transformer"]
    if name == "additive":
        return Additive()
    if name == "affine":
        return SigmoidAffine() if glow_images else Affine(k, learned_scale)
    if name == "spline":
        return RationalQuadraticSpline(m.get("bins", 8), m.get("tail_bound", 3.0))
    if name == "mixture":
        return LogisticMixture(m.get("mixtures", 4))
    raise NotImplementedError("flowzoo_torch: the %r transformer is not ported" % name)


def _nice(m):
    shape = list(m["event_shape"])
    d = int(math.prod(shape))
    pre = Chain([Flatten()] if len(shape) > 1 else [])
    flow = Chain()
    for i in range(m["couplings"]):
        flow.add(Coupling("evenodd", i % 2 == 1, MLP([d // 2] + [m["hidden"]] * m["blocks"] + [d // 2]), Additive()))
    flow.add(DiagonalScaling(d))
    return FlowModel(pre, [(flow, None)], StandardLogistic())


def _realnvp_images(m):
    channels = m["event_shape"][0]

    def coupling(ch, kind, parity):
        k = ch if kind == "checkerboard" else ch // 2
        tau = _transformer(m, k, True, False)
        cin = ch + 1 if kind == "checkerboard" else ch // 2
        net = ResNetConditioner(cin, m["hidden"], m["blocks"], tau.per_element * k, m.get("weight_norm", False))
        return Coupling(kind, parity, net, tau)

    scales = []
    for _ in range(m["levels"]):
        flow = Chain()
        for i in range(m["couplings"]):
            flow.add(coupling(channels, "checkerboard", i % 2 == 1))
        flow.add(Squeeze())
        channels *= 4
        for i in range(m["couplings"]):
            flow.add(coupling(channels, "halves", i % 2 == 1))
        scales.append((flow, Split(channels, False)))
        channels //= 2
    top = Chain([coupling(channels, "checkerboard", i % 2 == 1) for i in range(m["couplings"] + 1)])
    scales.append((top, None))
    return FlowModel(Chain([Logit(0.05)]), scales, StandardNormal())


def _glow_images(m):
    c, h, w = m["event_shape"]
    scales = []
    for level in range(m["levels"]):
        flow = Chain([Squeeze()])
        c, h, w = c * 4, h // 2, w // 2
        for _ in range(m["steps_per_level"]):
            tau = _transformer(m, c // 2, False, True)
            flow.add(Chain([ActNorm(c), InvConv1x1LU(c) if m.get("lu", True) else InvConv1x1(c),
                            Coupling("halves", False, GlowNet(c // 2, tau.per_element * (c // 2), m["hidden"]), tau)]))
        last = level + 1 == m["levels"]
        scales.append((flow, None if last else Split(c, True)))
        if not last:
            c //= 2
    base = DiagonalGaussian((c, h, w)) if m.get("learn_top", False) else StandardNormal()
    return FlowModel(Chain([AffineScalar(1.0, -0.5)]), scales, base)


def _mlp_coupling(m, d, parity, tau):
    net = MLP([d // 2] + [m["hidden"]] * m["blocks"] + [tau.per_element * (d // 2)])
    return Coupling("evenodd", parity, net, tau)


def _realnvp_vectors(m):
    d = m["event_shape"][0]
    flow = Chain([_mlp_coupling(m, d, i % 2 == 1, _transformer(m, d // 2, False, False)) for i in range(m["couplings"])])
    return FlowModel(Chain(), [(flow, None)], StandardNormal())


def _glow_vectors(m):
    d = m["event_shape"][0]
    flow = Chain()
    for k in range(m["steps_per_level"]):
        flow.add(ActNorm(d))
        flow.add(InvConv1x1LU(d) if m.get("lu", True) else InvConv1x1(d))
        flow.add(_mlp_coupling(m, d, k % 2 == 1, _transformer(m, d // 2, False, False)))
    return FlowModel(Chain(), [(flow, None)], StandardNormal())


def _nsf_vectors(m):
    return _realnvp_vectors(m)  # the same skeleton: MLP couplings on alternating coordinates


def build_model(model_config):
    """The PyTorch FlowModel for a flowzoo model configuration (config.json's "model")."""
    m = resolve_preset(model_config)
    vec = len(m["event_shape"]) == 1
    kind = m["model"]
    if kind == "nice":
        return _nice(m)
    if kind == "realnvp":
        return _realnvp_vectors(m) if vec else _realnvp_images(m)
    if kind == "maf":
        return _maf(m)
    if kind == "nsf" and vec:
        return _nsf_vectors(m)
    return _glow_vectors(m) if vec else _glow_images(m)


def from_checkpoint(checkpoint, use_ema=True, dtype=torch.float32):
    """A FlowModel loaded from a flowzoo checkpoint (a run folder, a .safetensors file or a
    flowzoo_checkpoint.Checkpoint). use_ema: take the Polyak averages when the run kept them
    (what flowzoo's eval uses). dtype: float32 as flowzoo, or float64 for a reference."""
    if not isinstance(checkpoint, flowzoo_checkpoint.Checkpoint):
        checkpoint = flowzoo_checkpoint.load(checkpoint)
    model = build_model(checkpoint.config["model"])
    state = {k: torch.from_numpy(v.copy()) for k, v in checkpoint.model_state(use_ema).items()}
    model.load_state_dict(state, strict=True)
    return model.to(dtype).eval()


# ---- rational-quadratic spline (autograd/ops_rational_quadratic_spline.hpp) --------------------

class RationalQuadraticSpline(nn.Module):
    """Durkan et al.'s monotone spline on [-B, B], identity outside; params blocked: parameter p
    of channel j at channel p * k + j (K widths, K heights, K - 1 interior derivatives)."""

    def __init__(self, bins, tail_bound, min_bin_width=1e-3, min_bin_height=1e-3, min_derivative=1e-3):
        super().__init__()
        self.bins, self.bound = bins, tail_bound
        self.min_w, self.min_h, self.min_d = min_bin_width, min_bin_height, min_derivative
        self.per_element = 3 * bins - 1

    def _knots(self, theta, minimum):
        k = self.bins
        widths = minimum + (1 - k * minimum) * torch.softmax(theta, -1)
        interior = torch.cumsum(widths, -1)[..., :-1] * (2 * self.bound) - self.bound
        ends = torch.full(interior.shape[:-1] + (1,), self.bound, dtype=interior.dtype)
        return torch.cat([-ends, interior, ends], -1)  # X_0 = -B and X_K = B exactly

    def forward(self, x, params):
        n, k = x.shape[0], x.shape[1]
        theta = params.reshape((n, self.per_element, k) + tuple(x.shape[2:])).movedim(1, -1)
        K = self.bins
        xs = self._knots(theta[..., :K], self.min_w)
        ys = self._knots(theta[..., K:2 * K], self.min_h)
        ones = torch.ones(theta.shape[:-1] + (1,), dtype=x.dtype)
        d = torch.cat([ones, self.min_d + F.softplus(theta[..., 2 * K:]), ones], -1)
        inside = (x >= -self.bound) & (x <= self.bound)
        xc = x.clamp(-self.bound, self.bound).unsqueeze(-1)
        b = (xc >= xs[..., 1:K]).sum(-1, keepdim=True)  # the bin: 0 .. K - 1

        def at(t, offset=0):
            return t.gather(-1, b + offset).squeeze(-1)

        x0, x1, y0, y1, d0, d1 = at(xs), at(xs, 1), at(ys), at(ys, 1), at(d), at(d, 1)
        w, h = x1 - x0, y1 - y0
        s = h / w
        xi = (xc.squeeze(-1) - x0) / w
        t = xi * (1 - xi)
        denom = s + (d0 + d1 - 2 * s) * t
        y = y0 + h * (s * xi * xi + d0 * t) / denom
        dydx = s * s * (d1 * xi * xi + 2 * s * t + d0 * (1 - xi) ** 2) / (denom * denom)
        return torch.where(inside, y, x), torch.where(inside, torch.log(dydx), torch.zeros_like(x))


# ---- Flow++ logistic mixture (flows/transformers/logistic_mixture.hpp) ------------------------

class LogisticMixture(nn.Module):
    """y = exp(a) logit(sum_i pi_i sigmoid((x - mu_i) e^-s_i)) + b, in log space; params blocked
    (K logits, K means, K log-scales clamped below at -7, then a, then b)."""

    def __init__(self, components):
        super().__init__()
        self.k = components
        self.per_element = 3 * components + 2

    def forward(self, x, params):
        K = self.k
        p = params.reshape((x.shape[0], self.per_element) + tuple(x.shape[1:]))
        log_pi = torch.log_softmax(p[:, :K], 1)
        mu = p[:, K:2 * K]
        log_scale = p[:, 2 * K:3 * K].clamp(min=-7.0)
        a, b = p[:, 3 * K], p[:, 3 * K + 1]
        z = (x.unsqueeze(1) - mu) * torch.exp(-log_scale)
        log_sig, log_sig_neg = F.logsigmoid(z), F.logsigmoid(-z)
        log_cdf = torch.logsumexp(log_pi + log_sig, 1)
        log_sf = torch.logsumexp(log_pi + log_sig_neg, 1)
        log_pdf = torch.logsumexp(log_pi + log_sig + log_sig_neg - log_scale, 1)
        return torch.exp(a) * (log_cdf - log_sf) + b, a + log_pdf - log_cdf - log_sf


# ---- MAF (flows/bijectors/masked_autoregressive.hpp, flows/conditioners/made.hpp) -------------

class Reverse(nn.Module):
    def forward(self, x):
        return torch.flip(x, [1]), x.new_zeros(x.shape[0])


class MADE(nn.Module):
    """Plain MADE: weight<l>/bias<l> masked by degrees (inputs: order position + 1; hidden unit u:
    u % (D - 1) + 1; output column p * D + j: input j's degree), ReLU between maps; the order
    is the buffer "order"."""

    def __init__(self, features, hidden, n_hidden, per_element):
        super().__init__()
        self.d, self.hidden, self.per_element = features, hidden, per_element
        sizes = [features] + [hidden] * n_hidden + [per_element * features]
        self.maps = len(sizes) - 1
        for l in range(self.maps):
            self.register_parameter("weight%d" % l, nn.Parameter(torch.zeros(sizes[l + 1], sizes[l])))
            self.register_parameter("bias%d" % l, nn.Parameter(torch.zeros(sizes[l + 1])))
        self.register_buffer("order", torch.arange(features, dtype=torch.float32))

    def masks(self):
        order = self.order.round().long()
        inp = torch.empty(self.d, dtype=torch.long)
        inp[order] = torch.arange(1, self.d + 1)
        hid = torch.arange(self.hidden) % max(self.d - 1, 1) + 1
        out = inp.repeat(self.per_element)  # column p * D + j has input j's degree
        masks = []
        for l in range(self.maps):
            first, last = l == 0, l + 1 == self.maps
            o, i = (out if last else hid), (inp if first else hid)
            masks.append((o.unsqueeze(1) > i.unsqueeze(0)) if last else (o.unsqueeze(1) >= i.unsqueeze(0)))
        return masks

    def forward(self, x):
        for l, m in enumerate(self.masks()):
            x = F.linear(x, getattr(self, "weight%d" % l) * m.to(x.dtype), getattr(self, "bias%d" % l))
            if l + 1 < self.maps:
                x = F.relu(x)
        return x


class MaskedAutoregressiveFlow(nn.Module):
    """Data -> latent in one pass: y = tau(x; MADE(x)); children "made" and "transformer"."""

    def __init__(self, made, transformer):
        super().__init__()
        self.made, self.transformer = made, transformer

    def forward(self, x):
        y, logd = self.transformer(x, self.made(x))
        return y, (x.new_zeros(x.shape[0]) if logd is None else logd.sum(1))


def _maf(m):
    shape = list(m["event_shape"])
    d = int(math.prod(shape))
    pre = Chain() if len(shape) == 1 else Chain([Logit(0.05), Flatten()])
    flow = Chain()
    for l in range(m["couplings"]):
        if l > 0:
            flow.add(Reverse())
        tau = _transformer(m, d, False, False)
        flow.add(MaskedAutoregressiveFlow(MADE(d, m["hidden"], m["blocks"], tau.per_element), tau))
    return FlowModel(pre, [(flow, None)], StandardNormal())
