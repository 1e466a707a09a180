FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --bin learnmap

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/learnmap /usr/local/bin/learnmap
WORKDIR /var/lib/learnmap
EXPOSE 8000
CMD ["learnmap", "serve"]
