// Package helm holds the tests of the Helm chart in wolkvox-exporter/:
// helm lint, helm template over a matrix of values files, the schema's
// refusals, and the equality of the chart's rules and dashboard with
// alerts/ and dashboards/. They run the real helm (installed with
// go install helm.sh/helm/v4/cmd/helm@v4.3.2, as .ci/run does) and the
// real exporter binary.
package helm
