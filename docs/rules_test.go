// Package docs_test checks that the repository's rule citations resolve to
// docs/rules.md.
//
// A citation is "rule" or "rules" followed by one or more rule ids, e.g.
// "rule D10", "rule §9.3", "rules D11, D6 and A12", "rules §3.2-§3.4",
// "rule Appendix B", "rule C3". Each id must have an anchor in rules.md.
// Outside docs/, a bare id (a D or A number, a § number or an appendix that
// is not part of a citation) and any mention of the spec files that live
// outside the repository are errors too.
package docs_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

const (
	ruleID   = `(?:§\d{1,2}(?:\.\d{1,2}){0,2}|D\d{1,2}|A\d{1,2}|C\d{1,2}|H\d{1,2}|Appendix [A-Z])\b`
	ruleWS   = `(?:[ \t]*\n[ \t]*(?://|#)?[ \t]*|[ \t]+)`
	ruleItem = ruleID + `(?: item \d+)?`
	ruleSep  = `(?:,` + ruleWS + `(?:and` + ruleWS + `)?|` + ruleWS + `(?:and|or|with)` + ruleWS + `|/|-)`
)

var (
	// citation matches "rule(s) ID[, ID ...]".
	citation = regexp.MustCompile(`\b[Rr]ules?` + ruleWS + ruleItem + `(?:` + ruleSep + ruleItem + `)*`)
	// idInCitation finds the ids of a citation.
	idInCitation = regexp.MustCompile(ruleID)
	// unsigned matches "rule 9.3": a section cited without its § sign.
	unsigned = regexp.MustCompile(`\b[Rr]ules?[ \t]+\d{1,2}\.\d{1,2}\b`)
	// bare matches an id outside a citation.
	bare = regexp.MustCompile(`§[0-9A-Za-z.]*[0-9A-Za-z]|\b[DA]\d{1,2}\b|\bAppendix [A-Z]\b`)
	// anchor matches an anchor line of rules.md.
	anchor = regexp.MustCompile(`<a id="([^"]+)"></a>`)
)

// outside are mentions of the spec documents kept outside the repository.
var outside = []string{
	"PROTOCOL" + ".md", "ARCHITECTURE" + ".md", "CLI" + ".md", "SERVE" + ".md",
	"DISTRIBUTED" + ".md", "../" + "shared", "shared/" + "spec",
}

// scanned reports whether a file's text is checked.
func scanned(path string) bool {
	switch filepath.Ext(path) {
	case ".go", ".md", ".txtar", ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// anchorOf returns the rules.md anchor of a rule id.
func anchorOf(id string) string {
	switch {
	case strings.HasPrefix(id, "§"):
		return "s" + strings.TrimPrefix(id, "§")
	case strings.HasPrefix(id, "Appendix "):
		return "appendix-" + strings.ToLower(strings.TrimPrefix(id, "Appendix "))
	}
	return strings.ToLower(id)
}

// loadAnchors reads the anchors of rules.md.
func loadAnchors(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile("rules.md")
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range anchor.FindAllStringSubmatch(string(data), -1) {
		if anchors[m[1]] {
			t.Errorf("docs/rules.md: anchor %q appears twice", m[1])
		}
		anchors[m[1]] = true
	}
	return anchors
}

// problem is one finding, at a line of a file.
type problem struct {
	line int
	msg  string
}

// check returns the problems of one file's text. inDocs relaxes the checks
// that only apply outside docs/ (where ids appear in headings).
func check(text string, anchors map[string]bool, inDocs bool) []problem {
	var out []problem
	lineOf := func(off int) int { return strings.Count(text[:off], "\n") + 1 }
	masked := []byte(text)
	for _, loc := range citation.FindAllStringIndex(text, -1) {
		cite := text[loc[0]:loc[1]]
		for _, id := range idInCitation.FindAllString(cite, -1) {
			if !anchors[anchorOf(id)] {
				out = append(out, problem{lineOf(loc[0]), fmt.Sprintf("%q cites %s, which docs/rules.md does not define (no anchor %q)", oneLine(cite), id, anchorOf(id))})
			}
		}
		for i := loc[0]; i < loc[1]; i++ {
			masked[i] = ' '
		}
	}
	if inDocs {
		return out
	}
	for _, loc := range unsigned.FindAllStringIndex(text, -1) {
		out = append(out, problem{lineOf(loc[0]), fmt.Sprintf("%q: write a section as §N.N (rule §9.3)", text[loc[0]:loc[1]])})
	}
	rest := string(masked)
	for _, loc := range bare.FindAllStringIndex(rest, -1) {
		if !standalone(rest, loc[0], loc[1]) {
			continue
		}
		out = append(out, problem{lineOf(loc[0]), fmt.Sprintf("%q is not part of a citation: write \"rule %s\" (see docs/rules.md)", rest[loc[0]:loc[1]], rest[loc[0]:loc[1]])})
	}
	for _, word := range outside {
		for off := 0; ; {
			i := strings.Index(text[off:], word)
			if i < 0 {
				break
			}
			out = append(out, problem{lineOf(off + i), fmt.Sprintf("mentions %s, which is outside the repository: cite docs/rules.md instead", word)})
			off += i + len(word)
		}
	}
	return out
}

// standalone reports whether text[i:j] stands as a word of prose: at the
// start of the text or after a space, bracket or quote, and before a
// space or punctuation. Ids glued to other characters (base64, URLs) are
// not citations.
func standalone(text string, i, j int) bool {
	if i > 0 {
		r, _ := utf8.DecodeLastRuneInString(text[:i])
		if !strings.ContainsRune(" \t\n\r(\"'`", r) {
			return false
		}
	}
	if j < len(text) {
		r, _ := utf8.DecodeRuneInString(text[j:])
		if !strings.ContainsRune(" \t\n\r,.;:)\"'`!?", r) {
			return false
		}
	}
	return true
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "//", " ")), " ")
}

