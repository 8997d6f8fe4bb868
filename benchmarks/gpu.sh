#!/bin/sh
# The GPU figures in one command: the benchmark at batch sizes 64 to 1,024, then a full-scale DCGAN run
# (notebook 06's settings at the full scale: the course's tuned DCGAN, batch 64, seed 0) and its quality report
# (dressness, d² against the real floor, precision and recall beside the real test dresses').
# From the repository's top, on a machine with a CUDA GPU, once ./course.sh test has set things up:
#
#   sh benchmarks/gpu.sh [STEPS [PEAK_TFLOPS]]
#
# STEPS: generator steps of the full run (default 20000, notebook 06's full scale). PEAK_TFLOPS: the GPU's
# dense bf16 peak from its data sheet, to print the share of it the trainer reaches. Figures go to
# runs/bench/gpu.json and runs/gpu-full/ (report.txt holds the timings and the quality line).
set -eu
. .venv/bin/activate
steps=${1:-20000}
peak=${2:-}
mkdir -p runs/gpu-full
python -m course bench --device cuda --batch-size 64 128 256 512 1024 --steps 300 --rounds 3 \
    ${peak:+--peak-tflops "$peak"} --out runs/bench/gpu.json --force
started=$(date +%s)
python -m course train-gan --device cuda --loss dcgan --steps "$steps" --sample-every 1000 --checkpoint-every 2000 \
    --out runs/gpu-full --resume | tee runs/gpu-full/train.txt
finished=$(date +%s)
python -m course sample --checkpoint runs/gpu-full/checkpoint.pt --n 1000 --out runs/gpu-full/dresses.npy --force
python -m course sample --checkpoint runs/gpu-full/checkpoint.pt --n 64 --out runs/gpu-full/dresses.png --force
{
    echo "full run: $steps steps in $((finished - started)) s of wall-clock time (start-up and the final report included)"
    python -m course evaluate --samples runs/gpu-full/dresses.npy
} | tee runs/gpu-full/report.txt
