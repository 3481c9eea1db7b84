"""The executor: runs ML programs on worker threads or processes for every host (server,
kernel, CLI).

    from mlpy.executor import AsyncMLExecutor
    executor = AsyncMLExecutor(max_workers=4)
    result = await executor.execute("result = 2 + 2;", timeout=5.0)
"""

from ..runtime.context import Limits
from .executor import AsyncMLExecutor
from .pool import Pool
from .result import AsyncMLResult
from .session import Session
from .settings import ExecutorSettings

__all__ = ["AsyncMLExecutor", "AsyncMLResult", "Session", "Pool", "ExecutorSettings", "Limits"]
