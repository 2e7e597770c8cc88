# studybot: the same install as `make install`, in a slim Python 3.11 image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    ANONYMIZED_TELEMETRY=False \
    ORT_DISABLE_TELEMETRY=1 \
    STUDYBOT_DATA_DIR=/data

WORKDIR /app
# torch first, from the CPU wheel index: the pinned torch==2.13.0 CPU build, as in the Makefile.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY knowledge ./knowledge
COPY ingest ./ingest
COPY prompts ./prompts
RUN pip install --no-cache-dir .

RUN useradd --create-home studybot && mkdir -p /data && chown studybot /data
USER studybot
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK CMD python -c "import urllib.request,os;urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"STUDYBOT_PORT\",\"3000\")}/healthz')" || exit 1
# Ingest once (`docker run … studybot ingest`), then serve (Socket Mode or HTTP).
CMD ["studybot", "serve"]
