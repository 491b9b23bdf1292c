package main

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v2"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
)

// No Docker engine runs where the tests run, so these tests check what a
// build would produce: the binary the Dockerfile's own command builds, and
// the Dockerfile's conventions.

func readDockerfile(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dockerBuildCommand returns the Dockerfile's go build command with its
// build arguments filled in.
func dockerBuildCommand(t *testing.T, dockerfile, out string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 go build .*)$`).FindStringSubmatch(dockerfile)
	if m == nil {
		t.Fatal("no `RUN CGO_ENABLED=0 go build` line in the Dockerfile")
	}
	line := strings.NewReplacer("${VERSION}", "9.9.9-docker", "${REVISION}", "abc123", "/out/wolkvox_exporter", out).Replace(m[1])
	// Split like a shell: double-quoted strings stay whole.
	var args []string
	for _, f := range regexp.MustCompile(`"[^"]*"|\S+`).FindAllString(line, -1) {
		args = append(args, strings.Trim(f, `"`))
	}
	return args
}

func TestDockerfileBinaryIsStaticAndStartsInDemo(t *testing.T) {
	dockerfile := readDockerfile(t)
	bin := filepath.Join(t.TempDir(), "wolkvox_exporter")
	args := dockerBuildCommand(t, dockerfile, bin)
	if args[0] != "CGO_ENABLED=0" || !strings.Contains(strings.Join(args, " "), "-trimpath") {
		t.Fatalf("the Dockerfile must build with CGO_ENABLED=0 and -trimpath: %v", args)
	}
	cmd := exec.Command(args[1], args[2:]...)
	cmd.Env = append(os.Environ(), args[0])
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Fatalf("the binary is dynamically linked (%v)", p.Type)
		}
	}

	// It starts in --demo, with the version stamped, and, with the
	// zoneinfo embedded, resolves the zone even with no zoneinfo around.
	p := exportertest.Start(t, bin, []string{"ZONEINFO=/nonexistent"}, "--demo", "--wolkvox.timezone=America/Bogota")
	body := p.WaitFor(t, "/metrics", 30*time.Second, func(status int, body string) bool {
		v, _ := exportertest.MetricValue(body, "wolkvox_transfers_total")
		return status == 200 && v > 0
	})
	if !strings.Contains(body, `version="9.9.9-docker"`) || !strings.Contains(body, `revision="abc123"`) {
		t.Error("the version is not stamped with -ldflags -X into github.com/prometheus/common/version")
	}
	p.Stop(t)

	src, _ := os.ReadFile("main.go")
	if !bytes.Contains(src, []byte(`_ "time/tzdata"`)) {
		t.Error("main.go does not embed time/tzdata")
	}
}

func TestDockerfileConventions(t *testing.T) {
	d := readDockerfile(t)
	froms := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(d, -1)
	if len(froms) < 2 {
		t.Fatalf("want a multi-stage build, got %d FROM lines", len(froms))
	}
	if !strings.HasPrefix(froms[0][1], "golang:1.26") {
		t.Errorf("the builder is %s, want Go 1.26", froms[0][1])
	}
	for _, f := range froms {
		image := f[1]
		pinned := strings.Contains(image, "@sha256:") || regexp.MustCompile(`:[^:]*\d+\.\d+`).MatchString(image)
		if !pinned || strings.HasSuffix(image, ":latest") {
			t.Errorf("base image %s is not pinned to a version", image)
		}
	}
	final := d[strings.LastIndex(d, "\nFROM "):]
	user := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindStringSubmatch(final)
	if user == nil || strings.HasPrefix(user[1], "0") || strings.HasPrefix(user[1], "root") {
		t.Errorf("the final stage must run as a non-root USER, got %v", user)
	}
	if !regexp.MustCompile(`(?m)^EXPOSE\s+10049$`).MatchString(final) {
		t.Error("the final stage does not EXPOSE 10049")
	}
	if !regexp.MustCompile(`(?m)^ENTRYPOINT \["/bin/wolkvox_exporter"\]$`).MatchString(final) {
		t.Error("the entrypoint is not the binary")
	}
	for _, line := range strings.Split(d, "\n") {
		upper := strings.ToUpper(line)
		if (strings.HasPrefix(upper, "ENV ") || strings.HasPrefix(upper, "ARG ")) && regexp.MustCompile(`TOKEN|SECRET|PASSWORD`).MatchString(upper) {
			t.Errorf("the Dockerfile sets a secret: %s", line)
		}
		if strings.HasPrefix(upper, "COPY") && strings.Contains(upper, "TOKEN") {
			t.Errorf("the Dockerfile copies a token: %s", line)
		}
	}
}

func TestExamples(t *testing.T) {
	// Prometheus: the config is valid and loads the shipped rules.
	promtool := exportertest.RequireTool(t, "promtool", "prometheus")
	cfg, err := os.ReadFile("examples/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	rules, _ := filepath.Abs("alerts/wolkvox.rules.yml")
	dir := t.TempDir()
	local := strings.ReplaceAll(string(cfg), "/etc/prometheus/rules/wolkvox.rules.yml", rules)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(local), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "config", filepath.Join(dir, "prometheus.yml")).CombinedOutput(); err != nil {
		t.Errorf("promtool check config: %v\n%s", err, out)
	}
	amtool := exportertest.RequireTool(t, "amtool", "prometheus-alertmanager")
	if out, err := exec.Command(amtool, "check-config", "examples/alertmanager.yml").CombinedOutput(); err != nil {
		t.Errorf("amtool check-config: %v\n%s", err, out)
	}

	// Kubernetes: one replica, recreated, never two exporters with one token.
	k8s, err := os.ReadFile("examples/kubernetes.yml")
	if err != nil {
		t.Fatal(err)
	}
	foundDeployment := false
	dec := yaml.NewDecoder(bytes.NewReader(k8s))
	for {
		var doc struct {
			Kind string `yaml:"kind"`
			Spec struct {
				Replicas *int `yaml:"replicas"`
				Strategy struct {
					Type string `yaml:"type"`
				} `yaml:"strategy"`
			} `yaml:"spec"`
		}
		if err := dec.Decode(&doc); err != nil {
			break
		}
		if doc.Kind == "Deployment" {
			foundDeployment = true
			if doc.Spec.Replicas == nil || *doc.Spec.Replicas != 1 || doc.Spec.Strategy.Type != "Recreate" {
				t.Errorf("the Deployment must have replicas: 1 and strategy Recreate, got %+v", doc.Spec)
			}
		}
	}
	if !foundDeployment {
		t.Error("no Deployment in examples/kubernetes.yml")
	}

	// Compose: the demo exporter, and mounts of files that exist.
	compose, err := os.ReadFile("examples/docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Command []string `yaml:"command"`
			Volumes []string `yaml:"volumes"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(compose, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, want := range []string{"wolkvox-exporter", "prometheus", "alertmanager", "grafana"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("compose lacks service %s", want)
		}
	}
	if cmd := c.Services["wolkvox-exporter"].Command; len(cmd) == 0 || cmd[0] != "--demo" {
		t.Errorf("the compose exporter does not run --demo: %v", cmd)
	}
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			src := strings.Split(v, ":")[0]
			if _, err := os.Stat(filepath.Join("examples", src)); err != nil {
				t.Errorf("service %s mounts %s, which does not exist", name, src)
			}
		}
	}
}
