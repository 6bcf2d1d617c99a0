// Package main is the gateway benchmark: it measures, in one run and
// interleaved, the same chat request sent straight to an upstream, through a
// bare httputil.ReverseProxy, and through the Airlock gateway with every
// inline check on, and prints throughput and added latency.
//
//	go run ./bench/gateway -json
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/airlock-ir/airlock/internal/bus"
	"github.com/airlock-ir/airlock/internal/gateway"
	"github.com/airlock-ir/airlock/internal/policy"
)

const answer = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":"The capital of France is Paris. It has been the capital since the tenth century and is home to about two million people."},"finish_reason":"stop"}],"usage":{"prompt_tokens":24,"completion_tokens":27,"total_tokens":51}}`

const request = `{"model":"bench-model","messages":[{"role":"system","content":"You are a helpful assistant for a travel company. Answer briefly."},{"role":"user","content":"What is the capital of France, and how long has it been the capital?"}],"max_tokens":200,"user":"bench-user"}`

type result struct {
	DirectRPS    float64 `json:"direct_rps"`
	BareProxyRPS float64 `json:"bare_proxy_rps"`
	GatewayRPS   float64 `json:"gateway_rps"`
	RatioVsBare  float64 `json:"ratio_vs_bare"`
	P50AddedMS   float64 `json:"p50_added_ms"`
	P99AddedMS   float64 `json:"p99_added_ms"`

	P50DirectMS  float64 `json:"p50_direct_ms"`
	P99DirectMS  float64 `json:"p99_direct_ms"`
	P50GatewayMS float64 `json:"p50_gateway_ms"`
	P99GatewayMS float64 `json:"p99_gateway_ms"`
	Concurrency  int     `json:"concurrency"`
	Rounds       int     `json:"rounds"`
	Seconds      float64 `json:"seconds_per_round"`
	Policy       int     `json:"policy_actions"`
	Events       uint64  `json:"events_emitted"`
	Dropped      uint64  `json:"events_dropped"`
	GOMAXPROCS   int     `json:"gomaxprocs"`
}

func main() {
	asJSON := flag.Bool("json", false, "print the result as JSON")
	rounds := flag.Int("rounds", 4, "interleaved rounds per target")
	dur := flag.Duration("duration", 2*time.Second, "length of each throughput round")
	conc := flag.Int("c", 32, "concurrent clients in the throughput rounds")
	latN := flag.Int("latency-requests", 2000, "sequential requests per target per round for latency")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}

	upstream := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer)
	}))
	upURL, _ := url.Parse(upstream + "/v1")
	// The bare proxy gets the same connection pool as the gateway's, so the
	// comparison is of the work done per request, not of pool sizes.
	bareProxy := httputil.NewSingleHostReverseProxy(upURL)
	bareProxy.Transport = &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true}
	bare := serve(bareProxy)

	events := bus.NewInProc()
	sub := events.Subscribe("bench", 1<<16)
	go func() {
		for range sub.C() {
		}
	}()
	holder := policy.NewHolder(policy.Empty())
	actions := benchPolicy()
	snap, err := policy.Compile(policy.Policy{Version: 1, Actions: actions})
	if err != nil {
		log.Fatal(err)
	}
	holder.Store(snap)
	gw, err := gateway.New(gateway.Options{
		Routes: []gateway.Route{{Name: "chat", Models: []string{"*"}, Upstreams: []gateway.Upstream{{Name: "primary", URL: upstream + "/v1"}}}},
		Keys:   gateway.NewKeyHasher([]byte("bench-secret-bench-secret-bench!")),
		Policy: holder, Sink: events,
	})
	if err != nil {
		log.Fatal(err)
	}
	gwURL := serve(gw)

	targets := []struct {
		name string
		url  string
	}{
		{"direct", upstream + "/v1/chat/completions"},
		{"bare", bare + "/v1/chat/completions"},
		{"gateway", gwURL + "/v1/chat/completions"},
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, Proxy: nil}}
	// Warm up every path (connections, caches).
	for _, tg := range targets {
		throughput(client, tg.url, *conc, 300*time.Millisecond)
	}
	rps := map[string][]float64{}
	lat := map[string][]time.Duration{}
	for r := 0; r < *rounds; r++ {
		for i := range targets {
			tg := targets[(i+r)%len(targets)] // rotate the order each round
			rps[tg.name] = append(rps[tg.name], throughput(client, tg.url, *conc, *dur))
			lat[tg.name] = append(lat[tg.name], latencies(client, tg.url, *latN)...)
		}
	}
	res := result{
		DirectRPS: median(rps["direct"]), BareProxyRPS: median(rps["bare"]), GatewayRPS: median(rps["gateway"]),
		Concurrency: *conc, Rounds: *rounds, Seconds: dur.Seconds(), Policy: len(actions),
		Events: events.Published(), Dropped: sub.Dropped(), GOMAXPROCS: runtime.GOMAXPROCS(0),
	}
	res.RatioVsBare = round(res.GatewayRPS/res.BareProxyRPS, 3)
	res.P50DirectMS, res.P99DirectMS = pct(lat["direct"], 50), pct(lat["direct"], 99)
	res.P50GatewayMS, res.P99GatewayMS = pct(lat["gateway"], 50), pct(lat["gateway"], 99)
	res.P50AddedMS = round(res.P50GatewayMS-res.P50DirectMS, 3)
	res.P99AddedMS = round(res.P99GatewayMS-res.P99DirectMS, 3)
	res.DirectRPS, res.BareProxyRPS, res.GatewayRPS = round(res.DirectRPS, 0), round(res.BareProxyRPS, 0), round(res.GatewayRPS, 0)
	if *asJSON {
		json.NewEncoder(os.Stdout).Encode(res)
		return
	}
	fmt.Printf("direct %.0f rps, bare proxy %.0f rps, gateway %.0f rps: %.2f of bare\n", res.DirectRPS, res.BareProxyRPS, res.GatewayRPS, res.RatioVsBare)
	fmt.Printf("added latency (sequential requests): p50 %.3f ms, p99 %.3f ms\n", res.P50AddedMS, res.P99AddedMS)
}

