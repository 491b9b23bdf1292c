package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/schollz/progressbar/v3"

	"github.com/wolkvox-exporter/wolkvox_exporter/collector"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/backfill"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/blocks"
	"github.com/wolkvox-exporter/wolkvox_exporter/internal/poller"
	"github.com/wolkvox-exporter/wolkvox_exporter/wolkvox"
)

// headBlock is the span before now that Prometheus keeps in its head
// block: blocks written there would overlap what it is ingesting live.
const headBlock = 3 * time.Hour

// backfillFlags are the backfill command's own flags.
type backfillFlags struct {
	from, to, output *string
	labels           *map[string]string
	step, window     *time.Duration
	prometheusMajor  *int
	yes, dryRun      *bool
}

func (b *backfillFlags) add(cmd *kingpin.CmdClause) {
	b.from = cmd.Flag("from", "First day to backfill: YYYY-MM-DD (midnight in the operation's zone) or RFC 3339.").Required().String()
	b.to = cmd.Flag("to", "End of the backfill, at least 3 hours ago: YYYY-MM-DD or RFC 3339.").Required().String()
	b.output = cmd.Flag("output", "Directory for the blocks, and each operation's state file (OPERATION.state), the live exporter's starting point.").Required().String()
	b.labels = cmd.Flag("label", "A label of the live scrape, name=value (job and instance), so the backfilled series are the live ones. Repeatable.").StringMap()
	b.step = cmd.Flag("step", "Spacing of the backfilled samples: under Prometheus's 5-minute lookback.").Default("1m").Duration()
	b.window = cmd.Flag("window", "Span of history each API call reads: memory holds one window's records; each window costs a call per report. 24h spends the fewest calls.").Default("2h").Duration()
	b.prometheusMajor = cmd.Flag("prometheus.major", "Deprecated, no effect: the exporter serves OpenMetrics, so Prometheus 2 and 3 both store a histogram's le label as \"5.0\", as the backfill writes it.").Default("3").Hidden().Int()
	b.yes = cmd.Flag("yes", "Spend the API calls without asking.").Bool()
	b.dryRun = cmd.Flag("dry-run", "Print the estimate of API calls and exit.").Bool()
}

// parseDate reads YYYY-MM-DD as midnight in loc, or RFC 3339.
func parseDate(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither YYYY-MM-DD nor RFC 3339", s)
	}
	return t, nil
}

