"""`make mlflow-ui`'s server starts offline on 127.0.0.1 over a store and answers."""
import os
import subprocess
import sys
import time

import httpx

from mlecourse.lender.mlops import tracking
from mlecourse.lender.serving import api


def test_the_mlflow_server_answers(tmp_path):
    port = api.free_port()
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true",
           "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
               "--backend-store-uri", tracking.store_uri(tmp_path), "--workers", "1"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, answer = time.monotonic() + 180, None  # 30-65 s on an idle laptop
        while time.monotonic() < deadline and process.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
                if answer.status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(1)
        assert answer is not None and answer.status_code == 200, "the MLflow server did not answer"
        experiments = httpx.get(f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/search",
                                params={"max_results": 10}, timeout=10)
        assert experiments.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)
