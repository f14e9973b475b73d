# Switchyard container image: `docker build -t switchyard --build-arg SWITCHYARD_COMMIT=$(git rev-parse HEAD) .`
# Multi-stage: the build stage compiles TypeScript with the dev dependencies; the runtime stage
# holds only the compiled code, the production node_modules and the dashboard, and runs as the
# unprivileged `node` user (uid 1000). See docs/deploy.md.

FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
COPY test ./test
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --ignore-scripts

FROM node:20-slim
ARG SWITCHYARD_COMMIT=unknown
ENV NODE_ENV=production \
    SWITCHYARD_LOG_PRETTY=0 \
    SWITCHYARD_COMMIT=${SWITCHYARD_COMMIT}
WORKDIR /opt/switchyard
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY dashboard ./dashboard
# The working directory holds what the node writes: the audit log, the fleet config cache.
RUN mkdir -p /var/lib/switchyard /etc/switchyard && chown node:node /var/lib/switchyard
WORKDIR /var/lib/switchyard
USER node
# Traffic (unprivileged ports: the node runs as a user) and the admin listener (/metrics, probes).
EXPOSE 8080 8443 9901
# Liveness for plain `docker run`; Kubernetes uses its own probes (deploy/kubernetes/).
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9901/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM drains (readiness fails first, then in-flight requests finish); give the container
# runtime a stop timeout above shutdown.readinessDelay + shutdown.drainTimeout.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/opt/switchyard/dist/src/cli/main.js"]
CMD ["start", "-c", "/etc/switchyard/switchyard.yaml"]
