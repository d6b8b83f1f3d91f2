#include "engines/fileperkey/key_index.h"

#include <mutex>

namespace kvb::fileperkey {

KeyIndex::KeyIndex(KeyLess less) : keys_(Compare{std::move(less)}) {}

void KeyIndex::Insert(std::string_view key) {
  std::unique_lock lock(mu_);
  if (keys_.find(key) == keys_.end()) keys_.emplace(key);
}

void KeyIndex::Erase(std::string_view key) {
  std::unique_lock lock(mu_);
  auto it = keys_.find(key);
  if (it != keys_.end()) keys_.erase(it);
}

void KeyIndex::Clear() {
  std::unique_lock lock(mu_);
  keys_.clear();
}

bool KeyIndex::Contains(std::string_view key) const {
  std::shared_lock lock(mu_);
  return keys_.find(key) != keys_.end();
}

size_t KeyIndex::size() const {
  std::shared_lock lock(mu_);
  return keys_.size();
}

std::vector<std::string> KeyIndex::KeysAfter(std::string_view after,
                                             size_t n) const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  auto it = after.empty() ? keys_.begin() : keys_.upper_bound(after);
  for (; it != keys_.end() && out.size() < n; ++it) out.push_back(*it);
  return out;
}

std::vector<std::string> KeyIndex::KeysFrom(std::string_view start,
                                            size_t n) const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (auto it = keys_.lower_bound(start); it != keys_.end() && out.size() < n;
       ++it) {
    out.push_back(*it);
  }
  return out;
}

}  // namespace kvb::fileperkey
