package helm

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v2"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
)

var update = flag.Bool("update", false, "copy alerts/ and dashboards/ into the chart's files/, and write examples/kubernetes.yml from the chart's default values")

const (
	chart       = "wolkvox-exporter"
	release     = "wolkvox-exporter"
	root        = "../.."
	helmInstall = "go install helm.sh/helm/v4/cmd/helm@v4.3.2"
	example     = root + "/examples/kubernetes.yml"
)

// valuesFiles is the template matrix; "" is the chart's defaults.
var valuesFiles = []string{"", "ci/flags-values.yaml", "ci/config-values.yaml", "ci/all-values.yaml"}

// shipped are the chart's copies of the files it renders, and their originals.
var shipped = map[string]string{
	chart + "/files/wolkvox.rules.yml":     root + "/alerts/wolkvox.rules.yml",
	chart + "/files/wolkvox-overview.json": root + "/dashboards/wolkvox-overview.json",
}

func helmBinary(t *testing.T) string {
	t.Helper()
	return exportertest.RequireGoTool(t, "helm", helmInstall)
}

// template runs helm template over the chart with a values file (or
// none) and more arguments.
func template(t *testing.T, values string, args ...string) (string, error) {
	t.Helper()
	cmdArgs := []string{"template", release, chart, "--namespace", "monitoring"}
	if values != "" {
		cmdArgs = append(cmdArgs, "-f", filepath.Join(chart, values))
	}
	cmd := exec.Command(helmBinary(t), append(cmdArgs, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), fmt.Errorf("helm template: %w", err)
	}
	return stdout.String(), nil
}

// object is one rendered manifest.
type object map[string]any

func (o object) kind() string { s, _ := o["kind"].(string); return s }

// dig follows keys through maps and list indexes (ints).
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[any]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func render(t *testing.T, values string, args ...string) map[string][]object {
	t.Helper()
	out, err := template(t, values, args...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", values, err, out)
	}
	return decode(t, out)
}

func decode(t *testing.T, out string) map[string][]object {
	t.Helper()
	byKind := map[string][]object{}
	dec := yaml.NewDecoder(strings.NewReader(out))
	for {
		var doc map[any]any
		if err := dec.Decode(&doc); err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("rendered YAML does not parse: %v", err)
		}
		if doc == nil {
			continue
		}
		o := object{}
		for k, v := range doc {
			o[k.(string)] = v
		}
		if o.kind() == "" || o["apiVersion"] == nil {
			t.Errorf("a manifest without kind or apiVersion: %v", doc)
		}
		byKind[o.kind()] = append(byKind[o.kind()], o)
	}
	return byKind
}

