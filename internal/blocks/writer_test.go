package blocks

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
)

// TestPromtoolReadsTheBlocks writes two blocks, one with series of several
// chunks, and reads every sample back with Prometheus's own promtool.
func TestPromtoolReadsTheBlocks(t *testing.T) {
	promtool := exportertest.RequireTool(t, "promtool", "prometheus")
	dir := t.TempDir()
	w := NewWriter(dir)
	ctx := context.Background()
	series := [][]Label{
		labelSet("__name__", "wolkvox_transfers_total", "operation", "bogota", "type_call", "internal"),
		labelSet("__name__", "wolkvox_transfers_total", "operation", "bogota", "type_call", `a "quoted" \ value`),
		labelSet("__name__", "wolkvox_chat_survey_score_bucket", "channel", "whatsapp", "le", "5.0"),
	}
	var want []string
	const start = int64(1_795_082_400_000) // a 2-hour boundary
	for block := range 2 {
		refs := make([]uint64, len(series))
		for i := range 300 { // three chunks of 120 and one of 60, 15 s apart
			at := start + int64(block)*7_200_000 + int64(i)*15_000
			for s, lbls := range series {
				if block == 1 && s == 2 {
					continue // a series may be missing from a block
				}
				v := float64(block*1000 + i*(s+1))
				ref, err := w.Append(refs[s], lbls, at, v)
				if err != nil {
					t.Fatal(err)
				}
				refs[s] = ref
				want = append(want, fmt.Sprintf("%s %g %d", render(lbls), v, at))
			}
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil { // nothing appended: no block
		t.Fatal(err)
	}
	if got := len(w.Blocks()); got != 2 {
		t.Fatalf("%d blocks, want 2", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("the directory holds %d entries, want the 2 blocks: %v", len(entries), entries)
	}
	for _, b := range w.Blocks() {
		if _, err := os.Stat(filepath.Join(dir, b, "meta.json")); err != nil {
			t.Fatal(err)
		}
	}

	if err := os.Mkdir(filepath.Join(dir, "wal"), 0o755); err != nil { // promtool opens a database
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "tsdb", "dump", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool tsdb dump: %v\n%s", err, out)
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	slices.Sort(got)
	slices.Sort(want)
	if len(got) != len(want) {
		t.Fatalf("promtool dumps %d samples, %d were written", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sample %d: promtool dumps\n%s\nwant\n%s", i, got[i], want[i])
		}
	}
}

// TestASampleOutOfOrderIsRefused keeps a chunk from being corrupted by a
// caller's mistake.
func TestASampleOutOfOrderIsRefused(t *testing.T) {
	w := NewWriter(t.TempDir())
	lbls := labelSet("__name__", "x")
	ref, err := w.Append(0, lbls, 2000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(ref, lbls, 2000, 2); err == nil {
		t.Error("a second sample at the same time was accepted")
	}
}

func labelSet(pairs ...string) []Label {
	var ls []Label
	for i := 0; i < len(pairs); i += 2 {
		ls = append(ls, Label{Name: pairs[i], Value: pairs[i+1]})
	}
	return ls
}

// render writes a series as promtool tsdb dump does.
func render(lbls []Label) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range lbls {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%q", l.Name, l.Value)
	}
	b.WriteByte('}')
	return b.String()
}

// A backfill into a file system with little room: Prometheus's default
// chunk segment preallocated 512 MB and failed with "no space left"
// where a block needs a few kilobytes. A 64 MB tmpfs is the small disk.
func TestBlocksFitASmallDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("WOLKVOX_REQUIRE_TOOLS") != "" {
			t.Fatal("mounting a tmpfs needs root")
		}
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	w := NewWriter(dir)
	lbls := labelSet("__name__", "wolkvox_transfers_total", "operation", "bogota")
	if _, err := w.Append(0, lbls, 1_795_082_400_000, 1); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Fatalf("a block on a 64 MB disk: %v", err)
	}
}
