#!/usr/bin/env bash
# terraform fmt over the Terraform code of this repo (modules/, examples/, environments/), .tftest.hcl included.
#
#   tools/tf_fmt.sh            rewrite unformatted files in place
#   tools/tf_fmt.sh --check    list unformatted files with a diff; exit non-zero if there are any
#   tools/tf_fmt.sh [--check] DIR...   the same for other directories
#
# Uses $TERRAFORM if set, else terraform on PATH, and insists on the version in .terraform-version: fmt's
# output changes between releases. fmt needs no providers, so it works offline.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
terraform_bin="${TERRAFORM:-terraform}"
# The CLI configuration of the environment may name a missing file; fmt and version need none.
export TF_CLI_CONFIG_FILE=/dev/null
wanted="$(tr -d '[:space:]' <"$repo_root/.terraform-version")"

if ! command -v "$terraform_bin" >/dev/null 2>&1; then
  echo "tf_fmt.sh: no terraform binary (install Terraform $wanted, or set TERRAFORM=...)" >&2
  exit 2
fi
version="$("$terraform_bin" version -json | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p')"
if [[ "$version" != "$wanted" ]]; then
  echo "tf_fmt.sh: terraform is $version; .terraform-version says $wanted" >&2
  exit 2
fi

check=0
dirs=()
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    -h | --help)
      sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
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
  for dir in modules examples environments; do
    [[ -d "$repo_root/$dir" ]] && dirs+=("$repo_root/$dir")
  done
fi

status=0
for dir in "${dirs[@]}"; do
  if [[ $check -eq 1 ]]; then
    "$terraform_bin" fmt -check -recursive -diff "$dir" || status=1
  else
    "$terraform_bin" fmt -recursive "$dir" || status=1
  fi
done
if [[ $check -eq 1 && $status -eq 1 ]]; then
  echo "tf_fmt.sh: unformatted Terraform files (run make fmt to fix)" >&2
fi
exit "$status"
