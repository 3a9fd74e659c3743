"""Synthetic PyTorch DDP training for the Cube local-executor benchmark.

Launched with torchrun (one process per GPU). Trains a wide MLP on random data held on the GPU, so the figure is
compute and NCCL all-reduce, not data loading. Rank 0 prints the executor's metric line format at the end:
    metric samples_per_second=<float> step=<steps>
Usage: torchrun --standalone --nproc-per-node=N ddp_bench.py [--steps 300] [--warmup 30] [--batch 512] [--width 4096]
"""
import argparse
import os
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--width", type=int, default=4096)
    args, _ = parser.parse_known_args()

    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    torch.manual_seed(1234 + rank)

    model = torch.nn.Sequential(
        torch.nn.Linear(args.width, args.width), torch.nn.ReLU(),
        torch.nn.Linear(args.width, args.width), torch.nn.ReLU(),
        torch.nn.Linear(args.width, args.width), torch.nn.ReLU(),
        torch.nn.Linear(args.width, 1000),
    ).to(device)
    ddp = DistributedDataParallel(model, device_ids=[local_rank] if cuda else None)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.randn(args.batch, args.width, device=device)
    y = torch.randint(0, 1000, (args.batch,), device=device)

    def step() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type="cuda" if cuda else "cpu", dtype=torch.bfloat16, enabled=cuda):
            loss = loss_fn(ddp(x), y)
        loss.backward()
        optimizer.step()
        return loss

    for _ in range(args.warmup):
        step()
    if cuda:
        torch.cuda.synchronize()
    dist.barrier()
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    if cuda:
        torch.cuda.synchronize()
    dist.barrier()
    elapsed = time.perf_counter() - start
    if rank == 0:
        rate = args.steps * args.batch * world / elapsed
        print(f"metric samples_per_second={rate:.1f} loss={loss.item():.4f} step={args.steps}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
