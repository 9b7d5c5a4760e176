package types

import (
	"regexp"
	"strings"
	"unicode"
)

var (
	pascalCase = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	camelCase  = regexp.MustCompile(`^[a-z][A-Za-z0-9]*$`)
)

// toPascal suggests a PascalCase spelling of name ("finding_list" ->
// "FindingList"), or "" when there is none.
func toPascal(name string) string {
	var b strings.Builder
	for _, word := range words(name) {
		if strings.ToUpper(word) == word {
			word = strings.ToLower(word)
		}
		b.WriteString(strings.ToUpper(word[:1]) + word[1:])
	}
	if s := b.String(); pascalCase.MatchString(s) {
		return s
	}
	return ""
}

// toCamel suggests a camelCase spelling of name ("Claim" -> "claim",
// "URLList" -> "urlList", "source_url" -> "sourceUrl"), or "" when there is
// none.
func toCamel(name string) string {
	s := toPascal(name)
	upper := 0
	for upper < len(s) && s[upper] >= 'A' && s[upper] <= 'Z' {
		upper++
	}
	if upper > 1 && upper < len(s) && unicode.IsLower(rune(s[upper])) {
		upper-- // keep the capital that starts the next word: URLList -> urlList
	}
	return strings.ToLower(s[:upper]) + s[upper:]
}

// words splits name at every character that is not an ASCII letter or
// digit.
func words(name string) []string {
	return strings.FieldsFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
}
