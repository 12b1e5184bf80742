#pragma once
// Fashion-MNIST (Xiao et al. 2017) as Debian's dataset-fashion-mnist installs it: four gzipped
// IDX files, 60,000 training and 10,000 test images of 28×28 grey pixels in 10 classes.
#include <gantry/api.hpp>
#include <gantry/tensor.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

namespace gantry {

struct LabelledImages {
  Tensor images;                ///< [N, 1, 28, 28], pixels scaled from 0..255 to [-1, 1]
  std::vector<uint8_t> labels;  ///< N class indices, 0..9
};

/// Where Debian puts the files: /usr/share/datasets/fashion-mnist.
GANTRY_API std::filesystem::path default_fashion_mnist_dir();
/// T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot.
GANTRY_API const std::array<const char*, 10>& fashion_mnist_classes();

/// Reads split "train" or "test" from `dir`; throws Error naming the file and how to install the
/// package when a file is missing, and what is wrong when one is corrupt. Read once per process
/// and shared: later calls with the same arguments return the same object.
GANTRY_API const LabelledImages& load_fashion_mnist(const std::filesystem::path& dir, std::string_view split);

}  // namespace gantry
