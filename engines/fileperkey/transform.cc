#include "engines/fileperkey/transform.h"

#include <charconv>
#include <exception>

#include "core/hash.h"
#include "core/strings.h"

namespace kvb::fileperkey {
namespace {

constexpr char kLowerHex[] = "0123456789abcdef";
// Continuation marker of the escaped encoding: never left raw by EscapeKey.
constexpr char kMore = '+';

bool IsSafeByte(unsigned char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9'))
    return true;
  if (c == '-' || c == '_') return true;
  // A leading '.' is escaped so that no name is ".", "..", hidden, or reserved.
  return c == '.' && !first;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lower case is not canonical: EscapeKey never writes it
}

size_t EscapedLength(std::string_view key) {
  size_t n = 0;
  for (size_t i = 0; i < key.size(); i++) {
    n += IsSafeByte(static_cast<unsigned char>(key[i]), i == 0) ? 1 : 3;
  }
  return n;
}

// Appends `name` split into components of at most kMaxNameBytes: every
// component but the last ends with '+', every component but the first starts
// with '+'. A "%XX" is never cut, so each component stays readable; since
// escaped names hold no raw '+', a continuation directory can never have the
// name of a key file, and no component can start with '.'.
void AppendSplitName(std::string_view name, std::string* out) {
  size_t pos = 0;
  bool first = true;
  while (true) {
    const size_t rest = name.size() - pos;
    const size_t final_limit = first ? kMaxNameBytes : kMaxNameBytes - 1;
    if (!first) out->push_back(kMore);
    if (rest <= final_limit) {
      out->append(name.substr(pos));
      return;
    }
    size_t len = first ? kMaxNameBytes - 1 : kMaxNameBytes - 2;
    if (name[pos + len - 1] == '%') {
      len -= 1;
    } else if (name[pos + len - 2] == '%') {
      len -= 2;
    }
    out->append(name.substr(pos, len));
    out->push_back(kMore);
    out->push_back('/');
    pos += len;
    first = false;
  }
}

// One directory block of a layout: `width` bytes of `src` from `offset`, '.'
// replaced and padded with '_' so it is never ".", ".." or reserved.
void AppendBlock(std::string_view src, size_t offset, int width,
                 std::string* out) {
  for (int i = 0; i < width; i++) {
    const size_t at = offset + static_cast<size_t>(i);
    char c = at < src.size() ? src[at] : '_';
    out->push_back(c == '.' ? '_' : c);
  }
}

std::string HashHex(std::string_view key) {
  uint64_t h = Hash64(key);
  std::string hex(16, '0');
  for (int i = 15; i >= 0; i--) {
    hex[static_cast<size_t>(i)] = kLowerHex[h & 0xf];
    h >>= 4;
  }
  return hex;
}

Status TooLong(size_t need, size_t max) {
  return Status::InvalidArgument("fileperkey: key too long: its path needs " +
                                 std::to_string(need) +
                                 " bytes, the limit is " + std::to_string(max));
}

Result<int> ParsePositive(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0) {
    return Status::InvalidArgument("fileperkey: transform: bad number '" +
                                   std::string(s) + "'");
  }
  return v;
}

}  // namespace

Status ValidateComponent(std::string_view name, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("fileperkey: bad " + std::string(what) +
                                   ": " + std::string(why));
  };
  if (name.empty()) return bad("empty");
  if (name.size() > kMaxNameBytes) return bad("longer than 255 bytes");
  if (name == "." || name == "..") return bad("'.' or '..'");
  if (name.substr(0, kReservedPrefix.size()) == kReservedPrefix) {
    return bad("names starting with .fpk are reserved");
  }
  for (char c : name) {
    if (c == '/') return bad("contains '/'");
    if (c == '\0') return bad("contains a NUL byte");
  }
  return Status::OK();
}

std::string EscapeKey(std::string_view key) {
  std::string out;
  out.reserve(EscapedLength(key));
  for (size_t i = 0; i < key.size(); i++) {
    const auto c = static_cast<unsigned char>(key[i]);
    if (IsSafeByte(c, i == 0)) {
      out.push_back(static_cast<char>(c));
    } else {
      AppendPercentEscape(c, &out);
    }
  }
  return out;
}

