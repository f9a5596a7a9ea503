package kubernetes_test

import (
	"bufio"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repoRoot is the module root, the Docker build context.
const repoRoot = "../.."

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, ...
	args string
}

// stage is one build stage: its FROM arguments and its instructions.
type stage struct {
	from         string
	instructions []instruction
}

func (s stage) all(cmd string) []string {
	var out []string
	for _, in := range s.instructions {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// parseDockerfile reads the parser directive of the first line and the
// stages of a Dockerfile.
func parseDockerfile(t *testing.T, file string) (directive string, stages []stage) {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	first := true
	var pending string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if first {
			directive, first = line, false
		}
		if pending == "" && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			pending += cont + " "
			continue
		}
		line, pending = pending+line, ""
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.Join(strings.Fields(args), " ")}
		if in.cmd == "FROM" {
			stages = append(stages, stage{from: in.args})
			continue
		}
		require.NotEmpty(t, stages, "%s before the first FROM", in.cmd)
		stages[len(stages)-1].instructions = append(stages[len(stages)-1].instructions, in)
	}
	require.NoError(t, sc.Err())
	require.Empty(t, pending, "a continuation line ends the file")
	return directive, stages
}

// goLine is the version of the go directive of go.mod.
func goLine(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+(?:\.\d+)?)\s*$`).FindSubmatch(data)
	require.NotNil(t, m, "go.mod has a go line")
	return string(m[1])
}

func TestDockerfile(t *testing.T) {
	directive, stages := parseDockerfile(t, "Dockerfile")
	assert.Equal(t, "# syntax=docker/dockerfile:1", directive)
	require.GreaterOrEqual(t, len(stages), 2, "multi-stage build")

	// The build stage runs on the build machine and cross-compiles.
	build := stages[0]
	from := strings.Fields(build.from)
	require.GreaterOrEqual(t, len(from), 2, "FROM --platform=... image")
	assert.Equal(t, "--platform=$BUILDPLATFORM", from[0])
	ref, digest, pinned := strings.Cut(from[1], "@")
	if pinned {
		assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, digest, "a pinned image's digest")
	}
	image, tag, _ := strings.Cut(ref, ":")
	assert.Equal(t, "golang", image)
	goVersion := goLine(t)
	major, minor, _ := strings.Cut(goVersion, ".")
	minor, _, _ = strings.Cut(minor, ".")
	// The tag is the go line, or its language version (which gets the
	// latest patch release of it).
	assert.Contains(t, []string{goVersion, major + "." + minor}, tag, "golang image of go.mod's version %s", goVersion)

	var buildRun string
	var args []string
	for _, in := range build.instructions {
		switch in.cmd {
		case "ARG":
			if buildRun == "" {
				args = append(args, strings.Fields(in.args)...)
			}
		case "RUN":
			if strings.Contains(in.args, "go build") {
				buildRun = in.args
			}
		}
	}
	require.NotEmpty(t, buildRun, "a RUN with go build")
	assert.Contains(t, args, "TARGETOS", "ARG TARGETOS before the build")
	assert.Contains(t, args, "TARGETARCH", "ARG TARGETARCH before the build")
	assert.True(t, slicesHasPrefix(args, "VERSION"), "ARG VERSION before the build")
	for _, want := range []string{
		"--mount=type=cache,target=/go/pkg/mod",
		"--mount=type=cache,target=/root/.cache/go-build",
		"GOOS=$TARGETOS", "GOARCH=$TARGETARCH", "CGO_ENABLED=0",
		"-trimpath", `-ldflags "-s -w -X main.version=${VERSION}"`, "./cmd/ocjob",
	} {
		assert.Contains(t, buildRun, want)
	}
	for _, run := range build.all("RUN") {
		if strings.Contains(run, "go mod download") {
			assert.Contains(t, run, "--mount=type=cache,target=/go/pkg/mod")
		}
	}
	// -X main.version sets a variable that exists.
	runGo, err := os.ReadFile(filepath.Join(repoRoot, "cmd", "ocjob", "run.go"))
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^var version string$`, string(runGo))

	// The final stage: distroless, non-root, labelled.
	final := stages[len(stages)-1]
	// By tag, or by tag and digest.
	assert.Regexp(t, `^gcr\.io/distroless/static(-debian\d+)?:nonroot(@sha256:[0-9a-f]{64})?$`, final.from)
	users := final.all("USER")
	require.NotEmpty(t, users, "the image sets a USER")
	user, _, _ := strings.Cut(users[len(users)-1], ":")
	assert.NotContains(t, []string{"root", "0", ""}, user, "non-root user")
	assert.Equal(t, []string{`["/ocjob"]`}, final.all("ENTRYPOINT"))
	assert.True(t, slicesHasPrefix(final.all("ARG"), "VERSION"), "the final stage declares ARG VERSION for its label")

	labels := strings.Join(final.all("LABEL"), " ")
	for _, key := range []string{"source", "title", "description", "version", "licenses"} {
		assert.Regexp(t, `org\.opencontainers\.image\.`+key+`="[^"]+"`, labels)
	}
	assert.Contains(t, labels, `org.opencontainers.image.version="${VERSION}"`)
	assert.Contains(t, labels, `org.opencontainers.image.source="https://github.com/kyma-incubator/open-connectors-job"`)
}

func slicesHasPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if s == prefix || strings.HasPrefix(s, prefix+"=") {
			return true
		}
	}
	return false
}

// ignorePatterns reads .dockerignore: patterns in order, "!" for exceptions.
func ignorePatterns(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	require.NoError(t, err)
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out
}

// ignored reports whether the context path p (slash-separated, relative to
// the root) is left out of the build context: the last matching pattern
// decides, a pattern matches a path or any of its parent directories, and
// "**" matches any number of directories, as Docker reads .dockerignore.
func ignored(t *testing.T, patterns []string, p string) bool {
	t.Helper()
	out := false
	for _, pat := range patterns {
		neg := strings.HasPrefix(pat, "!")
		pat = path.Clean(strings.TrimPrefix(strings.TrimPrefix(pat, "!"), "/"))
		if matchPattern(t, pat, p) {
			out = !neg
		}
	}
	return out
}

func matchPattern(t *testing.T, pat, p string) bool {
	parts := strings.Split(p, "/")
	for i := 1; i <= len(parts); i++ {
		prefix := strings.Join(parts[:i], "/")
		if matchGlob(t, strings.Split(pat, "/"), strings.Split(prefix, "/")) {
			return true
		}
	}
	return false
}

func matchGlob(t *testing.T, pat, name []string) bool {
	if len(pat) == 0 {
		return len(name) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(name); i++ {
			if matchGlob(t, pat[1:], name[i:]) {
				return true
			}
		}
		return false
	}
	if len(name) == 0 {
		return false
	}
	ok, err := path.Match(pat[0], name[0])
	require.NoError(t, err, "pattern %q", pat[0])
	return ok && matchGlob(t, pat[1:], name[1:])
}

func TestIgnoredPattern(t *testing.T) {
	pats := []string{".git", "**/*.test", "docs", "**/*.md", "!README.md", "**/testdata"}
	for p, want := range map[string]bool{
		".git/config":                 true,
		"cmd/ocjob/ocjob.test":        true,
		"docs/benchmarks.md":          true,
		"ocsync/doc.md":               true,
		"README.md":                   false,
		"ocsync/testdata/plan.golden": true,
		"ocsync/plan.go":              false,
		"go.mod":                      false,
		"cmd/ocjob/config/config.go":  false,
	} {
		assert.Equal(t, want, ignored(t, pats, p), p)
	}
}

// TestDockerignore checks that the build context keeps everything the build
// needs (go.mod, go.sum and every package but the examples) and leaves out
// the repository's history.
func TestDockerignore(t *testing.T) {
	pats := ignorePatterns(t)
	assert.True(t, ignored(t, pats, ".git/HEAD"), ".git is not sent")
	for _, f := range []string{"go.mod", "go.sum"} {
		assert.False(t, ignored(t, pats, f), f)
	}
	var sources int
	err := fs.WalkDir(os.DirFS(repoRoot), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (p == ".git" || p == "examples" || d.Name() == "testdata") {
			return fs.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			sources++
			assert.False(t, ignored(t, pats, p), "%s is needed by the build", p)
		}
		return nil
	})
	require.NoError(t, err)
	assert.Positive(t, sources)
}

// TestLicense checks that the license the image's label names is the
// repository's LICENSE.
func TestLicense(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "LICENSE"))
	require.NoError(t, err)
	text := strings.Join(strings.Fields(string(data)), " ")
	assert.True(t, strings.HasPrefix(text, "Apache License Version 2.0, January 2004"), "LICENSE is the Apache License 2.0")
	assert.Contains(t, text, "END OF TERMS AND CONDITIONS")
	df, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	assert.Contains(t, string(df), `org.opencontainers.image.licenses="Apache-2.0"`)
}
