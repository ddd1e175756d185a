# The manager's image for people with Docker (make docker-build). make image builds the same
# image without a daemon; both run as 65532 with Mozilla's CA roots and no shell.
#
# The builder is the only base image. Pin it by digest where you build, e.g.
#   docker build --build-arg GO_IMAGE=golang:1.26.8-bookworm@sha256:<digest> .
# (`docker buildx imagetools inspect golang:1.26.8-bookworm` prints it). The runtime image has no
# base at all: it starts FROM scratch with the files hack/image writes.
ARG GO_IMAGE=golang:1.26.8-bookworm
FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS builder
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=devel
ARG REVISION=unknown

WORKDIR /workspace
# Modules first: source changes do not invalidate the downloaded layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath \
      -ldflags "-s -w -X github.com/storeops/member-operator/internal/version.version=${VERSION} -X github.com/storeops/member-operator/internal/version.revision=${REVISION}" \
      -o /rootfs/manager ./cmd/main.go \
 && go run ./hack/image rootfs --out /rootfs

FROM scratch
COPY --from=builder /rootfs/ /
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
ENTRYPOINT ["/manager"]
