# The image fly.toml deploys. One instance per machine; on a machine with several CPUs,
# set CMD to ["python", "-m", "service", "--workers", "2"] (SO_REUSEPORT on one port).
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORT=8080
COPY pyproject.toml README.md ./
COPY service ./service
COPY lua ./lua
RUN pip install --no-cache-dir . && useradd --uid 1001 --create-home tapotarp
USER tapotarp
EXPOSE 8080 9091
# the service drains on SIGTERM (see fly.toml kill_timeout)
STOPSIGNAL SIGTERM
CMD ["python", "-m", "service"]
