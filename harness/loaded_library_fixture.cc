// A tiny shared library for loaded_library_test: built twice, once with its
// assert compiled in (KVB_FIXTURE_ASSERT) and once with NDEBUG, each exporting
// KVB_FIXTURE_FN.
#ifdef KVB_FIXTURE_ASSERT
#undef NDEBUG
#elif !defined(NDEBUG)
#define NDEBUG
#endif
#include <cassert>

extern "C" int KVB_FIXTURE_FN(int x) {
  assert(x != 12345);
  return x + 1;
}
