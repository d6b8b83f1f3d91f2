// kvb::fileperkey::OrderedIndex — the interface of the store's optional
// in-memory ordered key index (diskv's Index), so a user can plug in another
// implementation; KeyIndex (key_index.h) is the default.
//
// diskv's Index has Initialize(less, keys), Insert, Delete and Keys(from, n).
// Here the store makes the index through Options::index_factory (given the
// ordering: diskv's Initialize), fills it with Insert as the background walk
// at Open finds keys, keeps it in step with every write, erase, erase-all and
// import, and pages through KeysAfter (diskv's Keys, without its defect D5:
// strictly after `after`, exactly n keys when that many exist) and KeysFrom.
//
// Contract for implementations:
//   - every method is called from many threads at once (the walk, writers,
//     readers): it must be thread-safe;
//   - Insert of a present key and Erase of an absent key are no-ops;
//   - the order is the `less` the factory was given (byte order if null), a
//     strict weak ordering; the empty key is never a key.
#ifndef KVB_ENGINES_FILEPERKEY_ORDERED_INDEX_H_
#define KVB_ENGINES_FILEPERKEY_ORDERED_INDEX_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kvb::fileperkey {

using KeyLess = std::function<bool(std::string_view a, std::string_view b)>;

class OrderedIndex {
 public:
  virtual ~OrderedIndex() = default;

  virtual void Insert(std::string_view key) = 0;
  virtual void Erase(std::string_view key) = 0;
  virtual void Clear() = 0;
  virtual size_t size() const = 0;

  // Up to `n` keys strictly after `after` in index order; empty `after` = from
  // the first key. The answer must not depend on whether `after` is itself in
  // the index.
  virtual std::vector<std::string> KeysAfter(std::string_view after,
                                             size_t n) const = 0;
  // Up to `n` keys >= `start` in index order.
  virtual std::vector<std::string> KeysFrom(std::string_view start,
                                            size_t n) const = 0;
};

// Makes an empty index ordered by `less` (null = byte order). Never returns
// null.
using IndexFactory = std::function<std::unique_ptr<OrderedIndex>(KeyLess less)>;

}  // namespace kvb::fileperkey

#endif  // KVB_ENGINES_FILEPERKEY_ORDERED_INDEX_H_
