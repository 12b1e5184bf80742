#pragma once
// A minimal JSON reader for the reference vectors in tests/reference (numbers, strings, arrays,
// objects, true/false/null). Test-only; throws std::runtime_error on malformed input.
#include <cstdlib>
#include <gantry/tensor.hpp>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace gantry::test {

struct Json {
  enum class Type { null, boolean, number, string, array, object } type = Type::null;
  double number = 0;
  bool boolean = false;
  std::string string;
  std::vector<Json> array;
  std::map<std::string, Json> object;

  const Json& operator[](const std::string& key) const {
    auto it = object.find(key);
    if (it == object.end()) throw std::runtime_error("json: no key " + key);
    return it->second;
  }
  const Json& operator[](size_t i) const { return array.at(i); }
  /// The numbers of an array, or of {"shape": ..., "data": [...]}'s data.
  std::vector<double> numbers() const {
    const Json& a = type == Type::object ? (*this)["data"] : *this;
    std::vector<double> out;
    for (const Json& j : a.array) out.push_back(j.number);
    return out;
  }
  std::vector<int64_t> shape() const {
    std::vector<int64_t> out;
    for (const Json& j : (*this)["shape"].array) out.push_back(static_cast<int64_t>(j.number));
    return out;
  }
};

class JsonParser {
 public:
  explicit JsonParser(std::string text) : s_(std::move(text)) {}
  Json parse() {
    Json j = value();
    ws();
    if (i_ != s_.size()) fail("trailing characters");
    return j;
  }

 private:
  [[noreturn]] void fail(const std::string& what) { throw std::runtime_error("json: " + what + " at " + std::to_string(i_)); }
  void ws() { while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_; }
  bool eat(char c) { ws(); if (i_ < s_.size() && s_[i_] == c) { ++i_; return true; } return false; }
  void expect(char c) { if (!eat(c)) fail(std::string("expected ") + c); }
  std::string str() {
    expect('"');
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (s_[i_] == '\\') ++i_;
      out += s_[i_++];
    }
    expect('"');
    return out;
  }
  Json value() {
    ws();
    Json j;
    if (i_ >= s_.size()) fail("unexpected end");
    const char c = s_[i_];
    if (c == '{') {
      ++i_;
      j.type = Json::Type::object;
      if (eat('}')) return j;
      do {
        ws();
        std::string k = str();
        expect(':');
        j.object[k] = value();
      } while (eat(','));
      expect('}');
    } else if (c == '[') {
      ++i_;
      j.type = Json::Type::array;
      if (eat(']')) return j;
      do j.array.push_back(value());
      while (eat(','));
      expect(']');
    } else if (c == '"') {
      j.type = Json::Type::string;
      j.string = str();
    } else if (s_.compare(i_, 4, "true") == 0) {
      i_ += 4, j.type = Json::Type::boolean, j.boolean = true;
    } else if (s_.compare(i_, 5, "false") == 0) {
      i_ += 5, j.type = Json::Type::boolean;
    } else if (s_.compare(i_, 4, "null") == 0) {
      i_ += 4;
    } else {
      char* end = nullptr;
      j.number = std::strtod(s_.c_str() + i_, &end);
      if (end == s_.c_str() + i_) fail("bad value");
      i_ = static_cast<size_t>(end - s_.c_str());
      j.type = Json::Type::number;
    }
    return j;
  }
  std::string s_;
  size_t i_ = 0;
};

/// Reads tests/reference/<name> (the PyTorch float64 vectors from shared/reference).
inline Json reference(const std::string& name) {
  std::ifstream in(std::string(GANTRY_TEST_REFERENCE_DIR) + "/" + name);
  if (!in) throw std::runtime_error("cannot open reference " + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return JsonParser(ss.str()).parse();
}

/// A reference array {"shape": [...], "data": [...]} as an fp32 tensor.
inline Tensor tensor_of(const Json& j) {
  const auto v = j.numbers();
  return Tensor(j.shape(), std::vector<float>(v.begin(), v.end()));
}

}  // namespace gantry::test
