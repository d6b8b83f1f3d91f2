#include "harness/loaded_library.h"

#include <dlfcn.h>
#include <elf.h>
#include <limits.h>
#include <stdlib.h>

#include <cstring>
#include <fstream>
#include <string_view>
#include <vector>

namespace kvb {
namespace {

// The glibc entry points a compiled-in assert calls.
constexpr std::string_view kAssertHandlers[] = {
    "__assert_fail", "__assert_perror_fail", "__assert"};

// Reads `len` bytes at `offset`, or an error naming the file.
Result<std::string> ReadAt(std::ifstream& in, const std::string& path,
                           uint64_t offset, uint64_t len) {
  in.clear();
  in.seekg(0, std::ios::end);
  const auto size = static_cast<uint64_t>(in.tellg());
  if (offset > size || len > size - offset) {
    return Status::Corruption(path + ": truncated ELF file");
  }
  std::string buf(len, '\0');
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(buf.data(), static_cast<std::streamsize>(len));
  if (!in || static_cast<uint64_t>(in.gcount()) != len) {
    return Status::Corruption(path + ": truncated ELF file");
  }
  return buf;
}

template <typename T>
T Load(const std::string& bytes, size_t at) {
  T v;
  std::memcpy(&v, bytes.data() + at, sizeof v);
  return v;
}

// The section headers of an ELF64 little- or native-endian object.
Result<std::vector<Elf64_Shdr>> SectionHeaders(std::ifstream& in,
                                               const std::string& path) {
  KVB_ASSIGN_OR_RETURN(std::string head,
                       ReadAt(in, path, 0, sizeof(Elf64_Ehdr)));
  if (std::memcmp(head.data(), ELFMAG, SELFMAG) != 0 ||
      head[EI_CLASS] != ELFCLASS64) {
    return Status::Corruption(path + ": not an ELF64 file");
  }
  auto eh = Load<Elf64_Ehdr>(head, 0);
  if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0) {
    return Status::Corruption(path + ": no section headers");
  }
  KVB_ASSIGN_OR_RETURN(
      std::string raw,
      ReadAt(in, path, eh.e_shoff, uint64_t{eh.e_shnum} * sizeof(Elf64_Shdr)));
  std::vector<Elf64_Shdr> sections(eh.e_shnum);
  for (size_t i = 0; i < sections.size(); ++i)
    sections[i] = Load<Elf64_Shdr>(raw, i * sizeof(Elf64_Shdr));
  return sections;
}

bool IsAssertHandler(std::string_view name) {
  for (std::string_view h : kAssertHandlers) {
    if (name == h) return true;
  }
  return false;
}

// A mangled member of a class named SyncPoint in any namespace
// (_ZN7rocksdb9SyncPoint11GetInstanceEv).
bool IsSyncPointMember(std::string_view name) {
  return name.starts_with("_ZN") &&
         name.find("9SyncPoint") != std::string_view::npos;
}

// Canonical path of a loaded object's file name (as dladdr gives it).
std::string Canonical(const char* name) {
  char buf[PATH_MAX];
  return realpath(name, buf) != nullptr ? std::string(buf) : std::string(name);
}

}  // namespace

Result<LoadedLibrary> InspectSharedObject(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot open");
  KVB_ASSIGN_OR_RETURN(std::vector<Elf64_Shdr> sections,
                       SectionHeaders(in, path));
  for (const Elf64_Shdr& s : sections) {
    if (s.sh_type != SHT_DYNSYM) continue;
    if (s.sh_entsize != sizeof(Elf64_Sym) || s.sh_link >= sections.size()) {
      return Status::Corruption(path + ": malformed .dynsym");
    }
    const Elf64_Shdr& str = sections[s.sh_link];
    KVB_ASSIGN_OR_RETURN(std::string syms,
                         ReadAt(in, path, s.sh_offset, s.sh_size));
    KVB_ASSIGN_OR_RETURN(std::string names,
                         ReadAt(in, path, str.sh_offset, str.sh_size));
    LoadedLibrary lib;
    lib.path = path;
    for (size_t at = 0; at + sizeof(Elf64_Sym) <= syms.size();
         at += sizeof(Elf64_Sym)) {
      auto sym = Load<Elf64_Sym>(syms, at);
      if (sym.st_name >= names.size()) continue;
      std::string_view name(names.c_str() + sym.st_name);
      if (sym.st_shndx == SHN_UNDEF) {
        lib.assertions = lib.assertions || IsAssertHandler(name);
      } else {
        lib.sync_points = lib.sync_points || IsSyncPointMember(name);
      }
    }
    return lib;
  }
  return Status::Corruption(path + ": no .dynsym section");
}

Result<LoadedLibrary> LibraryAt(const void* address) {
  Dl_info info{};
  if (dladdr(address, &info) == 0 || info.dli_fname == nullptr ||
      info.dli_fname[0] == '\0') {
    return Status::NotFound("no loaded object contains the address");
  }
  return InspectSharedObject(Canonical(info.dli_fname));
}

Result<LoadedLibrary> FindLoadedLibrary(const std::string& symbol) {
  void* address = dlsym(RTLD_DEFAULT, symbol.c_str());
  if (address == nullptr) {
    return Status::NotFound("no loaded object defines " + symbol);
  }
  return LibraryAt(address);
}

}  // namespace kvb
