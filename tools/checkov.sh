#!/usr/bin/env bash
# Static security checks of the Terraform code with checkov, configured by .config/checkov.yaml.
#
# checkov lives in its own venv (.venv-checkov): it pins boto3 and packaging<24, which would break the
# test dependencies in .venv (pytest 9 needs a newer packaging). Exits non-zero when a check fails.
# Extra arguments go to every checkov run, e.g. `tools/checkov.sh --check CKV_AWS_116` or `-o json`.
set -euo pipefail

CHECKOV_VERSION="3.3.30"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CHECKOV_VENV:-${REPO_ROOT}/.venv-checkov}"
PYTHON="${PYTHON:-python3}"
# Scanned one at a time: checkov 3.3.30 mis-reports a single run over several directories.
DIRECTORIES=(modules environments)

installed_version() {
  "${VENV}/bin/python" -c 'import importlib.metadata as m; print(m.version("checkov"))' 2>/dev/null || true
}

if [[ "$(installed_version)" != "${CHECKOV_VERSION}" ]]; then
  echo "checkov.sh: installing checkov ${CHECKOV_VERSION} into ${VENV}" >&2
  "${PYTHON}" -m venv "${VENV}"
  "${VENV}/bin/python" -m pip install --quiet --disable-pip-version-check "checkov==${CHECKOV_VERSION}"
fi

cd "${REPO_ROOT}"
status=0
for directory in "${DIRECTORIES[@]}"; do
  echo "== checkov: ${directory}/"
  "${VENV}/bin/checkov" --config-file .config/checkov.yaml --skip-download --quiet --compact \
    -d "${directory}" "$@" || status=$?
done
exit "${status}"
