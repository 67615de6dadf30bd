#!/usr/bin/env python3
"""The peer for the trainer's transformer fine-tuning: MiniLM-L6 (all-MiniLM-L6-v2) with a classification head on
mean pooling, fine-tuned in PyTorch 2.7.1 eager as a performance-minded user runs it: Hugging Face transformers'
BertModel from the same safetensors file, AdamW(fused=True), LoRA through PEFT, gradient checkpointing through
transformers' own (torch.utils.checkpoint, non-reentrant). Same tokenizer.json, same snippets in the same order, same
sequence length, batch and threads as the trainer's `trainer bench --model bert-classifier`.

Prints one JSON line: samples/s over the timed steps and the process's peak RSS (ru_maxrss).

    bench/.venv/bin/python bench/transformers/pytorch_minilm.py --mode lora --batch 16 --seq 128 --threads 2
"""
import argparse
import csv
import json
import resource
import time

import torch
from tokenizers import Tokenizer
from transformers import BertModel


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pretrained", default="goodput-data/all-minilm-l6-v2")
    ap.add_argument("--data", default="goodput-data/rotten-tomatoes/train.csv")
    ap.add_argument("--mode", choices=["full", "lora", "lora+checkpointing", "full+checkpointing"], default="full")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--attention", default="sdpa", choices=["sdpa", "eager"],
                    help="transformers' attention: sdpa (its default, torch's fused scaled_dot_product_attention) or eager")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    tok = Tokenizer.from_file(f"{args.pretrained}/tokenizer.json")
    tok.enable_truncation(args.seq)
    tok.enable_padding(length=args.seq, pad_id=0)
    with open(args.data, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    classes = sorted({r["label"] for r in rows})
    need = (args.warmup + args.steps) * args.batch
    rows = rows[:need]
    ids = torch.tensor([e.ids for e in tok.encode_batch([r["text"] for r in rows])], dtype=torch.long)
    labels = torch.tensor([classes.index(r["label"]) for r in rows], dtype=torch.long)

    encoder = BertModel.from_pretrained(args.pretrained, add_pooling_layer=False, attn_implementation=args.attention)
    if "checkpointing" in args.mode:
        encoder.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if args.mode.startswith("lora"):
        from peft import LoraConfig, get_peft_model
        encoder = get_peft_model(encoder, LoraConfig(r=args.rank, lora_alpha=16, lora_dropout=0.1,
                                                     target_modules=["query", "value"]))
    hidden = encoder.config.hidden_size
    head = torch.nn.Linear(hidden, len(classes))
    dropout = torch.nn.Dropout(encoder.config.hidden_dropout_prob)
    encoder.train()
    params = [p for p in list(encoder.parameters()) + list(head.parameters()) if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=2e-5, fused=True)

    def step(i):
        x = ids[i * args.batch:(i + 1) * args.batch]
        y = labels[i * args.batch:(i + 1) * args.batch]
        mask = (x != 0)
        h = encoder(input_ids=x, attention_mask=mask.long()).last_hidden_state
        m = mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        loss = torch.nn.functional.cross_entropy(head(dropout(pooled)), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=False)
        return loss.item()

    for i in range(args.warmup):
        step(i)
    t0 = time.perf_counter()
    for i in range(args.warmup, args.warmup + args.steps):
        step(i)
    seconds = time.perf_counter() - t0
    print(json.dumps({
        "impl": "pytorch", "mode": args.mode, "batch": args.batch, "seq": args.seq, "threads": args.threads,
        "steps": args.steps, "seconds": round(seconds, 3),
        "samples_per_second": round(args.steps * args.batch / seconds, 2),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "trainable_parameters": sum(p.numel() for p in params), "attention": args.attention,
        "torch": torch.__version__}))


if __name__ == "__main__":
    main()
