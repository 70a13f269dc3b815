package agent

import (
	"fmt"
	"strconv"
)

// routerCall is one run of the command: for a switch or weights call, or
// to apply a recorded route again.
type routerCall struct {
	deployment string
	route      Route
}

func (c routerCall) version() string {
	if c.route.Slot != "" {
		return c.route.Version
	}
	for v := range c.route.Weights {
		return v
	}
	return ""
}

// action is ActionSwitch or ActionWeights.
func (c routerCall) action() string {
	if c.route.Slot != "" {
		return ActionSwitch
	}
	return ActionWeights
}

// describe names the call in logs and errors.
func (c routerCall) describe() string {
	if c.route.Slot != "" {
		return fmt.Sprintf("switch of %q to the %s slot (%s)", c.deployment, c.route.Slot, c.route.Version)
	}
	v := c.version()
	return fmt.Sprintf("weights of %q: %s%% to %s", c.deployment, formatPercentage(c.route.Weights[v]), v)
}

// env is the command's environment for the call.
func (c routerCall) env() []string {
	env := []string{EnvDeployment + "=" + c.deployment, EnvVersion + "=" + c.version()}
	if c.route.Slot != "" {
		return append(env, EnvAction+"="+ActionSwitch, EnvSlot+"="+c.route.Slot)
	}
	return append(env, EnvAction+"="+ActionWeights, EnvPercentage+"="+formatPercentage(c.route.Weights[c.version()]))
}

// formatPercentage is CODOMYRMEX_PERCENTAGE: "25", "2.5", never an
// exponent.
func formatPercentage(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }
