#!/bin/bash
# A Slurm array job: each task is one contributor machine (one GPU) of a hub study.
#   sbatch --array=0-15 examples/hub/slurm-array.sh http://hub.example:8787/studies/<id>
# The token is a secret: keep it in a file only you can read (chmod 600), not in this script.
#SBATCH --job-name=autoresearch
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --time=12:00:00
#SBATCH --output=autoresearch-%A_%a.log
set -euo pipefail
STUDY_URL=${1:?usage: sbatch --array=0-N slurm-array.sh STUDY_URL}
export AUTORESEARCH_HUB_TOKEN=$(cat "$HOME/.config/autoresearch/hub-token")
WORK=${SLURM_TMPDIR:-/tmp}/autoresearch-$SLURM_ARRAY_JOB_ID-$SLURM_ARRAY_TASK_ID
# join makes a workspace from the study's baseline (a [hub] section in autoresearch.toml);
# run experiments on it until the job's time is nearly up.
autoresearch join "$STUDY_URL" "$WORK"
autoresearch run "$WORK" --max-hours 11.5 --seed "$SLURM_ARRAY_TASK_ID"
