// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Command image builds the manager's OCI image without a container daemon, and checks one.
//
//	go run ./hack/image build --binaries bin/image/bin --version v0.1.0 --revision $(git rev-parse HEAD) --out bin/image
//	go run ./hack/image check --tarball bin/image/member-operator_v0.1.0_linux_amd64.tar --version v0.1.0
//
// The image has no base image and so nothing to pull: one layer holds /etc/passwd and /etc/group
// with the nonroot user (65532), Mozilla's root certificates (from the pinned
// golang.org/x/crypto/x509roots/fallback module: SMTP over TLS needs them) and an empty /tmp;
// a second holds /manager. There is no shell and no package manager. build writes one
// docker-loadable tarball per platform and one OCI image layout (an index of both platforms) as
// a tar, which `crane push` or `skopeo copy oci-archive:` can publish.
package main

import (
	"archive/tar"
	"bytes"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

const (
	// nonroot is the user and group the manager runs as (distroless's nonroot).
	nonroot = 65532
	// caBundle is where Go's crypto/x509 (and most other TLS stacks) look on Linux.
	caBundle = "/etc/ssl/certs/ca-certificates.crt"
	// entrypoint is the manager binary.
	entrypoint = "/manager"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: image build|check|rootfs [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "build":
		err = build(os.Args[2:])
	case "check":
		err = check(os.Args[2:])
	case "rootfs":
		err = rootfs(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: use build or check", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

type buildOptions struct {
	binaries, out, repository, version, revision, source string
	platforms                                            []string
	created                                              time.Time
}

func build(args []string) error {
	var o buildOptions
	fs := flag.NewFlagSet("build", flag.ExitOnError)
	fs.StringVar(&o.binaries, "binaries", "bin/image/bin", "Directory holding manager-<os>-<arch> for every platform.")
	fs.StringVar(&o.out, "out", "bin/image", "Where the tarballs are written.")
	fs.StringVar(&o.repository, "repository", "ghcr.io/storeops/member-operator", "The image's repository (the tag is the version).")
	fs.StringVar(&o.version, "version", "", "The version: the image's tag and its org.opencontainers.image.version label.")
	fs.StringVar(&o.revision, "revision", "unknown", "The git commit.")
	fs.StringVar(&o.source, "source", "https://github.com/storeops/member-operator", "The source repository label.")
	platforms := fs.String("platforms", "linux/amd64,linux/arm64", "Comma-separated os/arch list.")
	epoch := fs.Int64("created", 0, "Creation time in Unix seconds (SOURCE_DATE_EPOCH: the commit's time keeps builds reproducible).")
	_ = fs.Parse(args)
	if o.version == "" {
		return errors.New("--version is required")
	}
	o.platforms = strings.Split(*platforms, ",")
	o.created = time.Unix(*epoch, 0).UTC()

	tag, err := name.NewTag(o.repository + ":" + o.version)
	if err != nil {
		return fmt.Errorf("--repository/--version do not make an image reference: %w", err)
	}
	if err := os.MkdirAll(o.out, 0o750); err != nil {
		return err
	}
	base, err := baseLayer()
	if err != nil {
		return err
	}
	index := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, platform := range o.platforms {
		osName, arch, ok := strings.Cut(platform, "/")
		if !ok {
			return fmt.Errorf("--platforms: %q is not os/arch", platform)
		}
		img, err := o.image(base, osName, arch)
		if err != nil {
			return fmt.Errorf("%s: %w", platform, err)
		}
		file := filepath.Join(o.out, fmt.Sprintf("member-operator_%s_%s_%s.tar", o.version, osName, arch))
		if err := tarball.WriteToFile(file, tag, img); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		fmt.Println(file)
		index = mutate.AppendManifests(index, mutate.IndexAddendum{Add: img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: osName, Architecture: arch},
				Annotations: map[string]string{"org.opencontainers.image.ref.name": o.version}}})
	}
	dir, err := os.MkdirTemp("", "oci-layout-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if _, err := layout.Write(dir, index); err != nil {
		return err
	}
	file := filepath.Join(o.out, fmt.Sprintf("member-operator_%s_oci.tar", o.version))
	if err := tarDir(dir, file, o.created); err != nil {
		return err
	}
	fmt.Println(file)
	return nil
}

// image is the manager's image for one platform: the base layer and the binary.
func (o buildOptions) image(base v1.Layer, osName, arch string) (v1.Image, error) {
	path := filepath.Join(o.binaries, fmt.Sprintf("manager-%s-%s", osName, arch))
	binary, err := os.ReadFile(path) // #nosec G304 -- a build input named by the Makefile
	if err != nil {
		return nil, err
	}
	managerLayer, err := layerOf(o.created, file{path: "manager", mode: 0o755, data: binary})
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), base, managerLayer)
	if err != nil {
		return nil, err
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture, cfg.Created = osName, arch, v1.Time{Time: o.created}
	user := strconv.Itoa(nonroot)
	cfg.Config = v1.Config{
		User:       user + ":" + user,
		Entrypoint: []string{entrypoint},
		WorkingDir: "/",
		Env:        []string{"SSL_CERT_FILE=" + caBundle},
		Labels: map[string]string{
			"org.opencontainers.image.title":    "member-operator",
			"org.opencontainers.image.version":  o.version,
			"org.opencontainers.image.revision": o.revision,
			"org.opencontainers.image.source":   o.source,
			"org.opencontainers.image.licenses": "Apache-2.0",
		},
	}
	return mutate.ConfigFile(img, cfg)
}

// rootfs writes the base layer's files into a directory: the Dockerfile's runtime stage copies
// them onto scratch, so both ways of building give the same filesystem.
func rootfs(args []string) error {
	fs := flag.NewFlagSet("rootfs", flag.ExitOnError)
	out := fs.String("out", "", "The directory to write into.")
	_ = fs.Parse(args)
	if *out == "" {
		return errors.New("--out is required")
	}
	files, err := baseFiles()
	if err != nil {
		return err
	}
	for _, f := range files {
		target := filepath.Join(*out, filepath.FromSlash(f.path))
		if f.dir {
			if err := os.MkdirAll(target, 0o755); err != nil { // #nosec G301 -- the image's /etc, /tmp, ...
				return err
			}
			if err := os.Chmod(target, os.FileMode(f.mode&0o777)|modeBits(f.mode)); err != nil {
				return err
			}
			continue
		}
		// #nosec G306 G115 -- world-readable like any /etc file; modes are the constants above
		if err := os.WriteFile(target, f.data, os.FileMode(f.mode)); err != nil {
			return err
		}
	}
	return nil
}

// modeBits carries the sticky bit of /tmp to os.Chmod.
func modeBits(mode int64) os.FileMode {
	if mode&0o1000 != 0 {
		return os.ModeSticky
	}
	return 0
}

// baseLayer holds what every image needs besides the binary.
func baseLayer() (v1.Layer, error) {
	files, err := baseFiles()
	if err != nil {
		return nil, err
	}
	return layerOf(time.Unix(0, 0).UTC(), files...)
}

// baseFiles are the image's files besides the binary.
func baseFiles() ([]file, error) {
	var certs bytes.Buffer
	n := 0
	for root := range bundle.Roots() {
		// Roots with a constraint (a distrust date) need code to apply it; a PEM file cannot say
		// it, so they are left out rather than trusted without it.
		if root.Constraint != nil {
			continue
		}
		if err := pem.Encode(&certs, &pem.Block{Type: "CERTIFICATE", Bytes: root.Certificate}); err != nil {
			return nil, err
		}
		n++
	}
	if n == 0 {
		return nil, errors.New("no root certificates in golang.org/x/crypto/x509roots/fallback/bundle")
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%[1]d:%[1]d:nonroot:/home/nonroot:/sbin/nologin\n", nonroot)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%[1]d:\n", nonroot)
	return []file{
		{path: "etc/", mode: 0o755, dir: true},
		{path: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{path: "etc/group", mode: 0o644, data: []byte(group)},
		{path: "etc/ssl/", mode: 0o755, dir: true},
		{path: "etc/ssl/certs/", mode: 0o755, dir: true},
		{path: strings.TrimPrefix(caBundle, "/"), mode: 0o644, data: certs.Bytes()},
		{path: "tmp/", mode: 0o1777, dir: true},
	}, nil
}

type file struct {
	path string
	mode int64
	data []byte
	dir  bool
}

// layerOf is a gzipped tar layer of files, with fixed times so the same inputs give the same digest.
func layerOf(modTime time.Time, files ...file) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.path, Mode: f.mode, ModTime: modTime, Format: tar.FormatPAX}
		if f.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// tarDir writes the OCI layout in dir as one tar (what `skopeo copy oci-archive:` reads).
func tarDir(dir, out string, modTime time.Time) error {
	f, err := os.Create(out) // #nosec G304 -- the output named by the Makefile
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		h.Name, h.ModTime, h.Uid, h.Gid, h.Uname, h.Gname = filepath.ToSlash(rel), modTime, 0, 0, "", ""
		if d.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path) // #nosec G304 G122 -- inside the layout we just wrote, in our own temp dir
		if err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		_ = f.Close()
		return err
	}
	if err := tw.Close(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
