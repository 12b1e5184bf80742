// gantry generate: G rebuilt from a stored run and loaded from its checkpoint samples exactly what
// the trained G sampled, and writes it as a grid, a folder of PNGs or a numpy array.
#include "sample/generate.hpp"
#include "store/checkpoints.hpp"
#include "store/store.hpp"
#include "train/evaluation.hpp"

#include "support/experiments.hpp"
#include "support/plugins.hpp"
#include "support/recorder.hpp"
#include "support/spawn.hpp"

#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>

namespace gantry {
namespace {

std::string ring_text(const std::string& train_extra = "") {
  return test::tiny_experiment("plugin = \"nonsaturating\"", 40, "checkpoint_every = 20\n" + train_extra);
}

std::string dcgan_text() {
  return "[experiment]\nname = \"dc\"\n" + test::tiny_dcgan_experiment("", "checkpoint_every = 2");
}

// The bytes of a file.
std::string bytes_of(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A PNG's width and height, from its IHDR chunk.
std::pair<uint32_t, uint32_t> png_size(const std::string& png) {
  auto be32 = [&](size_t at) {
    return uint32_t{static_cast<unsigned char>(png[at])} << 24 | uint32_t{static_cast<unsigned char>(png[at + 1])} << 16 |
           uint32_t{static_cast<unsigned char>(png[at + 2])} << 8 | uint32_t{static_cast<unsigned char>(png[at + 3])};
  };
  EXPECT_EQ(png.substr(1, 3), "PNG");
  return {be32(16), be32(20)};
}

std::vector<float> vec(const Tensor& t) { return {t.values().begin(), t.values().end()}; }

// The floats after a .npy file's header.
std::vector<float> npy_values(const std::string& npy) {
  const size_t header = 10 + (static_cast<unsigned char>(npy[8]) | static_cast<unsigned char>(npy[9]) << 8);
  std::vector<float> out((npy.size() - header) / sizeof(float));
  std::memcpy(out.data(), npy.data() + header, out.size() * sizeof(float));
  return out;
}

class Generate : public test::GantryDbTest {
 protected:
  test::Outcome generate(std::vector<std::string> args) { return gantry("generate", std::move(args)); }

  LoadedGenerator load(std::optional<int64_t> step = std::nullopt, std::optional<GeneratorCopy> copy = std::nullopt) {
    Database d = open_results(db);
    return load_generator(d, db, test::builtin_registry(), 1, step, copy);
  }

  // What the trainer's G (the EMA one with g_ema) made on the evaluation z at `step`, trained
  // again in this process: a checkpoint loaded into a fresh G must make the same bits.
  static Tensor trained_samples(const std::string& text, int64_t step) {
    const Experiment exp = parse_experiment(text, "exp.toml", test::builtin_registry());
    test::Recorder rec;
    Trainer trainer(exp.trials[0].config, rec);
    Tensor at_step;
    trainer.on_evaluation([&](int64_t s, const Tensor& generated) {
      if (s == step) at_step = generated;
    });
    trainer.run();
    return at_step;
  }

  static Tensor eval_samples(LoadedGenerator& g) {
    const Tensor z = evaluation_z(g.trial.config(), g.models.generator->latent_dim());
    std::vector<int32_t> labels;
    return generate_samples(g, z, labels);
  }
};

TEST_F(Generate, LoadedRingGeneratorMakesExactlyWhatTheTrainedOneMade) {
  run(ring_text());
  LoadedGenerator at40 = load(), at20 = load(20);
  EXPECT_EQ(at40.step, 40);
  EXPECT_EQ(at20.step, 20);
  const Tensor trained40 = trained_samples(ring_text(), 40), trained20 = trained_samples(ring_text(), 20);
  EXPECT_EQ(vec(eval_samples(at40)), vec(trained40));
  EXPECT_EQ(vec(eval_samples(at20)), vec(trained20));
}

TEST_F(Generate, LoadedDcganWithBatchNormMakesExactlyWhatTheTrainedOneMade) {
  run(dcgan_text());
  LoadedGenerator g = load(4);
  EXPECT_EQ(vec(eval_samples(g)), vec(trained_samples(dcgan_text(), 4)));
}

TEST_F(Generate, NpyHasNumpysHeaderAndGsValuesOnTheSeedsLatents) {
  run(ring_text());
  const auto out = dir.path / "s.npy";
  const auto o = generate({"1", "-n", "5", "-o", out.string(), "--seed", "3"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, fmt::format("wrote {}: a float32 array of shape [5, 2] from run 1 at step 40 (raw generator)\n",
                               out.string()));
  const std::string npy = bytes_of(out);
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 2), }";
  header += std::string(128 - 10 - header.size() - 1, ' ') + "\n";
  EXPECT_EQ(npy.substr(0, 10), std::string("\x93NUMPY\x01\x00\x76\x00", 10));  // header length 118
  EXPECT_EQ(npy.substr(10, 118), header);
  EXPECT_EQ(npy.size(), 128u + 5 * 2 * 4);
  LoadedGenerator g = load();
  const Tensor expected = generate_samples(g, generation_latents(3, 5, g.models.generator->latent_dim()));
  EXPECT_EQ(npy_values(npy), vec(expected));
}

TEST_F(Generate, NumpyReadsTheArray) {
  if (std::system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") != 0) GTEST_SKIP() << "python3-numpy is not installed";
  run(dcgan_text());
  const auto out = dir.path / "i.npy";
  ASSERT_EQ(generate({"1", "-n", "2", "--interpolate", "3", "-o", out.string()}).code, 0);
  const std::string npy = bytes_of(out);
  const auto raw = dir.path / "values.f32";
  std::ofstream(raw, std::ios::binary) << npy.substr(10 + (static_cast<unsigned char>(npy[8]) | static_cast<unsigned char>(npy[9]) << 8));
  const auto printed = dir.path / "numpy.txt";
  const std::string cmd = fmt::format(
      "/usr/bin/python3 -c \"import numpy as np; a = np.load('{}'); "
      "print(a.dtype, a.shape, np.array_equal(a.ravel(), np.fromfile('{}', dtype='<f4')))\" > {}",
      out.string(), raw.string(), printed.string());
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(test::read_text(printed), "float32 (2, 3, 1, 28, 28) True\n");
}

TEST_F(Generate, PngGridFolderAndInterpolationHaveTheirExactSizes) {
  run(dcgan_text());
  const auto grid = dir.path / "g.png", folder = dir.path / "each", interp = dir.path / "i.png";
  auto o = generate({"1", "-n", "10", "-o", grid.string()});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, fmt::format("wrote {}: a grid of 10 images, 4 to a row from run 1 at step 4 (raw generator)\n",
                               grid.string()));
  // 4 columns × 3 rows of 28×28 at zoom 3, 2-pixel gutters.
  EXPECT_EQ(png_size(bytes_of(grid)), std::make_pair(4u * 84 + 5 * 2, 3u * 84 + 4 * 2));
  ASSERT_EQ(generate({"1", "-n", "3", "-o", folder.string()}).code, 0);
  for (const char* name : {"0000.png", "0001.png", "0002.png"})
    EXPECT_EQ(png_size(bytes_of(folder / name)), std::make_pair(28u, 28u)) << name;
  EXPECT_FALSE(std::filesystem::exists(folder / "0003.png"));
  o = generate({"1", "-n", "2", "--interpolate", "5", "-o", interp.string()});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(png_size(bytes_of(interp)), std::make_pair(5u * 84 + 6 * 2, 2u * 84 + 3 * 2));
}

TEST_F(Generate, EmaIsTheDefaultAndDiffersFromRaw) {
  run(ring_text("g_ema = 0.9\ng_ema_start = 10"));
  const auto def = dir.path / "d.npy", ema = dir.path / "e.npy", raw = dir.path / "r.npy";
  const auto o = generate({"1", "-n", "50", "-o", def.string()});
  EXPECT_EQ(o.out, fmt::format("wrote {}: a float32 array of shape [50, 2] from run 1 at step 40 (EMA generator)\n",
                               def.string()));
  ASSERT_EQ(generate({"1", "-n", "50", "-o", ema.string(), "--ema"}).code, 0);
  ASSERT_EQ(generate({"1", "-n", "50", "-o", raw.string(), "--raw"}).code, 0);
  EXPECT_EQ(bytes_of(def), bytes_of(ema));
  EXPECT_NE(npy_values(bytes_of(ema)), npy_values(bytes_of(raw)));
  // The EMA G is the one the run reported: its samples are the trained EMA's, bit for bit.
  LoadedGenerator g = load(40, GeneratorCopy::ema);
  EXPECT_EQ(vec(eval_samples(g)), vec(trained_samples(ring_text("g_ema = 0.9\ng_ema_start = 10"), 40)));
}

TEST_F(Generate, BadRequestsAreRefusedNamingWhatIsWrong) {
  run(ring_text());
  const std::string out = (dir.path / "x.npy").string();
  auto o = generate({"1", "--step", "7", "-n", "4", "-o", out});
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(o.err, "gantry: error: run 1 has no checkpoint at step 7 (it has steps 20, 40)\n");
  o = generate({"1", "--ema", "-n", "4", "-o", out});
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(o.err, "gantry: error: run 1 kept no EMA generator ([train] g_ema = 0): use --raw, or leave both out\n");
  o = generate({"1", "-n", "4", "-o", (dir.path / "x.jpg").string()});
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(o.err, fmt::format("gantry: error: -o {}: unknown output type '.jpg' (use .png for a picture, .npy for an "
                               "array, or a folder for one PNG per sample)\n",
                               (dir.path / "x.jpg").string()));
  o = generate({"1", "-n", "4", "-o", (dir.path / "pngs").string()});
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(o.err, fmt::format("gantry: error: -o {}: a folder holds one PNG image per sample, but this run's samples "
                               "have shape [2] (write a .png picture or a .npy array)\n",
                               (dir.path / "pngs").string()));
  o = generate({"9", "-n", "4", "-o", out});
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(o.err, fmt::format("gantry: error: no run 9 in {}\n", db));
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST_F(Generate, ACheckpointOfAnotherArchitectureIsRefusedAndNothingIsCopied) {
  run(ring_text());
  Database d = open_results(db);
  const CheckpointRow row = run_checkpoints(d, 1).front();
  const auto file = checkpoint_root(db) / row.file;
  std::string narrow = ring_text();
  narrow.replace(narrow.find("width = 32"), 10, "width = 16");
  const Experiment exp = parse_experiment(narrow, "exp.toml", test::builtin_registry());
  TrialModels models = build_trial_models(exp.trials[0].config);
  const std::vector<float> before = vec(models.generator->layer().parameters()[0]->value);
  try {
    restore_networks(read_checkpoint_tensors(file, row.sha256), file, exp.trials[0].config, models, GeneratorCopy::raw,
                     true);
    ADD_FAILURE() << "loaded a checkpoint of another architecture";
  } catch (const CheckpointError& e) {
    EXPECT_EQ(std::string(e.what()), fmt::format("checkpoint {}: made by another architecture: the file has "
                                                 "'  width = 32' where this run has '  width = 16'",
                                                 file.string()));
  }
  EXPECT_EQ(vec(models.generator->layer().parameters()[0]->value), before);
  // A changed byte is caught by the SHA-256 recorded with it.
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-1, std::ios::end);
    f.put('\x55');
  }
  EXPECT_THROW(
      {
        try {
          read_checkpoint_tensors(file, row.sha256);
        } catch (const CheckpointError& e) {
          EXPECT_TRUE(std::string(e.what()).find("differs from the " + row.sha256 + " recorded when it was written") !=
                      std::string::npos)
              << e.what();
          throw;
        }
      },
      CheckpointError);
}

TEST_F(Generate, ScatterOfRingSamplesIsAPng) {
  run(ring_text());
  const auto out = dir.path / "s.png";
  const auto o = generate({"1", "-n", "200", "-o", out.string()});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, fmt::format("wrote {}: a scatter of 200 points from run 1 at step 40 (raw generator)\n", out.string()));
  EXPECT_EQ(png_size(bytes_of(out)), std::make_pair(480u, 480u));
}

}  // namespace
}  // namespace gantry
