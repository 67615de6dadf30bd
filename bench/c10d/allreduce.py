"""The peer of AllReduceTimer: torch.distributed's Gloo all-reduce of float32 tensors, timed the same way.

One rank of a group from the usual environment (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT); sizes as arguments,
N or N/k (N elements in k tensors, which torch.distributed reduces with one call each, bucketed here as DDP does:
flattened into buffers of at most 25 MiB, one call each). Prints the median of 10 timed repetitions after 3 warm-up ones (rank 0).
"""
import statistics
import sys
import time

import torch
import torch.distributed as dist

REPS, WARMUP = 10, 3
BUCKET_BYTES = 25 << 20


def main():
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    for size in sys.argv[1:]:
        parts = size.split("/")
        elements, tensors = int(parts[0]), int(parts[1]) if len(parts) > 1 else 1
        arrays = [torch.ones(elements // tensors) for _ in range(tensors)]
        # Consecutive tensors up to 25 MiB per call, as DDP's buckets and the trainer's.
        buckets, used = [], BUCKET_BYTES
        for a in arrays:
            size_bytes = a.numel() * 4
            if used + size_bytes > BUCKET_BYTES:
                buckets.append([])
                used = 0
            buckets[-1].append(a)
            used += size_bytes
        times = []
        for r in range(-WARMUP, REPS):
            dist.barrier()
            t0 = time.perf_counter()
            for bucket in buckets:
                if len(bucket) == 1:
                    dist.all_reduce(bucket[0])
                    bucket[0].div_(dist.get_world_size())
                    continue
                flat = torch.cat([a.reshape(-1) for a in bucket])
                dist.all_reduce(flat)
                flat.div_(dist.get_world_size())
                offset = 0
                for a in bucket:
                    a.copy_(flat[offset:offset + a.numel()].view_as(a))
                    offset += a.numel()
            if r >= 0:
                times.append((time.perf_counter() - t0) * 1e3)
        if rank == 0:
            print(f"allreduce {size} elements={elements} tensors={tensors} median_ms={statistics.median(times):.3f}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