func TestChartLint(t *testing.T) {
	helm := helmBinary(t)
	for _, values := range valuesFiles {
		args := []string{"lint", "--strict", chart}
		if values != "" {
			args = append(args, "-f", filepath.Join(chart, values))
		}
		if out, err := exec.Command(helm, args...).CombinedOutput(); err != nil {
			t.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// exporter builds the exporter once for the tests that run it.
func exporter(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wolkvox-exporter-helm")
		if err != nil {
			buildErr = err
			return
		}
		binary, buildErr = exportertest.Build(dir)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// checkWithTheExporter runs the rendered command line, its config file and
// web config with --config.check, the paths moved into a temp dir and a
// distinct token file for each mounted token: the chart's flags, file and
// token paths are ones the exporter accepts.
func checkWithTheExporter(t *testing.T, objects map[string][]object, operations int) {
	t.Helper()
	dir := t.TempDir()
	paths := strings.NewReplacer("/etc/wolkvox/", dir+"/etc/", "/var/lib/wolkvox_exporter", dir+"/state")
	for _, sub := range []string{"etc/tokens", "etc/config", "etc/web", "state"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	deployment := objects["Deployment"][0]
	pod := dig(map[any]any(toAnyMap(deployment)), "spec", "template", "spec")
	for _, source := range dig(pod, "volumes", 0, "projected", "sources").([]any) {
		for _, item := range dig(source, "secret", "items").([]any) {
			name := dig(item, "path").(string)
			if err := os.WriteFile(filepath.Join(dir, "etc/tokens", name), []byte("token-of-"+name+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, cm := range objects["ConfigMap"] {
		if file, ok := dig(toAnyMap(cm), "data", "wolkvox.yml").(string); ok {
			if err := os.WriteFile(filepath.Join(dir, "etc/config/wolkvox.yml"), []byte(paths.Replace(file)), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, s := range objects["Secret"] {
		if file, ok := dig(toAnyMap(s), "stringData", "web-config.yml").(string); ok {
			if err := os.WriteFile(filepath.Join(dir, "etc/web/web-config.yml"), []byte(file), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	var args []string
	for _, a := range dig(pod, "containers", 0, "args").([]any) {
		args = append(args, paths.Replace(a.(string)))
	}
	cmd := exec.Command(exporter(t), append(args, "--config.check")...)
	cmd.Env = append(os.Environ(), "WOLKVOX_TOKEN=") // the token comes from the file only
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("configuration is good: %d operation(s)", operations)) {
		t.Errorf("the exporter refuses the rendered command line %q: %v\n%s", args, err, out)
	}
}

func toAnyMap(o object) map[any]any {
	m := map[any]any{}
	for k, v := range o {
		m[k] = v
	}
	return m
}

// The template matrix: each values file renders manifests that parse, one
// recreated replica, and a command line, config file and web config the
// exporter accepts; each mode's particulars are there.
func TestChartTemplateMatrix(t *testing.T) {
	for _, values := range valuesFiles {
		name := values
		if name == "" {
			name = "defaults"
		}
		t.Run(filepath.Base(name), func(t *testing.T) {
			objects := render(t, values)
			if n := len(objects["Deployment"]); n != 1 {
				t.Fatalf("%d Deployments", n)
			}
			d := toAnyMap(objects["Deployment"][0])
			if dig(d, "spec", "replicas") != 1 || dig(d, "spec", "strategy", "type") != "Recreate" {
				t.Errorf("replicas %v, strategy %v: want 1, Recreate", dig(d, "spec", "replicas"), dig(d, "spec", "strategy", "type"))
			}
			if len(objects["PodDisruptionBudget"]) != 0 {
				t.Error("a PodDisruptionBudget: with one replica it pretends to an availability there is none of")
			}
			container := dig(d, "spec", "template", "spec", "containers", 0)
			if dig(container, "securityContext", "readOnlyRootFilesystem") != true || dig(d, "spec", "template", "spec", "securityContext", "runAsNonRoot") != true {
				t.Error("the container is not non-root with a read-only root file system")
			}
			args := fmt.Sprint(dig(container, "args"))
			switch values {
			case "":
				checkWithTheExporter(t, objects, 1)
				for _, kind := range []string{"ServiceMonitor", "PrometheusRule", "Secret", "ConfigMap"} {
					if len(objects[kind]) != 0 {
						t.Errorf("a %s by default; every optional resource is off", kind)
					}
				}
				if len(objects["PersistentVolumeClaim"]) != 1 {
					t.Error("no PVC for the state by default")
				}
			case "ci/flags-values.yaml":
				checkWithTheExporter(t, objects, 1)
				for _, want := range []string{"--wolkvox.url=https://wv0002.wolkvox.com", "--wolkvox.operation=bogota", "--wolkvox.daily-quota=2000", "--no-collector.agents", "--poll.interval=10m", "--chat.revisit=48h"} {
					if !strings.Contains(args, want) {
						t.Errorf("args lack %s: %s", want, args)
					}
				}
				if dig(d, "spec", "template", "spec", "volumes", 1, "emptyDir") == nil || len(objects["PersistentVolumeClaim"]) != 0 {
					t.Error("state.persistence.enabled=false is not an emptyDir")
				}
				if s := dig(d, "spec", "template", "spec", "volumes", 0, "projected", "sources", 0, "secret"); dig(s, "name") != "bogota-wolkvox" || dig(s, "items", 0, "key") != "wolkvox-token" {
					t.Errorf("the token is not mounted from the named Secret's key: %v", s)
				}
			case "ci/config-values.yaml":
				checkWithTheExporter(t, objects, 3)
				if !strings.Contains(args, "--config.file=") || !strings.Contains(args, "--web.enable-lifecycle") {
					t.Errorf("args: %s", args)
				}
				if dig(d, "spec", "template", "metadata", "annotations", "checksum/config") == nil {
					t.Error("no checksum of the config file: a change would not roll the pod")
				}
			case "ci/all-values.yaml":
				checkWithTheExporter(t, objects, 2)
				for _, kind := range []string{"ServiceMonitor", "PrometheusRule", "PersistentVolumeClaim", "Secret", "Service"} {
					if len(objects[kind]) != 1 {
						t.Errorf("%d %s, want 1", len(objects[kind]), kind)
					}
				}
				if dig(container, "readinessProbe", "tcpSocket") == nil {
					t.Error("with basic auth, the probes would get 401: they must check the port")
				}
				checkJob(t, objects)
			}
		})
	}
}

// TestChartProbesAndScheme: readiness does not wait on the Wolkvox API
// (helm --wait, the Service's endpoints); a required client certificate,
// which the kubelet lacks, makes the probes check the port; TLS makes the
// ServiceMonitor scrape https.
func TestChartProbesAndScheme(t *testing.T) {
	container := func(objects map[string][]object) any {
		return dig(toAnyMap(objects["Deployment"][0]), "spec", "template", "spec", "containers", 0)
	}
	c := container(render(t, ""))
	if p := dig(c, "readinessProbe", "httpGet", "path"); p != "/-/healthy" {
		t.Errorf("readiness probes %v: /-/ready waits for the API, so an outage at start would leave the Service without endpoints", p)
	}
	tls := []string{"--set", "web.config.tls_server_config.cert_file=/c/tls.crt", "--set", "web.config.tls_server_config.key_file=/c/tls.key", "--set", "serviceMonitor.enabled=true"}
	objects := render(t, "", tls...)
	if dig(container(objects), "readinessProbe", "httpGet", "scheme") != "HTTPS" {
		t.Errorf("TLS: probes %v", dig(container(objects), "readinessProbe"))
	}
	if s := dig(toAnyMap(objects["ServiceMonitor"][0]), "spec", "endpoints", 0, "scheme"); s != "https" {
		t.Errorf("TLS: the ServiceMonitor scrapes %v", s)
	}
	objects = render(t, "", append(tls, "--set", "web.config.tls_server_config.client_auth_type=RequireAndVerifyClientCert")...)
	for _, probe := range []string{"readinessProbe", "livenessProbe"} {
		if dig(container(objects), probe, "tcpSocket") == nil {
			t.Errorf("a client certificate is required, which the kubelet lacks: %s %v must check the port", probe, dig(container(objects), probe))
		}
	}
}

// checkJob: the ServiceMonitor's job is the Service's name label, which
// the shipped rules' job selector matches whatever the release is named.
func checkJob(t *testing.T, objects map[string][]object) {
	t.Helper()
	sm := toAnyMap(objects["ServiceMonitor"][0])
	jobLabel, _ := dig(sm, "spec", "jobLabel").(string)
	job, _ := dig(toAnyMap(objects["Service"][0]), "metadata", "labels", jobLabel).(string)
	rules, err := os.ReadFile(root + "/alerts/wolkvox.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	selector := regexp.MustCompile(`job=~"([^"]+)"`).FindSubmatch(rules)
	if selector == nil {
		t.Fatal("no job selector in the rules")
	}
	if job == "" || !regexp.MustCompile("^(?:"+string(selector[1])+")$").MatchString(job) {
		t.Errorf("the scraped job is %q (jobLabel %q), which the rules' job=~%q does not select", job, jobLabel, selector[1])
	}
}

// The schema refuses what the chart must never do, at the value that
// does it, and its description there says why (helm prints the path, not
// the description); a refused token is not echoed.
func TestChartSchemaRefuses(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(chart, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	description := func(path ...string) string {
		var v any = schema
		for _, p := range path {
			m, _ := v.(map[string]any)
			v = m[p]
		}
		m, _ := v.(map[string]any)
		s, _ := m["description"].(string)
		return s
	}
	const secret = "s3cret-t0ken-value"
	noToken := []string{"definitions", "noTokenInClear"}
	for _, c := range []struct {
		set, at string
		where   []string // the schema's node whose description says why
		why     string
	}{
		{"replicas=2", "'/replicas'", []string{"properties", "replicas"}, "One token must never be in two calls at once"},
		{"strategy.type=RollingUpdate", "'/strategy/type'", []string{"properties", "strategy"}, "side by side"},
		{"operation.token=" + secret, "'/operation'", noToken, "token given in clear is refused"},
		{"config.operations[0].name=lima,config.operations[0].tokenSecret.name=x,config.operations[0].tokenSecret.key=k,config.operations[0].token=" + secret,
			"'/config/operations/0'", noToken, "token given in clear is refused"},
		{"token=" + secret, "'token' not allowed", nil, ""},
		{"extraArgs[0]=--wolkvox.token=" + secret, "'/extraArgs/0'", []string{"properties", "extraArgs"}, "never a flag"},
		{"podDisruptionBudget.enabled=true", "'/podDisruptionBudget'", []string{"properties", "podDisruptionBudget"}, "would protect nothing"},
		// What the exporter or Kubernetes would refuse only after the
		// install, or what would break the rendered YAML.
		{"config.operations[0].name=..,config.operations[0].tokenSecret.name=x,config.operations[0].tokenSecret.key=k",
			"'/config/operations/0/name'", nil, ""},
		{"operation.name=-x", "'/operation/name'", nil, ""},
		{"operation.tokenSecret.key=a\"b: c", "'/operation/tokenSecret/key'", nil, ""},
		{"operation.tokenSecret.name=Not_A_Name", "'/operation/tokenSecret/name'", nil, ""},
		{"operation.tokenSecret=null", "'/operation'", nil, ""},
		{"operation.timezone=UTC #x", "'/operation/timezone'", nil, ""},
		{"poll.maxCatchup=1y", "'/poll/maxCatchup'", []string{"definitions", "flagDuration"}, "no y"},
		{"config.defaults.interval=1m1h", "'/config/defaults/interval'", []string{"definitions", "duration"}, "largest first"},
		{"extraArgs[0]=--web.telemetry-path=/m", "'/extraArgs/0'", []string{"properties", "extraArgs"}, "not a flag given here"},
		{"podLabels.app\\.kubernetes\\.io/name=x", "invalid propertyName 'app.kubernetes.io/name'", []string{"properties", "podLabels"}, "detach the pod"},
		{"web.port=80", "'/web/port'", []string{"properties", "web", "properties", "port"}, "cannot bind a lower port"},
	} {
		out, err := template(t, "", "--set", c.set)
		if err == nil {
			t.Errorf("--set %s renders; the schema must refuse it", c.set)
			continue
		}
		if !strings.Contains(out, "values don't meet the specifications of the schema") || !strings.Contains(out, c.at) {
			t.Errorf("--set %s fails, but not by the schema at %s:\n%s", c.set, c.at, out)
		}
		if c.where != nil && !strings.Contains(description(c.where...), c.why) {
			t.Errorf("--set %s: the schema's description at %v does not say why (%q)", c.set, c.where, c.why)
		}
		if strings.Contains(out, secret) {
			t.Errorf("--set %s: the refusal echoes the token", c.set)
		}
	}
	// The values that must be allowed still are.
	if out, err := template(t, "", "--set", "replicas=1", "--set", "strategy.type=Recreate"); err != nil {
		t.Errorf("replicas=1, Recreate refused: %v\n%s", err, out)
	}
}

// The chart's copies are the shipped rules and dashboard, byte for byte.
func TestChartFilesAreTheShippedOnes(t *testing.T) {
	for copyPath, original := range shipped {
		want, err := os.ReadFile(original)
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(copyPath, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(copyPath)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s; run go test ./deploy/helm -run TestChartFilesAreTheShippedOnes -update", copyPath, original)
		}
	}
}

// What the cluster gets is what promtool tests and Grafana imports: the
// rendered PrometheusRule's groups are alerts/wolkvox.rules.yml's, and
// the dashboard ConfigMap holds dashboards/wolkvox-overview.json byte for
// byte.
func TestChartRendersTheShippedRulesAndDashboard(t *testing.T) {
	objects := render(t, "ci/all-values.yaml")

	rulesFile, err := os.ReadFile(root + "/alerts/wolkvox.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var want map[any]any
	if err := yaml.Unmarshal(rulesFile, &want); err != nil {
		t.Fatal(err)
	}
	got := dig(toAnyMap(objects["PrometheusRule"][0]), "spec", "groups")
	if got == nil || !reflect.DeepEqual(got, want["groups"]) {
		t.Errorf("the PrometheusRule's groups are not alerts/wolkvox.rules.yml's:\n%v", got)
	}

	dashboard, err := os.ReadFile(root + "/dashboards/wolkvox-overview.json")
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, cm := range objects["ConfigMap"] {
		data, ok := dig(toAnyMap(cm), "data", "wolkvox-overview.json").(string)
		if !ok {
			continue
		}
		found = true
		if data != string(dashboard) {
			t.Errorf("the dashboard ConfigMap differs from dashboards/wolkvox-overview.json (%d bytes, want %d)", len(data), len(dashboard))
		}
		if dig(toAnyMap(cm), "metadata", "labels", "grafana_dashboard") != "1" {
			t.Error("the dashboard ConfigMap lacks the Grafana sidecar's label grafana_dashboard: \"1\"")
		}
	}
	if !found {
		t.Error("no dashboard ConfigMap")
	}
}

const exampleHeader = `# wolkvox_exporter on Kubernetes: the Helm chart's output for its default
# values (deploy/helm/wolkvox-exporter), one operation by flags. Install with
# helm install instead when you can; see the README's Kubernetes section.
#
#   kubectl create secret generic wolkvox-token --from-file=token=./token
#   kubectl apply -f examples/kubernetes.yml
#
# Generated: go test ./deploy/helm -run TestKubernetesExampleIsTheChartsDefault -update
`

// examples/kubernetes.yml is the chart's default output, so the two never
// drift.
func TestKubernetesExampleIsTheChartsDefault(t *testing.T) {
	out, err := template(t, "", "--namespace", "default")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := exampleHeader + out
	if *update {
		if err := os.WriteFile(example, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("examples/kubernetes.yml is not the chart's default output; run go test ./deploy/helm -run TestKubernetesExampleIsTheChartsDefault -update")
	}
}
