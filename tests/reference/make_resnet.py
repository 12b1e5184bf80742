#!/usr/bin/python3
"""The ResNet pieces (resnet.json): nearest upsampling, average pooling, global sum pooling, two
residual blocks, and WGAN-GP / R1 penalties on a small spectrally normalised ResNet critic.

Layers: y = f(x) and the gradients of L = sum(y * dy) for a given dy. Blocks run one training
forward: the critic's down block (ReLU-conv-ReLU-conv-avgpool + conv1x1-avgpool shortcut, spectral
norm on every conv, so u and v take one power iteration) and the generator's up block (BN-ReLU-
upsample-conv-BN-ReLU-conv + upsample-conv1x1 shortcut, BN with batch statistics). The critic is
SNGAN's in miniature: optimised block (1->16), down block, block with identity shortcut, ReLU, sum
over H and W, Linear(16, 1); 16 channels so gantry's convolutions run on blocked layouts. Its
penalties are double backprop (create_graph=True), gp then r1, each forward taking one power
iteration. Parameters, buffers and inputs are float32 values stored exactly; float64 throughout.
Run with Debian's python3-torch:
    /usr/bin/python3 tests/reference/make_resnet.py > tests/reference/resnet.json
"""
import json

import torch
from torch import nn

LAMBDA, GAMMA, N = 10.0, 10.0, 4
sn = nn.utils.spectral_norm


class Block(nn.Module):
    """main(x) + shortcut(x), the shortcut being the identity when None (gantry's Residual)."""

    def __init__(self, main, shortcut=None):
        super().__init__()
        self.main, self.shortcut = main, shortcut

    def forward(self, x):
        return self.main(x) + (self.shortcut(x) if self.shortcut is not None else x)


class SumPool(nn.Module):
    def forward(self, x):
        return x.sum(dim=(2, 3))


def leaves(m):
    """Weighted layers and batch norms in gantry's order: a block's main branch, then its shortcut."""
    if isinstance(m, Block):
        yield from leaves(m.main)
        if m.shortcut is not None:
            yield from leaves(m.shortcut)
    elif isinstance(m, nn.Sequential):
        for c in m:
            yield from leaves(c)
    elif hasattr(m, "bias"):
        yield m


def parameters(net):
    for m in leaves(net):
        yield m.weight_orig if hasattr(m, "weight_orig") else m.weight
        yield m.bias


def buffers(net):
    """Spectral norm's u, v and batch norm's running mean, variance, per layer in order."""
    for m in leaves(net):
        if hasattr(m, "weight_u"):
            yield m.weight_u
            yield m.weight_v
        if isinstance(m, nn.BatchNorm2d):
            yield m.running_mean
            yield m.running_var


def f32(t):
    return t.float().double()


def tensor(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1)]}


def prepare(net):
    net = net.double()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(f32(p))
        for m in leaves(net):
            if isinstance(m, nn.BatchNorm2d):  # away from γ = 1, β = 0, so their gradients count
                m.weight.copy_(f32(1 + 0.2 * torch.randn_like(m.weight)))
                m.bias.copy_(f32(0.2 * torch.randn_like(m.bias)))
            if hasattr(m, "weight_u"):  # unit vectors rounded to float32, as make_spectral_norm.py
                m.weight_u.copy_(f32(nn.functional.normalize(torch.randn_like(m.weight_u), dim=0)))
                m.weight_v.copy_(f32(nn.functional.normalize(torch.randn_like(m.weight_v), dim=0)))
    return net


def layer_case(layer, x_shape):
    net = prepare(layer)
    x = f32(torch.randn(*x_shape)).requires_grad_(True)
    params, before = list(parameters(net)), [tensor(b) for b in buffers(net)]
    net.train()
    y = net(x)
    dy = f32(torch.randn_like(y))
    (y * dy).sum().backward()
    return {"layers": str(net), "params": [tensor(p) for p in params], "buffers": before,
            "x": tensor(x), "y": tensor(y), "dy": tensor(dy), "dx": tensor(x.grad),
            "grads": [tensor(p.grad) for p in params], "buffers_after": [tensor(b) for b in buffers(net)]}


