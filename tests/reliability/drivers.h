// The three engines behind one small interface, for the reliability suites
// (fault points, power states, disk full): each suite runs one workload of
// puts, deletes, syncs and closes against every engine configuration and checks
// what survives against what the engine acknowledged.
//
// Test-only code; the engines are driven through their public headers only.
#ifndef KVB_TESTS_RELIABILITY_DRIVERS_H_
#define KVB_TESTS_RELIABILITY_DRIVERS_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/status.h"

namespace kvb::reliability {

// The engine under test, behind the few calls the workloads make.
class Driver {
 public:
  virtual ~Driver() = default;
  // Opens (creating if missing) the database in `dir`.
  virtual Status Open(Env* env, const std::string& dir) = 0;
  Status Open(Env* env) { return Open(env, "/db"); }
  virtual Status Put(const std::string& k, const std::string& v) = 0;
  virtual Status Delete(const std::string& k) = 0;
  virtual Status Sync() = 0;
  // Closes and releases the handle (also after errors); returns Close's status.
  virtual Status Close() = 0;
  virtual Status Get(const std::string& k, std::string* v) = 0;
  virtual Status Keys(std::set<std::string>* keys) = 0;
  // Whether an OK Put/Delete reached the Env before returning (a clean reopen
  // sees it); otherwise only Sync and Close acknowledge.
  virtual bool WriteAcknowledges() const = 0;
  // Whether an OK Put/Delete is durable (survives a power loss) by the engine's
  // contract; otherwise only Sync and Close make writes durable.
  virtual bool WriteDurable() const = 0;
  // Whether Open creates the directory it is given (linhash, fileperkey); if
  // not, the application creates it (typedmap opens a log file in it).
  virtual bool CreatesDir() const = 0;
};

// One engine configuration: a name for messages and a factory.
struct Config {
  std::string name;
  std::function<std::unique_ptr<Driver>()> make;
};

// linhash with background_sync_interval_ms 0 (Sync only) and -1 (every write),
// typedmap at kAsync, kImmediate and kFSync, fileperkey with sync off and on.
std::vector<Config> AllConfigs();

struct Step {
  enum Kind { kOpen, kPut, kDelete, kSync, kClose } kind;
  std::string key;
  std::string value;
};

// Two sessions of puts, overwrites and deletes of ten keys, with syncs and
// clean closes in between (about 30 steps).
std::vector<Step> Workload();

using Value = std::optional<std::string>;
// key -> every value (nullopt: absent) it may have after a reopen.
using AllowedValues = std::map<std::string, std::set<Value>>;

// What each key may hold after a reopen when steps [0, acked] are known to have
// taken effect, except those marked in `failed` (a write that returned an error
// may or may not have), and steps (acked, last_attempted] may or may not have.
AllowedValues Allowed(const std::vector<Step>& w, int acked, int last_attempted,
                      const std::vector<bool>& failed = {});

// "" if the reopened database holds, for every key, one of its allowed values
// and no other key; otherwise what is wrong.
std::string Verify(Driver* d, const AllowedValues& allowed);

// Runs step `s` against `d` on `env` (kOpen opens `dir`).
Status RunStep(Driver* d, Env* env, const std::string& dir, const Step& s);

}  // namespace kvb::reliability

#endif  // KVB_TESTS_RELIABILITY_DRIVERS_H_
