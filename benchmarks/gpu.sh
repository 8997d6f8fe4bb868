#!/bin/sh
# The GPU figures in one go: the benchmark at three batch sizes, then a full-scale DCGAN run and its quality.
# From the repository's top, on a machine with a CUDA GPU, once ./course.sh test has set things up:
#
#   sh benchmarks/gpu.sh [PEAK_TFLOPS]
#
# PEAK_TFLOPS is the GPU's dense bf16 peak from its data sheet; with it the benchmark also prints the
# fraction of that peak the trainer reaches. Figures go to runs/bench/gpu.json and runs/gpu-full/.
set -eu
. .venv/bin/activate
peak=${1:-}
python -m course bench --device cuda --batch-size 64 256 1024 --steps 300 --rounds 3 \
    ${peak:+--peak-tflops "$peak"} --out runs/bench/gpu.json
python -m course train-gan --device cuda --loss dcgan --steps 20000 --sample-every 1000 --checkpoint-every 2000 \
    --out runs/gpu-full --resume
python -m course sample --checkpoint runs/gpu-full/checkpoint.pt --n 1000 --out runs/gpu-full/dresses.npy
python -m course evaluate --samples runs/gpu-full/dresses.npy