def down_block():
    return Block(nn.Sequential(nn.ReLU(), sn(nn.Conv2d(3, 4, 3, 1, 1)), nn.ReLU(), sn(nn.Conv2d(4, 4, 3, 1, 1)),
                               nn.AvgPool2d(2)),
                 nn.Sequential(sn(nn.Conv2d(3, 4, 1, 1, 0)), nn.AvgPool2d(2)))


def up_block():
    return Block(nn.Sequential(nn.BatchNorm2d(4), nn.ReLU(), nn.Upsample(scale_factor=2), nn.Conv2d(4, 4, 3, 1, 1),
                               nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 4, 3, 1, 1)),
                 nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(4, 4, 1, 1, 0)))


def critic():
    c = 16
    return nn.Sequential(
        Block(nn.Sequential(sn(nn.Conv2d(1, c, 3, 1, 1)), nn.ReLU(), sn(nn.Conv2d(c, c, 3, 1, 1)), nn.AvgPool2d(2)),
              nn.Sequential(nn.AvgPool2d(2), sn(nn.Conv2d(1, c, 1, 1, 0)))),
        Block(nn.Sequential(nn.ReLU(), sn(nn.Conv2d(c, c, 3, 1, 1)), nn.ReLU(), sn(nn.Conv2d(c, c, 3, 1, 1)),
                            nn.AvgPool2d(2)),
              nn.Sequential(sn(nn.Conv2d(c, c, 1, 1, 0)), nn.AvgPool2d(2))),
        Block(nn.Sequential(nn.ReLU(), sn(nn.Conv2d(c, c, 3, 1, 1)), nn.ReLU(), sn(nn.Conv2d(c, c, 3, 1, 1)))),
        nn.ReLU(), SumPool(), sn(nn.Linear(c, 1)))


def penalty(net, x, kind):
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(net(x).sum(), x, create_graph=True)
    norms2 = g.reshape(g.shape[0], -1).pow(2).sum(1)
    value = LAMBDA * (norms2.sqrt() - 1).pow(2).mean() if kind == "gp" else GAMMA / 2 * norms2.mean()
    params = list(parameters(net))
    grads = torch.autograd.grad(value, params, allow_unused=True)  # the last bias does not reach ∇x D
    return {"value": float(value), "grads": [tensor(torch.zeros_like(p) if g is None else g)
                                             for p, g in zip(params, grads)]}


def critic_case():
    net = prepare(critic())
    net.train()
    real, fake = f32(torch.randn(N, 1, 8, 8)), f32(torch.randn(N, 1, 8, 8))
    alpha = f32(torch.rand(N))
    x_hat = alpha.view(-1, 1, 1, 1) * real + (1 - alpha.view(-1, 1, 1, 1)) * fake
    out = {"layers": str(net), "params": [tensor(p) for p in parameters(net)],
           "buffers": [tensor(b) for b in buffers(net)], "real": tensor(real), "fake": tensor(fake),
           "alpha": tensor(alpha)}
    out["gp"] = dict(penalty(net, x_hat, "gp"), **{"lambda": LAMBDA})
    out["r1"] = dict(penalty(net, real, "r1"), **{"gamma": GAMMA})
    return out


def main():
    torch.manual_seed(13)
    out = {"about": __doc__.strip().splitlines()[0], "layers": {
        "upsample": layer_case(nn.Sequential(nn.Upsample(scale_factor=2)), (2, 3, 3, 4)),
        "avgpool": layer_case(nn.Sequential(nn.AvgPool2d(2)), (2, 3, 4, 6)),
        "sumpool": layer_case(nn.Sequential(SumPool()), (2, 3, 3, 4)),
        "down_block": layer_case(down_block(), (2, 3, 6, 6)),
        "up_block": layer_case(up_block(), (3, 4, 3, 3)),
    }, "critic": critic_case()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
