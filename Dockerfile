# Multi-stage build of the Stampede server: a Rust build stage, a Node stage for the browser
# client, and a slim runtime image holding one binary and the level files.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
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
