// kvb::fileperkey::KeyIndex — the default OrderedIndex (ordered_index.h): the
// optional in-memory ordered index of keys (diskv's BTreeIndex).
//
// Rebuilt from a walk of the directory tree when the store opens (in the
// background, see Store::WaitForIndex), then kept in
// step with every write, erase, erase-all and import (diskv defect D6). Queries
// page with "strictly after" semantics and return exactly n keys when that many
// exist (diskv defect D5: diskv restarted from the first key when `from` was
// absent and returned n-1 keys when it was present).
//
// The order is byte order unless a user "less" is given; it must be a strict
// weak ordering and thread-safe.
//
// Thread safety: all methods are thread-safe (a shared mutex: queries run in
// parallel).
#ifndef KVB_ENGINES_FILEPERKEY_KEY_INDEX_H_
#define KVB_ENGINES_FILEPERKEY_KEY_INDEX_H_

#include <cstddef>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engines/fileperkey/ordered_index.h"

namespace kvb::fileperkey {

class KeyIndex final : public OrderedIndex {
 public:
  // `less` null = byte order.
  explicit KeyIndex(KeyLess less = nullptr);

  void Insert(std::string_view key) override;
  void Erase(std::string_view key) override;
  void Clear() override;
  bool Contains(std::string_view key) const;
  size_t size() const override;

  // Up to `n` keys strictly after `after` in index order; empty `after` = from
  // the first key (the empty key is never a valid key). The answer does not
  // depend on whether `after` is itself in the index.
  std::vector<std::string> KeysAfter(std::string_view after,
                                     size_t n) const override;
  // Up to `n` keys >= `start` in index order.
  std::vector<std::string> KeysFrom(std::string_view start,
                                    size_t n) const override;

 private:
  struct Compare {
    using is_transparent = void;
    KeyLess less;
    bool operator()(std::string_view a, std::string_view b) const {
      return less ? less(a, b) : a < b;
    }
  };

  mutable std::shared_mutex mu_;
  std::set<std::string, Compare> keys_;
};

}  // namespace kvb::fileperkey

#endif  // KVB_ENGINES_FILEPERKEY_KEY_INDEX_H_
