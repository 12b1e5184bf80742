#!/usr/bin/python3
"""Class-conditional layers in float64 (conditional.json): the references for tests/sdk/conditional_test.cpp.

  label_concat  y = [x, E[label]] (torch.nn.Embedding), and the one-hot variant
  cbn           conditional batch norm: BatchNorm2d(affine=False) in training mode, then
                gamma[label, c] * x_hat + beta[label, c]; running statistics after the step
  projection    logit = Linear(F, 1)(phi) + <E[label], phi> (Miyato & Koyama 2018)

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


print(json.dumps({"label_concat": label_concat(), "cbn": cbn(), "projection": projection()}))
