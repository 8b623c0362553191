package dockerfilepolicy

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// Labels are the OCI annotations every final image carries, so a registry and
// a scanner can trace it to its source and version.
var Labels = []string{
	"org.opencontainers.image.source",
	"org.opencontainers.image.version",
	"org.opencontainers.image.revision",
}

// digestRef is a reference pinned to content: a tag can be moved, a digest
// cannot.
var digestRef = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)

// shellless names the final bases that carry no shell: distroless static and
// scratch. Anything else may bring /bin/sh into the running image.
var shellless = regexp.MustCompile(`^(scratch|gcr\.io/distroless/static(-debian\d+)?(:[\w.-]+)?@sha256:[0-9a-f]{64})$`)

// Check parses a Dockerfile and returns every rule it breaks, each naming the
// instruction; none means the Dockerfile holds to the policy.
func Check(dockerfile []byte) ([]string, error) {
	ast, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return nil, fmt.Errorf("parse Dockerfile: %w", err)
	}
	stages, metaArgs, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		return nil, fmt.Errorf("parse Dockerfile instructions: %w", err)
	}
	if len(stages) < 2 {
		return []string{fmt.Sprintf("a single stage: the final image would carry the Go toolchain (want a build stage and a final stage, got %d)", len(stages))}, nil
	}
	args := defaults(metaArgs)
	var broken []string
	broken = append(broken, checkBases(stages, args)...)
	broken = append(broken, checkBuild(stages[:len(stages)-1])...)
	broken = append(broken, checkFinal(stages[len(stages)-1], args)...)
	return broken, nil
}

// CheckIgnore returns the rules a .dockerignore breaks: the build context must
// leave out .git, which holds history no image needs and which would change
// the context, and so bust the build cache, on every commit.
func CheckIgnore(dockerignore []byte) ([]string, error) {
	patterns, err := ignorefile.ReadAll(bytes.NewReader(dockerignore))
	if err != nil {
		return nil, fmt.Errorf("read .dockerignore: %w", err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("compile .dockerignore: %w", err)
	}
	ignored, err := pm.MatchesOrParentMatches(".git/HEAD")
	if err != nil {
		return nil, fmt.Errorf("match .dockerignore: %w", err)
	}
	if !ignored {
		return []string{".dockerignore does not exclude .git"}, nil
	}
	return nil, nil
}

// CheckFile checks the Dockerfile at path.
func CheckFile(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Check(b)
}

// defaults maps the ARGs declared before the first FROM to their defaults:
// what a FROM expands to when nobody passes --build-arg.
func defaults(metaArgs []instructions.ArgCommand) map[string]string {
	m := map[string]string{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			m[kv.Key] = kv.ValueString()
		}
	}
	return m
}

func expand(s string, args map[string]string) string {
	return os.Expand(s, func(k string) string { return args[k] })
}

func checkBases(stages []instructions.Stage, args map[string]string) []string {
	var broken []string
	named := map[string]bool{}
	for _, s := range stages {
		base := expand(s.BaseName, args)
		if !named[strings.ToLower(base)] && base != "scratch" && !digestRef.MatchString(base) {
			broken = append(broken, fmt.Sprintf("FROM %s is not pinned by digest (want name:tag@sha256:<64 hex>)", base))
		}
		if s.Name != "" {
			named[strings.ToLower(s.Name)] = true
		}
	}
	return broken
}

// checkBuild wants the go build in some earlier stage to be static and
// reproducible: CGO_ENABLED=0, so the binary runs on a base without libc, and
// -trimpath, so it carries no build machine's paths.
func checkBuild(stages []instructions.Stage) []string {
	for _, s := range stages {
		cgoOff := false
		for _, c := range s.Commands {
			switch c := c.(type) {
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					if kv.Key == "CGO_ENABLED" {
						cgoOff = kv.Value == "0"
					}
				}
			case *instructions.RunCommand:
				line := strings.Join(c.CmdLine, " ")
				if !strings.Contains(line, "go build") {
					continue
				}
				var broken []string
				if !cgoOff && !strings.Contains(line, "CGO_ENABLED=0") {
					broken = append(broken, "go build without CGO_ENABLED=0: the binary would need a libc the final image lacks")
				}
				if !strings.Contains(line, "-trimpath") {
					broken = append(broken, "go build without -trimpath")
				}
				return broken
			}
		}
	}
	return []string{"no build stage runs go build"}
}

func checkFinal(s instructions.Stage, args map[string]string) []string {
	var broken []string
	if base := expand(s.BaseName, args); !shellless.MatchString(base) {
		broken = append(broken, fmt.Sprintf("final stage FROM %s: want scratch or distroless static, bases without a shell", base))
	}
	user, labels, entrypoint := "", map[string]bool{}, false
	for _, c := range s.Commands {
		switch c := c.(type) {
		case *instructions.RunCommand:
			broken = append(broken, fmt.Sprintf("final stage runs %q: it needs a shell or tools the image must not have", strings.Join(c.CmdLine, " ")))
		case *instructions.UserCommand:
			user = c.User
		case *instructions.LabelCommand:
			for _, kv := range c.Labels {
				labels[kv.Key] = true
			}
		case *instructions.EntrypointCommand:
			entrypoint = true
			if c.PrependShell {
				broken = append(broken, fmt.Sprintf("ENTRYPOINT %s is in shell form: there is no shell, use the JSON form", strings.Join(c.CmdLine, " ")))
			}
		}
	}
	if msg := checkUser(user); msg != "" {
		broken = append(broken, msg)
	}
	for _, l := range Labels {
		if !labels[l] {
			broken = append(broken, "final stage has no LABEL "+l)
		}
	}
	if !entrypoint {
		broken = append(broken, "final stage has no ENTRYPOINT")
	}
	return broken
}

// checkUser wants a numeric, non-zero uid (and gid): a name needs /etc/passwd
// to resolve, and Kubernetes' runAsNonRoot can only verify a number.
func checkUser(user string) string {
	if user == "" {
		return "final stage sets no USER: the image would run as root"
	}
	for _, id := range strings.SplitN(user, ":", 2) {
		n, err := strconv.Atoi(id)
		if err != nil {
			return fmt.Sprintf("USER %s is not numeric", user)
		}
		if n == 0 {
			return fmt.Sprintf("USER %s is root", user)
		}
	}
	return ""
}
