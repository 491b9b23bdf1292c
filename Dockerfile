# Multi-stage build of wolkvox_exporter: a static binary on busybox.
#   docker build --build-arg VERSION=$(cat VERSION) -t wolkvox_exporter .
# Base images are pinned to exact versions; pin them by digest as well in
# your registry mirror if your policy requires it.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
# time/tzdata is imported by main.go, so --wolkvox.timezone works without
# a zoneinfo database in the image.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION} -X github.com/prometheus/common/version.Revision=${REVISION}" -o /out/wolkvox_exporter .

FROM busybox:1.36.1-musl
COPY --from=build /out/wolkvox_exporter /bin/wolkvox_exporter
# The token comes from a mounted file (--wolkvox.token-file) or the
# WOLKVOX_TOKEN environment variable at run time; it is never in the image.
USER 65534:65534
EXPOSE 10049
ENTRYPOINT ["/bin/wolkvox_exporter"]
