package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/demo"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/exportertest"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox/wolkvoxtest"
)

// statusRow is one row of the landing page's status table, as the
// browser renders it.
type statusRow struct {
	Operation  string `json:"operation"`
	Report     string `json:"report"`
	Status     string `json:"status"`
	Background string `json:"background"`
	Error      string `json:"error"`
}

// readStatusRows reads the status table from the rendered page: each
// row's operation and report, the status cell's text and computed
// background (what a reader sees, not the class), and the last error.
const readStatusRows = `[...document.querySelectorAll('#status tbody tr')].map(tr => {
  const status = tr.querySelector('td.up, td.down, td.pending');
  return {
    operation: tr.dataset.operation, report: tr.dataset.report,
    status: status ? status.textContent : '',
    background: status ? getComputedStyle(status).backgroundColor : '',
    error: tr.querySelector('td.error').textContent,
  };
})`

// The landing page in a real browser: two operations on the demo's fake
// API, one whose every call fails with a bad token. The table shows both,
// the failing one marked down in words and colour with its reason; the
// page logs nothing to the console, has no script, and on a phone-sized
// screen the page does not scroll sideways (the table does, in its box).
// Screenshots go to the test's temp dir, and to $WOLKVOX_SCREENSHOT_DIR
// when set (how docs/landing-page.png is made).
func TestLandingPageInABrowser(t *testing.T) {
	chromium := exportertest.RequireTool(t, "chromium", "chromium")
	loc, err := time.LoadLocation("America/Bogota")
	if err != nil {
		t.Fatal(err)
	}
	// --demo serves one operation and takes no --config.file, so the test
	// starts the demo's fake API twice itself, as --demo does once.
	good, bad := demo.Start(loc), demo.Start(loc)
	t.Cleanup(good.Close)
	t.Cleanup(bad.Close)
	bad.SetToken("lima-demo-token")                              // the demo's is fixed; one token per operation
	bad.FailAll(wolkvoxtest.Forbidden(wolkvoxtest.TextBadToken)) // auth: never retried

	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	goodToken, badToken := write("bogota.token", good.Token()), write("lima.token", bad.Token())
	cfg := write("wolkvox.yml", fmt.Sprintf(`defaults:
  interval: 15s
  delay: 0s
  chat_revisit: 30m
operations:
  - name: bogota
    url: %s
    token_file: %s
    timezone: America/Bogota
    daily_quota: 40000
  - name: lima
    url: %s
    token_file: %s
    timezone: America/Lima
`, good.URL, goodToken, bad.URL, badToken))
	p := exportertest.Start(t, binary, nil, "--config.file="+cfg)
	p.WaitFor(t, "/metrics", 30*time.Second, func(_ int, body string) bool {
		for _, want := range []string{
			`wolkvox_report_up{operation="bogota",report="agent_13_1"} 1`, `wolkvox_report_up{operation="bogota",report="chat_4"} 1`,
			`wolkvox_report_up{operation="lima",report="agent_13_1"} 0`, `wolkvox_report_up{operation="lima",report="chat_4"} 0`,
		} {
			if !strings.Contains(body, want) {
				return false
			}
		}
		return true
	})

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium))
	if os.Geteuid() == 0 {
		// Chromium refuses to start as root with its sandbox (CI runs as
		// root in a container); the page is our own, on loopback.
		opts = append(opts, chromedp.NoSandbox)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()

	// Subscribe before the page loads, so that no message is lost.
	var (
		mu       sync.Mutex
		messages []chromedp.ConsoleMessage
	)
	collected := make(chan struct{})
	console := chromedp.Console(tab)
	go func() {
		defer close(collected)
		for m, err := range console {
			if err != nil {
				return
			}
			mu.Lock()
			messages = append(messages, m)
			mu.Unlock()
		}
	}()

	// A phone's screen first: 390 CSS pixels wide, as an iPhone 12 to 15.
	if err := chromedp.Do(tab,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait),
		chromedp.Navigate("http://"+p.Addr+"/"),
		chromedp.WaitVisible("#status"),
	); err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(tab, chromedp.Evaluate[[]statusRow](readStatusRows))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]statusRow{}
	for _, r := range rows {
		seen[r.Operation+"/"+r.Report] = r
	}
	// Two operations, each with its two reports and three real-time
	// snapshots (skills, agents, token_info).
	if len(rows) != 10 || len(seen) != 10 {
		t.Errorf("the table has %d rows, not one per operation and report or snapshot: %+v", len(rows), rows)
	}
	for _, report := range []string{"agent_13_1", "chat_4", "skills", "agents", "token_info"} {
		up, down := seen["bogota/"+report], seen["lima/"+report]
		if up.Status != "up" || up.Error != "" {
			t.Errorf("bogota %s: %+v, want up with no error", report, up)
		}
		if down.Status != "down" || !strings.Contains(down.Error, "auth") {
			t.Errorf("lima %s: %+v, want down with its reason (auth)", report, down)
		}
		if down.Background == up.Background || down.Background == "" {
			t.Errorf("lima %s is not marked apart: background %q, bogota's %q", report, down.Background, up.Background)
		}
	}

	type layout struct {
		Viewport    string `json:"viewport"`
		Scripts     int    `json:"scripts"`
		PageWidth   int    `json:"pageWidth"`
		ScreenWidth int    `json:"screenWidth"`
		BoxScrolls  bool   `json:"boxScrolls"`
		Headers     string `json:"headers"`
		Cells       string `json:"cells"`
		HTML        string `json:"html"`
	}
	got, err := chromedp.Run(tab, chromedp.Evaluate[layout](`(() => {
  const box = document.querySelector('#status').parentElement;
  const meta = document.querySelector('meta[name=viewport]');
  return {
    viewport: meta ? meta.content : '',
    scripts: document.scripts.length,
    pageWidth: document.documentElement.scrollWidth,
    screenWidth: window.innerWidth,
    boxScrolls: box.scrollWidth > box.clientWidth && getComputedStyle(box).overflowX === 'auto',
    headers: [...document.querySelectorAll('#status thead th')].map(th => th.textContent).join('|'),
    cells: [...document.querySelectorAll('#status tbody [rowspan]')].map(c => c.textContent).join('|'),
    html: document.documentElement.outerHTML,
  };
})()`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Viewport, "width=device-width") {
		t.Errorf("no viewport meta for phones: %q", got.Viewport)
	}
	if got.Scripts != 0 {
		t.Errorf("the page has %d scripts; it must be whole without JavaScript", got.Scripts)
	}
	if got.PageWidth > got.ScreenWidth {
		t.Errorf("on a %d px screen the page is %d px wide: it scrolls sideways", got.ScreenWidth, got.PageWidth)
	}
	if !got.BoxScrolls {
		t.Error("on a phone the table neither fits nor scrolls in its own box")
	}
	if want := "operation|report|status|last success|latest window|last error|next poll|planned calls a day"; got.Headers != want {
		t.Errorf("columns %q, want %q", got.Headers, want)
	}
	// The plan: 15s polls, 30m revisit horizon, snapshots every 15s and
	// token_info hourly: 11520 + 5760 + 11520 + 24 calls a day
	// (poller.PlannedCallsPerDay), against bogota's quota.
	for _, want := range []string{"29112 of 40000 (73%)", "29112 (quota unknown)", "every 15s"} {
		if !strings.Contains(got.Cells, want) {
			t.Errorf("the operations' cells lack %q: %s", want, got.Cells)
		}
	}
	for _, token := range []string{good.Token(), bad.Token()} {
		if strings.Contains(got.HTML, token) {
			t.Error("a token is on the page")
		}
	}
	shoot := func(name string) {
		t.Helper()
		// Quality 100 gives a PNG; below it, a JPEG.
		png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
		if out := os.Getenv("WOLKVOX_SCREENSHOT_DIR"); out != "" {
			if err := os.WriteFile(filepath.Join(out, name), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	shoot("landing-page-phone.png")
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1280, 720)); err != nil {
		t.Fatal(err)
	}
	shoot("landing-page.png")

	cancelTab()
	<-collected
	mu.Lock()
	defer mu.Unlock()
	for _, m := range messages {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			t.Errorf("console: %s (%s)", m, m.URL)
		}
	}
	p.Stop(t)
}