// benchPolicy turns every inline check on for the benchmark's caller, and
// adds a thousand blocks of other callers so lookups are not trivial.
func benchPolicy() []policy.Action {
	var lits []string
	for i := 0; i < 50; i++ {
		lits = append(lits, fmt.Sprintf("forbidden phrase number %d", i))
	}
	acts := []policy.Action{
		{ID: "sanitize", Kind: policy.KindSanitize, Reason: "bench"},
		{ID: "filter", Kind: policy.KindPromptFilter, Reason: "bench", Params: policy.Params{
			Literal: append(lits, "ignore previous instructions"),
			Regex:   []string{`(?i)system\s+prompt`, `(?i)developer\s+mode`, `do anything now`},
		}},
		{ID: "limits", Kind: policy.KindRequestLimits, Reason: "bench", Params: policy.Params{MaxPromptChars: 20000, MaxMessages: 50, MaxTokens: 1000, MaxN: 1, Logprobs: "strip"}},
		{ID: "output", Kind: policy.KindOutputProtection, Reason: "bench", Params: policy.Params{RedactPII: true, RedactSecrets: true, Logprobs: "round"}},
		{ID: "rate", Kind: policy.KindRateLimit, Reason: "bench", Target: policy.Target{User: "bench-user"}, Params: policy.Params{Requests: 1000000000, Window: policy.Duration(time.Minute), Per: "user"}},
		{ID: "capture-other", Kind: policy.KindCapture, Reason: "bench", Target: policy.Target{User: "someone-else"}},
	}
	for i := 0; i < 1000; i++ {
		a := policy.Action{ID: fmt.Sprintf("block-%d", i), Kind: policy.KindBlock, Reason: "bench"}
		switch i % 3 {
		case 0:
			a.Target.APIKeyHash = fmt.Sprintf("kh_%024x", i)
		case 1:
			a.Target.IP = fmt.Sprintf("198.51.%d.%d", i/256, i%256)
		default:
			a.Target.CIDR = fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)
		}
		acts = append(acts, a)
	}
	for i := range acts {
		acts[i].CreatedBy, acts[i].CreatedAt = "bench", time.Now().UTC()
	}
	return acts
}

func serve(h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go (&http.Server{Handler: h}).Serve(ln)
	return "http://" + ln.Addr().String()
}

func post(client *http.Client, url string) error {
	req, _ := http.NewRequest("POST", url, strings.NewReader(request))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-bench-client")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// throughput runs conc clients for d and returns requests per second.
func throughput(client *http.Client, url string, conc int, d time.Duration) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := post(client, url); err != nil {
					log.Fatalf("%s: %v", url, err)
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

// latencies sends n requests one after another and returns each one's time.
func latencies(client *http.Client, url string, n int) []time.Duration {
	out := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		if err := post(client, url); err != nil {
			log.Fatalf("%s: %v", url, err)
		}
		out = append(out, time.Since(start))
	}
	return out
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func pct(ds []time.Duration, p int) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	i := len(s) * p / 100
	if i >= len(s) {
		i = len(s) - 1
	}
	return round(float64(s[i].Microseconds())/1000, 3)
}

func round(x float64, digits int) float64 {
	p := 1.0
	for i := 0; i < digits; i++ {
		p *= 10
	}
	return float64(int64(x*p+0.5)) / p
}
