// kvb::powerloss::ToyAdapter — three tiny one-file-per-key stores whose
// durability is known, so the power-loss tool can be shown to fail and pass.
//
//   kNoSync           Put writes the key's file in place (O_TRUNC) and returns:
//                     no fsync at all. Acknowledged data is lost by design.
//   kCorrect          Put writes KEY.tmp, fsyncs it, renames it over KEY and
//                     fsyncs the directory; Delete unlinks and fsyncs the
//                     directory. Every acknowledged op survives a power cut.
//   kRenameNoDirSync  like kCorrect but never fsyncs the directory: the data is
//                     durable, its name (the rename) is not.
// Spec: "toy:mode=nosync|correct|rename-nodirsync" (not in the registry; the
// power-loss driver resolves it). Keys are stored as hex file names. Not
// thread-safe (capabilities().thread_safe = false); unordered.
#ifndef KVB_CRASH_POWERLOSS_TOY_STORE_H_
#define KVB_CRASH_POWERLOSS_TOY_STORE_H_

#include <memory>
#include <string>
#include <string_view>

#include "adapters/adapter.h"
#include "core/result.h"

namespace kvb::powerloss {

enum class ToyMode { kNoSync, kCorrect, kRenameNoDirSync };

// Parses "toy:mode=..." (InvalidArgument naming the accepted modes).
Result<ToyMode> ParseToySpec(std::string_view spec);
// True if `spec` names the toy store ("toy" or "toy:...").
bool IsToySpec(std::string_view spec);

class ToyAdapter final : public Adapter {
 public:
  explicit ToyAdapter(ToyMode mode) : mode_(mode) {}
  std::string_view name() const override { return "toy"; }
  Capabilities capabilities() const override;
  // Opens (creating) the toy store in `dir`; called once, right after
  // construction (the registry's adapters come open; the toy is made here).
  Status Open(const std::string& dir);
  Status Close() override { return Status::OK(); }
  Status Put(std::string_view key, std::string_view value) override;
  Status Get(std::string_view key, std::string* value) override;
  Status Delete(std::string_view key) override;
  Status Sync() override { return SyncDir(); }

 private:
  std::string PathOf(std::string_view key) const;
  Status SyncDir() const;

  ToyMode mode_;
};

}  // namespace kvb::powerloss

#endif  // KVB_CRASH_POWERLOSS_TOY_STORE_H_
