// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Command release finishes what make release builds in dist/: the kubectl plugin's archives, the
// krew manifest that points at them, and checksums.txt over every artifact; then it checks that
// every artifact a release promises is there.
//
//	go run ./hack/release --dist dist --version v0.1.0 --plugin-binaries bin/release/plugin
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
	"time"
)

// pluginPlatforms are the platforms the kubectl plugin is released for.
var pluginPlatforms = []struct{ os, arch string }{
	{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"},
}

type options struct {
	dist, version, pluginBinaries, completion, license, downloadURL string
	imagePlatforms                                                  []string
	modTime                                                         time.Time
}

func main() {
	var o options
	flag.StringVar(&o.dist, "dist", "dist", "The release directory.")
	flag.StringVar(&o.version, "version", "", "The release's version (v0.1.0).")
	flag.StringVar(&o.pluginBinaries, "plugin-binaries", "bin/release/plugin", "Directory holding kubectl-store-<os>-<arch>.")
	flag.StringVar(&o.completion, "completion", "cmd/kubectl-store/kubectl_complete-store", "The completion script shipped with the plugin.")
	flag.StringVar(&o.license, "license", "LICENSE", "The licence shipped in every archive.")
	flag.StringVar(&o.downloadURL, "download-url", "https://github.com/storeops/member-operator/releases/download",
		"Where the release's files are published (the krew manifest points there).")
	images := flag.String("image-platforms", "linux/amd64,linux/arm64", "The image's platforms.")
	epoch := flag.Int64("created", 0, "Archive times in Unix seconds (SOURCE_DATE_EPOCH).")
	flag.Parse()
	o.imagePlatforms = strings.Split(*images, ",")
	o.modTime = time.Unix(*epoch, 0).UTC()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.version == "" {
		return errors.New("--version is required")
	}
	hashes := map[string]string{}
	for _, p := range pluginPlatforms {
		name := archiveName(o.version, p.os, p.arch)
		sum, err := o.pluginArchive(filepath.Join(o.dist, name), p.os, p.arch)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		hashes[name] = sum
	}
	if err := o.krewManifest(hashes); err != nil {
		return err
	}
	return o.checksums()
}

func archiveName(version, goos, arch string) string {
	return fmt.Sprintf("kubectl-store_%s_%s_%s.tar.gz", version, goos, arch)
}

// pluginArchive writes the plugin, its completion script and the licence as a tar.gz, as krew
// installs it, and returns its sha256.
func (o options) pluginArchive(out, goos, arch string) (string, error) {
	files := []struct {
		name, path string
		mode       int64
	}{
		{"kubectl-store", filepath.Join(o.pluginBinaries, fmt.Sprintf("kubectl-store-%s-%s", goos, arch)), 0o755},
		{"kubectl_complete-store", o.completion, 0o755},
		{"LICENSE", o.license, 0o644},
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.ModTime = o.modTime
	tw := tar.NewWriter(gz)
	for _, f := range files {
		data, err := os.ReadFile(f.path) // #nosec G304 -- build outputs named by the Makefile
		if err != nil {
			return "", err
		}
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(data)), ModTime: o.modTime,
			Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return "", err
		}
		if _, err := tw.Write(data); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	if err := gz.Close(); err != nil {
		return "", err
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil { // #nosec G306 -- a public release file
		return "", err
	}
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:]), nil
}

var krewTemplate = template.Must(template.New("krew").Parse(`apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: store
spec:
  version: {{ .Version }}
  homepage: https://github.com/storeops/member-operator
  shortDescription: Manage the members of online stores (member-operator)
  description: |
    Invite people to stores, list members and invitations, disable, enable and remove members,
    reset passwords and 2FA, and hand a store to a new owner, on the Stores, Members and
    Invitations of the member-operator (membership.storeops.io). Takes kubectl's flags; every
    listing takes -o and every change --dry-run.
  platforms:
{{- range .Platforms }}
  - selector:
      matchLabels:
        os: {{ .OS }}
        arch: {{ .Arch }}
    uri: {{ .URI }}
    sha256: {{ .SHA256 }}
    bin: kubectl-store
    files:
    - from: kubectl-store
      to: .
    - from: kubectl_complete-store
      to: .
    - from: LICENSE
      to: .
{{- end }}
`))

// krewManifest writes dist/store.yaml, krew's manifest of this release's plugin archives.
func (o options) krewManifest(hashes map[string]string) error {
	type platform struct{ OS, Arch, URI, SHA256 string }
	data := struct {
		Version   string
		Platforms []platform
	}{Version: o.version}
	for _, p := range pluginPlatforms {
		name := archiveName(o.version, p.os, p.arch)
		data.Platforms = append(data.Platforms, platform{OS: p.os, Arch: p.arch,
			URI: fmt.Sprintf("%s/%s/%s", o.downloadURL, o.version, name), SHA256: hashes[name]})
	}
	var buf bytes.Buffer
	if err := krewTemplate.Execute(&buf, data); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(o.dist, "store.yaml"), buf.Bytes(), 0o644) // #nosec G306 -- a public release file
}

// expected are the files every release has, besides checksums.txt.
func (o options) expected() []string {
	v := o.version
	chartVersion := strings.TrimPrefix(v, "v")
	files := make([]string, 0, 4+len(o.imagePlatforms)+len(pluginPlatforms))
	files = append(files, "install.yaml", "store.yaml", fmt.Sprintf("member-operator-%s.tgz", chartVersion),
		fmt.Sprintf("member-operator_%s_oci.tar", v))
	for _, p := range o.imagePlatforms {
		goos, arch, _ := strings.Cut(p, "/")
		files = append(files, fmt.Sprintf("member-operator_%s_%s_%s.tar", v, goos, arch))
	}
	for _, p := range pluginPlatforms {
		files = append(files, archiveName(v, p.os, p.arch))
	}
	sort.Strings(files)
	return files
}

// checksums writes checksums.txt (sha256sum's format) over exactly the expected files, failing
// when one is missing or an unexpected one is there.
func (o options) checksums() error {
	entries, err := os.ReadDir(o.dist)
	if err != nil {
		return err
	}
	present := map[string]bool{}
	for _, e := range entries {
		if !e.IsDir() && e.Name() != "checksums.txt" {
			present[e.Name()] = true
		}
	}
	var lines []string
	var missing []string
	for _, name := range o.expected() {
		if !present[name] {
			missing = append(missing, name)
			continue
		}
		delete(present, name)
		f, err := os.Open(filepath.Join(o.dist, name)) // #nosec G304 -- a file of the release directory
		if err != nil {
			return err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		_ = f.Close()
		if err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("%s  %s", hex.EncodeToString(h.Sum(nil)), name))
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing from %s: %s", o.dist, strings.Join(missing, ", "))
	}
	if len(present) > 0 {
		var extra []string
		for name := range present {
			extra = append(extra, name)
		}
		sort.Strings(extra)
		return fmt.Errorf("unexpected in %s (a stale file from another version?): %s", o.dist, strings.Join(extra, ", "))
	}
	sums := []byte(strings.Join(lines, "\n") + "\n")
	if err := os.WriteFile(filepath.Join(o.dist, "checksums.txt"), sums, 0o644); err != nil { // #nosec G306 -- public
		return err
	}
	fmt.Printf("%s/checksums.txt: %d artifacts\n", o.dist, len(lines))
	return nil
}
