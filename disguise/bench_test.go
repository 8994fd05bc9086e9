package disguise

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"waymark/disguise/phonetest"
	"waymark/internal/testenv"
)

// BenchmarkOfflineFirstPaint measures the budget "first paint offline
// ≤ 1 s with the CPU throttled ×4": after a first visit installs the
// service worker, the network goes away and each iteration reloads the
// app, reporting when the first contentful paint happened and when the
// calculator's keys were on screen (the page builds them), p50 and max.
// It also counts the requests the page makes to any other origin, online
// and offline (budget: zero; the CSP forbids them too).
//
//	go test -run '^$' -bench OfflineFirstPaint -benchtime 20x ./disguise/
func BenchmarkOfflineFirstPaint(b *testing.B) {
	chrome := testenv.StartChrome(b)
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	ctx := chrome.NewBrowser(b)
	run := func(actions ...chromedp.Action[chromedp.Void]) {
		b.Helper()
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(c, actions...); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	var foreign []string
	go func() {
		for ev, err := range chromedp.Events(ctx, network.RequestWillBeSent) {
			if err != nil {
				return
			}
			if u := ev.Request.URL; !strings.HasPrefix(u, srv.URL+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") {
				mu.Lock()
				foreign = append(foreign, u)
				mu.Unlock()
			}
		}
	}()
	run(chromedp.EmulateViewport(phonetest.W, phonetest.H, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("d")),
		chromedp.Poll[chromedp.Void](`navigator.serviceWorker.controller !== null`, chromedp.WithPollingTimeout(10*time.Second)))
	if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		b.Fatal(err)
	}
	srv.Close()
	if _, err := chromedp.Call(ctx, emulation.SetCPUThrottlingRate, emulation.SetCPUThrottlingRateParams{Rate: 4}); err != nil {
		b.Fatal(err)
	}
	var fcp, keys []float64
	missing := 0
	b.ResetTimer()
	for range b.N {
		run(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-k="eq"]`)))
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		// The paint entry may be recorded after the first frame: wait
		// for it (up to 3 s) rather than read it too early.
		v, err := chromedp.Run(c, chromedp.Evaluate[[]float64](`new Promise((r) => requestAnimationFrame(() => {
  const keys = performance.now();
  const fcp = () => { const p = performance.getEntriesByName('first-contentful-paint')[0]; return p ? p.startTime : -1; };
  if (fcp() >= 0) return r([fcp(), keys]);
  const o = new PerformanceObserver(() => { if (fcp() >= 0) { o.disconnect(); r([fcp(), keys]); } });
  o.observe({ type: 'paint', buffered: true });
  setTimeout(() => { o.disconnect(); r([fcp(), keys]); }, 3000);
}))`, chromedp.EvalAwaitPromise))
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		if v[0] >= 0 {
			fcp = append(fcp, v[0])
		} else {
			missing++
		}
		keys = append(keys, v[1])
	}
	b.StopTimer()
	slices.Sort(fcp)
	slices.Sort(keys)
	if len(fcp) > 0 {
		b.ReportMetric(fcp[len(fcp)/2], "fcp-p50-ms")
		b.ReportMetric(fcp[len(fcp)-1], "fcp-max-ms")
	}
	b.ReportMetric(float64(missing), "fcp-missing")
	b.ReportMetric(keys[len(keys)/2], "keys-p50-ms")
	b.ReportMetric(keys[len(keys)-1], "keys-max-ms")
	mu.Lock()
	defer mu.Unlock()
	b.ReportMetric(float64(len(foreign)), "third-party-requests")
	if len(foreign) > 0 {
		b.Errorf("requests to other origins: %v", foreign)
	}
}
