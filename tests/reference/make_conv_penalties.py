#!/usr/bin/python3
"""Exact WGAN-GP and R1 parameter gradients of small convolutional critics (conv_penalties.json).

Double backprop in float64 (torch.autograd.grad with create_graph=True). Parameters and inputs
are drawn in float32 and stored exactly, so gantry (float32) evaluates the very same critic; what
remains between the two is float32 rounding. Run with Debian's python3-torch (bash bench/setup.sh):
    /usr/bin/python3 tests/reference/make_conv_penalties.py > tests/reference/conv_penalties.json
"""
import json

import torch
from torch import nn

LAMBDA, GAMMA, N = 10.0, 10.0, 4


def critics():
    # conv: Conv2d + LeakyReLU + Linear, the dcgan critic's structure in miniature (plain layouts).
    yield "conv", (1, 8, 8), nn.Sequential(
        nn.Conv2d(1, 4, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(4, 8, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(32, 1))
    # conv16: 16 channels on both sides of the second convolution, where oneDNN picks blocked
    # layouts and gantry reorders at the layer's boundary.
    yield "conv16", (1, 8, 8), nn.Sequential(
        nn.Conv2d(1, 16, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(16, 16, 3, 1, 1), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(256, 1))
    # deconv: a transposed convolution and the smooth activations, whose second derivatives count.
    yield "deconv", (1, 6, 6), nn.Sequential(
        nn.Conv2d(1, 4, 3, 2, 1), nn.Tanh(), nn.ConvTranspose2d(4, 2, 4, 2, 1), nn.Sigmoid(),
        nn.Flatten(), nn.Linear(72, 1))
    # sn: spectral norm on every layer (16 channels again for the blocked layouts). Each penalty
    # runs D forward once in training mode, so each takes one power iteration: gp first, then r1.
    sn = nn.utils.spectral_norm
    yield "sn", (1, 8, 8), nn.Sequential(
        sn(nn.Conv2d(1, 16, 4, 2, 1)), nn.LeakyReLU(0.2), sn(nn.Conv2d(16, 16, 3, 1, 1)), nn.LeakyReLU(0.2),
        nn.Flatten(), sn(nn.Linear(256, 1)))


def tensor(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1)]}


def parameters(net):
    """gantry's order: weight, bias per layer (spectral norm's weight_orig is the trained weight)."""
    for m in net:
        if hasattr(m, "bias"):
            yield m.weight_orig if hasattr(m, "weight_orig") else m.weight
            yield m.bias


def penalty_grads(net, x, kind):
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(net(x).sum(), x, create_graph=True)
    norms2 = g.reshape(g.shape[0], -1).pow(2).sum(1)
    if kind == "gp":
        value = LAMBDA * (norms2.sqrt() - 1).pow(2).mean()
    else:
        value = GAMMA / 2 * norms2.mean()
    params = list(parameters(net))
    # The last bias does not reach ∇x D: its gradient is zero (None to autograd).
    grads = torch.autograd.grad(value, params, allow_unused=True)
    grads = [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]
    return {"value": float(value), "grads": [tensor(t) for t in grads]}


def main():
    torch.manual_seed(12)
    out = {"about": __doc__.strip().splitlines()[0] + " gp = %g * mean_i (||grad_x D(x_hat_i)|| - 1)^2, "
           "x_hat = alpha*real + (1-alpha)*fake; r1 = %g/2 * mean_i ||grad_x D(real_i)||^2; parameters in "
           "PyTorch's layouts, weight and bias per layer; buffers: spectral norm's u and v per layer, before the "
           "penalties (gp runs first, then r1, each with one power iteration)." % (LAMBDA, GAMMA), "critics": {}}
    for name, sample, net in critics():
        net = net.double()
        with torch.no_grad():
            for p in net.parameters():  # float32 values, so gantry loads them exactly
                p.copy_(p.float().double())
            for b in net.buffers():  # spectral norm's u and v, likewise
                b.copy_(b.float().double())
        real = torch.randn(N, *sample).float().double()
        fake = torch.randn(N, *sample).float().double()
        alpha = torch.rand(N).float().double()
        x_hat = alpha.view(-1, 1, 1, 1) * real + (1 - alpha.view(-1, 1, 1, 1)) * fake
        out["critics"][name] = {
            "layers": " - ".join(str(m) for m in net),
            "params": [tensor(p) for p in parameters(net)],
            "buffers": [tensor(b) for b in net.buffers()],
            "real": tensor(real), "fake": tensor(fake), "alpha": tensor(alpha),
            "gp": dict(penalty_grads(net, x_hat, "gp"), **{"lambda": LAMBDA}),
            "r1": dict(penalty_grads(net, real, "r1"), **{"gamma": GAMMA}),
        }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
