#include "adapters/typed_record.h"

#include <exception>
#include <nlohmann/json.hpp>

namespace kvb {

void to_json(nlohmann::json& j, const TypedRecord& r) {
  j = nlohmann::json{{"id", r.id},        {"version", r.version},
                     {"name", r.name},    {"email", r.email},
                     {"age", r.age},      {"score", r.score},
                     {"active", r.active}};
}

void from_json(const nlohmann::json& j, TypedRecord& r) {
  j.at("id").get_to(r.id);
  j.at("version").get_to(r.version);
  j.at("name").get_to(r.name);
  j.at("email").get_to(r.email);
  j.at("age").get_to(r.age);
  j.at("score").get_to(r.score);
  j.at("active").get_to(r.active);
}

Status EncodeRecordJson(const TypedRecord& r, std::string* out) {
  try {
    *out = nlohmann::json(r).dump();
    return Status::OK();
  } catch (const std::exception& e) {
    // Only invalid UTF-8 in a string field can make dump() throw.
    return Status::InvalidArgument(std::string("cannot encode record: ") +
                                   e.what());
  }
}

Status DecodeRecordJson(std::string_view json, TypedRecord* r) {
  try {
    nlohmann::json::parse(json.begin(), json.end()).get_to(*r);
    return Status::OK();
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("not a user record: ") + e.what());
  }
}

}  // namespace kvb
