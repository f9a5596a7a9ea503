package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// formats maps the file extensions read to the Director's spec formats.
var formats = map[string]string{".json": "JSON", ".yaml": "YAML", ".yml": "YAML"}

// folderSource is an ocsync.Source: one application per OpenAPI file in dir.
type folderSource struct {
	dir        string
	prefix     string // application names start with prefix + "-"
	targetURL  string // used when a document names no server
	credential redact.Secret
}

var _ ocsync.Source = (*folderSource)(nil)

// Applications reads every document of the folder. It returns all of them
// or an error, never a partial list: the engine would delete the rest.
func (s *folderSource) Applications(ctx context.Context) ([]ocsync.Application, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var apps []ocsync.Application
	for _, e := range entries {
		if e.IsDir() || formats[strings.ToLower(filepath.Ext(e.Name()))] == "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(filepath.Join(s.dir, e.Name()))
		if err != nil {
			return nil, err
		}
		apps = append(apps, s.application(e.Name(), data))
	}
	return apps, nil
}

// application maps one file. Only cheap metadata is kept; the document itself
// is read again by Spec when the engine needs it.
func (s *folderSource) application(file string, data []byte) ocsync.Application {
	sum := sha256.Sum256(data)
	title, target, ok := describe(data)
	if target == "" {
		target = s.targetURL
	}
	status := ocsync.StatusConnected
	if !ok || target == "" {
		status = ocsync.StatusFailed // not created; an existing application shows FAILED
	}
	if title == "" {
		title = file
	}
	return ocsync.Application{
		Name: appName(s.prefix, file),
		Key:  file, // recorded as connectorInstanceID in the identity label
		Attributes: ocsync.Attributes{
			Description:  "OpenAPI document " + file + ": " + title,
			ProviderName: "OpenAPI files",
			Status:       status,
			Bundle:       strings.TrimSuffix(file, filepath.Ext(file)),
			API:          title,
			TargetURL:    target,
			Revision:     hex.EncodeToString(sum[:8]),
		},
		Credential: s.credential,
	}
}

// Spec reads the document of app. app.Key is its file name.
func (s *folderSource) Spec(ctx context.Context, app ocsync.Application) (ocsync.Spec, error) {
	data, err := os.ReadFile(filepath.Join(s.dir, app.Key))
	if err != nil {
		return ocsync.Spec{}, err
	}
	if _, _, ok := describe(data); !ok {
		return ocsync.Spec{}, fmt.Errorf("%s is not an OpenAPI document: %w", app.Key, remote.ErrInvalidSpec)
	}
	format := formats[strings.ToLower(filepath.Ext(app.Key))]
	return ocsync.Spec{Type: "OPEN_API", Format: format, Data: data}, nil
}

// describe reads the title and the target URL of a Swagger 2.0 or OpenAPI 3
// document (YAML, and so JSON too); ok is false for anything else.
func describe(data []byte) (title, target string, ok bool) {
	var doc struct {
		Swagger  string `yaml:"swagger"`
		OpenAPI  string `yaml:"openapi"`
		Info     struct{ Title string }
		Servers  []struct{ URL string }
		Host     string `yaml:"host"`
		BasePath string `yaml:"basePath"`
		Schemes  []string
	}
	if yaml.Unmarshal(data, &doc) != nil {
		return "", "", false
	}
	switch {
	case doc.Swagger == "2.0" && doc.Host != "":
		scheme := "https"
		if len(doc.Schemes) > 0 {
			scheme = doc.Schemes[0]
		}
		target = scheme + "://" + doc.Host + doc.BasePath
	case strings.HasPrefix(doc.OpenAPI, "3.") && len(doc.Servers) > 0:
		target = doc.Servers[0].URL
	}
	if u, err := url.Parse(target); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		target = ""
	}
	return doc.Info.Title, target, doc.Swagger == "2.0" || strings.HasPrefix(doc.OpenAPI, "3.")
}

// appName makes a valid Director application name from the prefix and a file
// name: lower-case letters, digits and single dashes, at most 100 characters.
// Such a name is its own normal form, so two files clash only when their names
// differ in case or punctuation alone; the engine then skips both.
func appName(prefix, file string) string {
	stem := slug(strings.TrimSuffix(file, filepath.Ext(file)))
	if stem == "" { // no ASCII letter or digit: name it after a hash
		sum := sha256.Sum256([]byte(file))
		stem = "file-" + hex.EncodeToString(sum[:4])
	}
	name := prefix + "-" + stem
	return strings.TrimSuffix(name[:min(len(name), 100)], "-")
}

// slug lower-cases s and turns every run of characters other than a-z and
// 0-9 into one dash, without dashes at either end.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
			b.WriteByte('-')
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
