//go:build workshop

package tests

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The workshop console (tools/console, docs/workshop.md) as a facilitator
// uses it, in headless Chromium: SQL injection is flipped to vulnerable
// with the keyboard and run (EXPLOITED), flipped to naive (BYPASSED: the
// stacked statement is blocked, the blind one is not), and flipped back to
// secure (BLOCKED). Each step's card is saved as a screenshot for
// docs/workshop.md (BULWARK_TEST_ARTIFACTS=docs/img writes them there).
func TestWorkshopConsole(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t, nil)
	ctx, cancel := context.WithTimeout(browser, 4*time.Minute)
	defer cancel()

	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1600, 1000),
		chromedp.Navigate(srv.URL+"/workshop/"),
		chromedp.WaitVisible(chromedp.CSS("#card-sqli")),
	); err != nil {
		t.Fatalf("open the console: %v", err)
	}
	overview, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, "console.png", overview)

	// Every issue of the switchboard has a card, with its switch and a Run
	// button; the list comes from GET /workshop/api/issues, not the page.
	switches := httpGet(t, srv.URL+"/workshop/switches")
	cards, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('section.card')].map((c) => c.dataset.issue)`))
	if err != nil {
		t.Fatal(err)
	}
	for _, issue := range cards {
		if !strings.Contains(switches, `"`+issue+`"`) {
			t.Errorf("a card for %q, which the switchboard does not have", issue)
		}
	}
	if strings.Count(switches, ":") != len(cards) {
		t.Errorf("%d cards for the switchboard %s", len(cards), switches)
	}

	// Keyboard: the secure radio takes focus, the arrow key moves the
	// choice to the next variant (vulnerable), Enter on the Run button runs.
	if err := chromedp.Do(ctx,
		chromedp.Focus(chromedp.CSS("#variant-sqli-secure")),
		chromedp.KeyEvent(kb.ArrowRight),
		waitFor(`document.getElementById('status').textContent.includes('sqli is now vulnerable')`),
	); err != nil {
		t.Fatalf("flip sqli to vulnerable with the keyboard: %v (status: %q)", err, statusText(ctx))
	}
	vulnerable := runConsole(ctx, t, true)
	wantVerdicts(t, "vulnerable", vulnerable, "EXPLOITED", map[string]string{"sqli/stacked-sleep": "EXPLOITED", "sqli/boolean-blind": "EXPLOITED"})
	saveScreenshot(t, "console-sqli-vulnerable.png", cardShot(ctx, t))

	flip(ctx, t, "naive")
	naive := runConsole(ctx, t, false)
	wantVerdicts(t, "naive", naive, "BYPASSED", map[string]string{"sqli/stacked-sleep": "BLOCKED", "sqli/boolean-blind": "EXPLOITED"})
	saveScreenshot(t, "console-sqli-naive.png", cardShot(ctx, t))

	flip(ctx, t, "secure")
	secure := runConsole(ctx, t, false)
	wantVerdicts(t, "secure", secure, "BLOCKED", map[string]string{"sqli/stacked-sleep": "BLOCKED", "sqli/boolean-blind": "BLOCKED"})
	saveScreenshot(t, "console-sqli-secure.png", cardShot(ctx, t))

	// The evidence quotes the server: it must be on the screen as the
	// characters sent, not parsed. The stacked-sleep request carries a ";"
	// and "--", and the vulnerable run's evidence is SQL inside a URL.
	if !strings.Contains(naive.text, "sort=created_at%3BSELECT+pg_sleep%282%29--") {
		t.Errorf("the request of sqli/stacked-sleep is not shown as sent:\n%s", naive.text)
	}

	// The page's rules (those of the staff dashboard): no HTML sink in its
	// script, and Trusted Types make every sink throw.
	sink := regexp.MustCompile(`\.(inner|outer)HTML\b|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser|\beval\s*\(|new Function`)
	if m := sink.FindString(httpGet(t, srv.URL+"/workshop/app.js")); m != "" {
		t.Errorf("/workshop/app.js uses %q", m)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { try { document.body.innerHTML = '<b>x</b>'; return 'accepted'; } catch (e) { return e.name; } })()`))
	if err != nil || got != "TypeError" {
		t.Errorf("innerHTML with a string: %q %v, want TypeError (Trusted Types)", got, err)
	}
}

// consoleRun is what one run left on the sqli card.
type consoleRun struct {
	headline string            // the headline's class: EXPLOITED, BYPASSED, BLOCKED, ERROR
	verdicts map[string]string // attack id → verdict shown
	text     string            // the card's text
}

// runConsole presses the sqli card's Run button (with Enter, or a click)
// and waits for the verdicts.
func runConsole(ctx context.Context, t *testing.T, keyboard bool) consoleRun {
	t.Helper()
	press := chromedp.Click(chromedp.CSS("#run-sqli"))
	if keyboard {
		press = chromedp.Steps(chromedp.Focus(chromedp.CSS("#run-sqli")), chromedp.KeyEvent(kb.Enter))
	}
	err := chromedp.Do(ctx,
		chromedp.WaitEnabled(chromedp.CSS("#run-sqli")),
		press,
		chromedp.Poll[chromedp.Void](`document.querySelector('#results-sqli .headline') !== null && !document.getElementById('run-sqli').disabled`,
			chromedp.WithPollingTimeout(90*time.Second)),
	)
	if err != nil {
		t.Fatalf("run the sqli attacks: %v (status: %q)", err, statusText(ctx))
	}
	type shown struct {
		Headline string            `json:"headline"`
		Verdicts map[string]string `json:"verdicts"`
		Text     string            `json:"text"`
	}
	s, err := chromedp.Run(ctx, chromedp.Evaluate[shown](`(() => {
		const card = document.getElementById('card-sqli');
		const verdicts = {};
		for (const li of card.querySelectorAll('li.result')) {
			verdicts[li.querySelector('.attack-id').textContent] = li.querySelector('.verdict').textContent;
		}
		return { headline: card.querySelector('.headline').classList[1], verdicts, text: card.innerText };
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %v", s.Headline, s.Verdicts)
	return consoleRun{headline: s.Headline, verdicts: s.Verdicts, text: s.Text}
}

// flip clicks a variant's radio on the sqli card and waits for the switch.
func flip(ctx context.Context, t *testing.T, variant string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#variant-sqli-"+variant)),
		waitFor(`document.getElementById('status').textContent.includes('sqli is now `+variant+`')`),
	); err != nil {
		t.Fatalf("flip sqli to %s: %v (status: %q)", variant, err, statusText(ctx))
	}
}

func wantVerdicts(t *testing.T, variant string, got consoleRun, headline string, verdicts map[string]string) {
	t.Helper()
	if got.headline != headline {
		t.Errorf("%s: headline %s, want %s:\n%s", variant, got.headline, headline, got.text)
	}
	for id, want := range verdicts {
		if got.verdicts[id] != want {
			t.Errorf("%s: %s shows %q, want %s", variant, id, got.verdicts[id], want)
		}
	}
}

func cardShot(ctx context.Context, t *testing.T) []byte {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#card-sqli")))
	if err != nil {
		t.Fatal(err)
	}
	return png
}

func statusText(ctx context.Context) string {
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('status')?.textContent ?? ''`))
	return s
}
