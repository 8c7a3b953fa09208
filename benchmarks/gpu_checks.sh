#!/usr/bin/env bash
# The GPU checks, in one call on a lent GPU machine (the repository root is the working directory):
#   1. codec resynthesis on CUDA, batched engine vs one utterance at a time, every implemented
#      paper subset at full size with random weights (bench_resynthesis.py), in float32 (TF32 off)
#      and, for one subset per family, in float64 (batched = per-utterance up to float64 rounding);
#   1b. DAC (D1-D3) alone: compress batched on the device (loudness and windows as tensor ops),
#      and the CUDA loudness meter (FFT K-weighting) against the CPU reference;
#   2. AASIST-L inference and training speed on CUDA, ours vs the official code (bench_aasist.py);
#   3. `train.py` under `accelerate launch` on CUDA (float32, then bf16) on a small built folder;
#   4. `codecfake build --device cuda` with tiny codecs on a synthetic VCTK; 4b. the same under
#      `accelerate launch` with 2 processes, compared byte for byte with 4.
# Each step has its own time limit and a failing step does not stop the next ones.
#
#   bash benchmarks/gpu_checks.sh OUT_DIR UPSTREAM_AASIST_DIR AASIST_L_CHECKPOINT TRAIN_DATASET_DIR
#
# UPSTREAM_AASIST_DIR is a checkout of the official AASIST code (not part of this repository) and
# TRAIN_DATASET_DIR a folder built with `codecfake build --tiny` (benchmarks/bench_training.py shows how).
set -u
out=${1:?OUT_DIR}
upstream=${2:?UPSTREAM_AASIST_DIR}
checkpoint=${3:?AASIST_L_CHECKPOINT}
train_data=${4:?TRAIN_DATASET_DIR}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
python=${PYTHON:-python3}

nvidia-smi -L
$python -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, torch.cuda.get_device_name())"

echo "== 1. resynthesis on CUDA"
timeout 200 $python benchmarks/bench_resynthesis.py --device cuda --utterances 32 --min-seconds 1 \
    --max-seconds 8 --batch-size 16 --codecs E,D1,A,B1,C,F3,F1,D2,D3,B2,B3,F2,F4,F5,F6 \
    >"$out/resynthesis.txt" 2>&1
echo "exit $?"; grep -v "^|" "$out/resynthesis.txt" | cut -c1-300 | tail -8; grep "^|" "$out/resynthesis.txt"
timeout 80 $python benchmarks/bench_resynthesis.py --device cuda --dtype float64 --utterances 8 --min-seconds 1 \
    --max-seconds 4 --batch-size 8 --codecs E,D1,A,B1,C,F3,F1 >"$out/resynthesis_float64.txt" 2>&1
echo "exit $?"; grep -v "^|\|^done" "$out/resynthesis_float64.txt" | cut -c1-300 | tail -8
grep "^|" "$out/resynthesis_float64.txt"

echo "== 1b. DAC compress on CUDA, batched on the device"
timeout 60 $python -c "
import numpy as np, torch
from codecfake_hf.codecs.loudness import batched_integrated_loudness, integrated_loudness
rng = np.random.default_rng(0)
for rate in (16000, 24000, 44100):
    lengths = [int(n) for n in rng.integers(rate // 4, 8 * rate, 16)]
    batch = torch.zeros(16, max(lengths))
    for row, n in enumerate(lengths):
        batch[row, :n] = torch.from_numpy((0.1 * rng.standard_normal(n)).astype(np.float32))
    cuda = batched_integrated_loudness(batch.cuda(), lengths, rate).cpu().numpy()
    cpu = np.array([integrated_loudness(batch[row, :n].numpy(), rate) for row, n in enumerate(lengths)])
    print(rate, 'Hz: CUDA loudness - CPU reference, max |diff| (dB):', float(np.abs(cuda - cpu).max()))
" 2>&1 | tail -4
timeout 150 $python benchmarks/bench_resynthesis.py --device cuda --utterances 32 --min-seconds 1 \
    --max-seconds 8 --batch-size 16 --codecs D1,D2,D3 >"$out/resynthesis_dac.txt" 2>&1
echo "exit $?"; grep -v "^|\|^done" "$out/resynthesis_dac.txt" | cut -c1-300 | tail -4; grep "^|" "$out/resynthesis_dac.txt"

echo "== 2. AASIST-L on CUDA, ours vs upstream"
timeout 50 $python benchmarks/bench_aasist.py --device cuda --upstream-dir "$upstream" \
    --checkpoint "$checkpoint" --repeats 3 >"$out/aasist.txt" 2>&1
echo "exit $?"; tail -12 "$out/aasist.txt"

echo "== 3. train.py on CUDA"
for precision in no bf16; do
    start=$SECONDS
    timeout 45 $python -m accelerate.commands.launch --num_processes 1 --num_machines 1 \
        --mixed_precision "$precision" --dynamo_backend no train.py --dataset "$train_data" --config E \
        --epochs 3 --num-workers 4 --mixed-precision "$precision" --output-dir "/tmp/run_$precision" \
        >"$out/train_$precision.txt" 2>&1
    status=$?
    echo "precision $precision: exit $status, $((SECONDS - start)) s"
    tail -3 "/tmp/run_$precision/log.jsonl" 2>/dev/null || tail -5 "$out/train_$precision.txt"
done

echo "== 4. codecfake build --device cuda (tiny codecs)"
start=$SECONDS
$python -c "from dataset_builder.synthetic import make_synthetic_vctk as m; m('/tmp/vctk', utterances_per_speaker=2)"
timeout 90 $python -m codecfake_cli build --vctk /tmp/vctk --configs E,A --out /tmp/built \
    --tiny --device cuda --num-proc 2 >"$out/build.txt" 2>&1
echo "exit $?, $((SECONDS - start)) s"; tail -3 "$out/build.txt" | cut -c1-300; find /tmp/built -name "*.parquet" | sort

echo "== 4b. the same build launched: 2 processes sharing the GPU (cuda:<local rank mod GPUs>)"
start=$SECONDS
timeout 120 $python -m accelerate.commands.launch --multi_gpu --num_processes 2 --num_machines 1 \
    --mixed_precision no --dynamo_backend no -m codecfake_cli build --vctk /tmp/vctk --configs E,A \
    --out /tmp/built_launched --tiny --device cuda --num-proc 2 >"$out/build_launched.txt" 2>&1
echo "exit $?, $((SECONDS - start)) s"; grep -o "process [0-9]* of [0-9]*: [0-9]* of the build.s [0-9]* shards" "$out/build_launched.txt"
# the same --num-proc and device as step 4: the published files must be the same bytes
diff -r --exclude=.build /tmp/built /tmp/built_launched && echo "launched build: byte-identical to step 4"
