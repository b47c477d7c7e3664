"""Multi-process launch on machines without CUDA (``--launcher pytorch``).

MMEngine's PyTorch launcher calls ``torch.cuda.set_device`` before it
creates the process group and wraps the model in DDP with
``device_ids=[LOCAL_RANK]``; both fail on a CPU-only machine, so
``torchrun --nproc_per_node 2 -m bike_bench.cli.main test ... --launcher
pytorch`` could not run there. ``prepare_launcher`` picks the backend by
device: with CUDA nothing changes (the config's backend, NCCL by default);
without it the ``gloo`` backend is used, the process group is created here
from torchrun's environment (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``,
``MASTER_PORT``) so MMEngine does not try to set a CUDA device, and DDP
wraps the CPU model without device ids.
"""
from __future__ import annotations

import datetime
import logging
import os

CPU_BACKEND = 'gloo'


def prepare_launcher(cfg) -> None:
    """Adjust ``cfg`` (in place) for its ``launcher`` on this machine.

    Only ``launcher='pytorch'`` without CUDA is changed: ``env_cfg.dist_cfg
    .backend`` becomes ``gloo``, the process group is initialised (if not
    yet) and ``model_wrapper_cfg`` gets ``device_ids=None``.

    Raises:
        RuntimeError: ``slurm``/``mpi`` launch on a machine without CUDA
            (MMEngine's launchers for them need GPUs).
    """
    launcher = cfg.get('launcher') or 'none'
    if launcher == 'none':
        return
    import torch
    if torch.cuda.is_available():
        return
    if launcher != 'pytorch':
        raise RuntimeError(f'--launcher {launcher} needs CUDA GPUs; on a CPU '
                           'machine start the processes with torchrun and '
                           '--launcher pytorch')
    import torch.distributed as dist
    from mmengine.logging import print_log
    env_cfg = dict(cfg.get('env_cfg') or {})
    dist_cfg = dict(env_cfg.get('dist_cfg') or {})
    if dist_cfg.get('backend', 'nccl') != CPU_BACKEND:
        print_log(f'no CUDA device: distributed backend {CPU_BACKEND} instead of '
                  f'{dist_cfg.get("backend", "nccl")}', logger='current',
                  level=logging.INFO)
    dist_cfg['backend'] = CPU_BACKEND
    env_cfg['dist_cfg'] = dist_cfg
    cfg.env_cfg = env_cfg
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters',
                       bool(cfg.get('find_unused_parameters', False)))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    if not dist.is_initialized():
        for name in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
            if name not in os.environ:
                raise RuntimeError(f'--launcher pytorch: {name} is not set; start '
                                   'the processes with torchrun')
        kwargs = {}
        if dist_cfg.get('timeout') is not None:
            kwargs['timeout'] = datetime.timedelta(seconds=float(dist_cfg['timeout']))
        dist.init_process_group(backend=CPU_BACKEND, rank=int(os.environ['RANK']),
                                world_size=int(os.environ['WORLD_SIZE']), **kwargs)
