#!/usr/bin/env bash
# The Terraform part of `make test`: fmt, validate and `terraform test` in every module, example and
# environment (tools/tf_dirs.sh), every validation block tested (tools/tf_validation_coverage.py), and the
# module READMEs' inputs/outputs tables (tools/tfdocs.py).
#
#   tools/tf_checks.sh            run them; where Terraform or the aws provider cannot be had, say in one line
#                                 what is missing and how to get it, run the checks that need neither, and
#                                 exit 0 (the closing lines of `make test` then say the Terraform tests were
#                                 skipped)
#   tools/tf_checks.sh --summary  that closing line, from the last run's record
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
record=".tools/terraform/last-run"
python="${PY:-.venv/bin/python}"

if [[ "${1:-}" == "--summary" ]]; then
  if [[ -f "$record" ]]; then cat "$record"; else echo "Terraform: not run (make tf-checks)"; fi
  exit 0
fi

mkdir -p "$(dirname "$record")"
rm -f "$record"
status=0
if missing="$(tools/terraform.sh --check)"; then
  tools/tf_fmt.sh --check || status=1
  output=".tools/terraform/tf_dirs.out"
  tools/tf_dirs.sh check 2>&1 | tee "$output" || status=1
  passed="$(grep -c '^ok ' "$output" || true)"
  runs="$(sed -n 's/.*valid, \([0-9]*\) passed.*/\1/p' "$output" | awk '{ total += $1 } END { print total + 0 }')"
  if [[ $status -eq 0 ]]; then
    echo "Terraform: fmt clean; validate and terraform test passed in $passed directories ($runs runs)" >"$record"
  else
    echo "Terraform: FAILED (see above)" >"$record"
  fi
else
  echo "$missing"
  echo "Terraform: fmt, validate and terraform test SKIPPED. ${missing#Terraform tests skipped: }" >"$record"
fi
"$python" tools/tf_validation_coverage.py || status=1
"$python" tools/tfdocs.py --check || status=1
exit "$status"