func runBackfill(f *flags, ops *operations, logger log.Logger, stderr io.Writer) int {
	bf := &f.backfill
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "%s: error: %s\n", exporterName, fmt.Sprintf(format, a...))
		return 2
	}
	switch {
	case *bf.step < time.Second || *bf.step > 5*time.Minute:
		// A second is the records' own precision, 5m Prometheus's lookback.
		return fail("--step must be between 1s and 5m (Prometheus's lookback), not %v", *bf.step)
	case *bf.window < *bf.step || *bf.window > 24*time.Hour:
		return fail("--window must be between --step and 24h (a day is the checkpoint), not %v", *bf.window)
	case *bf.prometheusMajor != 2 && *bf.prometheusMajor != 3:
		return fail("--prometheus.major must be 2 or 3, not %d", *bf.prometheusMajor)
	}
	if err := checkLabels(*bf.labels); err != nil {
		return fail("--label %v", err)
	}
	cfgs, errs := ops.load()
	if len(errs) > 0 {
		return fail("%v", errs[0])
	}
	if err := os.MkdirAll(*bf.output, 0o755); err != nil {
		return fail("--output: %v", err)
	}
	type plan struct {
		cfg      poller.Config
		from, to time.Time
	}
	var plans []plan
	calls := 0
	now := time.Now()
	for _, cfg := range cfgs {
		loc := cfg.Client.Location
		from, err := parseDate(*bf.from, loc)
		if err != nil {
			return fail("--from: %v", err)
		}
		to, err := parseDate(*bf.to, loc)
		if err != nil {
			return fail("--to: %v", err)
		}
		switch {
		case !from.Before(to):
			return fail("--from %s is not before --to %s", from.In(loc), to.In(loc))
		case to.After(now.Add(-headBlock)):
			return fail("--to %s is within the last 3 hours, Prometheus's head block; leave that to the live exporter's catch-up", to.In(loc).Format(time.RFC3339))
		}
		cfg.StateFile = filepath.Join(*bf.output, cfg.Operation+".state")
		cfg.Logger = logger
		plans = append(plans, plan{cfg, from, to})
		calls += backfill.EstimateCalls(resumeFrom(cfg, from), to, loc, *bf.window)
		if perDay := backfill.EstimateCalls(from, from.Add(24*time.Hour), time.UTC, *bf.window); cfg.DailyQuota > 0 && float64(perDay) > cfg.DailyQuota {
			fmt.Fprintf(stderr, "%s: warning: operation %s: a day at --window=%v costs at least %d calls, more than its daily quota of %.0f; an interrupted day is read again whole, so give a longer --window\n",
				exporterName, cfg.Operation, *bf.window, perDay, cfg.DailyQuota)
		}
		// The live exporter started on this state file reads on from --to
		// whatever its --poll.max-catchup, as far as the API serves: say
		// what that first poll will read, and what it never can.
		if gap := now.Sub(to); gap > cfg.MaxCatchup {
			fmt.Fprintf(stderr, "%s: warning: operation %s: --to is %v before now, more than --poll.max-catchup (%v): the live exporter started on this backfill's state file reads that gap on its first poll all the same, and counts it there, one step on the graphs; backfill to within --poll.max-catchup of now to leave none",
				exporterName, cfg.Operation, gap.Round(time.Minute), cfg.MaxCatchup)
			if gap > wolkvox.DefaultMaxWindow {
				fmt.Fprintf(stderr, "; it reads only the last 31 days of it: the %v before are never read", (gap - wolkvox.DefaultMaxWindow).Round(time.Minute))
			}
			fmt.Fprintln(stderr, ".")
		}
	}
	fmt.Fprintf(stderr, "%s: backfill of %d operation(s) from %s to %s needs at least %d API calls (one per report per --window of %v, more where a window holds 60,000 records or more); each spends a token of the operation's daily quota.\n",
		exporterName, len(plans), *bf.from, *bf.to, calls, *bf.window)
	if *bf.dryRun {
		return 0
	}
	// Hold every operation's token for the whole run, before anything is
	// written: a live exporter or another backfill with one of them on
	// this host makes this one exit 2 here (see wolkvox.Gates).
	for _, p := range plans {
		c, err := wolkvox.New(p.cfg.Client)
		if err != nil {
			return fail("operation %s: %v", p.cfg.Operation, err)
		}
		defer c.Close()
	}
	if !*bf.yes {
		if st, err := os.Stdin.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
			return fail("not a terminal: add --yes to spend the calls")
		}
		fmt.Fprint(stderr, "Proceed? [y/N] ")
		answer, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			return fail("not confirmed")
		}
	}
	// A batch job whose garbage is mostly records replayed and dropped:
	// collect when the heap has grown by a quarter rather than Go's default
	// of doubling, so the peak stays within the live exporter's memory for
	// the same operation (docs/benchmarks.md: 3 % of CPU in GC, against 1 %;
	// Prometheus itself lowers it to 75). GOGC, when set, still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, p := range plans {
		if code := backfillOperation(ctx, p.cfg, p.from, p.to, bf, logger, stderr); code != 0 {
			return code
		}
	}
	fmt.Fprintf(stderr, "%s: done. Move the block directories of %s into Prometheus's data directory, then start the exporter on each operation's state file there (--storage.state-file, or --storage.state-dir=%s).\n",
		exporterName, *bf.output, *bf.output)
	return 0
}

