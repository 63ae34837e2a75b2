# syntax=docker/dockerfile:1
#
# Bulwark API image: a static Go binary on distroless, run as a non-root user.
#
#   docker build -t bulwark-api .
#   docker run --rm -p 127.0.0.1:8080:8080 -e DATABASE_URL=... -e JWT_SIGNING_KEYS=... bulwark-api
#
# The same image runs every subcommand: `serve` (the default CMD), `migrate`
# and `seed` (e.g. `docker run ... bulwark-api migrate`). docker-compose.yml
# uses it that way.

# ---------------------------------------------------------------------------
# Build stage
# ---------------------------------------------------------------------------
# Pinned to the exact toolchain named in go.mod (its toolchain line;
# tests/supplychain_test.go holds the two equal), so the image build and a
# developer's `go build` compile with the same compiler and standard library
# (and the same security fixes). Pin by digest too (golang:1.26.11-bookworm@sha256:...)
# when you want the build to be byte-for-byte reproducible; Renovate or
# Dependabot can keep a digest current.
FROM golang:1.26.11-bookworm AS build

WORKDIR /src

# Refuse to download a different toolchain: if go.mod ever asks for a newer Go
# than this image has, the build fails loudly instead of silently fetching one.
ENV GOTOOLCHAIN=local

# Module files first, on their own layer: `go mod download` is then cached
# until go.mod or go.sum change, not re-run on every source edit. go.sum is
# verified against the checksum database as the modules are downloaded.
COPY go.mod go.sum ./
RUN go mod download && go mod verify

# Then the source. .dockerignore keeps .git, .env, local data and build output
# out of the build context, so no local secret or database ends up in a layer.
COPY . .

# CGO_ENABLED=0: a fully static binary with no libc dependency, which is what
#   lets the final stage be distroless/static (no libc, no shell).
# -trimpath: no build machine paths in the binary (or in panic traces).
# -ldflags="-s -w": drop the symbol table and DWARF debug info; smaller image,
#   nothing an attacker needs. Stack traces keep function names and lines.
# The cache mount keeps Go's compile cache between builds (BuildKit) without
# storing it in an image layer.
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/api ./cmd/api
# The final image has no shell to create directories: make the uploads
# directory here, so it can be copied in owned by the service user (a named
# volume mounted on it inherits that ownership).
RUN mkdir -p /out/data/files

# ---------------------------------------------------------------------------
# Run stage
# ---------------------------------------------------------------------------
# distroless/static: CA certificates, tzdata and /etc/passwd entries, and
# nothing else: no shell, no package manager, no curl. An attacker who gets
# code execution finds no tools, and scanners find almost no packages to flag.
# The :nonroot tag already defaults to the unprivileged nonroot user.
FROM gcr.io/distroless/static-debian12:nonroot

# The binary is owned by root and not writable by the user that runs it, so a
# compromised process cannot replace its own executable.
COPY --from=build /out/api /api
COPY --from=build --chown=65532:65532 /out/data /data

# Run as distroless's nonroot user (uid/gid 65532). Written numerically rather
# than as nonroot:nonroot so that Kubernetes' runAsNonRoot can verify the user
# is not root without looking it up in the image's /etc/passwd.
USER 65532:65532

# The service's listening port. Documentation only: publishing is decided by
# whoever runs the container (compose publishes it on loopback only).
EXPOSE 8080

# production by default: an image is what gets deployed, and production mode
# refuses every development convenience (missing DATABASE_URL, missing or
# published signing key, demo seeding). A demo must opt into development
# explicitly, as docker-compose.yml does.
# HTTP_ADDR: the service defaults to 127.0.0.1, which inside a container is
# unreachable from outside it; the container's network namespace is the
# boundary here, and the port is exposed only where it is published.
ENV APP_ENV=production \
    HTTP_ADDR=0.0.0.0:8080 \
    FILE_STORAGE_DIR=/data/files

# No HEALTHCHECK: distroless has no shell or curl to run one with, and the
# binary has no health-probe subcommand. Probe over HTTP from outside instead:
# GET /healthz (liveness) and GET /readyz (readiness; pings the database) from
# the orchestrator or load balancer.

# Exec form, so the binary is PID 1 and receives SIGTERM directly; it then
# drains in-flight requests for up to SHUTDOWN_TIMEOUT (default 20s).
ENTRYPOINT ["/api"]
CMD ["serve"]
