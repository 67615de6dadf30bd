"""Reference outputs of all-MiniLM-L6-v2 for BertEncoderReferenceTest, from Hugging Face transformers' BertModel.

The Java encoder is written from DJL's functional ops; this fixture is the independent check that it computes what
BERT computes. Three sentences of different lengths are tokenised with the model's own tokenizer and padded with
[PAD] (id 0) to 16 tokens, so the fixture also covers the padding mask and pooling over non-pad tokens only.

Written (from the repository root, with goodput-data/ installed by .ci/text-assets.sh) by:

    bench/.venv/bin/pip install transformers==5.25.0 safetensors==0.8.0   # torch 2.7.1 CPU already in the venv
    bench/.venv/bin/python trainer-image/src/test/python/bert_reference.py

Output: trainer-image/src/test/resources/dev/goodput/trainer/model/bert/minilm-reference.safetensors with
  input_ids          int64 [3, 16]       token ids, [CLS] ... [SEP] then pad id 0
  attention_mask     int64 [3, 16]       1 for real tokens
  last_hidden_state  float32 [3, 16, 384] the encoder's output at every position, pad positions included
  mean_pooled        float32 [3, 384]    sentence-transformers' mean pooling over the real tokens
"""
import os

import torch
from safetensors.torch import save_file
from transformers import AutoTokenizer, BertModel

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
MODEL = os.path.join(ROOT, "goodput-data", "all-minilm-l6-v2")
OUT = os.path.join(HERE, "..", "resources", "dev", "goodput", "trainer", "model", "bert", "minilm-reference.safetensors")
LENGTH = 16

SENTENCES = [
    "A gripping, beautifully shot thriller.",
    "Dull.",
    "The plot wanders for an hour, and the ending is worse.",
]


def main():
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(MODEL)
    # Eager attention: the plain softmax(QK^T/sqrt(d) + mask)V, as the Java encoder computes it; the fused kernels
    # would add their own rounding to the comparison.
    model = BertModel.from_pretrained(MODEL, attn_implementation="eager").eval()
    batch = tokenizer(SENTENCES, padding="max_length", max_length=LENGTH, truncation=False, return_tensors="pt")
    assert batch["input_ids"].shape == (len(SENTENCES), LENGTH), "a sentence is longer than the fixture's length"
    with torch.no_grad():
        hidden = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                       token_type_ids=torch.zeros_like(batch["input_ids"])).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    save_file({
        "input_ids": batch["input_ids"].to(torch.int64).contiguous(),
        "attention_mask": batch["attention_mask"].to(torch.int64).contiguous(),
        "last_hidden_state": hidden.contiguous(),
        "mean_pooled": pooled.contiguous(),
    }, os.path.normpath(OUT), metadata={"model": "all-MiniLM-L6-v2", "generator": "bert_reference.py"})
    print("ids", batch["input_ids"].tolist())
    print("hidden", tuple(hidden.shape), "max |h|", hidden.abs().max().item())


if __name__ == "__main__":
    main()
