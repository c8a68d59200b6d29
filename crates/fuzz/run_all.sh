#!/usr/bin/env bash
# Runs every fuzz target for SECS seconds each (default 600), one after the other, seeded
# from the shared feed corpus (KITH_CORPUS, default ../shared/corpus beside the checkout).
# A crash stops its target and is kept in crates/fuzz/artifacts/<target>/; the growing
# corpus stays in crates/fuzz/corpus/<target>/ for the next run. Needs nightly and
# `cargo install cargo-fuzz`. Usage: bash crates/fuzz/run_all.sh [target...]
set -uo pipefail
cd "$(dirname "$0")/../.."
SECS="${SECS:-600}"
CORPUS="${KITH_CORPUS:-$(cd .. && pwd)/shared/corpus}"
C=crates/fuzz/corpus
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(feed xml_repair charset json_feed sanitizer opml url tag)
mkdir -p "$C"/{feed,xml_repair,charset,json_feed,sanitizer,opml,url,tag}
if [ -d "$CORPUS/feeds" ]; then
    # Feeds (and their HTML) for the parsers and the sanitiser, JSON Feeds for the JSON
    # reader, small XML files for OPML import; url and tag start from nothing.
    for t in feed xml_repair charset sanitizer; do
        find "$CORPUS/feeds" -type f ! -name '*.jsonl' -size -200k -exec cp -t "$C/$t" {} +
    done
    find "$CORPUS/feeds" -type f -name '*.json' -size -200k -exec cp -t "$C/json_feed" {} +
    find "$CORPUS/feeds" -type f \( -name '*.opml' -o -name '*.xml' \) -size -50k | head -200 |
        xargs -r cp -t "$C/opml"
fi
mkdir -p crates/fuzz/logs
status=0
for t in "${targets[@]}"; do
    echo "== $t for $SECS s (log: crates/fuzz/logs/$t.log)"
    if ! cargo +nightly fuzz run --fuzz-dir crates/fuzz -O "$t" "$C/$t" -- \
        -max_total_time="$SECS" -rss_limit_mb=4096 -timeout=20 -print_final_stats=1 \
        > "crates/fuzz/logs/$t.log" 2>&1; then
        status=1
    fi
    grep -E '^(stat::|SUMMARY|artifact_prefix)|panicked at' "crates/fuzz/logs/$t.log"
done
exit $status
