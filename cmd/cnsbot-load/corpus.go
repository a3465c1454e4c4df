package main

import (
	_ "embed"
	"fmt"
	"os"
	"strings"
)

// defaultCorpus is what residents, members and leaders write first, the
// texts a run draws from unless -text or -texts says otherwise: "menu"
// alone is the cheapest input there is and flatters the service.
//
//go:embed testdata/first-messages.txt
var defaultCorpus string

// defaultCorpusName names the embedded corpus in reports.
const defaultCorpusName = "testdata/first-messages.txt"

// parseCorpus reads one message a line. Blank lines and comment lines ("#"
// alone or followed by a space) are skipped, so that "#menu", a button
// payload typed by hand, stays a message; "\n" inside a line stands for a
// line break, since long messages often have several.
func parseCorpus(s string) []string {
	var texts []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || line == "#" || strings.HasPrefix(line, "# ") {
			continue
		}
		texts = append(texts, strings.ReplaceAll(line, `\n`, "\n"))
	}
	return texts
}

// readCorpus reads a corpus file (see parseCorpus).
func readCorpus(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	texts := parseCorpus(string(b))
	if len(texts) == 0 {
		return nil, fmt.Errorf("%s: no messages in it (one a line; lines starting with \"# \" are comments)", path)
	}
	return texts, nil
}
