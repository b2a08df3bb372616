# Multi-stage build of the Stampede server: a Node stage builds the browser client, a Rust stage
# builds the server with the client embedded, and a slim runtime image holds one binary and the
# level files.
FROM node:20-bookworm AS web
WORKDIR /src
COPY package.json package-lock.json ./
COPY client-web ./client-web
# `npm ci` runs the root `prepare` script, which builds client-web/dist.
RUN npm ci

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
COPY --from=web /src/client-web/dist ./client-web/dist
RUN cargo build --release --locked -p stampede-server

FROM debian:bookworm-slim AS runtime
RUN useradd --system --home /srv/stampede stampede \
 && mkdir -p /srv/stampede/data && chown stampede /srv/stampede/data
WORKDIR /srv/stampede
COPY --from=build /src/target/release/stampede /usr/local/bin/stampede
COPY levels ./levels
USER stampede
ENV STAMPEDE_ADDR=0.0.0.0:8080 \
    STAMPEDE_LEVELS_DIR=/srv/stampede/levels \
    DATABASE_URL=sqlite:///srv/stampede/data/stampede.db
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --retries=3 CMD ["stampede", "healthcheck", "127.0.0.1:8080"]
CMD ["stampede", "serve"]
