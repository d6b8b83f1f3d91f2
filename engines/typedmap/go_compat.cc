#include "engines/typedmap/go_compat.h"

#include <cstdio>

namespace kvb::typedmap::go {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

constexpr int64_t kSecondsPerDay = 86400;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Reads `n` decimal digits at text[*pos]; false if any is not a digit.
bool Digits(std::string_view text, size_t* pos, size_t n, int* v) {
  if (text.size() < *pos + n) return false;
  int r = 0;
  for (size_t i = 0; i < n; i++) {
    char c = text[*pos + i];
    if (c < '0' || c > '9') return false;
    r = r * 10 + (c - '0');
  }
  *pos += n;
  *v = r;
  return true;
}

bool Expect(std::string_view text, size_t* pos, char c) {
  if (*pos >= text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

// The fraction after '.': 1 or more digits, kept to nanoseconds (Go truncates
// longer fractions the same way).
bool Fraction(std::string_view text, size_t* pos, uint32_t* nanos) {
  size_t start = *pos;
  uint32_t r = 0;
  size_t n = 0;
  while (*pos < text.size() && text[*pos] >= '0' && text[*pos] <= '9') {
    if (n < 9) r = r * 10 + static_cast<uint32_t>(text[*pos] - '0');
    n++;
    ++*pos;
  }
  if (*pos == start) return false;
  for (size_t i = n; i < 9; i++) r *= 10;
  *nanos = r;
  return true;
}

// "Z" or "±hh:mm" at the end of `text`.
bool Zone(std::string_view text, size_t pos, int32_t* offset_minutes) {
  if (pos + 1 == text.size() && text[pos] == 'Z') {
    *offset_minutes = 0;
    return true;
  }
  if (pos + 6 != text.size() || (text[pos] != '+' && text[pos] != '-'))
    return false;
  int sign = text[pos] == '-' ? -1 : 1;
  pos++;
  int hh = 0, mm = 0;
  if (!Digits(text, &pos, 2, &hh) || !Expect(text, &pos, ':') ||
      !Digits(text, &pos, 2, &mm) || hh > 23 || mm > 59)
    return false;
  *offset_minutes = sign * (hh * 60 + mm);
  return true;
}

}  // namespace

Time Time::FromSysTime(std::chrono::sys_time<std::chrono::nanoseconds> t,
                       int32_t offset_minutes) {
  int64_t ns = t.time_since_epoch().count();
  Time r;
  r.unix_seconds = FloorDiv(ns, 1000000000);
  r.nanos = static_cast<uint32_t>(ns - r.unix_seconds * 1000000000);
  r.offset_minutes = offset_minutes;
  return r;
}

std::chrono::sys_time<std::chrono::nanoseconds> Time::ToSysTime() const {
  return std::chrono::sys_time<std::chrono::nanoseconds>(
      std::chrono::nanoseconds(unix_seconds * 1000000000 + nanos));
}

bool ParseRfc3339(std::string_view text, Time* t) {
  size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!Digits(text, &pos, 4, &y) || !Expect(text, &pos, '-') ||
      !Digits(text, &pos, 2, &mo) || !Expect(text, &pos, '-') ||
      !Digits(text, &pos, 2, &d) || !Expect(text, &pos, 'T') ||
      !Digits(text, &pos, 2, &h) || !Expect(text, &pos, ':') ||
      !Digits(text, &pos, 2, &mi) || !Expect(text, &pos, ':') ||
      !Digits(text, &pos, 2, &s))
    return false;
  year_month_day ymd{std::chrono::year(y),
                     std::chrono::month(static_cast<unsigned>(mo)),
                     std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return false;
  uint32_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    pos++;
    if (!Fraction(text, &pos, &nanos)) return false;
  }
  int32_t offset = 0;
  if (!Zone(text, pos, &offset)) return false;
  int64_t local =
      static_cast<int64_t>(sys_days(ymd).time_since_epoch().count()) *
          kSecondsPerDay +
      h * 3600 + mi * 60 + s;
  t->unix_seconds = local - int64_t{offset} * 60;
  t->nanos = nanos;
  t->offset_minutes = offset;
  return true;
}

bool FormatRfc3339(const Time& t, std::string* out) {
  if (t.nanos > 999999999) return false;
  int64_t local = t.unix_seconds + int64_t{t.offset_minutes} * 60;
  int64_t day = FloorDiv(local, kSecondsPerDay);
  int64_t sec = local - day * kSecondsPerDay;
  year_month_day ymd{sys_days(days(day))};
  int y = static_cast<int>(ymd.year());
  if (y < 0 || y > 9999) return false;
  char buf[64];
  int n = std::snprintf(
      buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d", y,
      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
      static_cast<int>(sec / 3600), static_cast<int>(sec / 60 % 60),
      static_cast<int>(sec % 60));
  out->append(buf, static_cast<size_t>(n));
  if (t.nanos != 0) {
    std::snprintf(buf, sizeof(buf), ".%09u", t.nanos);
    std::string_view frac(buf);
    while (frac.back() == '0') frac.remove_suffix(1);
    out->append(frac);
  }
  if (t.offset_minutes == 0) {
    out->push_back('Z');
  } else {
    int32_t m = t.offset_minutes < 0 ? -t.offset_minutes : t.offset_minutes;
    n = std::snprintf(buf, sizeof(buf), "%c%02d:%02d",
                      t.offset_minutes < 0 ? '-' : '+', m / 60, m % 60);
    out->append(buf, static_cast<size_t>(n));
  }
  return true;
}

namespace internal {

void Fail(std::string_view path, std::string_view what,
          const nlohmann::json& j) {
  std::string msg(path.empty() ? std::string_view("value") : path);
  msg += ": expected ";
  msg += what;
  msg += ", got ";
  std::string text = j.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  msg += text;
  throw DecodeError(msg);
}

std::string Join(std::string_view path, std::string_view name) {
  std::string r(path);
  if (!r.empty()) r.push_back('.');
  r.append(name);
  return r;
}

const nlohmann::json* FindField(const nlohmann::json& j,
                                std::string_view name) {
  auto exact = j.find(name);
  if (exact != j.end()) return &*exact;
  auto lower = [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  };
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < k.size() && same; i++)
      same = lower(k[i]) == lower(name[i]);
    if (same) return &*it;
  }
  return nullptr;
}

void EncodeBytes(const std::vector<uint8_t>& v, nlohmann::json* j) {
  std::string text;
  AppendBase64(
      std::string_view(reinterpret_cast<const char*>(v.data()), v.size()),
      &text);
  *j = std::move(text);
}

void DecodeBytes(const nlohmann::json& j, std::string_view path,
                 std::vector<uint8_t>* out) {
  std::string bytes;
  if (!j.is_string() ||
      !DecodeBase64(j.get_ref<const std::string&>(), &bytes)) {
    Fail(path, "base64 text", j);
  }
  out->assign(bytes.begin(), bytes.end());
}

void EncodeTime(const Time& t, nlohmann::json* j) {
  std::string text;
  if (!FormatRfc3339(t, &text)) {
    throw std::invalid_argument(
        "a time outside years 0000-9999 cannot be written as RFC 3339");
  }
  *j = std::move(text);
}

void DecodeTime(const nlohmann::json& j, std::string_view path, Time* out) {
  if (!j.is_string() || !ParseRfc3339(j.get_ref<const std::string&>(), out))
    Fail(path, "an RFC 3339 time", j);
}

}  // namespace internal
}  // namespace kvb::typedmap::go
