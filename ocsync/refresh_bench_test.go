package ocsync_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// BenchmarkSpecRefreshDay simulates a day and a half of runs every 15
// minutes over 10 000 applications created together, and reports how many
// documents the busiest run and the average run after the first day fetch
// for their refresh (docs-max/run, docs-mean/run), next to what an unspread
// refresh would fetch in its busiest run (docs-unspread-max/run: every
// document in one run, 24 h after the creation).
func BenchmarkSpecRefreshDay(b *testing.B) {
	const n = 10_000
	period, interval := 15*time.Minute, 24*time.Hour
	apps := make([]ocsync.Application, n)
	for i := range apps {
		apps[i] = ocsync.Application{Name: fmt.Sprintf("oc-%d", 100000+i), Attributes: ocsync.Attributes{Status: ocsync.StatusConnected}}
	}
	var maxPerRun, total, runs int
	for b.Loop() {
		registered := make([]ocsync.Registered, n)
		index := make(map[string]int, n)
		for i, a := range apps {
			registered[i] = ocsync.Registered{Name: a.Name, Owned: true, Attributes: a.Attributes,
				State: &ocsync.State{Fields: a.Fingerprint(), SpecSHA256: "x", SpecFetchedAt: now}}
			index[a.Name] = i
		}
		maxPerRun, total, runs = 0, 0, 0
		for r := 1; r <= 36*4; r++ {
			at := now.Add(time.Duration(r) * period)
			plan := ocsync.Calculate(apps, registered, ocsync.PlanOptions{Now: at, SpecRefreshInterval: interval})
			due := 0
			for _, c := range plan.Changes {
				if c.Kind == ocsync.KindUpdate {
					due++
					registered[index[c.Name]].State.SpecFetchedAt = at
				}
			}
			maxPerRun = max(maxPerRun, due)
			if at.Sub(now) > interval {
				total += due
				runs++
			}
		}
	}
	b.ReportMetric(float64(maxPerRun), "docs-max/run")
	b.ReportMetric(float64(total)/float64(runs), "docs-mean/run")
	b.ReportMetric(float64(n), "docs-unspread-max/run")
	b.ReportMetric(float64(n)*float64(period)/float64(interval), "docs-ideal/run")
}
