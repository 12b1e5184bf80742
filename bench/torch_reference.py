#!/usr/bin/python3
"""The reference models of docs/PERFORMANCE.md and gantry's training step, in PyTorch.

One step = one D update on the real batch and G(z) held fixed (one forward of the 2B rows, as
gantry does), then one G update with fresh z, D's weights frozen (no weight gradients, as
gantry), non-saturating loss, Adam(2e-4, 0.5, 0.999). Data sits in memory. Prints one JSON line
in the format of `gantry bench step --json`. FLOPs are counted as gantry counts them (2 x the
multiply-adds of the Linear/Conv/ConvT passes the step runs). With --loss wgan-gp, the D update
is the Wasserstein loss plus WGAN-GP's penalty by double backprop (create_graph=True), as
`gantry bench step --loss wgan-gp`. --model resnet is SNGAN's ResNet pair at 28x28 with 64 feature maps
(gantry's `resnet` plugins, as `gantry bench step --model resnet`); --spectral-norm puts
torch.nn.utils.spectral_norm on every Linear, Conv2d and Embedding (the projection's E) of D, as
`--spectral-norm` does in gantry.
With --conditional, the class-conditional models of `gantry bench step --conditional`: dcgan G
with conditional batch norm, mlp G on z ⊕ one-hot(y), and projection discriminators (Miyato &
Koyama 2018); real labels with real batches, fake labels drawn uniformly.

  /usr/bin/python3 bench/torch_reference.py --model mlp --batch 256 --threads 1
"""
import argparse
import gzip
import json
import math
import resource
import statistics
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp_models():
    g = nn.Sequential(nn.Linear(16, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                      nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 2))
    d = nn.Sequential(nn.Linear(2, 256), nn.LeakyReLU(0.2), nn.Linear(256, 256), nn.LeakyReLU(0.2),
                      nn.Linear(256, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))
    return g, d, 16


def dcgan_models():
    g = nn.Sequential(nn.Linear(100, 128 * 7 * 7), nn.Unflatten(1, (128, 7, 7)), nn.BatchNorm2d(128), nn.ReLU(),
                      nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
                      nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
    d = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
    return g, d, 100


class Block(nn.Module):
    """main(x) + shortcut(x), the identity when there is no shortcut (gantry's Residual layer)."""

    def __init__(self, main, shortcut=None):
        super().__init__()
        self.main, self.shortcut = main, shortcut

    def forward(self, x):
        return self.main(x) + (self.shortcut(x) if self.shortcut is not None else x)


class SumPool(nn.Module):
    def forward(self, x):
        return x.sum(dim=(2, 3))


def resnet_models(c=64, nz=128):
    """plugins/generators/resnet.cpp and plugins/discriminators/resnet.cpp at 28x28."""
    def up():
        return Block(nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(), nn.Upsample(scale_factor=2), nn.Conv2d(c, c, 3, 1, 1),
                                   nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, c, 3, 1, 1)),
                     nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(c, c, 1)))

    def down(pool):
        main = [nn.ReLU(), nn.Conv2d(c, c, 3, 1, 1), nn.ReLU(), nn.Conv2d(c, c, 3, 1, 1)]
        if not pool:
            return Block(nn.Sequential(*main))
        return Block(nn.Sequential(*main, nn.AvgPool2d(2)), nn.Sequential(nn.Conv2d(c, c, 1), nn.AvgPool2d(2)))

    g = nn.Sequential(nn.Linear(nz, c * 7 * 7), nn.Unflatten(1, (c, 7, 7)), up(), up(), nn.BatchNorm2d(c), nn.ReLU(),
                      nn.Conv2d(c, 1, 3, 1, 1), nn.Tanh())
    first = Block(nn.Sequential(nn.Conv2d(1, c, 3, 1, 1), nn.ReLU(), nn.Conv2d(c, c, 3, 1, 1), nn.AvgPool2d(2)),
                  nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(1, c, 1)))
    d = nn.Sequential(first, down(True), down(False), down(False), nn.ReLU(), SumPool(), nn.Linear(c, 1))
    return g, d, nz


class CondBatchNorm(nn.Module):
    """BatchNorm2d without affine, then per-class gain and bias (gantry's ConditionalBatchNorm)."""

    def __init__(self, channels, classes):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=False)
        self.gamma = nn.Parameter(torch.ones(classes, channels))
        self.beta = nn.Parameter(torch.zeros(classes, channels))

    def forward(self, x, y):
        return self.gamma[y][:, :, None, None] * self.bn(x) + self.beta[y][:, :, None, None]