Result<std::string> UnescapeKey(std::string_view name) {
  std::string key;
  key.reserve(name.size());
  for (size_t i = 0; i < name.size(); i++) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c != '%') {
      if (!IsSafeByte(c, key.empty())) {
        return Status::InvalidArgument("fileperkey: not an escaped name");
      }
      key.push_back(static_cast<char>(c));
      continue;
    }
    if (i + 2 >= name.size()) {
      return Status::InvalidArgument("fileperkey: truncated escape");
    }
    const int hi = HexValue(name[i + 1]);
    const int lo = HexValue(name[i + 2]);
    if (hi < 0 || lo < 0)
      return Status::InvalidArgument("fileperkey: bad escape");
    const auto byte = static_cast<unsigned char>(hi * 16 + lo);
    // Canonical form only: a byte that EscapeKey keeps raw must not arrive
    // escaped.
    if (IsSafeByte(byte, key.empty())) {
      return Status::InvalidArgument("fileperkey: non-canonical escape");
    }
    key.push_back(static_cast<char>(byte));
    i += 2;
  }
  if (key.empty()) return Status::InvalidArgument("fileperkey: empty name");
  return key;
}

Transform::Transform() = default;

Transform Transform::Flat(KeyEncoding encoding) {
  Transform t;
  t.kind_ = Kind::kFlat;
  t.encoding_ = encoding;
  return t;
}

Transform Transform::Blocks(int width, int depth, KeyEncoding encoding) {
  Transform t;
  t.kind_ = Kind::kBlocks;
  t.encoding_ = encoding;
  t.width_ = width;
  t.depth_ = depth;
  return t;
}

Transform Transform::Hashed(int width, int depth, KeyEncoding encoding) {
  Transform t = Blocks(width, depth, encoding);
  t.kind_ = Kind::kHashed;
  return t;
}

Transform Transform::Function(DirsFunction dirs) {
  Transform t;
  t.kind_ = Kind::kFunction;
  t.dirs_fn_ = std::move(dirs);
  return t;
}

Transform Transform::Advanced(AdvancedFunction forward,
                              InverseFunction inverse) {
  Transform t;
  t.kind_ = Kind::kAdvanced;
  t.forward_fn_ = std::move(forward);
  t.inverse_fn_ = std::move(inverse);
  return t;
}

Result<Transform> Transform::Parse(std::string_view spec,
                                   KeyEncoding encoding) {
  const Status usage = Status::InvalidArgument(
      "fileperkey: transform '" + std::string(spec) +
      "': expected flat, blocks:W:D (1<=W<=64, 1<=D<=8) or hash:W:D (W*D<=16)");
  if (spec == "flat") return Flat(encoding);
  const size_t c1 = spec.find(':');
  if (c1 == std::string_view::npos) return usage;
  const size_t c2 = spec.find(':', c1 + 1);
  if (c2 == std::string_view::npos) return usage;
  const std::string_view kind = spec.substr(0, c1);
  Result<int> w = ParsePositive(spec.substr(c1 + 1, c2 - c1 - 1));
  Result<int> d = ParsePositive(spec.substr(c2 + 1));
  if (!w.ok() || !d.ok()) return usage;
  if (kind == "blocks" && *w <= 64 && *d <= 8) return Blocks(*w, *d, encoding);
  if (kind == "hash" && *w * *d <= 16) return Hashed(*w, *d, encoding);
  return usage;
}

Status Transform::CheckValid() const {
  switch (kind_) {
    case Kind::kFlat:
      return Status::OK();
    case Kind::kBlocks:
    case Kind::kHashed:
      return Parse(Describe(), encoding_).status();
    case Kind::kFunction:
      if (!dirs_fn_)
        return Status::InvalidArgument(
            "fileperkey: transform function is empty");
      return Status::OK();
    case Kind::kAdvanced:
      if (!forward_fn_ || !inverse_fn_) {
        return Status::InvalidArgument(
            "fileperkey: an advanced transform needs both its function and its "
            "inverse");
      }
      return Status::OK();
  }
  return Status::OK();
}

std::string Transform::Describe() const {
  switch (kind_) {
    case Kind::kFlat:
      return "flat";
    case Kind::kBlocks:
      return "blocks:" + std::to_string(width_) + ":" + std::to_string(depth_);
    case Kind::kHashed:
      return "hash:" + std::to_string(width_) + ":" + std::to_string(depth_);
    default:
      return "custom";
  }
}

void Transform::AppendLayoutDirs(std::string_view key, std::string_view name,
                                 std::string* out) const {
  if (kind_ == Kind::kFlat) return;
  std::string hex;
  std::string_view src = name;
  if (kind_ == Kind::kHashed) {
    hex = HashHex(key);
    src = hex;
  }
  for (int i = 0; i < depth_; i++) {
    AppendBlock(src, static_cast<size_t>(i) * static_cast<size_t>(width_),
                width_, out);
    out->push_back('/');
  }
}

Status Transform::BuiltinPath(std::string_view key, size_t max_path_bytes,
                              std::string* out) const {
  const size_t start = out->size();
  if (encoding_ == KeyEncoding::kPlain) {
    KVB_RETURN_IF_ERROR(ValidateComponent(key, "key"));
    AppendLayoutDirs(key, key, out);
    out->append(key);
  } else {
    if (key.empty())
      return Status::InvalidArgument("fileperkey: bad key: empty");
    const std::string name = EscapeKey(key);
    AppendLayoutDirs(key, name, out);
    AppendSplitName(name, out);
  }
  const size_t need = out->size() - start;
  if (need > max_path_bytes) {
    out->resize(start);
    return TooLong(need, max_path_bytes);
  }
  return Status::OK();
}

Status Transform::UserPath(const PathKey& pk, std::string_view key,
                           size_t max_path_bytes, std::string* out) const {
  const size_t start = out->size();
  for (const std::string& dir : pk.dirs) {
    // An empty directory name would silently vanish from the path (diskv's
    // filepath.Join); refuse it like any other malformed component.
    Status s = ValidateComponent(dir, "directory from transform");
    if (!s.ok()) {
      out->resize(start);
      return s;
    }
    out->append(dir);
    out->push_back('/');
  }
  Status s = ValidateComponent(pk.file_name, "file name from transform");
  if (!s.ok()) {
    out->resize(start);
    return s;
  }
  out->append(pk.file_name);
  const size_t need = out->size() - start;
  if (need > max_path_bytes) {
    out->resize(start);
    return TooLong(need, max_path_bytes);
  }
  return Status::OK();
}

Status Transform::AppendPath(std::string_view key, size_t max_path_bytes,
                             std::string* out) const {
  if (is_builtin()) return BuiltinPath(key, max_path_bytes, out);
  if (key.empty()) return Status::InvalidArgument("fileperkey: bad key: empty");
  // User functions may throw; nothing may escape our interface.
  try {
    if (kind_ == Kind::kFunction) {
      PathKey pk{dirs_fn_(key), std::string(key)};
      return UserPath(pk, key, max_path_bytes, out);
    }
    return UserPath(forward_fn_(key), key, max_path_bytes, out);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(
        std::string("fileperkey: transform threw: ") + e.what());
  } catch (...) {
    return Status::InvalidArgument("fileperkey: transform threw");
  }
}

