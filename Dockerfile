# Auth-O-Tron on the official Deno image (same Deno version as the README).
#   docker build -t authotron .
#   docker run -p 8080:8080 -p 9090:9090 \
#     -v $PWD/config.yaml:/etc/authotron/config.yaml:ro -e AOT_JWT__SECRET='"…"' authotron
# The config must listen on 0.0.0.0 inside the container (server.host: 0.0.0.0, or
# -e AOT_SERVER__HOST=0.0.0.0). Third-party plugins: mount them under /etc/authotron/ and
# reference them with `module:` paths relative to the config. See docs/deployment.md.
FROM denoland/deno:2.9.6

WORKDIR /app

# Sources only (see .dockerignore), owned by root: the runtime user cannot change them.
COPY deno.json deno.lock main.ts ./
COPY lib/ lib/
COPY packages/ packages/
COPY providers/ providers/
COPY augmenters/ augmenters/
COPY assets/ assets/
COPY tools/ tools/

# The embedded token store is the only place the gateway writes (mount a volume there).
RUN mkdir -p /app/data /etc/authotron && chown deno:deno /app/data

USER deno

# Cache every dependency at build time, exactly as locked: the entrypoint, every built-in
# plugin (loaded by dynamic import, so not reachable from main.ts), the health check and the
# token importer (deno task import-tokens, docs/tokens.md).
RUN deno cache --frozen main.ts providers/*.ts augmenters/*.ts tools/healthcheck.ts tools/import_tokens.ts

ENV AOT_CONFIG_PATH=/etc/authotron/config.yaml

# Application listener (/authenticate, /health, ...) and metrics listener (/metrics).
EXPOSE 8080 9090

HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["deno", "run", "--cached-only", "--allow-net=127.0.0.1:8080", "tools/healthcheck.ts", "http://127.0.0.1:8080/health"]

# Runs under the base image's ENTRYPOINT (tini, so signals reach Deno and SIGTERM drains).
# No -A: network (listeners and identity services), environment (AOT_* overrides), reading the
# code and the config directory, writing only the embedded store. --cached-only: nothing is
# downloaded at run time.
CMD ["deno", "run", "--cached-only", "--frozen", "--allow-net", "--allow-env", "--allow-read=/app,/etc/authotron", "--allow-write=/app/data", "main.ts"]
