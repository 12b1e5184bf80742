#!/usr/bin/python3
"""PacGAN packed critics (Lin et al. 2018): logits, input gradients and exact penalties (pack.json).

A packed critic reads M consecutive samples as one input: [N, F] -> [N/M, M*F] for vectors, and
[N, C, H, W] -> [N/M, M*C, H, W] for images (stacked along channels; in row-major layout both are
a reshape). WGAN-GP interpolates per packed input (one alpha per input) and takes the norm of the
gradient over the whole packed input; R1 averages over packed inputs. Double backprop in float64;
parameters and inputs are float32 values stored exactly. Run with Debian's python3-torch:
    /usr/bin/python3 tests/reference/make_pack.py > tests/reference/pack.json
"""
import json

import torch
from torch import nn

LAMBDA, GAMMA, M, N = 10.0, 10.0, 3, 6


class Pack(nn.Module):
    def forward(self, x):
        return x.reshape(x.shape[0] // M, M * x.shape[1], *x.shape[2:])


def critics():
    # mlp: the mlp discriminator with pack = 3 on 2D samples, smooth (tanh) so second derivatives count.
    yield "mlp", (2,), nn.Sequential(Pack(), nn.Linear(2 * M, 5), nn.Tanh(), nn.Linear(5, 5), nn.LeakyReLU(0.2),
                                     nn.Linear(5, 1))
    # conv: the dcgan discriminator's structure with pack = 3 on 1-channel 8x8 images.
    yield "conv", (1, 8, 8), nn.Sequential(Pack(), nn.Conv2d(M, 4, 4, 2, 1), nn.LeakyReLU(0.2),
                                           nn.Conv2d(4, 8, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(32, 1))


def tensor(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1)]}


def parameters(net):
    for m in net:
        if hasattr(m, "bias"):
            yield m.weight
            yield m.bias


def penalty_grads(net, x, kind):
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(net(x).sum(), x, create_graph=True)
    norms2 = g.reshape(g.shape[0] // M, -1).pow(2).sum(1)  # one norm per packed input
    value = LAMBDA * (norms2.sqrt() - 1).pow(2).mean() if kind == "gp" else GAMMA / 2 * norms2.mean()
    params = list(parameters(net))
    grads = torch.autograd.grad(value, params, allow_unused=True)
    grads = [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]
    return {"value": float(value), "grads": [tensor(t) for t in grads]}


def main():
    torch.manual_seed(7)
    out = {"about": __doc__.strip().splitlines()[0] + " pack M = %d, N = %d samples; gp = %g * mean over packed "
           "inputs of (||grad||-1)^2 at x_hat = alpha*real + (1-alpha)*fake, alpha per packed input (repeated over its "
           "samples); r1 = %g/2 * mean over packed inputs of ||grad||^2; dx = grad_x sum(logits * dy)." %
           (M, N, LAMBDA, GAMMA), "pack": M, "critics": {}}
    for name, sample, net in critics():
        net = net.double()
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(p.float().double())
        real = torch.randn(N, *sample).float().double()
        fake = torch.randn(N, *sample).float().double()
        alpha = torch.rand(N // M).float().double()
        a = alpha.repeat_interleave(M).view(-1, *([1] * len(sample)))
        x_hat = a * real + (1 - a) * fake
        x = real.clone().requires_grad_(True)
        logits = net(x)
        dy = torch.randn_like(logits).float().double()
        (dx,) = torch.autograd.grad((logits * dy).sum(), x)
        out["critics"][name] = {
            "layers": " - ".join(str(m) for m in net),
            "params": [tensor(p) for p in parameters(net)],
            "real": tensor(real), "fake": tensor(fake), "alpha": tensor(alpha),
            "logits": tensor(logits), "dy": tensor(dy), "dx": tensor(dx),
            "gp": dict(penalty_grads(net, x_hat, "gp"), **{"lambda": LAMBDA}),
            "r1": dict(penalty_grads(net, real, "r1"), **{"gamma": GAMMA}),
        }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
