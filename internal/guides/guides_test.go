package guides

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	guide := strings.Join([]string{
		"# A guide",
		"<!-- guide:file main.tf -->",
		"```terraform",
		`resource "x" "y" {}`,
		"```",
		"<!-- guide:run -->",
		"```shell",
		"terraform apply",
		"```",
		"<!-- guide:output -->",
		"```text",
		"Apply complete!",
		"```",
		"<!-- guide:run exit=2 -->",
		"```shell",
		"terraform plan -detailed-exitcode",
		"```",
		"<!-- guide:skip needs a person at the keyboard -->",
		"```shell",
		"terraform apply   # press Ctrl-C",
		"```",
		"```json",
		"{}",
		"```",
	}, "\n")
	steps, err := Parse(guide)
	if err != nil {
		t.Fatal(err)
	}
	want := []Step{
		{Kind: KindFile, Arg: "main.tf", Body: "resource \"x\" \"y\" {}\n", Line: 4},
		{Kind: KindRun, Body: "terraform apply\n", Line: 8},
		{Kind: KindOutput, Body: "Apply complete!\n", Line: 12},
		{Kind: KindRun, Exit: 2, Body: "terraform plan -detailed-exitcode\n", Line: 16},
		{Kind: KindSkip, Arg: "needs a person at the keyboard", Body: "terraform apply   # press Ctrl-C\n", Line: 20},
	}
	if len(steps) != len(want) {
		t.Fatalf("steps = %+v", steps)
	}
	for i := range want {
		if steps[i] != want[i] {
			t.Errorf("step %d = %+v, want %+v", i, steps[i], want[i])
		}
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	for name, guide := range map[string]string{
		"unmarked shell block": "<!-- guide:run -->\n```shell\nls\n```\n```shell\nrm -rf /\n```\n",
		"marker without block": "<!-- guide:run -->\ntext\n```shell\nls\n```\n",
		"marker at the end":    "<!-- guide:output -->\n",
		"bad exit":             "<!-- guide:run exit=x -->\n```shell\nls\n```\n",
		"file without a name":  "<!-- guide:file -->\n```hcl\n```\n",
		"skip without reason":  "<!-- guide:skip -->\n```shell\nls\n```\n",
	} {
		if _, err := Parse(guide); err == nil {
			t.Errorf("%s: Parse accepted it", name)
		}
	}
	// A guide without steps is documentation only.
	if steps, err := Parse("```shell\nls\n```\n"); err != nil || len(steps) != 0 {
		t.Errorf("a guide without steps: %v, %v", steps, err)
	}
}

func TestMatches(t *testing.T) {
	t.Parallel()
	output := "\x1b[1mError: Deployment failed\x1b[0m\n\nRolling out \"2.0.0\" to deployment \"app\"\n│ (rolling) failed at batch 2/3.\n  version = \"1.0.0\"\n"
	for _, tc := range []struct {
		expected string
		ok       bool
	}{
		{"Error: Deployment failed\nRolling out \"2.0.0\" to deployment \"app\" (rolling) failed at batch 2/3.", true},
		{"failed at … 2/3", true},
		{"version    = \"1.0.0\"", true},
		{"version = \"1.0.0\"\nError: Deployment failed", false}, // out of order
		{"Apply complete!", false},
	} {
		if _, ok := Matches(output, tc.expected); ok != tc.ok {
			t.Errorf("Matches(%q) = %v, want %v", tc.expected, ok, tc.ok)
		}
	}
}

func TestInRepository(t *testing.T) {
	t.Parallel()
	for guide, want := range map[string]bool{
		"# Guide\n\n<!-- guide:in-repository -->\n\ntext\n":   true,
		"  <!-- guide:in-repository -->  \n":                  true,
		"# Guide\n\n<!-- guide:run -->\n```shell\nls\n```\n":  false,
		"text mentioning <!-- guide:in-repository --> inline": false,
	} {
		if got := InRepository(guide); got != want {
			t.Errorf("InRepository(%q) = %v, want %v", guide, got, want)
		}
	}
	// The line is not a step and does not disturb the steps around it.
	steps, err := Parse("<!-- guide:in-repository -->\n<!-- guide:run -->\n```shell\nls\n```\n")
	if err != nil || len(steps) != 1 || steps[0].Kind != KindRun {
		t.Errorf("Parse with the line: %v, %v", steps, err)
	}
}