Status Transform::Validate(std::string_view key, size_t max_path_bytes) const {
  if (is_builtin()) {
    const size_t dirs =
        kind_ == Kind::kFlat
            ? 0
            : static_cast<size_t>(depth_) * static_cast<size_t>(width_ + 1);
    if (encoding_ == KeyEncoding::kPlain) {
      KVB_RETURN_IF_ERROR(ValidateComponent(key, "key"));
      if (dirs + key.size() > max_path_bytes) {
        return TooLong(dirs + key.size(), max_path_bytes);
      }
      return Status::OK();
    }
    if (key.empty())
      return Status::InvalidArgument("fileperkey: bad key: empty");
    const size_t escaped = EscapedLength(key);
    if (escaped <= kMaxNameBytes) {
      if (dirs + escaped > max_path_bytes)
        return TooLong(dirs + escaped, max_path_bytes);
      return Status::OK();
    }
  }
  // Long escaped names and user transforms: the exact answer needs the path
  // itself.
  std::string scratch;
  return AppendPath(key, max_path_bytes, &scratch);
}

Result<std::string> Transform::BuiltinInverse(
    const std::vector<std::string>& comps) const {
  const size_t layout = kind_ == Kind::kFlat ? 0 : static_cast<size_t>(depth_);
  if (comps.size() < layout + 1) {
    return Status::InvalidArgument(
        "fileperkey: path too shallow for the layout");
  }
  if (encoding_ == KeyEncoding::kPlain) {
    if (comps.size() != layout + 1) {
      return Status::InvalidArgument(
          "fileperkey: path too deep for the layout");
    }
    return comps.back();
  }
  std::string name;
  for (size_t i = layout; i < comps.size(); i++) {
    std::string_view c = comps[i];
    const bool first = i == layout;
    const bool last = i + 1 == comps.size();
    if (!first) {
      if (c.empty() || c.front() != kMore) {
        return Status::InvalidArgument("fileperkey: bad continuation");
      }
      c.remove_prefix(1);
    }
    if (!last) {
      if (c.empty() || c.back() != kMore) {
        return Status::InvalidArgument("fileperkey: bad continuation");
      }
      c.remove_suffix(1);
    }
    name.append(c);
  }
  return UnescapeKey(name);
}

Result<std::string> Transform::Inverse(
    const std::vector<std::string>& comps) const {
  if (comps.empty()) return Status::InvalidArgument("fileperkey: empty path");
  Result<std::string> key = Status::InvalidArgument("fileperkey: no inverse");
  if (is_builtin()) {
    key = BuiltinInverse(comps);
  } else if (kind_ == Kind::kFunction) {
    key = comps.back();
  } else {
    try {
      PathKey pk;
      pk.dirs.assign(comps.begin(), comps.end() - 1);
      pk.file_name = comps.back();
      key = inverse_fn_(pk);
    } catch (...) {
      return Status::InvalidArgument("fileperkey: inverse transform threw");
    }
  }
  if (!key.ok()) return key.status();
  // The path must be exactly where the key maps (right bucket, canonical name);
  // anything else is a file the store did not write.
  std::string expect;
  KVB_RETURN_IF_ERROR(AppendPath(*key, SIZE_MAX, &expect));
  std::string got;
  for (size_t i = 0; i < comps.size(); i++) {
    if (i > 0) got.push_back('/');
    got.append(comps[i]);
  }
  if (got != expect) {
    return Status::InvalidArgument(
        "fileperkey: file is not where its key maps");
  }
  return key;
}

std::vector<std::string> Transform::PrefixDirs(std::string_view prefix,
                                               bool* impossible) const {
  *impossible = false;
  std::vector<std::string> dirs;
  if (kind_ != Kind::kBlocks || prefix.empty()) return dirs;
  std::string name;
  if (encoding_ == KeyEncoding::kPlain) {
    if (prefix.find('/') != std::string_view::npos ||
        prefix.find('\0') != std::string_view::npos) {
      *impossible = true;
      return dirs;
    }
    name.assign(prefix);
  } else {
    name = EscapeKey(
        prefix);  // the escaping of a prefix is a prefix of the escaping
  }
  const size_t w = static_cast<size_t>(width_);
  for (size_t i = 0;
       i < static_cast<size_t>(depth_) && (i + 1) * w <= name.size(); i++) {
    std::string block;
    AppendBlock(name, i * w, width_, &block);
    dirs.push_back(std::move(block));
  }
  return dirs;
}

}  // namespace kvb::fileperkey
