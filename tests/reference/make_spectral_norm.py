#!/usr/bin/python3
"""Spectrally normalised Linear and Conv2d layers, torch.nn.utils.spectral_norm (spectral_norm.json).

Each case runs STEPS training steps of one layer: a forward in training mode (one power iteration,
u and v updated in place), then the gradients of L = sum(y * dy) for a given dy. Between steps the
weight takes a plain gradient step, W <- float32(W - LR * dW) (which the test repeats from the
stored dW, so only the first W is stored), and u and v follow a moving W. Finally one forward in eval mode
(no iteration). Float64 throughout; the initial u and v, the weights and inputs are float32
values, stored exactly, so gantry (float32) starts from the very same state. Run with Debian's
python3-torch:
    /usr/bin/python3 tests/reference/make_spectral_norm.py > tests/reference/spectral_norm.json
"""
import json

import torch
from torch import nn

STEPS, LR = 3, 0.5


def layers():
    yield "linear", nn.Linear(5, 4), (3, 5)
    yield "conv", nn.Conv2d(3, 4, 3, 2, 1), (2, 3, 5, 5)
    # 16 channels on both sides: gantry's convolution runs on oneDNN's blocked layouts.
    yield "conv16", nn.Conv2d(16, 16, 3, 1, 1), (2, 16, 4, 4)


def f32(t):
    return t.float().double()


def tensor(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1)]}


def run(layer, x_shape):
    layer = nn.utils.spectral_norm(layer.double())
    with torch.no_grad():
        layer.weight_orig.copy_(f32(layer.weight_orig))
        layer.bias.copy_(f32(layer.bias))
        # Unit vectors rounded to float32: both sides start from exactly these numbers.
        layer.weight_u.copy_(f32(torch.nn.functional.normalize(torch.randn_like(layer.weight_u), dim=0)))
        layer.weight_v.copy_(f32(torch.nn.functional.normalize(torch.randn_like(layer.weight_v), dim=0)))
    out = {"W0": tensor(layer.weight_orig), "b": tensor(layer.bias), "u0": tensor(layer.weight_u),
           "v0": tensor(layer.weight_v), "lr": LR, "steps": []}
    for _ in range(STEPS):
        x = f32(torch.randn(*x_shape)).requires_grad_(True)
        layer.train()
        y = layer(x)
        dy = f32(torch.randn_like(y))
        layer.weight_orig.grad = layer.bias.grad = None
        (y * dy).sum().backward()
        w_mat = layer.weight_orig.reshape(layer.weight_orig.shape[0], -1)
        sigma = torch.dot(layer.weight_u, torch.mv(w_mat, layer.weight_v))
        out["steps"].append({
            "x": tensor(x), "y": tensor(y), "dy": tensor(dy), "dx": tensor(x.grad),
            "dW": tensor(layer.weight_orig.grad), "db": tensor(layer.bias.grad), "sigma": float(sigma),
            "u": tensor(layer.weight_u), "v": tensor(layer.weight_v)})
        with torch.no_grad():
            layer.weight_orig.copy_(f32(layer.weight_orig - LR * layer.weight_orig.grad))
    layer.eval()
    x = f32(torch.randn(*x_shape))
    out["eval"] = {"x": tensor(x), "y": tensor(layer(x))}
    return out


def main():
    torch.manual_seed(13)
    out = {"about": __doc__.strip().splitlines()[0] + " Per case: W0, b, u0, v0, lr; per step x, y, dy, dx, "
           "dW (of weight_orig), db, and sigma, u, v after the step's power iteration; eval: x, y.", "cases": {}}
    for name, layer, x_shape in layers():
        out["cases"][name] = dict(run(layer, x_shape), layer=str(layer))
    print(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
