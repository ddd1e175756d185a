// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"archive/tar"
	"crypto/x509"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// elfMachine is the ELF machine of each GOARCH the image is built for.
var elfMachine = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}

// check opens an image tarball as a runtime would and fails unless it is what the image promises:
// user 65532, the CA bundle, no shell, an entrypoint for the image's platform that reports the
// expected version when run from the image's own filesystem (on a matching host).
func check(args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	file := fs.String("tarball", "", "A docker-loadable image tarball written by build.")
	want := fs.String("version", "", "The version the entrypoint must report.")
	_ = fs.Parse(args)
	if *file == "" || *want == "" {
		return errors.New("--tarball and --version are required")
	}
	img, err := tarball.ImageFromPath(*file, nil)
	if err != nil {
		return err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	user := strconv.Itoa(nonroot)
	if cfg.Config.User != user+":"+user {
		return fmt.Errorf("user is %q, want %s:%s", cfg.Config.User, user, user)
	}
	if len(cfg.Config.Entrypoint) != 1 || cfg.Config.Entrypoint[0] != entrypoint {
		return fmt.Errorf("entrypoint is %q, want [%s]", cfg.Config.Entrypoint, entrypoint)
	}
	if got := cfg.Config.Labels["org.opencontainers.image.version"]; got != *want {
		return fmt.Errorf("version label is %q, want %q", got, *want)
	}

	root, err := os.MkdirTemp("", "image-root-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(root) }()
	if err := extract(mutate.Extract(img), root); err != nil {
		return err
	}
	for _, shell := range []string{"bin/sh", "bin/bash", "bin/ash", "usr/bin/sh", "bin/busybox"} {
		if _, err := os.Lstat(filepath.Join(root, shell)); err == nil {
			return fmt.Errorf("the image has a shell: /%s", shell)
		}
	}
	pemData, err := os.ReadFile(filepath.Join(root, caBundle)) // #nosec G304 -- inside our temp dir
	if err != nil {
		return fmt.Errorf("CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) || strings.Count(string(pemData), "BEGIN CERTIFICATE") < 50 {
		return fmt.Errorf("CA bundle %s holds too few certificates", caBundle)
	}
	binary := filepath.Join(root, entrypoint)
	bin, err := elf.Open(binary)
	if err != nil {
		return fmt.Errorf("entrypoint: %w", err)
	}
	machine := bin.Machine
	_ = bin.Close()
	if machine != elfMachine[cfg.Architecture] {
		return fmt.Errorf("entrypoint is built for %s, the image says %s", machine, cfg.Architecture)
	}
	fmt.Printf("%s: user %s, entrypoint %s (%s), %d CA certificates, no shell\n", *file, cfg.Config.User,
		entrypoint, machine, strings.Count(string(pemData), "BEGIN CERTIFICATE"))
	if cfg.OS != runtime.GOOS || cfg.Architecture != runtime.GOARCH {
		fmt.Printf("  not run: the image is %s/%s, this host %s/%s\n", cfg.OS, cfg.Architecture, runtime.GOOS, runtime.GOARCH)
		return nil
	}
	out, err := exec.Command(binary, "--version").CombinedOutput() // #nosec G204 -- the binary under test
	if err != nil {
		return fmt.Errorf("%s --version: %w: %s", entrypoint, err, out)
	}
	if !strings.HasPrefix(string(out), "manager "+*want+" ") {
		return fmt.Errorf("%s --version printed %q, want version %s", entrypoint, out, *want)
	}
	fmt.Printf("  %s --version: %s", entrypoint, out)
	return nil
}

// extract writes the image's flattened filesystem under root (regular files and directories;
// links are recorded as empty files so a shell symlink still counts as present).
func extract(r io.ReadCloser, root string) error {
	defer func() { _ = r.Close() }()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean("/" + h.Name)[1:]
		if name == "" {
			continue
		}
		target := filepath.Join(root, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o750); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
			return err
		}
		// #nosec G302 G304 -- cleaned, under our temp root; 0700 so the entrypoint can run
		f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o700)
		if err != nil {
			return err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := io.Copy(f, io.LimitReader(tr, 1<<30)); err != nil { // #nosec G110 -- our own image, bounded
				_ = f.Close()
				return err
			}
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
}
