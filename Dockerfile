# lakectl in a container. DuckDB is linked through cgo, so the build stage needs a C
# toolchain (the golang image has one) and the binary needs glibc and libstdc++ at run
# time: a Debian slim image, not scratch or distroless/static.
#
#   docker build -t lakectl .
#   docker run --rm -v "$PWD/lake:/lake" lakectl table show /lake/silver/events

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
# The DuckDB module alone is about 1 GB: download once, cached across builds.
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath -ldflags "-s -w" -o /out/lakectl ./cmd/lakectl

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libstdc++6 tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /var/lib/lakectl lakectl
COPY --from=build /out/lakectl /usr/local/bin/lakectl
USER lakectl
WORKDIR /var/lib/lakectl
ENTRYPOINT ["lakectl"]
CMD ["--help"]
