#!/usr/bin/env bash
# browser_test: the HTML pages in a real browser (history/README.md, "HTML pages").
# Runs the smoke suite three times on memory and null, builds the report page
# (kvbench report --html) and the history dashboard (kvbench history html), loads
# each in headless Chromium with the page's self-test (#selftest: every required
# element present, every chart drawn, a click on a numeric table header sorts
# ascending and a second click descending, no console or load error), with every
# host name unresolvable so a network fetch would fail, and saves a screenshot.
#   browser_test.sh KVBENCH OUT_DIR
# Exit 0 pass, 1 fail, 77 skipped (no chromium: scripts/install-deps.sh installs it).
set -u
kvb=$1
out=$2
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "SKIPPED: chromium is not installed (scripts/install-deps.sh)"
  exit 77
fi
rm -rf "$out" && mkdir -p "$out" || exit 1
for i in 1 2 3; do
  "$kvb" run --suite smoke --engines memory,null --repetitions 2 --quiet \
    --out "$out/run$i" > "$out/run$i.log" 2>&1 || { cat "$out/run$i.log"; exit 1; }
done
"$kvb" report "$out/run1" --no-plots --html "$out/report.html" || exit 1
"$kvb" history add --db "$out/history.sqlite" "$out/run1" "$out/run2" "$out/run3" || exit 1
"$kvb" history html "$out/dashboard.html" --db "$out/history.sqlite" --group run || exit 1

fail=0
for page in report dashboard; do
  file="$out/$page.html"
  flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
         --host-resolver-rules="MAP * ~NOTFOUND" --virtual-time-budget=10000
         --user-data-dir="$out/profile-$page")
  timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$file#selftest" \
    > "$out/$page.dom" 2> "$out/$page.browser.log"
  result=$(grep -o '<pre id="kvb-selftest">[^<]*' "$out/$page.dom" | sed 's/.*>//')
  echo "$page.html ($(stat -c %s "$file") bytes): ${result:-no self-test result}"
  case "$result" in
    "KVB-SELFTEST PASS"*chartjs=yes) ;;
    "KVB-SELFTEST PASS"*) echo "  (Chart.js not inlined: install libjs-chart.js)" ;;
    *) fail=1 ;;
  esac
  timeout 120 "$browser" "${flags[@]}" --window-size=1280,2400 \
    --screenshot="$out/$page.png" "file://$file#selftest" \
    >> "$out/$page.browser.log" 2>&1
  if [ -s "$out/$page.png" ]; then
    echo "  screenshot: $out/$page.png ($(stat -c %s "$out/$page.png") bytes)"
  else
    echo "  no screenshot"; fail=1
  fi
done
exit $fail
