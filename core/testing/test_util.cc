#include "core/testing/test_util.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace kvb::testing {

TempDir::TempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = (base != nullptr && *base != '\0') ? base : "/tmp";
  tmpl += "/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    // Tests cannot run without a scratch directory; fail loudly inside the
    // test.
    throw std::runtime_error("mkdtemp failed for " + tmpl);
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;  // best effort: a leftover temp dir must not fail a test
  std::filesystem::remove_all(path_, ec);
}

}  // namespace kvb::testing
