#include "engines/fileperkey/internal/meta.h"

#include <charconv>
#include <cstdio>
#include <vector>

#include "core/checksum.h"

namespace kvb::fileperkey::internal {
namespace {

constexpr std::string_view kMagic = "fileperkey-meta";

Status Bad(std::string_view why) {
  return Status::Corruption("fileperkey: bad .fpk-meta: " + std::string(why));
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      lines.push_back(text);
      break;
    }
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  return lines;
}

// "name value" -> value, if the line starts with `name `.
bool Field(std::string_view line, std::string_view name,
           std::string_view* value) {
  if (line.size() <= name.size() || line.substr(0, name.size()) != name ||
      line[name.size()] != ' ') {
    return false;
  }
  *value = line.substr(name.size() + 1);
  return true;
}

}  // namespace

std::string_view EncodingName(KeyEncoding e) {
  return e == KeyEncoding::kPlain ? "plain" : "escaped";
}

Result<KeyEncoding> ParseEncoding(std::string_view name) {
  if (name == "plain") return KeyEncoding::kPlain;
  if (name == "escaped") return KeyEncoding::kEscaped;
  return Status::InvalidArgument("fileperkey: encoding '" + std::string(name) +
                                 "': expected plain or escaped");
}

std::string EncodeMeta(const StoreMeta& meta) {
  std::string out;
  out += std::string(kMagic) + " " + std::to_string(meta.version) + "\n";
  out += "transform " + meta.transform + "\n";
  out += "encoding " + std::string(EncodingName(meta.encoding)) + "\n";
  out += "compression " + std::string(CodecName(meta.compression)) + "\n";
  if (meta.version >= 2)
    out +=
        std::string("checksum ") + (meta.value_crc ? "crc32c" : "none") + "\n";
  char crc[16];
  std::snprintf(crc, sizeof(crc), "%08x", MaskCrc(Crc32c(out)));
  out += "crc32c " + std::string(crc) + "\n";
  return out;
}

Result<StoreMeta> DecodeMeta(std::string_view text) {
  const size_t crc_at = text.rfind("crc32c ");
  if (crc_at == std::string_view::npos) return Bad("no crc32c line");
  std::string_view crc_text = text.substr(crc_at + 7);
  if (!crc_text.empty() && crc_text.back() == '\n') crc_text.remove_suffix(1);
  uint32_t stored = 0;
  auto [p, ec] = std::from_chars(crc_text.data(),
                                 crc_text.data() + crc_text.size(), stored, 16);
  if (ec != std::errc() || p != crc_text.data() + crc_text.size() ||
      crc_text.size() != 8) {
    return Bad("unreadable crc32c");
  }
  const std::string_view body = text.substr(0, crc_at);
  if (MaskCrc(Crc32c(body)) != stored) return Bad("checksum mismatch");

  const std::vector<std::string_view> lines = SplitLines(body);
  std::string_view v;
  StoreMeta meta;
  if (lines.empty() || !Field(lines[0], kMagic, &v))
    return Bad("not a fileperkey metadata file");
  auto [q, ec2] = std::from_chars(v.data(), v.data() + v.size(), meta.version);
  if (ec2 != std::errc() || q != v.data() + v.size() || meta.version < 1) {
    return Bad("bad version");
  }
  if (meta.version > kMetaVersion) {
    return Status::NotSupported(
        "fileperkey: .fpk-meta version " + std::to_string(meta.version) +
        " is newer than this build (" + std::to_string(kMetaVersion) + ")");
  }
  const size_t fields = meta.version == 1 ? 4 : 5;
  if (lines.size() != fields) {
    return Bad("expected " + std::to_string(fields) + " fields for version " +
               std::to_string(meta.version));
  }
  if (!Field(lines[1], "transform", &v)) return Bad("no transform");
  meta.transform = std::string(v);
  if (!Field(lines[2], "encoding", &v)) return Bad("no encoding");
  Result<KeyEncoding> enc = ParseEncoding(v);
  if (!enc.ok()) return Bad("unknown encoding");
  meta.encoding = *enc;
  if (!Field(lines[3], "compression", &v)) return Bad("no compression");
  Result<Codec> codec = ParseCodec(v);
  if (!codec.ok()) return Bad("unknown compression");
  meta.compression = *codec;
  if (meta.version >= 2) {
    if (!Field(lines[4], "checksum", &v) || (v != "crc32c" && v != "none"))
      return Bad("no checksum (crc32c or none)");
    meta.value_crc = v == "crc32c";
    if (meta.value_crc && meta.compression != Codec::kNone)
      return Bad("checksum crc32c with compression");
  }
  return meta;
}

}  // namespace kvb::fileperkey::internal
