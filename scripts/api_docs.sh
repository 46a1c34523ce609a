#!/usr/bin/env bash
# The API reference: doxygen over include/omni/ (docs/api/Doxyfile) into build/api/html/index.html,
# or OMNI_API_OUT/html/index.html. Fails (exit 1, printing them) on
#   - a public class, struct or union without a doc comment ("Compound ... is not documented"),
#     unless docs/api/undocumented.txt lists it as pending (OMNI_API_STRICT=1 ignores that list);
#   - any other doxygen warning: doc-syntax errors (unknown commands or HTML tags, unterminated
#     comments, bad arguments; WARN_IF_DOC_ERROR).
# Undocumented members (functions, fields, enum values) are only counted, not failures: every
# class must say what it is, while most fields are named well enough by their trailing comment.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v doxygen >/dev/null || scripts/deps.sh doxygen
out=${OMNI_API_OUT:-build/api}
mkdir -p "$out"
out=$(cd "$out" && pwd)
log=$out/warnings.log
rm -rf "$out/html" "$log"
# Settings given after the file override it: the output folder moves, nothing else changes.
{ cat docs/api/Doxyfile; printf 'OUTPUT_DIRECTORY = "%s"\nWARN_LOGFILE = "%s"\n' "$out" "$log"; } | doxygen - >/dev/null
sed -i "s#^$PWD/##" "$log"

pending=docs/api/undocumented.txt
[[ ${OMNI_API_STRICT:-0} == 1 || ! -f $pending ]] && pending=/dev/null
undocumented=$(grep -E ': warning: Compound .* is not documented\.$' "$log" || true)
missing=$(awk 'FILENAME == ARGV[1] { sub(/[[:space:]]*#.*/, ""); if ($0 != "") pend[$0] = 1; next }
               { name = $0; sub(/^.*: warning: Compound /, "", name); sub(/ is not documented\.$/, "", name)
                 if (!(name in pend)) print }' "$pending" <(printf '%s\n' "$undocumented" | sed '/^$/d'))
doc_errors=$(grep -E ': (warning|error): ' "$log" | grep -v ' is not documented\.$' | awk '!seen[$0]++' || true)
members=$(grep -c ': warning: Member .* is not documented\.$' "$log" || true)
n_pending=$(printf '%s\n' "$undocumented" | sed '/^$/d' | wc -l)
n_missing=$(printf '%s\n' "$missing" | sed '/^$/d' | wc -l)
stale=$(awk 'FILENAME == ARGV[1] { name = $0; sub(/^.*: warning: Compound /, "", name); sub(/ is not documented\.$/, "", name); und[name] = 1; next }
             { sub(/[[:space:]]*#.*/, ""); if ($0 != "" && !($0 in und)) print "  " $0 }' <(printf '%s\n' "$undocumented") "$pending")

echo "api_docs: $out/html/index.html; undocumented classes: $n_missing failing, $((n_pending - n_missing)) pending ($pending); undocumented members: $members"
[[ -n $stale ]] && printf 'api_docs: documented now or gone, remove from %s:\n%s\n' "$pending" "$stale"
status=0
if [[ -n $missing ]]; then
  echo "api_docs: public classes without a /// comment (one line: what it is, what it is for):" >&2
  printf '%s\n' "$missing" >&2
  status=1
fi
if [[ -n $doc_errors ]]; then
  echo "api_docs: doc comment errors:" >&2
  printf '%s\n' "$doc_errors" >&2
  status=1
fi
exit $status
