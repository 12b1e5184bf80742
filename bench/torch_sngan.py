#!/usr/bin/python3
"""experiments/fmnist_sngan_resnet.toml's training in PyTorch, to set gantry's loss curves beside.

The same ResNet pair as `bench/torch_reference.py --model resnet` (64 feature maps, latent 128,
torch.nn.utils.spectral_norm on every Linear and Conv2d of D), the hinge loss, five critic updates
of 64 real images per generator update, Adam(2e-4, β = (0, 0.9)) at a constant rate. Prints the
critic's and the generator's loss averaged over each 20 generator steps (the last critic update's
loss per step), as

  sqlite3 results.db "SELECT (step - 1) / 20 * 20 + 20, avg(value) FROM metrics WHERE key = 'loss.d' GROUP BY 1"

gives them for a gantry run of the experiment with `lr_decay` removed and `log_every = 1`.

  OMP_NUM_THREADS=2 /usr/bin/python3 bench/torch_sngan.py --steps 200
"""
import argparse
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_reference import fashion_mnist, resnet_models  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    batch, n_critic = 64, 5
    images, _ = fashion_mnist()
    g, d, nz = resnet_models()
    for m in d.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.utils.spectral_norm(m)
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.0, 0.9))
    start, window = time.time(), []
    for step in range(1, args.steps + 1):
        for _ in range(n_critic):
            real = images[torch.randint(0, images.shape[0], (batch,))]
            with torch.no_grad():
                fake = g(torch.randn(batch, nz))
            out = d(torch.cat([real, fake]))
            loss_d = torch.relu(1 - out[:batch]).mean() + torch.relu(1 + out[batch:]).mean()
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
        d.requires_grad_(False)
        loss_g = -d(g(torch.randn(batch, nz))).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        d.requires_grad_(True)
        window.append((loss_d.item(), loss_g.item()))
        if step % 20 == 0:
            mean_d = sum(w[0] for w in window) / len(window)
            mean_g = sum(w[1] for w in window) / len(window)
            print(f"step {step} loss.d {mean_d:.3f} loss.g {mean_g:.3f} ({time.time() - start:.0f} s)", flush=True)
            window = []


if __name__ == "__main__":
    main()
