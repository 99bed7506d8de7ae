#!/usr/bin/env bash
# Terraform's own checks over every Terraform directory of the repository, two at a time.
#
#   tools/tf_dirs.sh validate [DIR...]   terraform init -backend=false + terraform validate
#   tools/tf_dirs.sh test [DIR...]       terraform init -backend=false + terraform test (dirs with tests/ only)
#   tools/tf_dirs.sh check [DIR...]      both, with one init per directory (what `make test` runs)
#
# Without DIRs: modules/*, examples/* and environments/*. Environments init with -lockfile=readonly, so a
# committed .terraform.lock.hcl that no longer matches the constraints fails instead of being rewritten.
# Every directory is checked even when one fails; the exit status is non-zero when any failed. Terraform runs
# through tools/terraform.sh (the project's CLI configuration: provider mirror or registry). TF_JOBS sets the
# parallelism (default 2). Each directory's full output is kept in .tools/terraform/logs/.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tf="$repo_root/tools/terraform.sh"
logs="$repo_root/.tools/terraform/logs"

one() {
  local action="$1" dir="$2" log name lock_args=()
  name="$(cd "$dir" && pwd)"
  name="${name#"$repo_root"/}"
  log="$logs/${name//\//_}.$action.log"
  case "$name" in environments/*) lock_args=(-lockfile=readonly) ;; esac
  if ! "$tf" -chdir="$dir" init -backend=false -input=false -no-color "${lock_args[@]}" >"$log" 2>&1; then
    echo "FAIL $name: terraform init"
    sed 's/^/    /' "$log" | grep -v '^    $' | tail -n 20
    return 1
  fi
  local started=$SECONDS
  case "$action" in
    check)
      validate_and_test "$dir" "$name" "$log"
      return
      ;;
    validate)
      if "$tf" -chdir="$dir" validate -no-color >>"$log" 2>&1; then
        echo "ok   $name: valid ($((SECONDS - started)) s)"
      else
        echo "FAIL $name: terraform validate"
        sed 's/^/    /' "$log" | tail -n 30
        return 1
      fi
      ;;
    test)
      if "$tf" -chdir="$dir" test -no-color >>"$log" 2>&1; then
        echo "ok   $name: $(grep -E '^Success! [0-9]+ passed' "$log" | sed 's/^Success! //') ($((SECONDS - started)) s)"
      else
        echo "FAIL $name: terraform test"
        grep -E '\.\.\. fail|Error:|^│|^Failure!|expected|was |on tests/' "$log" | sed 's/^/    /' | head -n 60
        return 1
      fi
      ;;
  esac
}

# check: validate, then test where there are tests, after the one init.
validate_and_test() {
  local dir="$1" name="$2" log="$3" started=$SECONDS
  if ! "$tf" -chdir="$dir" validate -no-color >>"$log" 2>&1; then
    echo "FAIL $name: terraform validate"
    sed 's/^/    /' "$log" | tail -n 30
    return 1
  fi
  if ! compgen -G "$dir/tests/*.tftest.hcl" >/dev/null; then
    echo "ok   $name: valid, no tests ($((SECONDS - started)) s)"
    return 0
  fi
  if "$tf" -chdir="$dir" test -no-color >>"$log" 2>&1; then
    echo "ok   $name: valid, $(grep -E '^Success! [0-9]+ passed' "$log" | sed 's/^Success! //') ($((SECONDS - started)) s)"
  else
    echo "FAIL $name: terraform test"
    grep -E '\.\.\. fail|Error:|^│|^Failure!|expected|was |on tests/' "$log" | sed 's/^/    /' | head -n 60
    return 1
  fi
}

if [[ "${1:-}" == "--one" ]]; then
  shift
  one "$@"
  exit
fi

action="${1:-}"
case "$action" in
  validate | test | check) shift ;;
  *)
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac

dirs=("$@")
if [[ ${#dirs[@]} -eq 0 ]]; then
  for dir in "$repo_root"/modules/* "$repo_root"/examples/* "$repo_root"/environments/*; do
    [[ -d "$dir" ]] && dirs+=("$dir")
  done
fi
if [[ "$action" == "test" ]]; then
  with_tests=()
  for dir in "${dirs[@]}"; do
    compgen -G "$dir/tests/*.tftest.hcl" >/dev/null && with_tests+=("$dir")
  done
  dirs=("${with_tests[@]}")
fi
mkdir -p "$logs"

# The first directory alone: without a mirror it fills the shared plugin cache, which concurrent inits must not
# race to fill.
status=0
"$0" --one "$action" "${dirs[0]}" || status=1
if [[ ${#dirs[@]} -gt 1 ]]; then
  printf '%s\0' "${dirs[@]:1}" | xargs -0 -n 1 -P "${TF_JOBS:-2}" "$0" --one "$action" || status=1
fi
if [[ $status -ne 0 ]]; then
  echo "tf_dirs.sh $action: failures above (full logs in ${logs#"$repo_root"/}/)" >&2
fi
exit "$status"
