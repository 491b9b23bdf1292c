package poller

import (
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"

	"os"
	"path/filepath"
	"testing"
)

// A poller that fails to open its state file after locking it (here: the
// file is corrupt and cannot be moved aside) lets the lock go, so that the
// next try in the same process, once the cause is mended, succeeds instead
// of finding the file "in use by another process".
func TestStateLockIsReleasedWhenOpeningFails(t *testing.T) {
	srv := newFake(t, nil)
	dir := t.TempDir()
	cfg := testConfig(srv, exportertest.NewClock(t0))
	cfg.StateFile = filepath.Join(dir, "op.state")
	if err := os.WriteFile(cfg.StateFile, []byte("not a state file"), 0o600); err != nil {
		t.Fatal(err)
	}
	aside := cfg.StateFile + ".corrupt"
	if err := os.MkdirAll(filepath.Join(aside, "full"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg); err == nil {
		t.Fatal("New succeeded though the corrupt file could not be moved aside")
	}
	if err := os.RemoveAll(aside); err != nil {
		t.Fatal(err)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("second try, the cause mended: %v", err)
	}
	p.Close()
}
