// kvb::fileperkey::Transform — where a key lives under the store's base
// directory.
//
// A transform maps a key to a relative path "dir1/dir2/.../file_name" (diskv's
// Transform and AdvancedTransform) and maps a path found on disk back to its
// key (diskv's InverseTransform). It is also the one place where keys are
// validated: every Store entry point (write, read, has, erase, import, prefix
// walks) calls Map(), so a key that could escape the base directory, name a
// reserved file, or land on another key's directory is refused the same way
// everywhere.
//
// Built-in transforms combine a layout and an encoding:
//   layout   flat           BASE/NAME
//            blocks:W:D     BASE/B1/.../BD/NAME, Bi = the i-th W-byte block of
//            NAME ('.' -> '_',
//                           padded with '_' when NAME is short), e.g. abcdef ->
//                           ab/cd/abcdef
//            hash:W:D       like blocks, but the blocks come from
//            hex(XXH3-64(key)), which
//                           spreads any key set evenly over the directories
//   encoding plain          NAME = the key itself (diskv's behaviour). Keys
//   must be valid file
//                           names: 1..255 bytes, no '/', no NUL, not "." or
//                           "..", not starting with ".fpk" (reserved for the
//                           store's own files).
//            escaped        NAME = a reversible escaping of arbitrary bytes:
//            [A-Za-z0-9_-.] are
//                           kept (except a leading '.'), every other byte
//                           becomes %XX (upper-case hex). A name longer than
//                           255 bytes is split into components of at most 254
//                           bytes followed by '+' (a character escaping never
//                           leaves raw), so long keys become nested
//                           directories.
// Built-in layouts put every key file at the same depth (D+1 components, plus
// continuation directories that always end in '+'), so one key's file can never
// be another key's directory: the layout is collision-free by construction
// (diskv issue #31).
//
// User transforms (diskv's Transform / AdvancedTransform + InverseTransform)
// are allowed too; their output components are validated like plain names. They
// can collide (a key whose file is another key's directory); the Store then
// returns InvalidArgument for that key.
//
// Thread safety: a Transform is immutable after construction; user functions
// must be thread-safe and pure.
#ifndef KVB_ENGINES_FILEPERKEY_TRANSFORM_H_
#define KVB_ENGINES_FILEPERKEY_TRANSFORM_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace kvb::fileperkey {

// Longest name component on the file systems we target (NAME_MAX).
inline constexpr size_t kMaxNameBytes = 255;
// Names starting with this are the store's own (lock, metadata, temp directory)
// and are never keys; walks skip them.
inline constexpr std::string_view kReservedPrefix = ".fpk";

enum class KeyEncoding : uint8_t { kPlain, kEscaped };

// diskv's PathKey: directories (outermost first) and the file name.
struct PathKey {
  std::vector<std::string> dirs;
  std::string file_name;
};

using DirsFunction =
    std::function<std::vector<std::string>(std::string_view key)>;
using AdvancedFunction = std::function<PathKey(std::string_view key)>;
// Returns the key stored at `path`, or an error if the path is not one of this
// transform's.
using InverseFunction = std::function<Result<std::string>(const PathKey& path)>;

class Transform {
 public:
  // Flat, plain: diskv's default.
  Transform();

  static Transform Flat(KeyEncoding encoding = KeyEncoding::kPlain);
  // REQUIRES: 1 <= width <= 64, 1 <= depth <= 8 (Parse checks and reports
  // instead).
  static Transform Blocks(int width, int depth,
                          KeyEncoding encoding = KeyEncoding::kPlain);
  // REQUIRES: width >= 1, depth >= 1, width * depth <= 16.
  static Transform Hashed(int width, int depth,
                          KeyEncoding encoding = KeyEncoding::kPlain);
  // diskv's Transform: directories from a user function, file name = the key
  // (plain rules).
  static Transform Function(DirsFunction dirs);
  // diskv's AdvancedTransform with its mandatory inverse.
  static Transform Advanced(AdvancedFunction forward, InverseFunction inverse);
  // Parses "flat", "blocks:W:D" or "hash:W:D". InvalidArgument with the
  // accepted forms.
  static Result<Transform> Parse(std::string_view spec, KeyEncoding encoding);

  // Appends the relative path of `key` ("d1/d2/name", no leading '/') to *out.
  // InvalidArgument for an invalid key (the message says why) or when the path
  // would be longer than `max_path_bytes`. Never touches the file system.
  Status AppendPath(std::string_view key, size_t max_path_bytes,
                    std::string* out) const;
  // Validates `key` as AppendPath would, without building the path where the
  // transform allows (built-in transforms: one pass over the key, no
  // allocation).
  Status Validate(std::string_view key, size_t max_path_bytes) const;
  // The key whose file is at relative path `components` (directories then file
  // name), or InvalidArgument if no key maps exactly there (a file that is not
  // the store's).
  Result<std::string> Inverse(const std::vector<std::string>& components) const;

  // The directories (relative, outermost first) that contain every key starting
  // with `prefix`; empty when the layout cannot narrow the search. *impossible
  // is set when no valid key can start with `prefix`.
  std::vector<std::string> PrefixDirs(std::string_view prefix,
                                      bool* impossible) const;

  // InvalidArgument for parameters out of range, or a user transform missing
  // its function or (Advanced) its inverse (diskv panicked there). Store::Open
  // calls it.
  Status CheckValid() const;

  // "flat", "blocks:2:2", "hash:2:1" or "custom"; the encoding is separate.
  std::string Describe() const;
  KeyEncoding encoding() const { return encoding_; }
  bool is_builtin() const {
    return kind_ != Kind::kFunction && kind_ != Kind::kAdvanced;
  }

 private:
  enum class Kind : uint8_t { kFlat, kBlocks, kHashed, kFunction, kAdvanced };

  Status BuiltinPath(std::string_view key, size_t max_path_bytes,
                     std::string* out) const;
  Status UserPath(const PathKey& pk, std::string_view key,
                  size_t max_path_bytes, std::string* out) const;
  void AppendLayoutDirs(std::string_view key, std::string_view name,
                        std::string* out) const;
  Result<std::string> BuiltinInverse(
      const std::vector<std::string>& components) const;

  Kind kind_ = Kind::kFlat;
  KeyEncoding encoding_ = KeyEncoding::kPlain;
  int width_ = 0;
  int depth_ = 0;
  DirsFunction dirs_fn_;
  AdvancedFunction forward_fn_;
  InverseFunction inverse_fn_;
};

// Checks one plain path component: 1..255 bytes, no '/', no NUL, not "." or
// "..", not reserved. `what` names it in the error ("key", "directory").
Status ValidateComponent(std::string_view name, std::string_view what);

// The escaping of the `escaped` encoding (whole name, before splitting into
// components).
std::string EscapeKey(std::string_view key);
// Inverse of EscapeKey; InvalidArgument for a name EscapeKey never produces (so
// the mapping is one-to-one in both directions).
Result<std::string> UnescapeKey(std::string_view name);

}  // namespace kvb::fileperkey

#endif  // KVB_ENGINES_FILEPERKEY_TRANSFORM_H_
