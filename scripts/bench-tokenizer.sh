#!/usr/bin/env bash
# Exact-mode tokenizer speed for BENCHMARKS.md: Onbrand's Swift SentencePiece against the
# `sentencepiece` Python package (C++), on the token corpus, in the same run.
#   scripts/bench-tokenizer.sh [MODEL]     (default: the Gemma 3 model in ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-../shared/data/tokenizers/gemma3_tokenizer.model}
files=(../shared/data/token-corpus/*.txt)
python3 -c "import sentencepiece" 2>/dev/null || { echo "needs: pip install sentencepiece" >&2; exit 1; }
swift build -c release --product onbrand-benchmarks >&2
.build/release/onbrand-benchmarks tokenize "$model" "${files[@]}"
python3 - "$model" "${files[@]}" <<'PY'
import sys, time, sentencepiece as spm
sp = spm.SentencePieceProcessor(model_file=sys.argv[1])
texts = [open(f, encoding="utf-8", newline="").read() for f in sys.argv[2:]]
size = sum(len(t.encode()) for t in texts)
tokens = rounds = 0
start = time.perf_counter()
while time.perf_counter() - start < 2:
    for t in texts: tokens += len(sp.encode(t))
    rounds += 1
elapsed = time.perf_counter() - start
print(f'{{"benchmark":"tokenize-sentencepiece-python","files":{len(texts)},"rounds":{rounds},"tokensPerSecond":{tokens/elapsed:.0f},"megabytesPerSecond":{size*rounds/1e6/elapsed:.2f}}}')
PY
