#!/usr/bin/python3
"""The mlp generator with batch_norm = true: Linear -> BatchNorm1d -> ReLU per hidden layer (mlp_batch_norm.json).

PacGAN's 2D generator in miniature (Lin et al. 2018: BN after each hidden Linear, before the ReLU).
Two training steps (batch statistics, running statistics updated), then one eval forward (running
statistics). Per step: z, y, dy, dz and the parameter gradients of L = sum(y * dy), in gantry's
parameter order (per layer: weight, bias; BN: gamma, beta). Float64; inputs and parameters are
float32 values stored exactly. Run with Debian's python3-torch:
    /usr/bin/python3 tests/reference/make_mlp_batch_norm.py > tests/reference/mlp_batch_norm.json
"""
import json

import torch
from torch import nn

LATENT, WIDTH, OUT, N = 3, 4, 2, 5


def tensor(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1)]}


def main():
    torch.manual_seed(5)
    net = nn.Sequential(nn.Linear(LATENT, WIDTH), nn.BatchNorm1d(WIDTH), nn.ReLU(),
                        nn.Linear(WIDTH, WIDTH), nn.BatchNorm1d(WIDTH), nn.ReLU(), nn.Linear(WIDTH, OUT)).double()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(p.float().double())
        for m in net:  # gamma and beta away from 1 and 0, so both enter the check
            if isinstance(m, nn.BatchNorm1d):
                m.weight.copy_(torch.rand(WIDTH).float().double() + 0.5)
                m.bias.copy_(torch.randn(WIDTH).float().double() * 0.1)
    params = list(net.parameters())
    out = {"about": __doc__.strip().splitlines()[0], "layers": " - ".join(str(m) for m in net),
           "latent": LATENT, "width": WIDTH, "out": OUT, "params": [tensor(p) for p in params], "steps": []}
    net.train()
    for _ in range(2):
        z = torch.randn(N, LATENT).float().double().requires_grad_(True)
        y = net(z)
        dy = torch.randn_like(y).float().double()
        grads = torch.autograd.grad((y * dy).sum(), [z] + params)
        out["steps"].append({"z": tensor(z), "y": tensor(y), "dy": tensor(dy), "dz": tensor(grads[0]),
                             "grads": [tensor(g) for g in grads[1:]]})
    net.eval()
    z = torch.randn(N, LATENT).float().double()
    out["eval"] = {"z": tensor(z), "y": tensor(net(z))}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