class Projection(nn.Module):
    """logit = psi(phi) + <E[y], phi> (gantry's ProjectionHead); E is an nn.Embedding, so
    --spectral-norm normalises it as gantry does."""

    def __init__(self, features, classes):
        super().__init__()
        self.psi = nn.Linear(features, 1)
        self.embed = nn.Embedding(classes, features)
        with torch.no_grad():
            self.embed.weight.uniform_(-features ** -0.5, features ** -0.5)

    def forward(self, phi, y):
        return self.psi(phi) + (self.embed(y) * phi).sum(1, keepdim=True)


class CondBlock(nn.Module):
    """A residual block whose main branch reads the labels (a conditional `Conditional`)."""

    def __init__(self, main, shortcut):
        super().__init__()
        self.main, self.shortcut = main, shortcut

    def forward(self, x, y):
        return self.main(x, y) + self.shortcut(x)


class Conditional(nn.Module):
    """Runs `layers` in order, passing the labels to the label-aware ones; `one_hot` > 0 appends
    one_hot(y) to the input first (an mlp G)."""

    def __init__(self, layers, one_hot=0):
        super().__init__()
        self.layers, self.one_hot = nn.ModuleList(layers), one_hot

    def forward(self, x, y):
        if self.one_hot:
            x = torch.cat([x, F.one_hot(y, self.one_hot).float()], 1)
        for layer in self.layers:
            x = layer(x, y) if isinstance(layer, (CondBatchNorm, Projection, CondBlock)) else layer(x)
        return x


def conditional_resnet_models(classes, c=64, nz=128):
    """The resnet plugins with [train] conditional: conditional batch norm in G's blocks (its final
    BN plain), the projection on D's pooled features."""
    g0, d0, _ = resnet_models(c, nz)

    def conditional_up(block):
        main = [CondBatchNorm(c, classes) if isinstance(m, nn.BatchNorm2d) else m for m in block.main]
        return CondBlock(Conditional(main), block.shortcut)

    g = Conditional([conditional_up(m) if isinstance(m, Block) else m for m in g0])
    d = Conditional([*list(d0)[:-1], Projection(c, classes)])
    return g, d, nz


def conditional_models(model, classes):
    if model == "resnet":
        return conditional_resnet_models(classes)
    if model == "mlp":
        g = Conditional([nn.Linear(16 + classes, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 2)], one_hot=classes)
        d = Conditional([nn.Linear(2, 256), nn.LeakyReLU(0.2), nn.Linear(256, 256), nn.LeakyReLU(0.2),
                         nn.Linear(256, 256), nn.LeakyReLU(0.2), Projection(256, classes)])
        return g, d, 16
    g = Conditional([nn.Linear(100, 128 * 7 * 7), nn.Unflatten(1, (128, 7, 7)), CondBatchNorm(128, classes), nn.ReLU(),
                     nn.ConvTranspose2d(128, 64, 4, 2, 1), CondBatchNorm(64, classes), nn.ReLU(),
                     nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh()])
    d = Conditional([nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.2),
                     nn.Flatten(), Projection(128 * 7 * 7, classes)])
    return g, d, 100


def ring8(n, gen):
    k = torch.randint(0, 8, (n,), generator=gen).double()
    centres = torch.stack([torch.cos(2 * math.pi * k / 8), torch.sin(2 * math.pi * k / 8)], 1)
    return (centres + 0.01 * torch.randn(n, 2, generator=gen, dtype=torch.float64)).float(), k.long()


def fashion_mnist(path="/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"):
    with gzip.open(path, "rb") as f:
        _, n, h, w = struct.unpack(">IIII", f.read(16))
        pixels = torch.frombuffer(bytearray(f.read()), dtype=torch.uint8)
    with gzip.open(path.replace("images-idx3", "labels-idx1"), "rb") as f:
        f.read(8)
        labels = torch.frombuffer(bytearray(f.read()), dtype=torch.uint8).long()
    return (pixels.view(n, 1, h, w).float() / 127.5 - 1.0).contiguous(), labels


