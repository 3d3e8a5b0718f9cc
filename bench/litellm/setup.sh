#!/usr/bin/env bash
# Create bench/.venv-litellm: LiteLLM's proxy, in a venv of its own, for side-by-side benchmarks only.
#
# The version is pinned exactly and every package by hash (requirements.txt, made from requirements.in by
# `uv pip compile bench/litellm/requirements.in --generate-hashes --python-version 3.11
#  -o bench/litellm/requirements.txt`): some LiteLLM releases were compromised, so nothing floats.
# Ringside's own venv never imports LiteLLM; the benchmark only runs its `litellm` command.
#
# Usage: bash bench/litellm/setup.sh [python]   (default: the interpreter behind .venv, else python3.11)
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=bench/.venv-litellm
python="${1:-}"
if [[ -z "$python" ]]; then
  if [[ -x .venv/bin/python ]]; then
    python="$(.venv/bin/python -c 'import sys; print(sys._base_executable)')"
  else
    python=python3.11
  fi
fi

if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --require-hashes --no-deps -r bench/litellm/requirements.txt
"$venv/bin/python" -m pip check
LITELLM_LOCAL_MODEL_COST_MAP=True "$venv/bin/litellm" --version
