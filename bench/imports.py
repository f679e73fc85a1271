"""Each handler's cold import next to `import boto3` plus one client, in fresh interpreters (median of N)."""

import os
import statistics
import subprocess
import sys

from bench.common import ROOT
from postbox_local import template

IMPORT_BASELINE = "import boto3; boto3.client('dynamodb', region_name='us-east-1')"


def _timed_import(statement: str, repeats: int) -> float:
    script = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    # A handler checks its settings when imported: every function's variables, with example values.
    env = {**template.example_environment(), **os.environ, "AWS_DEFAULT_REGION": "us-east-1",
           "POWERTOOLS_METRICS_DISABLED": "true"}
    samples = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
        samples.append(float(out.stdout.strip().splitlines()[-1]) * 1000)
    return statistics.median(samples)


def cold_imports(repeats: int) -> dict:
    baseline = _timed_import(IMPORT_BASELINE, repeats)
    handlers = {}
    code_dirs = {ROOT / spec["Properties"]["CodeUri"] for spec in template.resources().values()
                 if spec["Type"] == "AWS::Serverless::Function"}
    for code_dir in sorted(code_dirs):
        statement = ("import importlib.util as u; s = u.spec_from_file_location('app', "
                     f"{str(code_dir / 'app.py')!r}); m = u.module_from_spec(s); s.loader.exec_module(m)")
        handlers[str(code_dir.relative_to(ROOT))] = _timed_import(statement, repeats)
    return {"baseline_ms": baseline, "handlers_ms": handlers}


