"""Lambda functions run in-process: each function's app.py is loaded once, like a warm container,
and invoked one event at a time (a container never runs two invocations at once)."""

import importlib.util
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from postbox_local import iam
from postbox_local.state import ACCOUNT_ID, REGION


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


class LocalFunction:
    def __init__(self, name: str, code_dir: Path):
        self.name = name
        self.code_dir = code_dir
        self._module: ModuleType | None = None
        self._lock = threading.Lock()

    def _load(self) -> ModuleType:
        if self._module is None:
            module_name = f"postbox_function_{self.name}"
            spec = importlib.util.spec_from_file_location(module_name, self.code_dir / "app.py")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._module = module
        return self._module

    def invoke(self, event: dict[str, Any]) -> Any:
        with self._lock, iam.acting_as(self.name):  # its AWS calls are checked against its role (postbox_local.iam)
            return self._load().lambda_handler(event, LambdaContext(self.name))

    @property
    def arn(self) -> str:
        return LambdaContext(self.name).invoked_function_arn


class FunctionRegistry:
    def __init__(self) -> None:
        self._functions: dict[str, LocalFunction] = {}

    def get(self, name: str, code_dir: Path) -> LocalFunction:
        if name not in self._functions:
            self._functions[name] = LocalFunction(name, code_dir)
        return self._functions[name]
