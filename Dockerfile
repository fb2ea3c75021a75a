# One image for every Fiducia process: web (gunicorn) and scheduler.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    FIDUCIA_INSTANCE_PATH=/var/lib/fiducia

# WeasyPrint's system libraries (Pango, HarfBuzz's subsetter) and a font, for the PDF statements.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY contracts ./contracts
COPY service ./service
RUN pip install . \
    && useradd --system --create-home fiducia \
    && mkdir -p /var/lib/fiducia \
    && chown fiducia /var/lib/fiducia

USER fiducia
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["fiducia", "serve", "--host", "0.0.0.0", "--port", "8000"]
