#include "report/gate_output.h"

#include <cstdio>
#include <sstream>

namespace kvb::report {
namespace {

std::string Num(double v, const char* fmt = "%.0f") {
  char buf[48];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string PText(double p) { return Num(p, p < 0.001 ? "%.1e" : "%.3f"); }

std::string VerdictText(const CompareRow& r) {
  std::string v = VerdictName(r.verdict);
  if (r.regression) v = "**REGRESSION** (" + v + ")";
  if (r.correctness_failure) v += "; **correctness**: " + r.correctness_detail;
  return v;
}

// Markdown table cells must not hold '|'.
std::string Cell(std::string s) {
  for (size_t at = 0; (at = s.find('|', at)) != std::string::npos; at += 2)
    s.replace(at, 1, "\\|");
  return s;
}

std::string Xml(const std::string& s) {
  std::string out;
  for (char ch : s) {
    // clang-format off
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += ch;
    }
    // clang-format on
  }
  return out;
}

std::string Workload(const std::string& name) {
  return name.substr(0, name.find('/'));
}

void MarkdownList(std::ostringstream& o, const char* title,
                  const std::vector<std::string>& items) {
  if (items.empty()) return;
  o << "\n**" << title << "**\n\n";
  for (const std::string& s : items) o << "- " << Cell(s) << "\n";
}

std::string RowFailure(const Comparison& c, const CompareRow& r) {
  const bool instr = c.mode[0] == 'i';
  std::string what = instr ? "instructions per op " : "throughput ";
  return what + ChangeText(r.throughput.change_pct) + " " +
         CiText(r.throughput) + (instr ? "" : ", p " + PText(r.throughput.p)) +
         " beyond the " + Num(c.options.threshold_pct, "%g") + "% threshold";
}

}  // namespace

std::string ComparisonMarkdown(const Comparison& c, const BaselineNote& b) {
  const int rc = c.GateExitCode();
  std::ostringstream o;
  o << "### kvbench gate: " << (rc == kExitOk ? "pass" : GateText(rc))
    << " (exit " << rc << ")\n\n"
    << "Mode: " << c.mode << "; alpha " << c.options.alpha << ", threshold "
    << c.options.threshold_pct << "%. Baseline: " << Cell(b.base) << ".\n";
  if (!b.runs.empty()) {
    o << "\n<details><summary>" << b.runs.size()
      << " history runs used</summary>\n\n";
    for (const std::string& r : b.runs) o << "- " << Cell(r) << "\n";
    o << "\n</details>\n";
  }
  o << "\n| benchmark | base | new | change | 95% CI | p | p99 | verdict |\n"
    << "|---|---:|---:|---:|---|---:|---:|---|\n";
  for (const CompareRow& r : c.rows) {
    o << "| `" << Cell(r.name) << "` | " << Num(r.throughput.base) << " | "
      << Num(r.throughput.next) << " | " << ChangeText(r.throughput.change_pct)
      << " | " << CiText(r.throughput) << " | " << PText(r.throughput.p)
      << " | " << (r.p99.n_base ? ChangeText(r.p99.change_pct) : "n/a") << " | "
      << Cell(VerdictText(r)) << " |\n";
  }
  MarkdownList(o, "Missing in NEW", c.missing);
  MarkdownList(o, "Not comparable (not judged)", c.not_comparable);
  MarkdownList(o,
               c.options.allow_incomparable ? "Context differs (allowed)"
                                            : "Not comparable",
               c.incomparable);
  MarkdownList(o, "Only in NEW (not compared)", c.only_in_new);
  return o.str();
}

std::string ComparisonJUnit(const Comparison& c, const BaselineNote& b) {
  size_t failures = c.missing.size(), errors = c.not_comparable.size(),
         skipped = 0;
  bool blocked = !c.incomparable.empty() && !c.options.allow_incomparable;
  errors += blocked ? 1 : 0;
  std::ostringstream cases;
  for (const CompareRow& r : c.rows) {
    cases << "    <testcase classname=\"kvbench." << Xml(Workload(r.name))
          << "\" name=\"" << Xml(r.name) << "\" time=\"0\">\n";
    if (r.correctness_failure) {
      ++failures;
      cases << "      <failure type=\"correctness\" message=\""
            << Xml(r.correctness_detail) << "\"/>\n";
    } else if (r.regression) {
      ++failures;
      cases << "      <failure type=\"regression\" message=\""
            << Xml(RowFailure(c, r)) << "\"/>\n";
    } else if (r.verdict == Verdict::kTooFewReps) {
      ++skipped;
      cases << "      <skipped message=\"too few repetitions to judge\"/>\n";
    }
    cases << "      <system-out>" << Xml(VerdictName(r.verdict)) << ": "
          << Xml(ChangeText(r.throughput.change_pct)) << " "
          << Xml(CiText(r.throughput)) << "</system-out>\n    </testcase>\n";
  }
  for (const std::string& m : c.missing)
    cases << "    <testcase classname=\"kvbench." << Xml(Workload(m))
          << "\" name=\"" << Xml(m)
          << "\" time=\"0\">\n      <failure type=\"missing\" "
             "message=\"no live result in NEW\"/>\n    </testcase>\n";
  for (const std::string& m : c.not_comparable)
    cases << "    <testcase classname=\"kvbench." << Xml(Workload(m))
          << "\" name=\"" << Xml(m.substr(0, m.find(':')))
          << "\" time=\"0\">\n      <error type=\"not-comparable\" message=\""
          << Xml(m) << "\"/>\n    </testcase>\n";
  if (blocked) {
    std::string why;
    for (const std::string& s : c.incomparable)
      why += (why.empty() ? "" : "; ") + s;
    cases
        << "    <testcase classname=\"kvbench.context\" name=\"machine and "
           "build\" time=\"0\">\n      <error type=\"incomparable\" message=\""
        << Xml(why) << "\"/>\n    </testcase>\n";
  }
  std::ostringstream o;
  const size_t tests = c.rows.size() + c.missing.size() +
                       c.not_comparable.size() + (blocked ? 1 : 0);
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
    << "  <testsuite name=\"kvbench-gate\" tests=\"" << tests
    << "\" failures=\"" << failures << "\" errors=\"" << errors
    << "\" skipped=\"" << skipped << "\">\n    <properties>\n"
    << "      <property name=\"mode\" value=\"" << Xml(c.mode) << "\"/>\n"
    << "      <property name=\"threshold_pct\" value=\""
    << c.options.threshold_pct << "\"/>\n"
    << "      <property name=\"exit_code\" value=\"" << c.GateExitCode()
    << "\"/>\n      <property name=\"baseline\" value=\"" << Xml(b.base)
    << "\"/>\n";
  for (const std::string& r : b.runs)
    o << "      <property name=\"baseline_run\" value=\"" << Xml(r) << "\"/>\n";
  o << "    </properties>\n"
    << cases.str() << "  </testsuite>\n</testsuites>\n";
  return o.str();
}

}  // namespace kvb::report
