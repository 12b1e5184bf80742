#!/usr/bin/python3
"""Class-conditional layers in float64 (conditional.json): the references for tests/sdk/conditional_test.cpp.

  label_concat  y = [x, E[label]] (torch.nn.Embedding), and the one-hot variant
  cbn           conditional batch norm: BatchNorm2d(affine=False) in training mode, then
                gamma[label, c] * x_hat + beta[label, c]; running statistics after the step
  projection    logit = Linear(F, 1)(phi) + <E[label], phi> (Miyato & Koyama 2018)
  projection_critic
                a small conv critic ending in that head, spectral norm on the convolution, on
                psi and on E (torch.nn.utils.spectral_norm on the Linear and the Embedding, as in
                SNGAN's projection critic): the exact WGAN-GP and R1 parameter gradients (double
                backprop), each penalty's forward taking one power iteration (gp first, then r1)

Each case gives the inputs, parameters and labels (float32 values, stored exactly, so gantry starts
from the same numbers), y, and the gradients of L = sum(y * dy) for a given dy. Run with Debian's
python3-torch:
    /usr/bin/python3 tests/reference/make_conditional.py > tests/reference/conditional.json
"""
import json

import torch
from torch import nn

torch.manual_seed(13)


def f32(t):
    return t.float().double()


def tensor(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1)]}


def label_concat():
    n, f, k, e = 5, 3, 4, 2
    x = f32(torch.randn(n, f)).requires_grad_(True)
    labels = torch.tensor([3, 0, 3, 1, 2])
    emb = nn.Embedding(k, e).double()
    with torch.no_grad():
        emb.weight.copy_(f32(emb.weight))
    y = torch.cat([x, emb(labels)], dim=1)
    dy = f32(torch.randn_like(y))
    (y * dy).sum().backward()
    one_hot = torch.cat([x, nn.functional.one_hot(labels, k).double()], dim=1)
    return {"x": tensor(x), "labels": labels.tolist(), "classes": k, "embedding": tensor(emb.weight), "y": tensor(y),
            "dy": tensor(dy), "dx": tensor(x.grad), "dembedding": tensor(emb.weight.grad), "y_one_hot": tensor(one_hot)}


def cbn():
    n, c, h, w, k = 4, 3, 2, 3, 3
    x = f32(torch.randn(n, c, h, w) * 2 + 0.5).requires_grad_(True)
    labels = torch.tensor([2, 0, 2, 1])
    gamma = f32(1 + 0.3 * torch.randn(k, c)).requires_grad_(True)
    beta = f32(0.2 * torch.randn(k, c)).requires_grad_(True)
    bn = nn.BatchNorm2d(c, affine=False).double().train()
    x_hat = bn(x)
    y = gamma[labels][:, :, None, None] * x_hat + beta[labels][:, :, None, None]
    dy = f32(torch.randn_like(y))
    (y * dy).sum().backward()
    return {"x": tensor(x), "labels": labels.tolist(), "classes": k, "gamma": tensor(gamma), "beta": tensor(beta),
            "y": tensor(y), "dy": tensor(dy), "dx": tensor(x.grad), "dgamma": tensor(gamma.grad),
            "dbeta": tensor(beta.grad), "running_mean": tensor(bn.running_mean), "running_var": tensor(bn.running_var)}


def projection():
    n, f, k = 6, 7, 4
    phi = f32(torch.randn(n, f)).requires_grad_(True)
    labels = torch.tensor([1, 3, 0, 1, 2, 3])
    psi = nn.Linear(f, 1).double()
    emb = f32(torch.rand(k, f) - 0.5).requires_grad_(True)
    with torch.no_grad():
        psi.weight.copy_(f32(psi.weight))
        psi.bias.copy_(f32(psi.bias))
    y = psi(phi) + (emb[labels] * phi).sum(dim=1, keepdim=True)
    dy = f32(torch.randn_like(y))
    (y * dy).sum().backward()
    return {"x": tensor(phi), "labels": labels.tolist(), "classes": k, "weight": tensor(psi.weight),
            "bias": tensor(psi.bias), "embedding": tensor(emb), "y": tensor(y), "dy": tensor(dy), "dx": tensor(phi.grad),
            "dweight": tensor(psi.weight.grad), "dbias": tensor(psi.bias.grad), "dembedding": tensor(emb.grad)}


class Head(nn.Module):
    def __init__(self, f, k):
        super().__init__()
        self.psi = nn.utils.spectral_norm(nn.Linear(f, 1))
        self.emb = nn.utils.spectral_norm(nn.Embedding(k, f))
        self.labels = None

    def forward(self, phi):
        return self.psi(phi) + (self.emb(self.labels) * phi).sum(dim=1, keepdim=True)


def penalty(net, x, kind, lam):
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(net(x).sum(), x, create_graph=True)
    norms2 = g.reshape(g.shape[0], -1).pow(2).sum(1)
    value = lam * (norms2.sqrt() - 1).pow(2).mean() if kind == "gp" else lam / 2 * norms2.mean()
    params = [net[0].weight_orig, net[0].bias, net[3].psi.weight_orig, net[3].psi.bias, net[3].emb.weight_orig]
    grads = torch.autograd.grad(value, params, allow_unused=True)
    grads = [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]
    return {"value": float(value), "grads": [tensor(t) for t in grads]}


def projection_critic():
    n, k, lam = 6, 3, 10.0
    head = Head(4 * 4 * 4, k)
    net = nn.Sequential(nn.utils.spectral_norm(nn.Conv2d(1, 4, 4, 2, 1)), nn.LeakyReLU(0.2), nn.Flatten(), head)
    net = net.double()
    with torch.no_grad():
        for p in net.parameters():  # float32 values, so gantry loads them exactly
            p.copy_(f32(p))
        for b in net.buffers():
            b.copy_(f32(b))
    head.labels = torch.tensor([2, 0, 1, 2, 1, 0])
    real, fake = f32(torch.randn(n, 1, 8, 8)), f32(torch.randn(n, 1, 8, 8))
    alpha = f32(torch.rand(n))
    params = [net[0].weight_orig, net[0].bias, head.psi.weight_orig, head.psi.bias, head.emb.weight_orig]
    out = {"labels": head.labels.tolist(), "classes": k, "params": [tensor(p) for p in params],
           "buffers": [tensor(b) for b in net.buffers()], "real": tensor(real), "fake": tensor(fake),
           "alpha": tensor(alpha), "lambda": lam}
    a = alpha.view(-1, 1, 1, 1)
    out["gp"] = penalty(net, a * real + (1 - a) * fake, "gp", lam)
    out["r1"] = penalty(net, real, "r1", lam)
    return out


print(json.dumps({"label_concat": label_concat(), "cbn": cbn(), "projection": projection(),
                  "projection_critic": projection_critic()}))
