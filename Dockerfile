# The loan-default model service: one model directory, served by uvicorn on port 8000.
#
# Build (from the repository root, after writing the model directory):
#   python -m mlecourse.lender.modeling.artifact --out models/loan-default --version 1.0.0
#   docker build -t loan-default:1.0.0 .
#   docker run --rm -p 8000:8000 -e MLECOURSE_API_KEY="$(cat my-api-key)" loan-default:1.0.0
#   curl localhost:8000/health
#   curl -H "X-API-Key: $(cat my-api-key)" localhost:8000/version
#
# The service listens on all interfaces in the container, so it refuses to
# start without an API key: from MLECOURSE_API_KEY, or from a file named by
# --api-key-file (the Kubernetes manifest mounts a Secret). Never bake a key
# into the image or the repository.
#
# In production, put a reverse proxy (nginx, Envoy, the cloud's load balancer)
# in front. It must do what uvicorn does not: terminate TLS; cap connections
# and requests per client address; give a whole request a deadline (nginx:
# client_header_timeout and client_body_timeout 10s, client_max_body_size 2m,
# limit_conn and limit_req per $binary_remote_addr, proxy_read_timeout);
# buffer slow clients so that they hold the proxy's cheap connections, not
# the model server's. The service's own limits (body size counted, a
# deadline for request heads and bodies, keep-alive 5 s, 512 connections at
# most, a bounded queue that answers 503) are the second line, not the first.
#
# For production, pin the base image by digest (python:3.11-slim@sha256:...)
# so that a rebuild cannot silently change the operating system underneath.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OMP_NUM_THREADS=1 \
    PYTHONPATH=/app/src

WORKDIR /app

# Dependencies first, in their own layer: rebuilt only when the lock changes.
# --require-hashes: every file pip downloads must match the lock's hash.
# (The course's lock also holds the book and JupyterLab; a team shipping only
# the service would keep a smaller lock for it.)
# llama-cpp-python (the policy assistant of chapter 9, `--assistant`) is published
# as source only: a compiler and cmake build it here, with the options the
# Makefile sets, and leave the image in the same layer.
COPY requirements.lock ./
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
    && CMAKE_ARGS="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_OPENSSL=OFF" \
       pip install --no-deps --require-hashes -r requirements.lock \
    && apt-get purge -y build-essential cmake && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*

# The code, then the model: a new model rebuilds only the last layer.
COPY src/ ./src/
COPY models/loan-default/ ./model/

# Never run a network service as root.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app
USER 10001

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status != 200)"]

CMD ["python", "-m", "mlecourse.lender.service", "--model-dir", "/app/model", "--host", "0.0.0.0", "--port", "8000"]