func backfillOperation(ctx context.Context, cfg poller.Config, from, to time.Time, bf *backfillFlags, logger log.Logger, stderr io.Writer) int {
	loc := cfg.Client.Location
	b, err := backfill.New(cfg, backfill.Options{Labels: *bf.labels, Step: *bf.step, Window: *bf.window, PrometheusMajor: *bf.prometheusMajor})
	if err != nil {
		fmt.Fprintf(stderr, "%s: error: operation %s: %v\n", exporterName, cfg.Operation, err)
		return 2
	}
	defer b.Close()
	// A day's blocks are staged beside the output and moved in only once
	// the whole day is, and the checkpoint with it. What an earlier run
	// left staged (this run holds the state file's lock now) is settled
	// first: finished if its checkpoint was saved, else thrown away.
	staging := backfill.NewStaging(*bf.output, cfg.Operation)
	if moved, err := staging.Settle(b); err != nil {
		fmt.Fprintf(stderr, "%s: error: operation %s: %v\n", exporterName, cfg.Operation, err)
		return 2
	} else if moved > 0 {
		level.Info(logger).Log("msg", "moved the blocks of a day an interrupted run had finished", "operation", cfg.Operation, "blocks", moved)
	}
	defer staging.Discard()
	switch mark := b.Mark(); {
	case mark.IsZero():
		b.Start(from)
	case b.Origin().After(from.Add(time.Second)):
		// The counters of this state file began at its origin (a live
		// exporter that ran first, or an earlier backfill): history before
		// it cannot be joined to them without a counter reset.
		fmt.Fprintf(stderr, "%s: error: operation %s: its state file's counters begin at %s, after --from (a live exporter ran first, or an earlier backfill); history before that cannot join them without a counter reset. Backfill first, or stop the exporter and move the state file away to start over\n",
			exporterName, cfg.Operation, b.Origin().In(loc).Format(time.RFC3339))
		return 2
	case !mark.Before(to):
		level.Info(logger).Log("msg", "already backfilled to the end; nothing to do", "operation", cfg.Operation, "state_ends", mark.In(loc))
		return 0
	case mark.Add(time.Second).Before(from):
		fmt.Fprintf(stderr, "%s: error: operation %s: its state file ends at %s, before --from; backfill from there, or the counters would have a gap\n",
			exporterName, cfg.Operation, mark.In(loc).Format(time.RFC3339))
		return 2
	default:
		level.Info(logger).Log("msg", "resuming an interrupted backfill from its checkpoint", "operation", cfg.Operation, "from", mark.In(loc))
	}
	progress := newProgress(cfg.Operation, len(backfill.Days(b.Mark().Add(time.Second), to, loc)), stderr)
	var calls, records int
	checkpoint, err := staging.RunDays(ctx, b, to, func(d backfill.DayDone) {
		calls, records = calls+d.Stats.Calls, records+d.Stats.Records
		if progress != nil {
			progress.Describe(fmt.Sprintf("%s: %d calls, %d records", cfg.Operation, calls, records))
			_ = progress.Add(1)
			return
		}
		level.Info(logger).Log("msg", "backfilled a day", "operation", cfg.Operation, "to", d.End.In(loc).Format(time.RFC3339),
			"calls", d.Stats.Calls, "records", d.Stats.Records, "series", d.Stats.Series, "took", d.Took.Round(time.Millisecond))
	})
	if err != nil {
		resume := "run the same command again to resume from " + checkpoint.In(loc).Format(time.RFC3339)
		switch wolkvox.ReasonOf(err) {
		case wolkvox.ReasonQuota:
			fmt.Fprintf(stderr, "%s: the operation's daily token quota is spent (%s); %s tomorrow\n", exporterName, cfg.Operation, resume)
		case wolkvox.ReasonCanceled:
			fmt.Fprintf(stderr, "%s: interrupted; %s\n", exporterName, resume)
		default:
			fmt.Fprintf(stderr, "%s: error: operation %s: %v; %s\n", exporterName, cfg.Operation, err, resume)
		}
		return 1
	}
	return 0
}

// resumeFrom is where a backfill of cfg from from will start reading: its
// state file's checkpoint, when an interrupted run left one within reach.
// The file is read read-only: an estimate and --dry-run change nothing.
func resumeFrom(cfg poller.Config, from time.Time) time.Time {
	mark, err := backfill.ReadCheckpoint(cfg)
	if err != nil {
		return from // the run itself says what is wrong with the file
	}
	if !mark.IsZero() && mark.Add(time.Second).After(from) {
		return mark.Add(time.Second)
	}
	return from
}

// labelName is a label name as Prometheus accepts it in any version.
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// checkLabels refuses, before any call is spent, a --label that would not
// name the live series or would break the blocks: an invalid or reserved
// name, one the exporter's series already carry, or an empty value (which
// Prometheus never stores, so not the live series).
func checkLabels(labels map[string]string) error {
	taken := collector.LabelNames()
	for _, name := range slices.Sorted(maps.Keys(labels)) {
		value := labels[name]
		switch {
		case !labelName.MatchString(name):
			return fmt.Errorf("%q: not a valid label name", name)
		case strings.HasPrefix(name, "__"):
			return fmt.Errorf("%s: names starting with __ are Prometheus's own", name)
		case taken[name]:
			return fmt.Errorf("%s: the exporter's series already carry this label", name)
		case value == "":
			return fmt.Errorf("%s: an empty value is no label at all to Prometheus; give the live scrape's value", name)
		case !utf8.ValidString(value):
			return fmt.Errorf("%s: the value is not valid UTF-8", name)
		}
	}
	return nil
}

// newProgress returns a progress bar of days done, API calls, records and
// the time left, when w is a terminal; nil otherwise, where a log line a
// day says as much.
func newProgress(operation string, days int, w io.Writer) *progressbar.ProgressBar {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return progressbar.NewOptions(days,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(operation),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("days"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
}

var _ backfill.BlockSink = (*blocks.Writer)(nil)
