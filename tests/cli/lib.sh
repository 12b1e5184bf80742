# Shared by the shell tests of tests/cli: source it.

# ring8_experiment FILE NAME SEEDS STEPS EVAL_EVERY [LOSS] [TRAIN_LINES]: a small GAN on ring8 (MLPs
# of width 16), SEEDS as a TOML list's inside ("0, 1, 2"); TRAIN_LINES go into [train].
ring8_experiment() {
  cat > "$1" <<TOML
[experiment]
name = "$2"
seeds = [$3]
[data]
plugin = "ring8"
[generator]
plugin = "mlp"
width = 16
depth = 1
[discriminator]
plugin = "mlp"
width = 16
depth = 1
[loss]
plugin = "${6:-minimax}"
[train]
steps = $4
batch_size = 32
eval_every = $5
eval_samples = 200
${7:-}
[metrics.modes]
TOML
}
