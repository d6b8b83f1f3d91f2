// A tiny shared library for loaded_library_test: built twice, once with its
// assert compiled in (KVB_FIXTURE_ASSERT) and once with NDEBUG, each exporting
// KVB_FIXTURE_FN. The assert build also defines a SyncPoint class member, as
// RocksDB does only without NDEBUG.
#ifdef KVB_FIXTURE_ASSERT
#undef NDEBUG
#elif !defined(NDEBUG)
#define NDEBUG
#endif
#include <cassert>

#ifndef NDEBUG
namespace kvb_fixture {
struct SyncPoint {
  static int Process(int x);
};
__attribute__((visibility("default"))) int SyncPoint::Process(int x) {
  return x * 2;
}
}  // namespace kvb_fixture
#endif

extern "C" int KVB_FIXTURE_FN(int x) {
  assert(x != 12345);
  return x + 1;
}
