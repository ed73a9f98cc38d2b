# Gatehouse — multi-stage build of a static binary into a minimal non-root image.
# syntax=docker/dockerfile:1
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/gatehouse ./cmd/gatehouse

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gatehouse /gatehouse
USER nonroot:nonroot
EXPOSE 8080
ENV GATEHOUSE_LISTEN=0.0.0.0:8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 CMD ["/gatehouse", "healthcheck"]
ENTRYPOINT ["/gatehouse"]
CMD ["serve"]
