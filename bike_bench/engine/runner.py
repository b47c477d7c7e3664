"""A Runner whose console output leaves out MMEngine's environment dump.

MMEngine's ``Runner`` logs, when it is built, the whole system environment
(``collect_env``: compiler, CUDA and torch's build settings, a screenful)
and the whole config, at INFO level. ``BIKERunner`` keeps both in the log
file (``<work_dir>/<timestamp>/<timestamp>.log``) and off the console, where
one line says where they are; with ``log_level='DEBUG'`` (``--verbose``) the
console shows them as before. Below INFO (``log_level='WARNING'`` or
``'ERROR'``, as the configs ``bike-bench reproduce`` writes) nothing of them
would be written anywhere, so they are not gathered: ``collect_env`` runs
compilers and takes seconds, and every few-shot (shots, seed) builds two
Runners. Everything else is MMEngine's ``Runner``.
"""
from __future__ import annotations

import logging

from mmengine.registry import RUNNERS
from mmengine.runner import Runner


class _Drop(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


def console_handlers(logger: logging.Logger):
    """The logger's handlers that write to a terminal stream (not files)."""
    return [h for h in logger.handlers
            if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)]


@RUNNERS.register_module()
class BIKERunner(Runner):
    """``mmengine.runner.Runner`` with the environment and config dump in the
    log file only, unless the log level is DEBUG."""

    def _log_env(self, env_cfg: dict) -> None:
        if not self.logger.isEnabledFor(logging.INFO) or all(
                h.level > logging.INFO for h in self.logger.handlers):
            return  # MMEngine would gather both and no handler write them
        console = console_handlers(self.logger)
        if not console or min(h.level for h in console) <= logging.DEBUG:
            super()._log_env(env_cfg)
            return
        drop = _Drop()
        for handler in console:
            handler.addFilter(drop)
        try:
            super()._log_env(env_cfg)
        finally:
            for handler in console:
                handler.removeFilter(drop)
        files = [h.baseFilename for h in self.logger.handlers
                 if isinstance(h, logging.FileHandler)]
        where = f'in {files[0]}' if files else 'not kept (no log file)'
        for handler in console:  # the console only: the file has the dump
            if self.logger.isEnabledFor(logging.INFO) and handler.level <= logging.INFO:
                handler.handle(self.logger.makeRecord(
                    self.logger.name, logging.INFO, __file__, 0,
                    f'environment and config: {where} (--verbose prints them)', None, None))
