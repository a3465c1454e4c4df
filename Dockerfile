# Build a static binary, then ship it alone with CA certificates. Time zone
# data is compiled into the binary (time/tzdata), so a scratch image works.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/cnsbot ./cmd/cnsbot \
 && mkdir -p /out/data

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/cnsbot /cnsbot
# The embedded SQLite default writes here; with DATABASE_URL set it stays empty.
COPY --from=build --chown=65534:65534 /out/data /var/lib/cnsbot
WORKDIR /var/lib/cnsbot
ENV DATA_DIR=/var/lib/cnsbot
USER 65534:65534
EXPOSE 8080
ENTRYPOINT ["/cnsbot"]
CMD ["serve"]
