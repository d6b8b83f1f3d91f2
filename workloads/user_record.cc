#include "workloads/user_record.h"

#include <array>
#include <string_view>

#include "workloads/random.h"

namespace kvb {
namespace {

constexpr std::array<std::string_view, 16> kFirst = {
    "Olivia", "Liam",  "Emma", "Noah",  "Amelia", "Oliver", "Ava",  "Elijah",
    "Sophia", "Mateo", "Mia",  "Lucas", "Isabel", "Levi",   "Luna", "Ezra"};
constexpr std::array<std::string_view, 16> kLast = {
    "Smith",  "Johnson", "Williams", "Brown", "Jones",  "Garcia",
    "Miller", "Davis",   "Martinez", "Lopez", "Wilson", "Anderson",
    "Thomas", "Taylor",  "Moore",    "Clark"};

char Lower(char c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

void AppendLower(std::string_view s, std::string* out) {
  for (char c : s) out->push_back(Lower(c));
}

}  // namespace

void RecordCodec::Make(uint64_t id, uint32_t version, UserRecord* out) const {
  const uint64_t who = Mix64(seed_ ^ Mix64(id + 0x75736572));  // "user"
  const uint64_t rev = Mix64(who ^ (uint64_t{version} << 32 | version));
  std::string_view first = kFirst[who & 15], last = kLast[(who >> 4) & 15];
  out->id = id;
  out->version = version;
  out->name.assign(first);
  out->name.push_back(' ');
  out->name.append(last);
  // Emails are unique per key: the id keeps two users of one name apart.
  out->email.clear();
  AppendLower(first, &out->email);
  out->email.push_back('.');
  AppendLower(last, &out->email);
  out->email.push_back('.');
  out->email.append(std::to_string(id));
  out->email.append("@example.com");
  out->age = static_cast<int32_t>(18 + rev % 72);
  out->score = static_cast<double>((rev >> 8) % 10000000) / 100.0;
  out->active = (rev >> 40) & 1;
}

VerifyResult RecordCodec::Verify(uint64_t id, const UserRecord& r,
                                 uint32_t* version, UserRecord* scratch) const {
  if (r.id != id) return VerifyResult::kWrongKey;
  if (r.version == 0) return VerifyResult::kCorrupt;
  Make(id, r.version, scratch);
  if (!(r == *scratch)) return VerifyResult::kCorrupt;
  *version = r.version;
  return VerifyResult::kOk;
}

}  // namespace kvb
