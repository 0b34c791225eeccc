# Gambero's server image: `docker compose up` (docker-compose.yml) runs it beside PostgreSQL
# and Redis. See docs/deploy.md.
FROM python:3.12-slim
WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY timing ./timing
COPY readers ./readers
COPY api ./api
COPY display ./display
COPY gambero ./gambero
COPY migrations ./migrations
COPY examples ./examples
# Editable, so that `gambero demo` finds the example's generator in /app/examples.
RUN pip install --no-cache-dir -e '.[postgres,redis,xlsx]'
EXPOSE 8000
ENTRYPOINT ["gambero"]
CMD ["demo", "--host", "0.0.0.0", "--port", "8000"]