// TestRulesDefined checks that rules.md defines every decision D1..D18 and
// gives each anchor a heading.
func TestRulesDefined(t *testing.T) {
	anchors := loadAnchors(t)
	for i := 1; i <= 18; i++ {
		if !anchors[fmt.Sprintf("d%d", i)] {
			t.Errorf("docs/rules.md has no anchor d%d for decision D%d", i, i)
		}
	}
	data, err := os.ReadFile("rules.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for n, l := range lines {
		if anchor.MatchString(l) && (n+1 >= len(lines) || !strings.HasPrefix(lines[n+1], "#")) {
			t.Errorf("docs/rules.md:%d: anchor line is not followed by a heading", n+1)
		}
	}
}

// TestCitationsResolve scans the repository's text files for citations and
// leftovers of out-of-repository references.
func TestCitationsResolve(t *testing.T) {
	anchors := loadAnchors(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		// This file holds bad citations on purpose, as test cases.
		if scanned(path) && path != filepath.Join(root, "docs", "rules_test.go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	cited := 0
	for _, path := range files {
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		cited += len(citation.FindAllStringIndex(text, -1))
		for _, p := range check(text, anchors, strings.HasPrefix(rel, "docs/")) {
			t.Errorf("%s:%d: %s", rel, p.line, p.msg)
		}
	}
	if cited == 0 {
		t.Fatal("found no citations at all: is the scan looking at the repository?")
	}
}

// TestCheck pins what check reports.
func TestCheck(t *testing.T) {
	anchors := map[string]bool{"d9": true, "d10": true, "s9.3": true, "s3.2": true, "s3.4": true, "appendix-b": true, "a17": true, "s6.5": true}
	good := []string{
		"// display filtering (rule D9).",
		"// the tool loop (rules D9 and D10)",
		"x (rules §6.5,\n// A17).",
		"// (rules §3.2-§3.4), made of",
		"// would drop it (rule Appendix B).",
		"// Rule §9.3: settings",
		`{"rule §9.3 as a test name", 1},`,
		"data:image/png;base64,AAD1+D1/A17x==",
		"the D1000 model, version A100",
	}
	for _, text := range good {
		if got := check(text, anchors, false); len(got) > 0 {
			t.Errorf("check(%q) = %v, want nothing", text, got)
		}
	}
	bad := map[string]string{
		"// see rule D99.":                 "does not define",
		"// see rule §9.9.":                "does not define",
		"// see rules D9, §4.1 and D10.":   "does not define",
		"// display filtering (D9).":       "not part of a citation",
		"// rules D9 and\n// see D10 too.": "not part of a citation",
		"// see rule 9.3":                  "write a section as",
		"// see §9.3":                      "not part of a citation",
		"// as PROTOCOL" + ".md 9.3 says":  "outside the repository",
		"// in ../" + "shared/spec":        "outside the repository",
	}
	for text, want := range bad {
		got := check(text, anchors, false)
		if len(got) == 0 || !strings.Contains(fmt.Sprint(got), want) {
			t.Errorf("check(%q) = %v, want a problem containing %q", text, got, want)
		}
	}
}
