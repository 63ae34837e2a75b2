package config_test

import (
	"bufio"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/bulwark-dev/bulwark/internal/config"
)

// .env.example is the documentation of every setting: it must name every
// variable Load reads, and its values must load.
func TestEnvExampleDocumentsEverySetting(t *testing.T) {
	f, err := os.Open("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	line := regexp.MustCompile(`^#?\s*([A-Z][A-Z0-9_]*)=(.*)$`)
	documented := map[string]bool{}
	values := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		documented[m[1]] = true
		if sc.Text()[0] != '#' {
			values[m[1]] = m[2]
		}
	}
	read := map[string]bool{}
	// Load asks for every setting it knows; recording the names it asks for
	// gives the list to check against.
	if _, err := config.Load(func(k string) string { read[k] = true; return values[k] }); err != nil {
		t.Fatalf(".env.example does not load: %v", err)
	}
	var missing []string
	for k := range read {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf(".env.example does not document %v", missing)
	}
}
