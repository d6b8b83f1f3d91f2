// kvbench: runs storage-engine benchmark suites and writes results.json (see
// harness/cli.h).
#include "harness/cli.h"

int main(int argc, char** argv) { return kvb::KvbenchMain(argc, argv); }