def macs(net, x):
    """Multiply-adds per sample of each weighted layer (in blocks too, in the order they run), and of
    the first one. A projection head counts as gantry counts it: psi and the inner product."""
    counts = []

    def hook(layer, inputs, y):
        if isinstance(layer, Projection):  # psi is counted by its own hook
            counts.append(layer.embed.weight.shape[1])
            return
        w = layer.weight.numel()
        if isinstance(layer, nn.Conv2d):
            w *= y.shape[2] * y.shape[3]
        elif isinstance(layer, nn.ConvTranspose2d):
            w *= inputs[0].shape[2] * inputs[0].shape[3]
        counts.append(w)

    handles = [m.register_forward_hook(hook) for m in net.modules()
               if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, Projection))]
    with torch.no_grad():
        y = net(x, torch.zeros(x.shape[0], dtype=torch.long)) if isinstance(net, Conditional) else net(x)
    for h in handles:
        h.remove()
    return sum(counts), counts[0], y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["mlp", "dcgan", "resnet"], default="mlp")
    ap.add_argument("--spectral-norm", action="store_true", help="spectral norm on every Linear, Conv2d and Embedding of D")
    ap.add_argument("--loss", choices=["nonsaturating", "wgan-gp"], default="nonsaturating")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--conditional", action="store_true", help="class-conditional G and projection D")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    classes = 8 if a.model == "mlp" else 10
    if a.conditional:
        g, d, nz = conditional_models(a.model, classes)
    else:
        g, d, nz = {"mlp": mlp_models, "dcgan": dcgan_models, "resnet": resnet_models}[a.model]()
    if a.spectral_norm:
        for m in [m for m in d.modules() if isinstance(m, (nn.Linear, nn.Conv2d, nn.Embedding))]:
            nn.utils.spectral_norm(m)
    data, labels = ring8(100_000, gen) if a.model == "mlp" else fashion_mnist()
    # Unconditional models ignore the labels.
    G = (lambda z, y: g(z, y)) if a.conditional else (lambda z, y: g(z))
    D = (lambda x, y: d(x, y)) if a.conditional else (lambda x, y: d(x))
    g.eval(), d.eval()
    mg, mg1, sample = macs(g, torch.zeros(2, nz))
    md, md1, _ = macs(d, sample)
    b = a.batch
    flops = 2 * (b * mg + 2 * b * (md + md + (md - md1)) + b * (mg + md + md + mg + (mg - mg1)))
    gp = a.loss == "wgan-gp"
    if gp:  # as host/bench/bench.cpp's penalty_flops
        flops += 2 * b * (md + md + 2 * md + md + (md - md1))
    g.train(), d.train()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    n = data.shape[0]
    order, pos = torch.randperm(n, generator=gen), 0

    def step():
        nonlocal order, pos
        if pos + b > n:
            order, pos = torch.randperm(n, generator=gen), 0
        real, real_y = data[order[pos:pos + b]], labels[order[pos:pos + b]]
        pos += b
        fake_y = torch.randint(0, classes, (b,))
        # D: real and G(z) (no gradient to G) in one batch of 2B rows.
        with torch.no_grad():
            fake = G(torch.randn(b, nz), fake_y)
        logits = D(torch.cat([real, fake]), torch.cat([real_y, fake_y]))
        if gp:
            loss_d = logits[b:].mean() - logits[:b].mean()
            alpha = torch.rand(b, *([1] * (real.dim() - 1)))
            x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
            (grad,) = torch.autograd.grad(D(x_hat, real_y).sum(), x_hat, create_graph=True)
            loss_d = loss_d + 10.0 * (grad.reshape(b, -1).norm(dim=1) - 1).pow(2).mean()
        else:
            loss_d = F.softplus(-logits[:b]).mean() + F.softplus(logits[b:]).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        # G: fresh z; D frozen, so only its input gradient is computed.
        for p in d.parameters():
            p.requires_grad_(False)
        fake_y = torch.randint(0, classes, (b,))
        fake_logits = D(G(torch.randn(b, nz), fake_y), fake_y)
        loss_g = -fake_logits.mean() if gp else F.softplus(-fake_logits).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for p in d.parameters():
            p.requires_grad_(True)

    for _ in range(a.warmup):
        step()
    rates = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step()
        rates.append(a.steps / (time.perf_counter() - t0))
    med = statistics.median(rates)
    blas = "unknown"
    with open("/proc/self/maps") as maps:
        text = maps.read()
        if "openblas" in text:
            blas = "OpenBLAS"
        elif "libblas.so" in text:
            blas = "reference BLAS"
    print(json.dumps({
        "model": a.model, "loss": a.loss, "batch": b, "threads": a.threads, "spectral_norm": a.spectral_norm,
        "conditional": a.conditional,
        "steps_per_s": {"min": min(rates), "median": med, "max": max(rates)},
        "gflop_per_step": flops / 1e9, "gflops": med * flops / 1e9,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "repeats": a.repeats, "steps": a.steps, "torch": torch.__version__, "blas": blas,
    }))


if __name__ == "__main__":
    main()
