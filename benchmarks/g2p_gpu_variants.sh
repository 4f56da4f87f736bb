#!/bin/bash
# Train four g2p_en settings side by side on one GPU with the recipe on any backend
# (`python -m keras_transformer.training.arrays`, Keras on JAX; PyTorch if JAX fails), each stopping
# cleanly before TRAIN_SECONDS after the start; rerun to resume from the epoch checkpoints.
# The shipped g2p_en is variant b: see BENCHMARKS.md, "g2p_en on a GPU".
#
#   keras-transformer train g2p_en --output-dir runs/g2p_en_prep --save-token-arrays .gpu/g2p_en_ids.npz
#   TRAIN_SECONDS=420 bash benchmarks/g2p_gpu_variants.sh      # then again with 400: it resumes
#   keras-transformer train g2p_en --trained-run /tmp/runs/b_d01_lr05 --zoo-dir saved_models/g2p_en
#
# IDS: the token-id file; RUNS: where the runs go. On a machine without Keras, wheels in .gpu/whl
# (keras, namex, optree) are installed to /tmp/site first.
T0=$(date +%s)
IDS=${IDS:-.gpu/g2p_en_ids.npz}
R=${RUNS:-/tmp/runs}
if ls .gpu/whl/*.whl > /dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl || exit 3
  export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false TF_CPP_MIN_LOG_LEVEL=2
nvidia-smi -L; python3 -c "import sys, numpy, jax, torch; print(sys.version, numpy.__version__, jax.__version__, jax.devices(), torch.__version__)"
STOP=$((T0 + ${TRAIN_SECONDS:-400}))
mkdir -p $R
COMMON="--size small --warmup-steps 1000 --epochs 300 --patience 1000 --average-last 5 --keep-checkpoints 6 --log-every 0 --name g2p_en --stop-at $STOP ${EXTRA:-}"
variant() {  # name, options...
  local name=$1; shift
  mkdir -p $R/$name
  ( KERAS_BACKEND=jax python3 -m keras_transformer.training.arrays $IDS --output-dir $R/$name $COMMON "$@" \
    || KERAS_BACKEND=torch python3 -m keras_transformer.training.arrays $IDS --output-dir $R/$name $COMMON --no-jit-compile "$@" ) >> $R/$name/train.log 2>&1
  echo "$name exit $? at $(( $(date +%s) - T0 )) s"
}
variant a_d01_lr1 --dropout 0.1 --learning-rate-scale 1.0 --batch-tokens 4096 &
variant b_d01_lr05 --dropout 0.1 --learning-rate-scale 0.5 --batch-tokens 4096 &
variant c_d02_lr05 --dropout 0.2 --learning-rate-scale 0.5 --batch-tokens 4096 &
variant d_d01_lr05_b8k --dropout 0.1 --learning-rate-scale 0.5 --batch-tokens 8192 &
wait
echo "all done at $(( $(date +%s) - T0 )) s"
for d in $R/*/; do echo "== $d"; grep -v "^ResumableCheckpoint\|^Epoch" $d/train.log | tail -4; done
