#!/usr/bin/env bash
# Terraform with the project's CLI configuration (.config/terraformrc.tpl): providers come from a filesystem
# mirror when one is given or found, from the registry otherwise.
#
#   tools/terraform.sh ARGS...     run `terraform ARGS...` with TF_CLI_CONFIG_FILE set to the rendered config
#   tools/terraform.sh --env       print `export ...` lines for the shell (eval "$(tools/terraform.sh --env)")
#   tools/terraform.sh --check     exit 0 if Terraform and the aws provider can be had, else print one line
#                                  saying what is missing and how to get it, and exit 3
#
# The mirror is, in order: $SLEEPWAKE_TF_PROVIDER_MIRROR (a directory holding registry.terraform.io/...,
# in the packed or unpacked layout); the usual plugin directories (~/.terraform.d/plugins,
# ~/.local/share/terraform/plugins, /usr/local/share/terraform/plugins, /usr/share/terraform/plugins) and
# /opt/*; then a bounded search of /opt, /usr/local and $HOME for terraform-provider-aws_*. Without a mirror,
# `terraform init` downloads from registry.terraform.io. $TERRAFORM names another terraform binary.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state_dir="$repo_root/.tools/terraform"
terraform_bin="${TERRAFORM:-terraform}"
wanted_version="$(tr -d '[:space:]' <"$repo_root/.terraform-version")"

# The directory that holds registry.terraform.io/hashicorp/aws/..., or nothing.
mirror_root_of() {
  local provider="$1" dir
  dir="$(dirname "$provider")"
  while [[ "$dir" != "/" && "$(basename "$dir")" != "registry.terraform.io" ]]; do dir="$(dirname "$dir")"; done
  [[ "$dir" != "/" ]] && dirname "$dir"
}

has_aws_provider() {
  [[ -d "$1/registry.terraform.io/hashicorp/aws" ]] &&
    [[ -n "$(find "$1/registry.terraform.io/hashicorp/aws" -maxdepth 3 -name 'terraform-provider-aws_*' -print -quit 2>/dev/null)" ]]
}

find_mirror() {
  if [[ -n "${SLEEPWAKE_TF_PROVIDER_MIRROR:-}" ]]; then
    if has_aws_provider "$SLEEPWAKE_TF_PROVIDER_MIRROR"; then
      (cd "$SLEEPWAKE_TF_PROVIDER_MIRROR" && pwd)
      return
    fi
    echo "terraform.sh: SLEEPWAKE_TF_PROVIDER_MIRROR=$SLEEPWAKE_TF_PROVIDER_MIRROR holds no registry.terraform.io/hashicorp/aws provider; ignoring it" >&2
  fi
  local candidate
  for candidate in "${HOME:-/nonexistent}/.terraform.d/plugins" "${HOME:-/nonexistent}/.local/share/terraform/plugins" \
    /usr/local/share/terraform/plugins /usr/share/terraform/plugins /opt/*; do
    if [[ -d "$candidate" ]] && has_aws_provider "$candidate"; then
      echo "$candidate"
      return
    fi
  done
  local found
  found="$(find /opt /usr/local "${HOME:-/nonexistent}" -maxdepth 7 -name 'terraform-provider-aws_*' \
    -path '*registry.terraform.io/hashicorp/aws/*' -print -quit 2>/dev/null || true)"
  [[ -n "$found" ]] && mirror_root_of "$found"
  return 0
}

render_config() {
  local mirror="$1" block cache="" config="$state_dir/terraformrc"
  if [[ -n "$mirror" ]]; then
    block="  filesystem_mirror {
    path    = \"$mirror\"
    include = [\"registry.terraform.io/hashicorp/aws\"]
  }
  direct {
    exclude = [\"registry.terraform.io/hashicorp/aws\"]
  }"
  else
    block="  direct {}"
    mkdir -p "$state_dir/plugin-cache"
    cache="plugin_cache_dir = \"$state_dir/plugin-cache\""
  fi
  awk -v block="$block" -v cache="$cache" \
    '{ if ($0 == "@MIRROR_BLOCK@") print block; else if ($0 == "@PLUGIN_CACHE@") print cache; else print }' \
    "$repo_root/.config/terraformrc.tpl" >"$config.$$.tmp"
  # Atomic: make test runs several of these at once.
  mv "$config.$$.tmp" "$config"
  echo "$config"
}

# A cached answer, so the many calls of one `make test` search the disk once.
setup() {
  local cache="$state_dir/mirror" mirror
  if [[ -f "$cache" && -z "${SLEEPWAKE_TF_PROVIDER_MIRROR:-}" ]] && { [[ ! -s "$cache" ]] || has_aws_provider "$(cat "$cache")"; }; then
    mirror="$(cat "$cache")"
  else
    mirror="$(find_mirror)"
    mkdir -p "$state_dir"
    printf '%s' "$mirror" >"$cache.$$.tmp"
    mv "$cache.$$.tmp" "$cache"
  fi
  MIRROR="$mirror"
  CONFIG="$(render_config "$mirror")"
}

check() {
  if ! command -v "$terraform_bin" >/dev/null 2>&1; then
    echo "Terraform tests skipped: no terraform binary (install Terraform $wanted_version from https://developer.hashicorp.com/terraform/install, or set TERRAFORM=/path/to/terraform)"
    return 3
  fi
  local version
  version="$(TF_CLI_CONFIG_FILE=/dev/null "$terraform_bin" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p')"
  if [[ "$version" != "$wanted_version" ]]; then
    echo "Terraform tests skipped: terraform is ${version:-of unknown version}, this repository needs $wanted_version (.terraform-version; https://developer.hashicorp.com/terraform/install)"
    return 3
  fi
  setup
  if [[ -n "$MIRROR" ]]; then return 0; fi
  if command -v curl >/dev/null 2>&1 &&
    curl -fsS --max-time 5 -o /dev/null https://registry.terraform.io/v1/providers/hashicorp/aws/versions 2>/dev/null; then
    return 0
  fi
  echo "Terraform tests skipped: no hashicorp/aws provider (no mirror found and registry.terraform.io unreachable; set SLEEPWAKE_TF_PROVIDER_MIRROR to a directory holding registry.terraform.io/hashicorp/aws/<version>/<os_arch>/, e.g. made by \`terraform providers mirror DIR\` where there is network)"
  return 3
}

case "${1:-}" in
  --check)
    check
    ;;
  --env)
    setup
    printf 'export TF_CLI_CONFIG_FILE=%q\n' "$CONFIG"
    ;;
  *)
    setup
    export TF_CLI_CONFIG_FILE="$CONFIG"
    exec "$terraform_bin" "$@"
    ;;
esac
