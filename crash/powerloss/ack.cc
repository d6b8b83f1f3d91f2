#include "crash/powerloss/ack.h"

#include <dlfcn.h>

namespace kvb::powerloss {

namespace {

using AckFn = void (*)(uint64_t);

AckFn Resolve() {
  static const AckFn fn =
      reinterpret_cast<AckFn>(dlsym(RTLD_DEFAULT, "kvb_powerloss_ack"));
  return fn;
}

}  // namespace

void Ack(uint64_t op_id) {
  AckFn fn = Resolve();
  if (fn != nullptr) fn(op_id);
}

bool ShimLoaded() { return Resolve() != nullptr; }

}  // namespace kvb::powerloss
