"""tests/python/test_torch_presets.py — python/flowzoo_torch.py reproduces flowzoo's
log-likelihoods: for every preset `flowzoo train` builds (tests/python/presets.py), a tiny
fixed-seed run is trained with build/flowzoo, `flowzoo eval --log-probs` writes its log p(x)
on the first test examples with the exact inputs, and the PyTorch module loaded from the
checkpoint must give the same log p(x) to float32 rounding: |torch - flowzoo| <= 1e-6 (|log p|
+ D) + 1e-5 per example, D the dimensions (a float32 sum of D-term densities and log-dets
carries about that much rounding; every convention mistake below moves it by far more).

Control checks show the comparison can fail: each of the conventions the README's "Python"
section lists, done the common way (openai/glow's squeeze order, halves for Glow's pairs,
interleaving for RealNVP's, P transposed, the trained weights instead of the averages), must
give a mismatch.

Without PyTorch it prints "SKIPPED: python3-torch not installed" and counts the checks as
skipped (not passed). Usage: python3 tests/python/test_torch_presets.py BUILD_DIR/flowzoo
"""

import contextlib
import os
import shutil
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, HERE)

import flowzoo_checkpoint as fzc  # noqa: E402
import presets  # noqa: E402
from check import Checks  # noqa: E402

try:
    import torch
except ImportError:
    torch = None


def tolerance(flowzoo_lp, dims):
    return 1e-6 * (np.abs(flowzoo_lp) + dims) + 1e-5


def torch_log_prob(run_dir, inputs, use_ema=True):
    import flowzoo_torch as fzt
    model = fzt.from_checkpoint(run_dir, use_ema=use_ema)
    with torch.no_grad():
        return model.log_prob(torch.from_numpy(inputs)).numpy().astype(np.float64)


def compare(run_dir, log_probs_file, use_ema=True):
    """(worst |torch - flowzoo| / tolerance, worst difference) over the examples."""
    meta, t = fzc.read_safetensors(log_probs_file)
    want = t["log_prob"].astype(np.float64)
    got = torch_log_prob(run_dir, t["inputs"], use_ema)
    diff = np.abs(got - want)
    if not np.all(np.isfinite(got)):
        return float("inf"), float("inf")
    return float(np.max(diff / tolerance(want, int(meta["flowzoo.dims"])))), float(np.max(diff))


@contextlib.contextmanager
def patched(obj, name, value):
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def main():
    flowzoo = sys.argv[1]
    checks = Checks()
    if torch is None:
        print("SKIPPED: python3-torch not installed (%d PyTorch checks not run)" % len(presets.CASES))
        checks.skipped += len(presets.CASES)
        return checks.summary()
    import flowzoo_torch as fzt
    torch.set_num_threads(1)
    tmp = tempfile.mkdtemp(prefix="fz-torch-")
    files = {}
    for name, flags in presets.CASES:
        run_dir = os.path.join(tmp, name)

        def case(name=name, flags=flags, run_dir=run_dir):
            files[name] = presets.train_and_eval(flowzoo, run_dir, flags)
            ratio, worst = compare(run_dir, files[name])
            print("  %s: worst |torch - flowzoo| = %.3g (%.3g of the tolerance)" % (name, worst, ratio))
            assert ratio <= 1, "log_prob differs by %.3g, %.3g times the float32 tolerance" % (worst, ratio)
        checks.run("torch log_prob = flowzoo's: " + name, case)

    def must_mismatch(case, what):
        def control():
            assert case in files, "the %s case did not run" % case
            ratio, worst = compare(os.path.join(tmp, case), files[case], use_ema=(what != "ema"))
            print("  control %s on %s: worst difference %.3g (%.3g of the tolerance)" % (what, case, worst, ratio))
            assert ratio > 100, "the wrong convention still matches (%.3g of the tolerance)" % ratio
        return control

    def openai_squeeze(x):  # channel c * 4 + dy * 2 + dx
        n, c, h, w = x.shape
        return x.reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(n, 4 * c, h // 2, w // 2)

    with patched(fzt, "squeeze2d", openai_squeeze):
        checks.run("control: openai/glow's squeeze order breaks glow", must_mismatch("glow", "squeeze"))
        # (With one channel both orders agree: the first squeeze of a grey image is the same;
        # the second, on 2 channels, is not. realnvp-weight-norm has two scales.)
        checks.run("control: openai/glow's squeeze order breaks realnvp (2 scales)",
                   must_mismatch("realnvp-weight-norm", "squeeze"))

    def sigmoid_affine_halves(self, x, params):
        shift, pre = fzt.halves(params)
        z = pre + 2
        return (x + shift) * torch.sigmoid(z), torch.nn.functional.logsigmoid(z)
    with patched(fzt.SigmoidAffine, "forward", sigmoid_affine_halves):
        checks.run("control: Glow's coupling outputs as halves break glow", must_mismatch("glow", "halves"))

    with patched(fzt, "interleaved", fzt.halves):
        checks.run("control: Glow's split prior outputs as halves break glow (learned prior)",
                   must_mismatch("glow-additive-plain-learn-top", "split-halves"))

    def affine_interleaved(self, x, params):
        s, t = fzt.interleaved(params)
        log_s = torch.tanh(s) * (fzt._per_channel(self.scale, x) if self.learned_scale else 1)
        return x * torch.exp(log_s) + t, log_s
    with patched(fzt.Affine, "forward", affine_interleaved):
        checks.run("control: RealNVP's s, t interleaved break realnvp", must_mismatch("realnvp", "interleaved"))

    original_weight = fzt.InvConv1x1LU.weight

    def lu_p_transposed(self):
        return self.P.t() @ (self.P.t() @ original_weight(self))  # P^T L U from P L U
    with patched(fzt.InvConv1x1LU, "weight", lu_p_transposed):
        checks.run("control: the LU conv's P transposed breaks glow", must_mismatch("glow", "P-transposed"))

    checks.run("control: the trained weights instead of the Polyak averages break glow (--polyak)",
               must_mismatch("glow", "ema"))
    shutil.rmtree(tmp, ignore_errors=True)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
