# The skirmish binary in a small image, for ops/compose and ops/k8s:
#
#   docker build -t skirmish .
#   docker run --rm skirmish matchmaker -h
#
# The binary is pure Go (SQLite through modernc.org/sqlite), so it runs on
# distroless/static as a non-root user. The data directory is /data.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/skirmish ./cmd/skirmish \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/skirmish /usr/local/bin/skirmish
COPY --from=build --chown=65532:65532 /out/data /data
ENV SKIRMISH_DATA_DIR=/data
WORKDIR /data
USER 65532:65532
# gameserver (WebSocket 7800/tcp, WebTransport 7801/udp), matchmaker,
# leaderboard, stats worker admin.
EXPOSE 7800/tcp 7801/udp 7810/tcp 7820/tcp 7830/tcp
ENTRYPOINT ["/usr/local/bin/skirmish"]
CMD ["help"]
