FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORT=8080
COPY pyproject.toml README.md ./
COPY service ./service
COPY lua ./lua
RUN pip install --no-cache-dir . && useradd --uid 1001 --create-home tapotarp
USER tapotarp
EXPOSE 8080
CMD ["python", "-m", "service"]
