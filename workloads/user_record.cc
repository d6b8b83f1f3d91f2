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

RecordCodec::Derived RecordCodec::Derive(uint64_t id, uint32_t version) const {
  const uint64_t who = Mix64(seed_ ^ Mix64(id + 0x75736572));  // "user"
  const uint64_t rev = Mix64(who ^ (uint64_t{version} << 32 | version));
  Derived d;
  d.first = kFirst[who & 15];
  d.last = kLast[(who >> 4) & 15];
  d.age = static_cast<int32_t>(18 + rev % 72);
  d.score = static_cast<double>((rev >> 8) % 10000000) / 100.0;
  d.active = (rev >> 40) & 1;
  return d;
}

void RecordCodec::SpellName(const Derived& d, std::string* out) {
  out->assign(d.first);
  out->push_back(' ');
  out->append(d.last);
}

void RecordCodec::SpellEmail(uint64_t id, const Derived& d, std::string* out) {
  // Emails are unique per key: the id keeps two users of one name apart.
  out->clear();
  AppendLower(d.first, out);
  out->push_back('.');
  AppendLower(d.last, out);
  out->push_back('.');
  out->append(std::to_string(id));
  out->append("@example.com");
}

}  // namespace kvb
