"""tests/python/presets.py — every preset `flowzoo train` builds, as tiny fixed-seed runs.

Each case is (name, flags): `flowzoo train <flags> --steps STEPS --seed 7` trains it for a few
steps with a large learning rate and no warmup, so every parameter (zero-initialised output
layers included) has moved away from its initial value before log-likelihoods are compared.
The families and their data come from flows/presets.cpp (make_flow) and `flowzoo train --help`:
nice, realnvp, glow, nsf, maf on images (Fashion-MNIST, 28x28) and on 2-D toy data.
"""

import os
import subprocess

IMAGE = ["--dataset", "fashion-mnist", "--final-eval-limit", "8", "--eval-every", "0", "--sample-every", "0"]
TOY = ["--dataset", "toy", "--density", "moons", "--eval-every", "0", "--batch", "256"]

# In the order the task asks for them: nice, realnvp, glow, then the rest.
CASES = [
    ("nice", ["--model", "nice", "--hidden", "32", "--blocks", "2"] + IMAGE),
    ("toy-nice", ["--model", "nice"] + TOY),
    ("realnvp", ["--model", "realnvp", "--levels", "1", "--couplings", "2", "--hidden", "8", "--blocks", "1"] + IMAGE),
    ("realnvp-weight-norm", ["--model", "realnvp", "--levels", "2", "--couplings", "1", "--hidden", "8", "--blocks", "1",
                             "--weight-norm"] + IMAGE),
    ("toy-realnvp", ["--model", "realnvp", "--couplings", "4", "--hidden", "16"] + TOY),
    ("glow", ["--model", "glow", "--levels", "2", "--steps-per-level", "2", "--hidden", "8", "--polyak", "0.5"] + IMAGE),
    ("glow-additive-plain-learn-top", ["--model", "glow", "--levels", "2", "--steps-per-level", "1", "--hidden", "8",
                                       "--additive", "--plain-1x1", "--learn-top"] + IMAGE),
    ("toy-glow", ["--model", "glow", "--steps-per-level", "4", "--hidden", "16"] + TOY),
    ("nsf", ["--model", "nsf", "--levels", "1", "--steps-per-level", "2", "--hidden", "8", "--bins", "4"] + IMAGE),
    ("toy-nsf", ["--model", "nsf", "--couplings", "4", "--hidden", "16"] + TOY),
    ("maf", ["--model", "maf", "--couplings", "2", "--hidden", "32", "--blocks", "1"] + IMAGE),
    ("toy-maf", ["--model", "maf", "--couplings", "3", "--hidden", "16"] + TOY),
    ("toy-maf-spline", ["--model", "maf", "--couplings", "2", "--hidden", "16", "--transformer", "spline"] + TOY),
    ("realnvp-mixture", ["--model", "realnvp", "--levels", "1", "--couplings", "1", "--hidden", "8", "--blocks", "1",
                         "--transformer", "mixture", "--mixtures", "2"] + IMAGE),
    ("glow-mixture", ["--model", "glow", "--levels", "1", "--steps-per-level", "2", "--hidden", "8",
                      "--transformer", "mixture", "--mixtures", "3"] + IMAGE),
    ("toy-glow-mixture", ["--model", "glow", "--steps-per-level", "2", "--hidden", "16", "--transformer", "mixture"]
     + TOY),
    ("toy-realnvp-spline", ["--model", "realnvp", "--couplings", "2", "--hidden", "16", "--transformer", "spline"] + TOY),
]

STEPS = "12"


def train_and_eval(flowzoo, out_dir, flags, examples=16):
    """Trains one case into out_dir and writes out_dir/log_probs.safetensors (eval
    --log-probs on the first `examples` test examples). Returns that file's path."""
    train = [flowzoo, "train"] + flags + ["--steps", STEPS, "--seed", "7", "--lr", "0.01", "--warmup", "0",
                                          "--threads", "1", "--quiet", "--out", out_dir]
    subprocess.run(train, check=True, stdout=subprocess.DEVNULL)
    log_probs = os.path.join(out_dir, "log_probs.safetensors")
    subprocess.run([flowzoo, "eval", "--checkpoint", os.path.join(out_dir, "checkpoint.safetensors"), "--limit",
                    str(examples), "--log-probs", log_probs, "--json"], check=True, stdout=subprocess.DEVNULL)
    return log_probs
