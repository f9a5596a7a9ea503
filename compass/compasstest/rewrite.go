package compasstest

import (
	"regexp"
	"strings"
)

// The Director rewrites raw request bodies of clients from before bundles
// replaced packages, without looking at their structure. These are the same
// replacements, in the same order.

var legacyRequestPairs = [][2]string{
	{"packageByInstanceAuth", "bundleByInstanceAuth"},
	{"packageInstanceAuth", "bundleInstanceAuth"},
	{"addPackage", "addBundle"},
	{"updatePackage", "updateBundle"},
	{"deletePackage", "deleteBundle"},
	{"addAPIDefinitionToPackage", "addAPIDefinitionToBundle"},
	{"addEventDefinitionToPackage", "addEventDefinitionToBundle"},
	{"addDocumentToPackage", "addDocumentToBundle"},
	{"setPackageInstanceAuth", "setBundleInstanceAuth"},
	{"deletePackageInstanceAuth", "deleteBundleInstanceAuth"},
	{"requestPackageInstanceAuthCreation", "requestBundleInstanceAuthCreation"},
	{"requestPackageInstanceAuthDeletion", "requestBundleInstanceAuthDeletion"},
	{"packageID", "bundleID"},
	{"PackageCreateInput", "BundleCreateInput"},
	{"PackageInstanceAuthRequestInput", "BundleInstanceAuthRequestInput"},
	{"PackageInstanceAuthSetInput", "BundleInstanceAuthSetInput"},
	{"PackageInstanceAuthStatusInput", "BundleInstanceAuthStatusInput"},
	{"PackageUpdateInput", "BundleUpdateInput"},
}

type regexRewrite struct {
	literal string // the pattern cannot match without it
	pattern *regexp.Regexp
	repl    string
}

func (p regexRewrite) apply(s string) string {
	if !strings.Contains(s, p.literal) {
		return s
	}
	return p.pattern.ReplaceAllString(s, p.repl)
}

// The character class [\s\\n] (whitespace, backslash or the letter n) is
// the Director's own.
var legacyRequestPatterns = []regexRewrite{
	{"packages", regexp.MustCompile(`([\s\\n]*)packages([\s\\n]*:[\s\\n]*\[)`), "${1}bundles${2}"},
	{"packages", regexp.MustCompile(`([\s\\n]*)packages([\s\\n]*\{)`), "${1}bundles${2}"},
	{"package", regexp.MustCompile(`([\s\\n]*)package([\s\\n]*\([\s\\n]*id[\s\\n]*:[\s\\n]*)`), "${1}bundle${2}"},
	{"PACKAGE", regexp.MustCompile(`([\s\\n]*)mode([\s\\n]*):([\s\\n]*)PACKAGE([\s\\n]*)`), "${1}mode${2}:${3}BUNDLE${4}"},
}

var legacyResponsePatterns = []regexRewrite{
	{`"bundles"`, regexp.MustCompile(`([\s\\n]*\")bundles(\"[\s\\n]*:[\s\\n]*\{)`), "${1}packages${2}"},
	{`"bundle"`, regexp.MustCompile(`([\s\\n]*\")bundle(\"[\s\\n]*:[\s\\n]*\{)`), "${1}package${2}"},
	{"BUNDLE", regexp.MustCompile(`([\s\\n]*\")mode(\"[\s\\n]*):([\s\\n]*\")BUNDLE(\"[\s\\n]*)`), "${1}mode${2}:${3}PACKAGE${4}"},
}

// rewriteLegacyRequest applies the Director's legacy rewrite to a raw
// request body and reports whether anything changed.
func rewriteLegacyRequest(body string) (string, bool) {
	// Every replacement needs "ackage" (package, Package) or "PACKAGE":
	// two scans instead of one per replacement for the usual body.
	if !strings.Contains(body, "ackage") && !strings.Contains(body, "PACKAGE") {
		return body, false
	}
	out := body
	for _, p := range legacyRequestPairs {
		out = strings.ReplaceAll(out, p[0], p[1])
	}
	for _, p := range legacyRequestPatterns {
		out = p.apply(out)
	}
	return out, out != body
}

// rewriteLegacyResponse applies the Director's reverse rewrite to the
// response of a rewritten request.
func rewriteLegacyResponse(body string) string {
	for _, p := range legacyRequestPairs[:12] {
		body = strings.ReplaceAll(body, p[1], p[0])
	}
	for _, p := range legacyResponsePatterns {
		body = p.apply(body)
	}
	return body
}
