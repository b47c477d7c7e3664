"""A stand-in Slurm for the executor tests: ``sbatch``, ``squeue``, ``sacct``,
``scancel`` and ``srun`` programs put on ``PATH``.

``sbatch`` records every submitted script under ``<state>/scripts/<id>.sh``
and answers ``Submitted batch job <id>``; :func:`drain` then runs the
recorded jobs in place, in submission order (parents before children), one
array task after the other with the environment Slurm gives a task, and
skips a job whose ``afterok`` dependency failed. ``sacct`` reports the
state of each task from ``<state>/states.json``.
"""
from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

SBATCH = r'''
import json, os, sys, pathlib
state = pathlib.Path(os.environ['STUB_SLURM_STATE'])
(state / 'scripts').mkdir(parents=True, exist_ok=True)
counter = state / 'counter'
job_id = int(counter.read_text()) + 1 if counter.exists() else 1000
counter.write_text(str(job_id))
script = pathlib.Path(sys.argv[-1]).read_text()
(state / 'scripts' / f'{job_id}.sh').write_text(script)
with open(state / 'calls.log', 'a') as log:
    log.write(' '.join(sys.argv[1:]) + '\n')
print(f'Submitted batch job {job_id}')
'''

SACCT = r'''
import json, os, sys, pathlib
state = pathlib.Path(os.environ['STUB_SLURM_STATE'])
states = json.loads((state / 'states.json').read_text()) if (state / 'states.json').exists() else {}
print('JobID|State|NodeList')
for job, value in sorted(states.items()):
    print(f'{job}|{value}|stub')
'''

SRUN = r'''
import os, sys
args = sys.argv[1:]
while args and args[0].startswith('-'):
    option = args.pop(0)
    if '=' not in option and option in ('--output', '--error', '-o', '-e'):
        args.pop(0)
os.execvp(args[0], args)
'''

NOOP = 'import sys\nsys.exit(0)\n'


def install(bin_dir: Path, state: Path, monkeypatch) -> Path:
    """Write the programs into ``bin_dir``, put it first on ``PATH``."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    state.mkdir(parents=True, exist_ok=True)
    for name, body in (('sbatch', SBATCH), ('sacct', SACCT), ('srun', SRUN),
                       ('squeue', NOOP), ('scancel', NOOP)):
        path = bin_dir / name
        path.write_text(f'#!{sys.executable}\n{body}')
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv('PATH', f'{bin_dir}{os.pathsep}{os.environ["PATH"]}')
    monkeypatch.setenv('STUB_SLURM_STATE', str(state))
    return state


def scripts(state: Path) -> Dict[int, str]:
    folder = state / 'scripts'
    if not folder.exists():
        return {}
    return {int(p.stem): p.read_text() for p in sorted(folder.glob('*.sh'))}


def option(script: str, key: str):
    found = re.search(rf'^#SBATCH --{key}(?:=(.*))?$', script, re.M)
    return None if found is None else (found.group(1) or True)


def array_size(script: str) -> int:
    value = option(script, 'array')
    if not value:
        return 1
    span = value.split('%')[0]
    first, _, last = span.partition('-')
    return int(last or first) - int(first) + 1


def dependencies(script: str) -> List[str]:
    value = option(script, 'dependency')
    if not value:
        return []
    return value.split(':', 1)[1].split(':')


def drain(state: Path) -> Dict[str, str]:
    """Run every recorded job not yet run; returns the task states."""
    path = state / 'states.json'
    states = json.loads(path.read_text()) if path.exists() else {}
    for job_id, script in scripts(state).items():
        tasks = [f'{job_id}_{i}' for i in range(array_size(script))] \
            if option(script, 'array') else [str(job_id)]
        if all(t in states for t in tasks):
            continue
        value = option(script, 'dependency') or ''
        kind = value.split(':', 1)[0]
        blocked = kind == 'afterok' and any(states.get(d) != 'COMPLETED'
                                            for d in dependencies(script))
        for index, task in enumerate(tasks):
            if blocked:
                states[task] = 'CANCELLED'
                continue
            env = dict(os.environ, SLURM_JOB_ID=str(job_id) if len(tasks) == 1 and not
                       option(script, 'array') else str(job_id * 100 + index),
                       SLURM_PROCID='0', SLURM_LOCALID='0', SLURM_NODEID='0',
                       SLURM_NTASKS='1', SLURM_JOB_NUM_NODES='1',
                       SLURM_JOB_NODELIST='stub', SLURMD_NODENAME='stub')
            if option(script, 'array'):
                env.update(SLURM_ARRAY_JOB_ID=str(job_id), SLURM_ARRAY_TASK_ID=str(index))
            body = script.replace('%A', str(job_id)).replace('%a', str(index)).replace(
                '%j', task)
            done = subprocess.run(['bash', '-c', body], env=env)
            states[task] = 'COMPLETED' if done.returncode == 0 else 'FAILED'
        path.write_text(json.dumps(states))
    return states
