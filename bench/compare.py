#!/usr/bin/python3
"""gantry beside PyTorch on the reference models, against the machine's own matmul peak.

Runs, in one session: oneDNN's fp32 matmul peak (1 and 2 threads), `gantry bench step` and
bench/torch_reference.py for every model / batch / thread count, the evaluation share of the
shipped experiments (`gantry bench eval`) and the sweep benchmark, then prints the tables of
docs/PERFORMANCE.md. Each measurement runs in its own process, so peak RSS is per model.

  bash bench/setup.sh                 # python3-torch + OpenBLAS, bench-only
  /usr/bin/python3 bench/compare.py   # from the repository root, after scripts/build.sh
  /usr/bin/python3 bench/compare.py --quick   # fewer repeats, no sweep benchmark
  /usr/bin/python3 bench/compare.py --models resnet --threads 2   # some rows only (no eval/sweep parts)
"""
import argparse
import json
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GANTRY = os.path.join(ROOT, "build", "bin", "gantry")
# (model, batch, extra arguments to both programs); "resnet" is SNGAN's pair with spectral norm in D.
CONFIGS = [("mlp", 64, []), ("mlp", 256, []), ("mlp", 1024, []), ("dcgan", 64, []), ("dcgan", 256, []),
           ("resnet", 64, ["--spectral-norm"])]
# Class-conditional models (`--conditional`): conditional batch norm in G, projection D.
CONDITIONAL_CONFIGS = [("dcgan", 64, []), ("resnet", 64, ["--spectral-norm"])]


def run_json(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def steps_for(model, batch):
    # Roughly 1-3 s per repeat on this class of machine.
    if model == "mlp":
        return {64: 200, 256: 100, 1024: 30}[batch]
    if model == "resnet":
        return 2
    return {64: 10, 256: 3}[batch]


def torch_available():
    try:
        subprocess.run(["/usr/bin/python3", "-c", "import torch"], check=True, capture_output=True)
        return True
    except (OSError, subprocess.CalledProcessError):
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="3 repeats, no sweep benchmark")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--models", default="mlp,dcgan,resnet", help="which models' rows to run")
    a = ap.parse_args()
    threads = [int(t) for t in a.threads.split(",")]
    repeats = 3 if a.quick else 5
    have_torch = torch_available()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"machine: {cpu}, {os.cpu_count()} cores, {platform.platform()}")
    if not have_torch:
        print("PyTorch not found (bash bench/setup.sh installs it): gantry columns only")

    peak = {t: run_json([GANTRY, "bench", "peak", "--threads", str(t), "--json"])["gflops"] for t in threads}
    print("\noneDNN fp32 matmul 2048³ peak: " + ", ".join(f"{peak[t]:.1f} GFLOP/s on {t} thread(s)" for t in threads))

    rows = []
    for model, batch, extra in CONFIGS:
        if model not in a.models.split(","):
            continue
        for t in threads:
            args = ["--model", model, "--batch", str(batch), "--threads", str(t), "--warmup", "5",
                    "--steps", str(steps_for(model, batch)), "--repeats", str(repeats), *extra]
            g = run_json([GANTRY, "bench", "step", *args, "--json"])
            p = None
            if have_torch:
                env = dict(os.environ, OMP_NUM_THREADS=str(t))
                p = run_json(["/usr/bin/python3", os.path.join(ROOT, "bench", "torch_reference.py"), *args], env)
            rows.append((model + ("+sn" if "--spectral-norm" in extra else ""), batch, t, g, p))
            sys.stdout.write(".")
            sys.stdout.flush()
    print()
    head = (f"{'model':<9} {'batch':>5} {'thr':>3} {'gantry st/s':>12} {'(min-max)':>15} {'torch st/s':>11} "
            f"{'ratio':>6} {'gantry GF/s':>11} {'% peak':>6} {'torch GF/s':>10} {'RSS MiB g/t':>12}  torch BLAS")
    print("\n" + head + "\n" + "-" * len(head))
    for model, batch, t, g, p in rows:
        gs = g["steps_per_s"]
        ps = p["steps_per_s"]["median"] if p else float("nan")
        # Three significant digits: the ResNet row runs below one step per second.
        print(f"{model:<9} {batch:>5} {t:>3} {gs['median']:>12.3g} {gs['min']:>7.3g}-{gs['max']:<7.3g} {ps:>11.3g} "
              f"{gs['median'] / ps if p else float('nan'):>6.2f} {g['gflops']:>11.1f} {100 * g['gflops'] / peak[t]:>6.0f} "
              f"{p['gflops'] if p else float('nan'):>10.1f} {g['peak_rss_mib']:>5.0f}/{p['peak_rss_mib'] if p else float('nan'):<6.0f}"
              f"  {p['blas'] + ' (torch ' + p['torch'] + ')' if p else '-'}")
    print("FLOPs: 2 x multiply-adds of the Linear/Conv/ConvT passes a step runs (D: G fwd B, D fwd + bwd-weights +"
          " bwd-data 2B; G: G fwd, D fwd, D bwd-data, G bwd-weights, G bwd-data B; no bwd-data into first layers)")
    print("\nclass-conditional step (--conditional: G with conditional batch norm, projection D), against the same"
          " model unconditional:")
    for model, batch, extra in CONDITIONAL_CONFIGS:
        if model not in a.models.split(","):
            continue
        name = model + ("+sn" if "--spectral-norm" in extra else "")
        for t in threads:
            args = ["--model", model, "--batch", str(batch), "--threads", str(t), "--warmup", "5",
                    "--steps", str(steps_for(model, batch)), "--repeats", str(repeats), *extra]
            g = run_json([GANTRY, "bench", "step", *args, "--conditional", "--json"])["steps_per_s"]["median"]
            plain = next(r[3]["steps_per_s"]["median"] for r in rows if r[:3] == (name, batch, t))
            p = float("nan")
            if have_torch:
                env = dict(os.environ, OMP_NUM_THREADS=str(t))
                p = run_json(["/usr/bin/python3", os.path.join(ROOT, "bench", "torch_reference.py"), *args,
                              "--conditional"], env)["steps_per_s"]["median"]
            print(f"  {name} batch {batch}, {t} thread(s): gantry {g:.2f} steps/s ({plain:.2f} unconditional),"
                  f" torch {p:.2f} steps/s, ratio {g / p:.2f}")

    if a.models != "mlp,dcgan,resnet":
        return
    print("\nevaluation share (one evaluation at the experiment's sample counts vs eval_every training steps, 2 threads):")
    for exp, steps in (("experiments/quickstart.toml", 200), ("experiments/fmnist_dcgan.toml", 40)):
        e = run_json([GANTRY, "bench", "eval", os.path.join(ROOT, exp), "--steps", str(steps), "--threads", "2", "--json"])
        print(f"  {exp:<32} step {1e3 * e['step_s']:7.2f} ms, evaluation {e['eval_s']:6.2f} s every {e['eval_every']} steps"
              f" -> {100 * e['eval_share']:.1f} % of wall time")

    if not a.quick:
        print("\nsweep benchmark (bench/sweep_bench.sh 500):")
        print(subprocess.run(["bash", os.path.join(ROOT, "bench", "sweep_bench.sh"), "500"], check=True,
                             capture_output=True, text=True).stdout.rstrip())


if __name__ == "__main__":
    main()
