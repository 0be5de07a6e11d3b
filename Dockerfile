# syntax=docker/dockerfile:1
# Relais SMS carrier gateway.
#
#   docker build -t relais .
#   docker run -d --name relais -p 8080:8080 -v relais-data:/var/lib/relais \
#     -v /etc/relais/relais.yaml:/etc/relais/relais.yaml:ro --env-file /etc/relais/relais.env \
#     --stop-timeout 60 relais serve --config /etc/relais/relais.yaml
#
# Without --config (and without RELAIS_CONFIG) the image runs the demo configuration, with its
# built-in SMSC simulators. The database lives in the /var/lib/relais volume.

# ---- build: compile TypeScript and better-sqlite3 (native module) --------------------------
FROM node:20-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Compile better-sqlite3 against this image's Node and glibc instead of downloading a prebuilt
# binary; use the Node headers shipped in the image rather than fetching them.
ENV npm_config_build_from_source=true \
    npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
# The web pages (operator console): compiled and copied to dist/web by npm run build.
COPY web ./web
COPY scripts ./scripts
# The API reference at /api/integration/documentation/: docs/*.md (and README.md's base-URL table)
# rendered to dist/web/docs by scripts/build-docs.mjs.
COPY docs ./docs
COPY README.md ./
# Build, drop the dev dependencies, drop the native module's intermediate build files and
# sources (only build/Release/better_sqlite3.node is loaded), then check the module loads.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/better-sqlite3/build/Release/obj node_modules/better-sqlite3/build/Release/obj.target \
           node_modules/better-sqlite3/build/Release/.deps node_modules/better-sqlite3/build/Release/sqlite3.a \
           node_modules/better-sqlite3/deps \
 && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"

# ---- runtime ---------------------------------------------------------------------------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    RELAIS_DB_PATH=/var/lib/relais/relais.db \
    RELAIS_HTTP_HOST=0.0.0.0
# Dedicated unprivileged user; the code stays root-owned (read-only for the service).
RUN groupadd --system relais \
 && useradd --system --gid relais --no-create-home --home-dir /var/lib/relais --shell /usr/sbin/nologin relais \
 && install -d -m 0750 -o relais -g relais /var/lib/relais
WORKDIR /opt/relais
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The demo configuration (the default when no --config is given) and the commented example.
COPY config ./config
USER relais
VOLUME /var/lib/relais
EXPOSE 8080
# /healthz on the port from RELAIS_HTTP_PORT (default 8080): set RELAIS_HTTP_PORT too if the
# configuration file uses another port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.RELAIS_HTTP_PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM makes the daemon drain its bind windows before exiting: give it time (--stop-timeout 60).
STOPSIGNAL SIGTERM
# Exit code 78 means an invalid configuration (the message names the key at fault).
ENTRYPOINT ["node", "dist/src/main.js"]
CMD ["serve"]
