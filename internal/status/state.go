// Package status compares what Terraform or OpenTofu state says about
// codomyrmex resources with what the fleet runs: each target's live version
// and health, what the router last applied and the flag documents. It is
// the logic of `codomyrmex-agent status` (docs/guides/watching-a-rollout.md);
// the command only reads its input and prints.
package status

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// Resource types the status reads.
const (
	TypeDeployment = "codomyrmex_deployment"
	TypeRollout    = "codomyrmex_feature_rollout"
)

// Resource is one codomyrmex_deployment or codomyrmex_feature_rollout
// instance of the state: its address and its attributes as JSON.
type Resource struct {
	Address string
	Type    string
	Values  json.RawMessage
}

// ReadState reads the codomyrmex resources of data: the output of
// `terraform show -json` / `tofu show -json`, or a state file itself
// (terraform.tfstate, `terraform state pull`). Resources come sorted by
// address.
func ReadState(data []byte) ([]Resource, error) {
	var doc struct {
		FormatVersion string          `json:"format_version"`
		ValuesRaw     json.RawMessage `json:"values"`
		Version       *int            `json:"version"`
		Resources     []stateResource `json:"resources"`
		PlannedValues json.RawMessage `json:"planned_values"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("reading the state: not JSON (%w); give the output of `terraform show -json` or `tofu show -json`", err)
	}
	var out []Resource
	switch {
	case doc.PlannedValues != nil:
		return nil, errors.New("reading the state: this is the JSON of a plan; give `terraform show -json` without a plan file (the state)")
	case doc.FormatVersion != "":
		// show -json: an empty state has no "values".
		if len(doc.ValuesRaw) > 0 && string(doc.ValuesRaw) != "null" {
			var v struct {
				RootModule showModule `json:"root_module"`
			}
			if err := json.Unmarshal(doc.ValuesRaw, &v); err != nil {
				return nil, fmt.Errorf("reading the state: values: %w", err)
			}
			out = v.RootModule.collect(out)
		}
	case doc.Version != nil:
		for _, r := range doc.Resources {
			if r.Mode != "managed" || !wanted(r.Type) {
				continue
			}
			for _, in := range r.Instances {
				out = append(out, Resource{Address: r.address(in.IndexKey), Type: r.Type, Values: in.Attributes})
			}
		}
	default:
		return nil, errors.New("reading the state: neither the output of `terraform show -json` nor a state file")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out, nil
}

func wanted(typ string) bool { return typ == TypeDeployment || typ == TypeRollout }

// showModule is a module of `show -json`'s values.
type showModule struct {
	Resources []struct {
		Address string          `json:"address"`
		Mode    string          `json:"mode"`
		Type    string          `json:"type"`
		Values  json.RawMessage `json:"values"`
	} `json:"resources"`
	ChildModules []showModule `json:"child_modules"`
}

func (m showModule) collect(out []Resource) []Resource {
	for _, r := range m.Resources {
		if r.Mode == "managed" && wanted(r.Type) {
			out = append(out, Resource{Address: r.Address, Type: r.Type, Values: r.Values})
		}
	}
	for _, c := range m.ChildModules {
		out = c.collect(out)
	}
	return out
}

// stateResource is a resource of a state file (format version 4).
type stateResource struct {
	Module    string `json:"module"`
	Mode      string `json:"mode"`
	Type      string `json:"type"`
	Name      string `json:"name"`
	Instances []struct {
		IndexKey   any             `json:"index_key"`
		Attributes json.RawMessage `json:"attributes"`
	} `json:"instances"`
}

func (r stateResource) address(key any) string {
	a := r.Type + "." + r.Name
	if r.Module != "" {
		a = r.Module + "." + a
	}
	switch k := key.(type) {
	case string:
		a += fmt.Sprintf("[%q]", k)
	case float64:
		a += fmt.Sprintf("[%d]", int(k))
	}
	return a
}

// deployment is what the status reads of a codomyrmex_deployment.
type deployment struct {
	Name           string            `json:"name"`
	Version        string            `json:"version"`
	Strategy       string            `json:"strategy"`
	Status         string            `json:"status"`
	PausedAt       *float64          `json:"paused_at"`
	ResumeAt       *string           `json:"resume_at"`
	Traffic        *float64          `json:"traffic_percentage"`
	ActiveSlot     *string           `json:"active_slot"`
	TargetVersions map[string]string `json:"target_versions"`
	Targets        []struct {
		ID      string `json:"id"`
		Address string `json:"address"`
	} `json:"targets"`
	HealthCheck *struct {
		Path *string `json:"path"`
	} `json:"health_check"`
	BlueGreen *struct {
		RouterURL *string `json:"router_url"`
	} `json:"blue_green"`
	Canary *struct {
		RouterURL *string `json:"router_url"`
	} `json:"canary"`
	FeatureFlag *struct {
		FlagName string `json:"flag_name"`
	} `json:"feature_flag"`
}

func (d deployment) healthPath() string {
	if d.HealthCheck != nil && d.HealthCheck.Path != nil {
		return *d.HealthCheck.Path
	}
	return ""
}

// routerURL is the router the strategy drives, "" when none.
func (d deployment) routerURL() string {
	switch {
	case d.Canary != nil && d.Canary.RouterURL != nil:
		return *d.Canary.RouterURL
	case d.BlueGreen != nil && d.BlueGreen.RouterURL != nil:
		return *d.BlueGreen.RouterURL
	}
	return ""
}

// rollout is what the status reads of a codomyrmex_feature_rollout.
type rollout struct {
	FlagName      string    `json:"flag_name"`
	Endpoint      *string   `json:"endpoint"`
	State         string    `json:"state"`
	CurrentStage  *int      `json:"current_stage"`
	Percentage    *float64  `json:"percentage"`
	Stages        []float64 `json:"stages"`
	UpdatedAt     *string   `json:"updated_at"`
	NextAdvanceAt *string   `json:"next_advance_at"`
}
